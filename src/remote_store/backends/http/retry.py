"""Requests with retries, deadlines and bounded redirects: the HTTP backend's adapter over
`remote_store.transfer.retrying` and `remote_store.transfer.deadline`.

What is HTTP's here: which urllib3 failures and statuses are transient (every request is
a GET or HEAD, so each may be re-sent), cutting the request's timeouts to the time left in
the call, and following redirects by hand: at most ``max_redirects``, each target held to
the plain-http rule, credential headers dropped when the origin changes, and a redirect
of ``KEY`` to ``KEY/`` handed back to the caller (it means "a folder is there").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.response import BaseHTTPResponse

from remote_store._transport import check_transport
from remote_store.backends.http import errors
from remote_store.backends.http.clients import Settings
from remote_store.config import Secret
from remote_store.errors import BackendUnavailable, ConfigError
from remote_store.transfer.deadline import call_scope
from remote_store.transfer.retrying import Retry, call_with_retries, retry_after, retryable_status

__all__ = ["REDIRECTS", "Answer", "Http", "call_scope"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})

#: Error bodies read to free their connection; a longer one closes it instead.
_DRAIN_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """The final response of a request, and the URL that gave it."""

    response: BaseHTTPResponse
    url: str

    @property
    def status(self) -> int:
        return self.response.status

    def header(self, name: str) -> str | None:
        value = self.response.headers.get(name)
        return value if value is None else str(value)

    def is_folder(self) -> bool:
        """A redirect from ``.../KEY`` to ``.../KEY/`` (on any origin: a server behind a
        proxy may name its own): a folder is there."""
        if self.status not in REDIRECTS:
            return False
        location = self.header("Location")
        if location is None:
            return False
        target = urlsplit(urljoin(self.url, location))
        return not target.query and target.path == urlsplit(self.url).path + "/"

    def discard(self) -> None:
        """Free the connection without reading a long body."""
        discard(self.response)


def discard(response: BaseHTTPResponse) -> None:
    # What is left of the body (0 for a HEAD, whatever its Content-Length says).
    length = getattr(response, "length_remaining", None)
    if isinstance(length, int) and length <= _DRAIN_LIMIT:
        try:
            response.drain_conn()
        except Exception:  # a connection we cannot reuse is closed instead
            response.close()
    else:
        response.close()
    response.release_conn()


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.hostname, parts.port


class Http:
    """The backend's requests: one pool, the settings' headers, retries and redirects."""

    def __init__(self, settings: Settings, pool: urllib3.PoolManager) -> None:
        self.settings = settings
        self.pool = pool

    def request(
        self,
        method: str,
        url: str,
        *,
        key: str | None,
        action: str,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send *method* to *url* with retries, following redirects; the body is not read.
        Transport failures raise `remote_store.errors`; any status is handed back."""
        extra = dict(headers or {})
        credentials = True
        hops = 0
        while True:
            try:
                response = self._send(method, url, {**self._headers(credentials), **extra})
            except Exception as error:
                raise errors.for_exception(error, action, key) from None
            answer = Answer(response, url)
            if answer.status not in REDIRECTS or answer.is_folder():
                return answer
            location = answer.header("Location")
            answer.discard()
            if location is None:
                raise errors.for_status(answer.status, action, key)
            hops += 1
            if hops > self.settings.max_redirects:
                raise BackendUnavailable(
                    f"{action} {key!r}: more than max_redirects={self.settings.max_redirects} "
                    "redirects",
                    path=key,
                    backend=errors.NAME,
                    retryable=False,
                )
            target = urljoin(url, location)
            self._check_target(target, action, key)
            # Credentials go to the configured origin only, never where a redirect points.
            credentials = credentials and _origin(target) == _origin(url)
            url = target

    def _check_target(self, target: str, action: str, key: str | None) -> None:
        if urlsplit(target).scheme.lower() not in ("http", "https"):
            raise BackendUnavailable(
                f"{action} {key!r}: redirected to a non-http(s) URL",
                path=key,
                backend=errors.NAME,
                retryable=False,
            )
        try:
            check_transport(
                target,
                allow_insecure=self.settings.allow_insecure,
                option="a redirect",
                opt_in="pass allow_insecure=True",
            )
        except ConfigError as error:
            raise BackendUnavailable(
                f"{action} {key!r}: {error}", path=key, backend=errors.NAME, retryable=False
            ) from None

    def _headers(self, credentials: bool) -> dict[str, str]:
        sent = {"Accept-Encoding": "identity"}
        for name, value in self.settings.headers.items():
            if isinstance(value, Secret):
                if credentials:
                    sent[name] = value.reveal()
            else:
                sent[name] = value
        return sent

    def _send(self, method: str, url: str, headers: Mapping[str, str]) -> BaseHTTPResponse:
        settings = self.settings

        def send(remaining: float | None) -> BaseHTTPResponse:
            limit = settings.timeout if remaining is None else min(settings.timeout, remaining)
            limit = max(limit, 0.001)
            return self.pool.request(
                method,
                url,
                headers=dict(headers),
                timeout=urllib3.Timeout(connect=limit, read=limit),
                retries=False,
                redirect=False,
                preload_content=False,
            )

        def classify(outcome: BaseHTTPResponse | Exception) -> Retry | None:
            if isinstance(outcome, Exception):
                return Retry() if errors.is_transient(outcome) else None
            if not retryable_status(outcome.status):
                return None
            after = retry_after(outcome.headers)
            discard(outcome)  # its status and headers stay readable
            return Retry(after=after)

        return call_with_retries(send, policy=settings.retry, classify=classify)
