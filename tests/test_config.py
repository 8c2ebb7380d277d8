"""Configuration: Secret, BackendConfig, StoreProfile, RetryPolicy, RegistryConfig (CFG-*)."""

from __future__ import annotations

import copy
import pickle
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remote_store import (
    BackendConfig,
    ConfigError,
    InvalidArgument,
    RegistryConfig,
    RetryPolicy,
    Secret,
    StoreProfile,
)

KEY = "c2VjcmV0LWtleS12YWx1ZQ=="  # a credential that must never be printed

# --------------------------------------------------------------------------- Secret


def test_cfg_001_secret_never_prints_its_value() -> None:
    secret = Secret(KEY)
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>30}",
        format(secret, ""),
    ]
    assert repr(secret) == "Secret('**********')"
    assert str(secret) == "**********"
    assert all(KEY not in text for text in shown)
    assert KEY not in repr([secret, {"k": secret}])


def test_cfg_001_secret_reveal_equality_hash_bool() -> None:
    assert Secret(KEY).reveal() == KEY
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret("other")
    assert Secret(KEY) != KEY  # a plain str never equals a Secret: no probing by comparison
    assert len({Secret(KEY), Secret(KEY)}) == 1
    assert not Secret("")
    assert Secret("x")


def test_cfg_001_secret_of_secret_is_the_same_secret() -> None:
    secret = Secret(KEY)
    assert Secret(secret) is secret


def test_cfg_001_secret_is_immutable_and_wraps_only_str() -> None:
    secret = Secret(KEY)
    with pytest.raises(AttributeError):
        secret._value = "changed"
    with pytest.raises(InvalidArgument):
        Secret(123)  # type: ignore[arg-type]


def test_cfg_001_secret_survives_pickle_and_copy() -> None:
    secret = Secret(KEY)
    for clone in (pickle.loads(pickle.dumps(secret)), copy.deepcopy(secret), copy.copy(secret)):
        assert isinstance(clone, Secret)
        assert clone.reveal() == KEY


# --------------------------------------------------------------------------- BackendConfig


@pytest.mark.parametrize("kind", ["", "   ", None, 3])
def test_cfg_002_backend_type_must_be_non_empty_str(kind: Any) -> None:
    with pytest.raises(ConfigError, match=r"backend type"):
        BackendConfig(type=kind)


def test_cfg_002_options_must_be_mapping_with_str_keys() -> None:
    with pytest.raises(ConfigError, match=r"mapping"):
        BackendConfig(type="local", options=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"option names"):
        BackendConfig(type="local", options={1: "x"})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match=r"'type'"):
        BackendConfig(type="local", options={"type": "memory"})


@pytest.mark.parametrize(
    "key",
    [
        *("account_key", "SAS_TOKEN", "connection_string", "Password", "client_secret"),
        *("secret", "token", "api_key", "access_key", "secret_key", "credential"),
    ],
)
def test_cfg_002_credential_options_are_wrapped(key: str) -> None:
    config = BackendConfig(type="azure", options={key: KEY, "container": "c"})
    assert config.options[key] == Secret(KEY)
    assert config.options["container"] == "c"
    assert KEY not in repr(config)
    assert KEY not in str(config)


def test_cfg_002_credential_objects_and_none_are_left_alone() -> None:
    credential = object()
    config = BackendConfig(type="azure", options={"credential": credential, "sas_token": None})
    assert config.options["credential"] is credential
    assert config.options["sas_token"] is None


def test_cfg_002_options_are_read_only_copies() -> None:
    source = {"base_path": "/tmp/x"}
    config = BackendConfig(type="local", options=source)
    source["base_path"] = "/elsewhere"
    assert config.options["base_path"] == "/tmp/x"
    with pytest.raises(TypeError):
        config.options["base_path"] = "/y"  # type: ignore[index]


def test_cfg_002_a_url_with_a_password_becomes_a_secret() -> None:
    """A database URL that holds its password is a credential: wrapped in `Secret`, never
    shown; one without a password stays a str."""
    config = BackendConfig(type="sql-blob", options={"url": "postgresql://app:hunter2@db/x"})
    assert isinstance(config.options["url"], Secret)
    assert config.options["url"].reveal() == "postgresql://app:hunter2@db/x"
    assert "hunter2" not in repr(config)
    plain = BackendConfig(type="sql-blob", options={"url": "sqlite:///files.db"})
    assert plain.options["url"] == "sqlite:///files.db"


def test_cfg_002_retry_table_becomes_retry_policy() -> None:
    config = BackendConfig(type="azure", options={"retry": {"attempts": 5, "jitter": False}})
    assert config.options["retry"] == RetryPolicy(attempts=5, jitter=False)


# --------------------------------------------------------------------------- StoreProfile


