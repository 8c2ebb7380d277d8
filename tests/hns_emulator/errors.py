"""Error responses in the two wire dialects of Azure Storage.

Blob endpoint: XML body (UTF-8 BOM + ``<Error><Code/><Message/></Error>``),
``Content-Type: application/xml``. DFS endpoint: compact JSON
``{"error":{"code":...,"message":...}}`` with ``application/json;charset=utf-8``.
HEAD errors carry no body (``Transfer-Encoding: chunked`` as recorded). In every
case ``x-ms-error-code`` is set and the HTTP reason phrase is the message.
Shapes: recordings README section 3.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

# code -> (status, message). Messages of recorded codes are copied from the
# recordings; the rest follow Microsoft's "Blob service error codes" and the
# Data Lake Storage Gen2 REST reference.
CODES: dict[str, tuple[int, str]] = {
    "AuthenticationFailed": (
        403,
        "Server failed to authenticate the request. Make sure the value of Authorization "
        "header is formed correctly including the signature.",
    ),
    "AuthorizationPermissionMismatch": (
        403,
        "This request is not authorized to perform this operation using this permission.",
    ),
    "BlobAlreadyExists": (409, "The specified blob already exists."),
    "BlobNotFound": (404, "The specified blob does not exist."),
    "CannotVerifyCopySource": (404, "The specified blob does not exist."),
    "ConditionNotMet": (
        412,
        "The condition specified using HTTP conditional header(s) is not met.",
    ),
    "ContainerAlreadyExists": (409, "The specified container already exists."),
    "ContainerNotFound": (404, "The specified container does not exist."),
    "DirectoryIsNotEmpty": (409, "This operation is not permitted on a non-empty directory."),
    "DirectoryNotEmpty": (
        409,
        "The recursive query parameter value must be true to delete a non-empty directory.",
    ),
    "FilesystemAlreadyExists": (409, "The specified filesystem already exists."),
    "FilesystemNotFound": (404, "The specified filesystem does not exist."),
    "InvalidBlockList": (400, "The specified block list is invalid."),
    "ServerBusy": (503, "The server is currently unable to receive requests. Please retry."),
    "InvalidDestinationPath": (
        400,
        "The specified path, or an element of the path, is invalid for a rename operation.",
    ),
    "InvalidFlushPosition": (
        400,
        "The uploaded data is not contiguous or the position query parameter value is not "
        "equal to the length of the file after appending the uploaded data.",
    ),
    "InvalidHeaderValue": (
        400,
        "The value for one of the HTTP headers is not in the correct format.",
    ),
    "InvalidQueryParameterValue": (
        400,
        "Value for one of the query parameters specified in the request URI is invalid.",
    ),
    "InvalidRange": (416, "The range specified is invalid for the current size of the resource."),
    "InvalidUri": (400, "The requested URI does not represent any resource on the server."),
    "Md5Mismatch": (
        400,
        "The MD5 value specified in the request did not match with the MD5 value calculated "
        "by the server.",
    ),
    "MissingRequiredQueryParameter": (
        400,
        "A query parameter that's mandatory for this request is not specified.",
    ),
    "OperationNotAllowedInCurrentState": (
        409,
        "The requested operation is not allowed in the current state of the entity.",
    ),
    "PathAlreadyExists": (409, "The specified path already exists."),
    "PathConflict": (
        409,
        "The specified path, or an element of the path, exists and its resource type is "
        "invalid for this operation.",
    ),
    "PathNotFound": (404, "The specified path does not exist."),
    "RenameDestinationParentPathNotFound": (
        404,
        "The parent directory of the destination path does not exist.",
    ),
    "SourcePathNotFound": (404, "The source path for a rename operation does not exist."),
    "InvalidSourceOrDestinationResourceType": (
        409,
        "The source and destination resource type must be identical.",
    ),
    "UnsupportedHttpVerb": (405, "The resource doesn't support specified Http Verb."),
}


@dataclass
class Response:
    """A complete HTTP answer; ``headers`` keep their order and case."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reason: str | None = None
    chunked_empty: bool = False  # HEAD errors: no Content-Length, as recorded


class StorageError(Exception):
    """Raised by the model and the API layers; rendered per endpoint."""

    def __init__(self, code: str, headers: dict[str, str] | None = None) -> None:
        status, message = CODES[code]
        super().__init__(f"{status} {code}")
        self.code = code
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class NotModified(Exception):
    """A read's If-None-Match / If-Modified-Since matched: 304 without body."""


def _trailer() -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())
    return f"\nRequestId:{uuid.uuid4()}\nTime:{stamp}"


def render(err: StorageError, *, dfs: bool, head: bool) -> Response:
    """Turn ``err`` into the endpoint's error response."""
    headers = {"x-ms-error-code": err.code, **err.headers}
    if head:
        return Response(err.status, headers, b"", err.message, chunked_empty=True)
    text = err.message + _trailer()
    if dfs:
        body = json.dumps(
            {"error": {"code": err.code, "message": text}}, separators=(",", ":")
        ).encode()
        headers["Content-Type"] = "application/json;charset=utf-8"
    else:
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><Error><Code>'
            + err.code
            + "</Code><Message>"
            + text.replace("&", "&amp;").replace("<", "&lt;")
            + "</Message></Error>"
        )
        body = b"\xef\xbb\xbf" + xml.encode()
        headers["Content-Type"] = "application/xml"
    return Response(err.status, headers, body, err.message)
