"""Every code block in README.md and docs/ is executed, checked, or explicitly skipped.

See `tests.docs.blocks` for the conventions (``python {.azure}``, ``# NAME.toml``,
``<!-- skip: reason -->``).
"""

from __future__ import annotations

import json
import sys
import tomllib
import types
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from remote_store import Registry, RegistryConfig
from remote_store import registry as registry_module
from tests.azure_support import Azurite
from tests.docs.blocks import ROOT, Block, all_blocks
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.sftp_support import Sshd

#: Every block marked ``<!-- skip: reason -->``, by file, with its count. A new skip must be
#: added here: skipping is a decision, never an accident.
EXPECTED_SKIPS: dict[str, int] = {"docs/data-science.md": 1}

#: Example files a docs page may include with ``--8<--``; tests/docs/test_examples.py runs them.
RUN_BY_TEST_EXAMPLES = frozenset(
    {
        "examples/quickstart.py",
        "examples/switch_env.py",
        "examples/config/dev.toml",
        "examples/config/prod.toml",
        "examples/azure_azurite.py",
        "examples/pandas_csv_parquet.py",
        "examples/bulk_copy_cli.sh",
        "examples/main_job.py",
        "examples/remote-store.toml",
        "examples/rstore_datasets.py",
        "examples/dask_distributed.py",
    }
)

BLOCKS = all_blocks()


class _AnyVariable(Mapping[str, str]):
    """An environment in which every ``${VAR}`` is set, so placeholders in TOML blocks load."""

    def __getitem__(self, name: str) -> str:
        return f"value-of-{name}"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _pages(*kinds: str) -> list[str]:
    return sorted({b.file for b in BLOCKS if b.kind in kinds})


def _check_config(block: Block) -> None:
    """Parse *block* with tomllib, load it, and check its backend types are known."""
    try:
        tomllib.loads(block.code)
    except tomllib.TOMLDecodeError as error:
        pytest.fail(f"{block.where}: TOML does not parse: {error}")
    config = RegistryConfig.from_toml_string(block.code, env=_AnyVariable())
    Registry(config).close()  # validates every backend type; builds nothing


def _check_pyproject(block: Block) -> None:
    data = tomllib.loads(block.code)
    if "remote-store" in data.get("tool", {}):
        _check_config(block)


def _run_python(block: Block, module: types.ModuleType) -> None:
    # Padding keeps line numbers: a traceback points into the Markdown file.
    code = compile("\n" * (block.line - 1) + block.code, str(ROOT / block.file), "exec")
    exec(code, module.__dict__)


def _run_page(page: str, kinds: set[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run the blocks of *page* whose kind is in *kinds*, in order; TOML blocks are checked.
    A block naming a file (``# NAME.toml``, ``# NAME.py``) is also written there. Returns how
    many Python blocks ran."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # Backend types a page registers stay with the page.
    monkeypatch.setattr(registry_module, "_types", dict(registry_module._types))
    module = types.ModuleType(f"docs_page_{abs(hash(page))}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    before = set(sys.modules)
    ran = 0
    try:
        for block in (b for b in BLOCKS if b.file == page):
            name = block.file_name()
            if name and block.kind in ("toml", "python", "azure", "sftp", "s3"):
                (tmp_path / name).write_text(block.code, encoding="utf-8")
            if block.kind == "toml":
                _check_config(block)
            elif block.kind == "pyproject":
                _check_pyproject(block)
            elif block.kind in kinds:
                _run_python(block, module)
                ran += 1
    finally:
        for imported in set(sys.modules) - before:  # modules the page wrote and imported
            if str(tmp_path) in str(getattr(sys.modules[imported], "__file__", "") or ""):
                del sys.modules[imported]
    return ran


@pytest.mark.parametrize("page", _pages("python", "toml", "pyproject"))
def test_page_blocks_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's Python blocks run in order on local/memory backends; its TOML loads."""
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    _run_page(page, {"python"}, tmp_path, monkeypatch)


@pytest.mark.azure
@pytest.mark.parametrize("page", _pages("azure"))
def test_page_azure_blocks_run_on_azurite(
    page: str, azurite: Azurite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's ``python {.azure}`` blocks run in order against Azurite."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    assert _run_page(page, {"azure"}, tmp_path, monkeypatch) > 0


@pytest.mark.sftp
@pytest.mark.parametrize("page", _pages("sftp"))
def test_page_sftp_blocks_run_on_sshd(
    page: str, sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's ``python {.sftp}`` blocks run in order against the session's sshd."""
    for name, value in {
        "SFTP_HOST": sshd.host,
        "SFTP_PORT": str(sshd.port),
        "SFTP_USER": sshd.username,
        "SFTP_KEY_FILE": str(sshd.client_key_path),
        "SFTP_KNOWN_HOSTS": sshd.known_hosts_line,
        "SFTP_BASE": sshd.new_base("docs"),
    }.items():
        monkeypatch.setenv(name, value)
    assert _run_page(page, {"sftp"}, tmp_path, monkeypatch) > 0


@pytest.mark.s3
@pytest.mark.parametrize("page", _pages("s3"))
def test_page_s3_blocks_run_on_ministack(
    page: str, ministack: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's ``python {.s3}`` blocks run in order against MiniStack, configured only
    through the standard AWS environment variables."""
    for name, value in {
        "AWS_ENDPOINT_URL": ministack.endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    assert _run_page(page, {"s3"}, tmp_path, monkeypatch) > 0


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.kind == "json"], ids=lambda b: b.where)
def test_json_blocks_parse(block: Block) -> None:
    """A JSON example (CLI output) is valid JSON."""
    assert json.loads(block.code) is not None


def test_every_block_is_accounted_for() -> None:
    """No block in a language we do not know how to test; skips are exactly the listed ones;
    includes name examples that test_examples.py runs."""
    unknown = [f"{b.where} ({b.lang!r})" for b in BLOCKS if b.kind == "unknown"]
    assert not unknown, (
        "code blocks in a language the docs tests do not handle (use python, toml, bash or "
        f"text, or extend tests/docs/blocks.py): {unknown}"
    )
    skipped = Counter(b.file for b in BLOCKS if b.kind == "skip")
    assert dict(skipped) == EXPECTED_SKIPS, (
        "skipped blocks differ from EXPECTED_SKIPS in tests/docs/test_doc_blocks.py: "
        + "; ".join(f"{b.where}: {b.skip}" for b in BLOCKS if b.kind == "skip")
    )
    for block in (b for b in BLOCKS if b.kind == "include"):
        for path in block.includes():
            assert (ROOT / path).is_file(), f"{block.where}: includes missing {path}"
            assert path in RUN_BY_TEST_EXAMPLES, f"{block.where}: {path} is not a tested example"


def test_there_is_something_to_run() -> None:
    """Guards against a parser change that silently finds no blocks."""
    kinds = Counter(b.kind for b in BLOCKS)
    assert kinds["python"] >= 10
    assert kinds["toml"] >= 3


def inventory() -> str:
    """One line per kind of block, for the terminal summary."""
    kinds = Counter(b.kind for b in BLOCKS)
    parts = [f"{count} {kind}" for kind, count in sorted(kinds.items())]
    skips = [f"  skipped {b.where}: {b.skip}" for b in BLOCKS if b.kind == "skip"]
    return "\n".join([f"docs code blocks: {', '.join(parts)}", *skips])