def test_cfg_003_root_path_is_normalised() -> None:
    assert StoreProfile(backend="b", root_path="/a//b/./c/").root_path == "a/b/c"
    assert StoreProfile(backend="b").root_path == ""


def test_cfg_003_invalid_root_path_is_config_error_naming_the_store() -> None:
    with pytest.raises(ConfigError, match=r"root_path"):
        StoreProfile(backend="b", root_path="a/../..")
    data = {"backends": {"b": {"type": "memory"}}, "stores": {"data": {"backend": "b"}}}
    data["stores"]["data"]["root_path"] = "../up"
    with pytest.raises(ConfigError, match=r"store 'data'.*root_path"):
        RegistryConfig.from_dict(data)


def test_cfg_003_store_backend_must_be_non_empty_str() -> None:
    with pytest.raises(ConfigError):
        StoreProfile(backend="")


# --------------------------------------------------------------------------- RetryPolicy


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": True},
        {"attempts": 2.5},
        {"backoff_base": -1},
        {"backoff_max": float("inf")},
        {"backoff_base": 3.0, "backoff_max": 1.0},
        {"jitter": "yes"},
        {"timeout": 0},
        {"timeout": "60"},
    ],
)
def test_cfg_011_retry_policy_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"retry"):
        RetryPolicy(**kwargs)


def test_cfg_011_delays_double_and_cap_without_jitter() -> None:
    policy = RetryPolicy(attempts=6, backoff_base=0.5, backoff_max=3.0, jitter=False)
    assert list(policy.delays()) == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert list(RetryPolicy(attempts=1).delays()) == []


def test_cfg_011_full_jitter_stays_within_the_cap() -> None:
    policy = RetryPolicy(attempts=200, backoff_base=0.1, backoff_max=2.0)
    delays = list(policy.delays(random.Random(7)))
    caps = list(RetryPolicy(attempts=200, backoff_base=0.1, backoff_max=2.0, jitter=False).delays())
    assert len(delays) == 199
    assert all(0.0 <= d <= c for d, c in zip(delays, caps, strict=True))
    assert delays != caps  # jitter actually spreads the retries


def test_cfg_011_a_backends_retry_option_becomes_a_policy() -> None:
    """One reading of ``retry=`` for every backend: None (the backend's default), a
    policy, a mapping (a TOML table); anything else is a ConfigError naming its type."""
    default = RetryPolicy(attempts=4)
    assert RetryPolicy.from_option(None, default) is default
    mine = RetryPolicy(attempts=2)
    assert RetryPolicy.from_option(mine, default) is mine
    assert RetryPolicy.from_option({"attempts": 5}, default) == RetryPolicy(attempts=5)
    with pytest.raises(ConfigError, match="retry must be a RetryPolicy or a mapping, got str"):
        RetryPolicy.from_option("3", default)
    with pytest.raises(ConfigError, match="unknown key"):
        RetryPolicy.from_option({"tries": 5}, default)


def test_cfg_011_huge_attempt_counts_do_not_overflow() -> None:
    policy = RetryPolicy(attempts=5000, jitter=False)
    assert max(policy.delays()) == policy.backoff_max


def test_cfg_011_retry_from_dict_rejects_unknown_keys() -> None:
    assert RetryPolicy.from_dict({"attempts": 4, "timeout": None}) == RetryPolicy(
        attempts=4, timeout=None
    )
    with pytest.raises(ConfigError, match=r"retries.*allowed: attempts"):
        RetryPolicy.from_dict({"retries": 4})


# --------------------------------------------------------------------------- RegistryConfig


def test_cfg_004_seed_000_direct_construction() -> None:
    config = RegistryConfig(
        backends={
            "my-azure": BackendConfig(
                type="azure",
                options={"container": "my-container", "account_name": "mystorageaccount"},
            ),
        },
        stores={"data": StoreProfile(backend="my-azure", root_path="datasets")},
    )
    assert config.stores["data"].backend == "my-azure"
    assert config.backends["my-azure"].options["container"] == "my-container"


def test_cfg_004_store_backend_must_be_defined() -> None:
    with pytest.raises(ConfigError, match=r"'missing'.*defined backends: a, b"):
        RegistryConfig(
            backends={"a": BackendConfig("memory"), "b": BackendConfig("memory")},
            stores={"s": StoreProfile(backend="missing")},
        )


def test_cfg_004_values_must_be_config_objects() -> None:
    with pytest.raises(ConfigError, match=r"from_dict"):
        RegistryConfig(backends={"a": {"type": "memory"}})  # type: ignore[dict-item]
    config = RegistryConfig(backends={"a": BackendConfig("memory")})
    with pytest.raises(TypeError):
        config.backends["b"] = BackendConfig("memory")  # type: ignore[index]


