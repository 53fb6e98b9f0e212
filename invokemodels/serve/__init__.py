"""A local endpoint for Lambda's Invoke REST API: boto3, the AWS CLI (``--endpoint-url``) and
other SDKs invoke the in-process models over HTTP on 127.0.0.1.
"""

from __future__ import annotations

from invokemodels.serve._server import InvokeServer

__all__ = ["InvokeServer"]
