"""The public error tree.

A handler's own exception is never one of these: it is data, turned into the
Lambda error payload of a result exactly as the Python runtime reports it.
These errors are raised when *the library or the Invoke API itself* refuses
something::

    InvokeModelsError
      InvalidParameterValueError      bad configuration (InvalidParameterValueException, 400);
                                      also a ValueError
        ValidationError               DynamoDB's ValidationException (the in-memory table)
      ScenarioError                   a simulation scenario file is bad: names the file, the
                                      key path and what is expected; also a ValueError
      InvocationError                 the Invoke call was refused before the function ran (4xx/5xx)
        InvalidRequestContentError    400 InvalidRequestContentException: the payload is not JSON
        RequestEntityTooLargeError    413 RequestEntityTooLargeException (AWS's wire code)
        TooManyRequestsError          429 TooManyRequestsException, with ``.reason``
        ResourceNotFoundError         404 ResourceNotFoundException
        ServiceError                  500 ServiceException
      ReadTimeoutError                the SDK client stopped waiting (botocore's
                                      ``ReadTimeoutError``; also a TimeoutError)
      HandlerImportError              a ``"module:function"`` handler cannot be loaded
                                      (the CLI reports it; an invoke reports it as
                                      Lambda reports an init error, e.g.
                                      ``Runtime.ImportModuleError``)
      SQSError                        the in-memory SQS queue refused a call
        ReceiptHandleIsInvalidError   ReceiptHandleIsInvalid: a handle the queue never issued
        MessageNotInflightError       MessageNotInflight: ChangeMessageVisibility too late

Every `InvocationError` carries the wire ``code``, the HTTP ``status_code`` and
``to_response()``, the dictionary boto3 puts in ``ClientError.response``.

A user's value appears in a message as `render_value` shows it: bounded, and never
raising, whatever the value's ``repr`` does.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Final

__all__ = [
    "RENDER_LIMIT",
    "HandlerImportError",
    "InvalidParameterValueError",
    "InvalidRequestContentError",
    "InvocationError",
    "InvokeModelsError",
    "MessageNotInflightError",
    "ReadTimeoutError",
    "ReceiptHandleIsInvalidError",
    "RequestEntityTooLargeError",
    "ResourceNotFoundError",
    "SQSError",
    "ScenarioError",
    "ServiceError",
    "TooManyRequestsError",
    "ValidationError",
    "clip_text",
    "describe_error",
    "render_value",
]


RENDER_LIMIT: Final = 200
"""At most this many characters of a value's repr appear in an error message."""

# Past this many bits (about RENDER_LIMIT digits) an int is shown by its size: str() of a
# long int is slow, and past sys.get_int_max_str_digits() it raises ValueError.
_INT_BITS: Final = 664


def render_value(value: object) -> str:
    """A value as an error message shows it: its repr, bounded and unable to raise.

    A repr that raises becomes ``<TypeName object>``; an int too long to print,
    ``<int with 5001 digits>``; a string or repr longer than `RENDER_LIMIT`
    characters is cut there with ``...`` and its full length.
    """
    kind = type(value)
    try:
        if isinstance(value, int) and kind is int and value.bit_length() > _INT_BITS:
            return f"<int with {_digits(value)} digits>"
        if isinstance(value, str) and len(value) > RENDER_LIMIT:
            head = repr(str(value[:RENDER_LIMIT]))[:RENDER_LIMIT]
            return f"{head}... ({len(value)} characters)"
        text = repr(value)
    except Exception:
        return f"<{kind.__name__} object>"
    return clip_text(text)