def test_cfg_005_inline_and_nested_options_forms() -> None:
    inline = RegistryConfig.from_dict({"backends": {"d": {"type": "local", "base_path": "/x"}}})
    nested = RegistryConfig.from_dict(
        {"backends": {"d": {"type": "local", "options": {"base_path": "/x"}}}}
    )
    assert inline == nested
    assert inline.backends["d"].options == {"base_path": "/x"}
    with pytest.raises(ConfigError, match=r"base_path given both"):
        RegistryConfig.from_dict(
            {
                "backends": {
                    "d": {"type": "local", "base_path": "/x", "options": {"base_path": "/y"}}
                }
            }
        )


def test_cfg_005_unknown_top_level_keys_list_allowed_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown key.*backend.*allowed: backends, stores"):
        RegistryConfig.from_dict({"backend": {}})


def test_cfg_005_store_missing_backend_names_the_store() -> None:
    with pytest.raises(ConfigError, match=r"stores.reports: missing 'backend'"):
        RegistryConfig.from_dict({"stores": {"reports": {"root_path": "x"}}})
    with pytest.raises(ConfigError, match=r"stores.reports: unknown key.*rootpath"):
        RegistryConfig.from_dict(
            {
                "backends": {"m": {"type": "memory"}},
                "stores": {"reports": {"backend": "m", "rootpath": "x"}},
            }
        )


def test_cfg_005_backend_missing_type_names_the_backend() -> None:
    with pytest.raises(ConfigError, match=r"backends.prod: missing 'type'"):
        RegistryConfig.from_dict({"backends": {"prod": {"container": "c"}}})
    with pytest.raises(ConfigError, match=r"'backends' must be a table"):
        RegistryConfig.from_dict({"backends": ["local"]})


# --------------------------------------------------------------------------- ${VAR} placeholders


def _resolve(value: Any, env: dict[str, str]) -> Any:
    data = {"backends": {"b": {"type": "local", "value": value}}}
    return RegistryConfig.from_dict(data, env=env).backends["b"].options["value"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("${HOME_DIR}/data", "/home/u/data"),
        ("${UNSET:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),  # shell rule: empty also takes the default
        ("${EMPTY}", ""),
        ("${HOME_DIR:-unused}", "/home/u"),
        ("$${HOME_DIR}", "${HOME_DIR}"),
        ("cost: $$5 and $${", "cost: $$5 and ${"),
        ("${A}${B}", "ab"),
        ("${INJECT}", "${HOME_DIR}"),  # a value is never rescanned for placeholders
    ],
)
def test_cfg_006_placeholders(raw: str, expected: str) -> None:
    env = {"HOME_DIR": "/home/u", "EMPTY": "", "A": "a", "B": "b", "INJECT": "${HOME_DIR}"}
    assert _resolve(raw, env) == expected


def test_cfg_006_placeholders_inside_lists_and_tables() -> None:
    value = {"hosts": ["${H1}", "static"], "deep": {"x": "${H2:-d}"}}
    assert _resolve(value, {"H1": "one"}) == {"hosts": ["one", "static"], "deep": {"x": "d"}}


def test_cfg_006_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RS_TEST_BASE", "/from/env")
    config = RegistryConfig.from_dict(
        {"backends": {"b": {"type": "local", "base_path": "${RS_TEST_BASE}"}}}
    )
    assert config.backends["b"].options["base_path"] == "/from/env"


def test_cfg_006_direct_construction_does_not_resolve() -> None:
    assert BackendConfig("local", {"base_path": "${X}"}).options["base_path"] == "${X}"


def test_cfg_007_missing_variable_names_variable_and_key() -> None:
    data = {"backends": {"prod": {"type": "azure", "account_key": "${AZURE_KEY}"}}}
    with pytest.raises(ConfigError) as caught:
        RegistryConfig.from_dict(data, env={})
    assert "AZURE_KEY" in str(caught.value)
    assert "backends.prod.account_key" in str(caught.value)


def test_cfg_007_missing_variable_in_list_names_index() -> None:
    with pytest.raises(ConfigError, match=r"backends\.b\.hosts\[1\].*H2"):
        RegistryConfig.from_dict(
            {"backends": {"b": {"type": "x", "hosts": ["a", "${H2}"]}}}, env={}
        )


def test_cfg_007_errors_never_contain_resolved_values() -> None:
    """A resolved secret sits next to the failing key; the message shows neither value."""
    data = {
        "backends": {
            "prod": {
                "type": "azure",
                "account_key": "${KEY}",
                "connection_string": "x${KEY}y ${BAD",
            }
        }
    }
    with pytest.raises(ConfigError) as caught:
        RegistryConfig.from_dict(data, env={"KEY": KEY})
    assert "backends.prod.connection_string" in str(caught.value)
    assert "malformed placeholder" in str(caught.value)
    assert KEY not in str(caught.value)


