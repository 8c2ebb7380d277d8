"""The boto3 client the backend builds: credentials (as `Secret`), endpoint, region,
profile, and botocore's own retries off (`remote_store.backends.s3.retry` retries)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from remote_store.config import Secret
from remote_store.errors import ConfigError

#: botocore ``Config`` options a caller may set through ``client_options``; ``retries`` is
#: ours (see retry.py).
_CONFIG_OPTIONS = frozenset(
    {
        "connect_timeout",
        "read_timeout",
        "max_pool_connections",
        "proxies",
        "proxies_config",
        "s3",
        "signature_version",
        "user_agent_extra",
        "tcp_keepalive",
        "request_checksum_calculation",
        "response_checksum_validation",
        "parameter_validation",
        "client_cert",
    }
)
#: Options of ``Session.client`` itself.
_CLIENT_OPTIONS = frozenset({"verify", "use_ssl", "api_version"})


def secret(name: str, value: Any) -> Secret | None:
    """*value* as a `Secret` (``None`` stays ``None``); anything else is refused."""
    if value is None:
        return None
    if isinstance(value, str | Secret):
        wrapped = Secret(value)
        if not wrapped:
            raise ConfigError(f"{name} is empty")
        return wrapped
    raise ConfigError(f"{name} must be a str or Secret, got {type(value).__name__}")


def build_client(
    *,
    endpoint_url: str | None,
    key: Secret | None,
    secret_key: Secret | None,
    token: Secret | None,
    profile: str | None,
    region_name: str | None,
    client_options: Mapping[str, Any] | None,
    max_concurrency: int,
) -> tuple[Any, Any]:
    """A boto3 session and its S3 client. Without *key* the default credential chain
    answers (environment, shared config and credentials files, *profile*, instance roles);
    endpoint and region also come from the standard AWS variables and files."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    if (key is None) != (secret_key is None):
        raise ConfigError("key and secret go together: pass both, or neither")
    if token is not None and key is None:
        raise ConfigError("token (a session token) goes with key and secret")
    if key is not None and profile is not None:
        raise ConfigError("pass either key and secret or profile, not both")
    options = dict(client_options or {})
    unknown = sorted(set(options) - _CONFIG_OPTIONS - _CLIENT_OPTIONS)
    if unknown:
        known = ", ".join(sorted(_CONFIG_OPTIONS | _CLIENT_OPTIONS))
        raise ConfigError(f"unknown client_options {', '.join(unknown)}; known: {known}")
    config_options = {k: v for k, v in options.items() if k in _CONFIG_OPTIONS}
    # Enough pooled connections for the parts and read-ahead of a few calls at once.
    config_options.setdefault("max_pool_connections", max(10, 4 * max_concurrency))
    # Every body already carries Content-MD5, which S3 checks; a CRC on top costs CPU only.
    config_options.setdefault("request_checksum_calculation", "when_required")
    config_options.setdefault("response_checksum_validation", "when_required")
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config_options)
    client_kwargs = {k: v for k, v in options.items() if k in _CLIENT_OPTIONS}
    if key is not None:
        client_kwargs.update(
            aws_access_key_id=key.reveal(),
            aws_secret_access_key=secret_key.reveal() if secret_key is not None else None,
            aws_session_token=token.reveal() if token is not None else None,
        )
    try:
        if profile is None:
            session = _shared_session()
        else:
            session = boto3.session.Session(
                botocore_session=_botocore_session(), profile_name=profile
            )
        with _session_lock:  # a session must not build two clients at once
            client = session.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region_name,
                config=config,
                **client_kwargs,
            )
    except (BotoCoreError, ValueError) as error:
        # Names the problem (unknown profile, bad endpoint), never a credential.
        raise ConfigError(f"cannot build the S3 client: {type(error).__name__}") from None
    return session, client


_session_lock = threading.Lock()
_session: Any = None


def _shared_session() -> Any:
    """One boto3 session for the backends without a profile: a new session parses the
    service model again (60 ms a backend here, 3 ms from a shared one). Credentials given
    to a backend are its client's own, never the session's."""
    global _session
    import boto3

    with _session_lock:
        if _session is None:
            _session = boto3.session.Session(botocore_session=_botocore_session())
        return _session


def _botocore_session() -> Any:
    """A botocore session whose clients parse timestamps with `parse_timestamp`."""
    from botocore import parsers
    from botocore.session import get_session

    factory = parsers.ResponseParserFactory()
    # Looked up per call, so the parser in use is the module's (and a test can watch it).
    factory.set_parser_defaults(timestamp_parser=lambda value: parse_timestamp(value))
    session = get_session()
    session.register_component("response_parser_factory", factory)
    return session


def parse_timestamp(value: Any) -> datetime:
    """A timestamp of an S3 answer: ISO 8601 in listings (``2026-12-04T18:00:00.000Z``), an
    HTTP date in headers (``Fri, 04 Dec 2026 18:00:00 GMT``), parsed by the standard library;
    anything else by botocore's parser. botocore's (dateutil) took 60 % of the time of a
    10,000-key listing."""
    if isinstance(value, str):
        try:
            if value.endswith("GMT"):
                return parsedate_to_datetime(value)
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment
        except (TypeError, ValueError):
            pass
    from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

    parsed: datetime = DEFAULT_TIMESTAMP_PARSER(value)
    return parsed
