"""Options checked with typed errors (HTTP-001), credentials never shown (HTTP-002),
what is declared and what is refused (HTTP-003), registry, config and from_url
(HTTP-013)."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable

import pytest
import urllib3

from remote_store import Registry, RegistryConfig, Secret
from remote_store.backends import HttpBackend, ReadOnlyHttpBackend
from remote_store.capabilities import Capability
from remote_store.errors import BackendUnavailable, CapabilityNotSupported, ConfigError, NotFound
from remote_store.store import Store
from tests.http.conftest import Site
from tests.http_support import WebServer

pytestmark = pytest.mark.http

TOKEN = "Bearer tok-7d2e90aa41"
KEY = "k-3b9f00c1d2"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/data",
        "http://10.1.2.3/data",
        "http://localhost.evil.example/x",
    ],
)
def test_plain_http_elsewhere_needs_an_opt_in(url: str) -> None:
    """HTTP-001: the rule Azure applies (remote_store._transport)."""
    with pytest.raises(ConfigError, match="http://"):
        HttpBackend(url)
    with HttpBackend(url, allow_insecure=True):
        pass


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:81/", "https://a.b/c"]
)
def test_loopback_and_https_are_accepted(url: str) -> None:
    """HTTP-001"""
    with HttpBackend(url):
        pass


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"base_url": "ftp://example.org/x"}, "http"),
        ({"base_url": ""}, "base_url"),
        ({"base_url": 42}, "base_url"),
        ({"base_url": "https://example.org/x?sig=abc"}, "query"),
        ({"base_url": "https://example.org/x", "timeout": 0}, "timeout"),
        ({"base_url": "https://example.org/x", "timeout": "5"}, "timeout"),
        ({"base_url": "https://example.org/x", "max_redirects": -1}, "max_redirects"),
        ({"base_url": "https://example.org/x", "verify_ssl": "yes"}, "verify_ssl"),
        ({"base_url": "https://example.org/x", "listing": "html"}, "listing"),
        ({"base_url": "https://example.org/x", "chunk_size": 10}, "chunk_size"),
        ({"base_url": "https://example.org/x", "max_concurrency": 0}, "max_concurrency"),
        ({"base_url": "https://example.org/x", "retry": 3}, "retry"),
        ({"base_url": "https://example.org/x", "headers": ["a"]}, "headers"),
        ({"base_url": "https://example.org/x", "headers": {"Bad Name": "v"}}, "token"),
        ({"base_url": "https://example.org/x", "headers": {"Range": "bytes=0-1"}}, "Range"),
        ({"base_url": "https://example.org/x", "headers": {"X": 1}}, "str or Secret"),
    ],
)
def test_bad_options_raise_config_error(options: dict[str, object], fragment: str) -> None:
    """HTTP-001: a typed error naming the option."""
    with pytest.raises(ConfigError, match=fragment):
        HttpBackend(**options)  # type: ignore[arg-type]


def test_credentials_in_the_url_or_a_header_line_are_refused_unshown() -> None:
    """HTTP-001, HTTP-002: neither the password nor the injected value is quoted."""
    with pytest.raises(ConfigError) as caught:
        HttpBackend("https://user:pa55word@example.org/x")
    assert "pa55word" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        HttpBackend("https://example.org/x", headers={"Authorization": f"{TOKEN}\r\nX: y"})
    assert TOKEN not in str(caught.value)


def test_credential_headers_never_show(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    """HTTP-002: repr, resolve, errors and debug logs of a backend sending credentials
    name the headers but never show their values; str values of credential names are
    kept as Secret."""
    site.put("file.bin", b"data")
    headers = {"Authorization": TOKEN, "X-Api-Key": Secret(KEY), "Accept": "*/*"}
    backend = site.backend(headers=headers)
    caplog.set_level(logging.DEBUG)
    assert backend.read_bytes("file.bin") == b"data"
    with pytest.raises(NotFound) as caught:
        backend.read_bytes("missing.bin")
    shown = [
        repr(backend),
        str(backend),
        repr(backend.resolve("file.bin")),
        str(caught.value),
        repr(caught.value),
        caplog.text,
    ]
    for text in shown:
        assert TOKEN not in text and KEY not in text and "tok-" not in text
    assert "Authorization" in repr(backend)
    settings = backend._settings
    assert isinstance(settings.headers["Authorization"], Secret)
    assert isinstance(settings.headers["X-Api-Key"], Secret)
    assert settings.headers["Accept"] == "*/*"
    assert TOKEN not in repr(settings)


def test_a_pickled_backend_shows_no_credential() -> None:
    """HTTP-002, DS-031: a backend pickles as its options, never its pool; the credential
    header travels as a `Secret` and the rebuilt backend shows it no more than this one."""
    with HttpBackend("https://example.org/x", headers={"Authorization": TOKEN}) as backend:
        rebuilt = pickle.loads(pickle.dumps(backend))
    with rebuilt:
        assert isinstance(rebuilt._settings.headers["Authorization"], Secret)
        assert rebuilt._settings.headers["Authorization"].reveal() == TOKEN
        assert TOKEN not in repr(rebuilt) + repr(rebuilt._options)


def test_capabilities_are_declared_per_instance(site: Site) -> None:
    """HTTP-003: reads always; listing only with listing="nginx-json"; never writes."""
    plain = site.backend()
    listed = site.backend(listing="nginx-json")
    reads = {Capability.READ, Capability.METADATA, Capability.LAZY_READ, Capability.SEEKABLE_READ}
    listing = {Capability.LIST, Capability.RECURSIVE_LIST, Capability.GLOB}
    assert set(plain.capabilities) == reads
    assert set(listed.capabilities) == reads | listing


def test_everything_not_declared_is_refused(site: Site) -> None:
    """HTTP-003: the Store refuses, and so does the backend called directly."""
    site.put("file.bin", b"data")
    backend = site.backend()
    store = Store(backend)
    refused: list[Callable[[], object]] = [
        lambda: store.write("new.bin", b"x"),
        lambda: store.write_atomic("new.bin", b"x"),
        lambda: store.delete("file.bin"),
        lambda: store.move("file.bin", "moved.bin"),
        lambda: store.copy("file.bin", "copied.bin"),
        lambda: store.delete_folder("dir", recursive=True),
        lambda: list(store.list_files("")),
        lambda: list(store.glob("*.bin")),
        lambda: backend.write("new.bin", b"x"),
        lambda: backend.delete("file.bin"),
        lambda: backend.copy("file.bin", "copied.bin"),
        lambda: list(backend.list_files("")),
    ]
    for call in refused:
        with pytest.raises(CapabilityNotSupported):
            call()
    assert store.read_bytes("file.bin") == b"data"  # nothing changed


def test_registry_config_and_from_url(site: Site) -> None:
    """HTTP-013: type "http" from TOML (a credential header kept as Secret), the seeds'
    alias, and from_url."""
    site.put("file.bin", b"data")
    toml = f"""
    [backends.web]
    type = "http"
    base_url = "{site.base()}"
    headers = {{ Authorization = "${{WEB_TOKEN}}" }}
    [stores.web]
    backend = "web"
    """
    config = RegistryConfig.from_toml_string(toml, env={"WEB_TOKEN": TOKEN})
    assert TOKEN not in repr(config)
    with Registry(config) as registry:
        assert registry.get_store("web").read_bytes("file.bin") == b"data"
        assert isinstance(registry.get_backend("web"), HttpBackend)
    assert ReadOnlyHttpBackend is HttpBackend
    store = HttpBackend.from_url(site.base())
    assert store.read_bytes("file.bin") == b"data"
    store.close()


def test_ping(site: Site) -> None:
    """HTTP-013: a server that answers is up."""
    site.backend().ping()


def test_tls_is_verified(nginx: WebServer) -> None:
    """HTTP-001, HTTP-010: a certificate no CA vouches for fails at once (not retried,
    not retryable); with its CA in ca_certs, or verify_ssl=False, the file reads."""
    assert nginx.tls_origin is not None and nginx.ca_file is not None
    nginx.put("tls/file.bin", b"over tls")
    base = f"{nginx.tls_origin}/files/tls"
    with HttpBackend(base) as backend, pytest.raises(BackendUnavailable, match="TLS") as caught:
        backend.read_bytes("file.bin")
    assert caught.value.retryable is False
    with HttpBackend(base, ca_certs=nginx.ca_file) as backend:
        assert backend.read_bytes("file.bin") == b"over tls"
    with (
        pytest.warns(urllib3.exceptions.InsecureRequestWarning),
        HttpBackend(base, verify_ssl=False) as backend,
    ):
        assert backend.read_bytes("file.bin") == b"over tls"
    with pytest.raises(ConfigError, match="ca_certs"):
        HttpBackend(base, ca_certs=nginx.root / "no-such.pem")
    with pytest.raises(ConfigError, match="verify_ssl"):
        HttpBackend(base, ca_certs=nginx.ca_file, verify_ssl=False)