def test_cfg_008_secret_from_env_is_wrapped() -> None:
    data = {"backends": {"prod": {"type": "azure", "account_key": "${KEY}"}}}
    config = RegistryConfig.from_dict(data, env={"KEY": KEY})
    assert config.backends["prod"].options["account_key"] == Secret(KEY)
    assert KEY not in repr(config)
    assert KEY not in repr(config.to_dict())


# --------------------------------------------------------------------------- TOML

DEV_TOML = """
[backends.storage]
type = "local"
base_path = "./data"

[stores.default]
backend = "storage"
"""

PROD_TOML = """
[backends.storage]
type = "s3"
bucket = "my-bucket"

[stores.default]
backend = "storage"
"""


def test_cfg_009_seed_003_toml_files_load(tmp_path: Path) -> None:
    (tmp_path / "dev.toml").write_text(DEV_TOML)
    (tmp_path / "prod.toml").write_text(PROD_TOML)
    dev = RegistryConfig.from_toml(str(tmp_path / "dev.toml"))
    assert dev.backends["storage"] == BackendConfig("local", {"base_path": "./data"})
    assert dev.stores["default"] == StoreProfile("storage")
    # An unregistered type loads; only a Registry built from it refuses it (REG-002).
    prod = RegistryConfig.from_toml(tmp_path / "prod.toml")
    assert prod.backends["storage"].type == "s3"


def test_cfg_009_pyproject_table_is_used(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n'
        '[tool.remote-store.backends.mem]\ntype = "memory"\n\n'
        '[tool.remote-store.stores.cache]\nbackend = "mem"\nroot_path = "c"\n'
    )
    config = RegistryConfig.from_toml(tmp_path / "pyproject.toml")
    assert config.stores == {"cache": StoreProfile("mem", "c")}


def test_cfg_009_tool_table_in_any_file_and_missing_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "app.toml").write_text('[tool.remote-store.backends.m]\ntype = "memory"\n')
    assert list(RegistryConfig.from_toml(tmp_path / "app.toml").backends) == ["m"]
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    with pytest.raises(ConfigError, match=r"no \[tool.remote-store\] table"):
        RegistryConfig.from_toml(tmp_path / "pyproject.toml")


def test_cfg_009_malformed_toml_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[backends.a]\ntype = "local"\nbase_path = \n')
    with pytest.raises(ConfigError) as caught:
        RegistryConfig.from_toml(path)
    message = str(caught.value)
    assert "broken.toml" in message
    assert "line 3" in message
    assert "column" in message


def test_cfg_009_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.toml.*does not exist"):
        RegistryConfig.from_toml(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"cannot read"):
        RegistryConfig.from_toml(tmp_path)  # a directory
    (tmp_path / "latin1.toml").write_bytes(b'[backends.a]\ntype = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"UTF-8"):
        RegistryConfig.from_toml(tmp_path / "latin1.toml")
    with pytest.raises(InvalidArgument):
        RegistryConfig.from_toml(42)  # type: ignore[arg-type]


def test_cfg_009_toml_string_with_env() -> None:
    config = RegistryConfig.from_toml_string(
        '[backends.prod]\ntype = "azure"\ncontainer = "c"\nsas_token = "${SAS}"\n',
        env={"SAS": KEY},
    )
    assert config.backends["prod"].options["sas_token"].reveal() == KEY


# --------------------------------------------------------------------------- to_dict


def test_cfg_010_to_dict_shape_keeps_secrets_wrapped() -> None:
    config = RegistryConfig.from_dict(
        {
            "backends": {"p": {"type": "azure", "container": "c", "account_key": KEY}},
            "stores": {"s": {"backend": "p", "root_path": "/x/"}},
        }
    )
    data = config.to_dict()
    assert data == {
        "backends": {"p": {"type": "azure", "container": "c", "account_key": Secret(KEY)}},
        "stores": {"s": {"backend": "p", "root_path": "x"}},
    }
    assert isinstance(data["backends"]["p"]["account_key"], Secret)
    assert RegistryConfig.from_dict(data, env={}) == config


_text = st.text(alphabet="${}:-ab/", max_size=12)
_options = st.dictionaries(
    st.sampled_from(["base_path", "account_key", "label", "nested"]),
    _text | st.lists(_text, max_size=3) | st.integers() | st.booleans(),
    max_size=4,
)


@given(_options, _text.filter(lambda s: "\\" not in s))
def test_cfg_010_round_trip_property(options: dict[str, Any], name: str) -> None:
    """Any options, including literal '${' text, survive to_dict -> from_dict unchanged."""
    config = RegistryConfig(backends={"b": BackendConfig("local", options)})
    assert RegistryConfig.from_dict(config.to_dict(), env={}) == config
