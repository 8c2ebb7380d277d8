"""The backend shown in docs/writing-a-backend.md passes the whole conformance suite."""

from __future__ import annotations

import types
from collections.abc import Iterator

import pytest

from remote_store.backend import Backend
from remote_store.testing import ConformanceSuite
from tests.docs.blocks import ROOT, blocks_in

PAGE = ROOT / "docs/writing-a-backend.md"


def _documented_module() -> types.ModuleType:
    """The page's ``# my_backend.py`` block, executed as a module."""
    found = [b for b in blocks_in(PAGE) if b.file_name() == "my_backend.py"]
    assert len(found) == 1, f"{PAGE}: expected one '# my_backend.py' block, found {len(found)}"
    block = found[0]
    module = types.ModuleType("docs_my_backend")
    code = compile("\n" * (block.line - 1) + block.code, str(PAGE), "exec")
    exec(code, module.__dict__)
    return module


DOCUMENTED = _documented_module()


class TestDocumentedBackend(ConformanceSuite):
    @pytest.fixture
    def backend(self) -> Iterator[Backend]:
        backend: Backend = DOCUMENTED.DictBackend()
        yield backend
        backend.close()
