"""Local endpoints on 127.0.0.1: Lambda's Invoke REST API, for boto3, the AWS CLI
(``--endpoint-url``) and other SDKs (`InvokeServer`), and an in-memory API Gateway API or
function URL for any HTTP client (`ApiServer`).
"""

from __future__ import annotations

from invokemodels.serve._api import ApiServer, is_text_type
from invokemodels.serve._server import InvokeServer

__all__ = ["ApiServer", "InvokeServer", "is_text_type"]