def clip_text(text: str, limit: int = RENDER_LIMIT) -> str:
    """``text``, or its first ``limit`` characters, ``...`` and its length when longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def describe_error(exc: BaseException) -> str:
    """``"<type>: <message>"`` for an error another object raised, bounded, even when its
    ``str()`` raises (``<unprintable>``)."""
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    return f"{type(exc).__name__}: {clip_text(text, 4 * RENDER_LIMIT)}"


def _digits(number: int) -> int:
    """Decimal digits of ``number`` without converting it to text."""
    magnitude = abs(number)
    digits = int(magnitude.bit_length() * math.log10(2)) + 1
    if magnitude < 10 ** (digits - 1):
        digits -= 1
    elif magnitude >= 10**digits:
        digits += 1
    return digits


class InvokeModelsError(Exception):
    """Base class of every error invokemodels raises."""


class InvalidParameterValueError(InvokeModelsError, ValueError):
    """A configuration value is out of AWS's allowed range or shape.

    Mirrors ``InvalidParameterValueException``: the message names the
    parameter, the value (as `render_value` shows it, so any value can be
    reported), and what is allowed; it stays about a kilobyte at most.
    """

    code: ClassVar[str] = "InvalidParameterValueException"
    status_code: ClassVar[int] = 400

    def __init__(self, parameter: str, value: object, allowed: str) -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        super().__init__(
            f"{clip_text(parameter)}={render_value(value)} is invalid: "
            f"{clip_text(allowed, 3 * RENDER_LIMIT)}"
        )


class ScenarioError(InvokeModelsError, ValueError):
    """A simulation scenario (`invokemodels.simulate`) is bad.

    The message is ``<source>: <key>: <expected>``: the file (or ``<dict>``), the key path
    in it (``functions.orders.timeout``; ``""`` for the file itself) and what is expected,
    with the value found.
    """

    def __init__(self, source: str, key: str, expected: str) -> None:
        self.source = source
        self.key = key
        self.expected = expected
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {clip_text(expected, 4 * RENDER_LIMIT)}")


class InvocationError(InvokeModelsError):
    """The Invoke API refused the request before the function ran."""

    code: ClassVar[str] = "ServiceException"
    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "User"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.code} ({self.status_code}): {self.message}"

    def to_response(self) -> dict[str, Any]:
        """The error as boto3 shows it in ``ClientError.response``."""
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "Type": self.error_type,
            "message": self.message,
            "ResponseMetadata": {"HTTPStatusCode": self.status_code},
        }


class InvalidRequestContentError(InvocationError):
    """400 ``InvalidRequestContentException``: the request body is not valid JSON."""

    code = "InvalidRequestContentException"
    status_code = 400


class RequestEntityTooLargeError(InvocationError):
    """413 ``RequestEntityTooLargeException``: the payload is over the Invoke limit.

    The API model calls the shape ``RequestTooLargeException``; AWS sends
    ``RequestEntityTooLargeException`` on the wire, and so does this library.
    """

    code = "RequestEntityTooLargeException"
    status_code = 413


class TooManyRequestsError(InvocationError):
    """429 ``TooManyRequestsException``: a concurrency or rate limit was hit.

    ``reason`` is one of AWS's ``ThrottleReason`` values, e.g.
    ``ReservedFunctionConcurrentInvocationLimitExceeded`` (the function's
    reserved concurrency) or ``ConcurrentInvocationLimitExceeded`` (the account).
    """

    code = "TooManyRequestsException"
    status_code = 429

    def __init__(
        self, reason: str, message: str = "Rate Exceeded.", retry_after: float | None = None
    ) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.code} ({self.status_code}, {self.reason}): {self.message}"

    def to_response(self) -> dict[str, Any]:
        """The error as boto3 shows it, with ``Reason`` (recorded AWS shape)."""
        response = super().to_response()
        response["Reason"] = self.reason
        if self.retry_after is not None:
            response["retryAfterSeconds"] = str(int(self.retry_after))
        return response


class ResourceNotFoundError(InvocationError):
    """404 ``ResourceNotFoundException``: no such function, version or alias."""

    code = "ResourceNotFoundException"
    status_code = 404


class ServiceError(InvocationError):
    """500 ``ServiceException``: an internal Lambda error (used to inject system errors)."""

    code = "ServiceException"
    status_code = 500
    error_type = "Service"


class ReadTimeoutError(InvokeModelsError, TimeoutError):
    """The SDK client gave up waiting for the response (botocore ``ReadTimeoutError``).

    Not an Invoke API error: the request reached Lambda and the function may
    still be running.  ``code`` is ``"ReadTimeoutError"``; ``read_timeout`` is
    the client's limit in seconds (botocore's default is 60).
    """

    code: ClassVar[str] = "ReadTimeoutError"

    def __init__(self, endpoint: str, read_timeout: float) -> None:
        self.endpoint = endpoint
        self.read_timeout = read_timeout
        super().__init__(f'Read timeout on endpoint URL: "{endpoint}"')


class HandlerImportError(InvokeModelsError):
    """A handler given as ``"module:function"`` or ``"path/file.py:function"`` cannot be loaded.

    ``error_type`` is the Lambda runtime's name for the fault
    (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``,
    ``Runtime.MalformedHandlerName``, ``Runtime.UserCodeSyntaxError``, or
    ``Runtime.ExitError`` when the module called ``sys.exit`` or raised another
    ``BaseException`` that is not an ``Exception``), or the
    class name of an exception the module raised while it was imported;
    ``stack_trace`` is the init error document's ``stackTrace`` (often empty).
    """

    def __init__(
        self, error_type: str, message: str, *, stack_trace: list[str] | None = None
    ) -> None:
        self.error_type = error_type
        self.message = message
        self.stack_trace = list(stack_trace or [])
        super().__init__(message)


class ValidationError(InvalidParameterValueError):
    """DynamoDB's ``ValidationException`` (400): a write or value DynamoDB refuses.

    Also an `InvalidParameterValueError`, so one ``except`` catches every bad input.
    """

    code: ClassVar[str] = "ValidationException"


class SQSError(InvokeModelsError):
    """An SQS API call was refused; ``code`` is SQS's error code."""

    code: ClassVar[str] = "InvalidParameterValue"


class ReceiptHandleIsInvalidError(SQSError):
    """``ReceiptHandleIsInvalid``: the handle was never issued by this queue."""

    code = "ReceiptHandleIsInvalid"


class MessageNotInflightError(SQSError):
    """``MessageNotInflight``: ``ChangeMessageVisibility`` on a message that is not in flight
    under this receipt handle (it became visible again, was received again, or is gone)."""

    code = "MessageNotInflight"
