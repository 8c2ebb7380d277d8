"""SharedKey verification (Microsoft: "Authorize with Shared Key").

String to sign (Blob, Queue, File and DFS services, version 2009-09-19+)::

    VERB \n Content-Encoding \n Content-Language \n Content-Length \n Content-MD5 \n
    Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n
    If-Unmodified-Since \n Range \n CanonicalizedHeaders CanonicalizedResource

``Content-Length`` is empty when it is 0. CanonicalizedHeaders are the
``x-ms-*`` headers, lower-cased, sorted, ``name:value\\n`` each.
CanonicalizedResource is ``/{account}{raw URL path}`` followed by one
``\\nname:value`` line per query parameter, names lower-cased and sorted,
values URL-decoded. For path-style emulator URLs the raw path already starts
with ``/{account}``, hence ``/{account}/{account}/...``, as documented for the
storage emulator.

Two tolerances, both matching what the azure SDK really signs: the SDK puts
an empty line where ``Range`` goes (it always uses ``x-ms-range``), and it
sorts ``x-ms-*`` names with a culture-aware comparison that ignores ``-``; the
verifier accepts either variant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import unquote

_STANDARD = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
)


def string_to_sign(
    method: str,
    raw_path: str,
    raw_query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    account: str,
    *,
    range_value: str,
    dash_insensitive: bool,
) -> str:
    """Build one candidate string to sign (see module doc)."""
    values = [headers.get(h, "") for h in _STANDARD]
    if values[2] == "0":
        values[2] = ""
    xms = [(k, v) for k, v in headers.items() if k.startswith("x-ms-")]
    if dash_insensitive:
        xms.sort(key=lambda kv: (kv[0].replace("-", ""), kv[0]))
    else:
        xms.sort()
    canon_headers = "".join(f"{k}:{v}\n" for k, v in xms)
    resource = f"/{account}{raw_path}"
    merged: dict[str, list[str]] = {}
    for name, value in raw_query:
        merged.setdefault(name.lower(), []).append(unquote(value))
    for name in sorted(merged):
        resource += f"\n{name}:{','.join(merged[name])}"
    return method + "\n" + "\n".join(values) + "\n" + range_value + "\n" + canon_headers + resource


def sign(key_b64: str, text: str) -> str:
    digest = hmac.new(base64.b64decode(key_b64), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(
    authorization: str | None,
    method: str,
    raw_path: str,
    raw_query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    account: str,
    key_b64: str,
) -> bool:
    """True when ``authorization`` is a valid ``SharedKey account:signature``."""
    if not authorization or not authorization.startswith("SharedKey "):
        return False
    who, _, signature = authorization[len("SharedKey ") :].partition(":")
    if who != account or not signature:
        return False
    ranges = {"", headers.get("range", "")}
    for range_value in ranges:
        for dash_insensitive in (False, True):
            text = string_to_sign(
                method,
                raw_path,
                raw_query,
                headers,
                account,
                range_value=range_value,
                dash_insensitive=dash_insensitive,
            )
            if hmac.compare_digest(sign(key_b64, text), signature):
                return True
    return False
