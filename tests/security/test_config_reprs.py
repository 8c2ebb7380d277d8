"""No credential appears in the repr of a configuration, whatever key or URL carries it."""

from __future__ import annotations

import pytest

from remote_store import BackendConfig, RegistryConfig

SIG = "sig=S1GNATURE%2Bvalue"


@pytest.mark.parametrize(
    ("options", "secret"),
    [
        ({"account_url": f"https://acct.blob.core.windows.net/?sv=2024&{SIG}"}, "S1GNATURE"),
        ({"accountKey": "K3YVALUE=="}, "K3YVALUE"),
        ({"AccountKey": "K3YVALUE=="}, "K3YVALUE"),
        ({"db-password": "pa55word"}, "pa55word"),
        ({"connectionString": "AccountName=a;AccountKey=K3Y=="}, "K3Y=="),
        ({"url": "postgresql://user:pa55word@db:5432/files"}, "pa55word"),
        ({"client_options": {"headers": {"Authorization": "Bearer T0KEN"}}}, "T0KEN"),
        ({"client_options": {"sas_token": "sv=1&sig=abc"}}, "abc"),
        ({"endpoints": ["https://h/?X-Amz-Signature=f00d"]}, "f00d"),
    ],
)
def test_no_credential_in_reprs(options: dict[str, object], secret: str) -> None:
    backend = BackendConfig(type="azure", options=options)
    config = RegistryConfig(backends={"b": backend})
    for text in (repr(backend), repr(config), str(config)):
        assert secret not in text, text
    # The value itself is kept for the backend.
    assert str(backend.options) != ""


def test_credential_keys_in_any_spelling_are_wrapped_in_secret() -> None:
    options = BackendConfig(type="azure", options={"accountKey": "k", "SAS-Token": "t"}).options
    assert repr(options["accountKey"]) == "Secret('**********')"
    assert options["accountKey"].reveal() == "k"
    assert options["SAS-Token"].reveal() == "t"
