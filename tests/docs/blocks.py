"""Find the fenced code blocks of the documentation and say how each one is tested.

Conventions, written in the Markdown itself so a reader sees them too:

- ```` ```python ```` runs. The Python blocks of one page share a namespace and run in order,
  in a fresh temporary working directory, on local or memory backends.
- ```` ```python {.azure} ```` needs Azure: it runs against the Azurite emulator, with
  ``AZURE_STORAGE_CONNECTION_STRING`` set to its connection string.
- ```` ```python {.sftp} ```` needs an SFTP server: it runs against the test session's
  sshd, with ``SFTP_HOST``, ``SFTP_PORT``, ``SFTP_USER``, ``SFTP_KEY_FILE``,
  ``SFTP_KNOWN_HOSTS`` (its known_hosts line) and ``SFTP_BASE`` (a fresh folder) set.
- ```` ```python {.s3} ```` needs S3: it runs against the session's MiniStack, with
  ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_REGION`` set.
- ```` ```toml ```` is a configuration: it must parse with `tomllib`, load with
  `RegistryConfig.from_toml_string` and name only known backend types. A first line
  ``# NAME.toml`` also writes it to ``NAME.toml`` in the page's working directory, where the
  page's later Python blocks find it; a Python block starting ``# NAME.py`` is likewise
  written to ``NAME.py``, importable by the page's later blocks.
- ```` ```toml {.pyproject} ```` is a ``pyproject.toml`` excerpt: it must parse, and its
  ``[tool.remote-store]`` table, if any, must load.
- A block whose lines are all ``--8<-- "examples/..."`` includes an example file
  (pymdownx.snippets); the example runs in ``test_examples.py``.
- ```` ```bash ````, ```` ```text ```` and friends are shown, not run.
- ``<!-- skip: reason -->`` on the line before a fence skips it; every skip is listed in
  ``test_doc_blocks.EXPECTED_SKIPS`` and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Languages whose blocks are shown but never executed.
SHOWN_ONLY = frozenset({"bash", "console", "shell", "sh", "text", "", "pycon", "ini"})

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_SKIP = re.compile(r"^\s*<!--\s*skip:\s*(?P<reason>.+?)\s*-->\s*$")
_INCLUDE = re.compile(r'^--8<--\s+"(?P<path>[^"]+)"\s*$')
_FILE_NAME = re.compile(r"^#\s*(?P<name>[\w.-]+\.(?:toml|py))\b")


@dataclass(frozen=True)
class Block:
    """One fenced code block."""

    file: str  # relative to the repository root, with forward slashes
    line: int  # 1-based line of the first code line
    lang: str
    classes: frozenset[str]
    code: str
    skip: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def kind(self) -> str:
        """How the block is tested: skip, include, python, azure, toml, pyproject, json, shown, or
        unknown (which fails the inventory test)."""
        if self.skip is not None:
            return "skip"
        if self.includes():
            return "include"
        if self.lang in ("python", "py"):
            if "sftp" in self.classes:
                return "sftp"
            if "s3" in self.classes:
                return "s3"
            return "azure" if "azure" in self.classes else "python"
        if self.lang == "toml":
            return "pyproject" if "pyproject" in self.classes else "toml"
        if self.lang == "json":
            return "json"
        if self.lang in SHOWN_ONLY:
            return "shown"
        return "unknown"

    def includes(self) -> list[str]:
        """The files a snippet-include block pulls in (empty for ordinary code)."""
        lines = [line for line in self.code.splitlines() if line.strip()]
        found = [_INCLUDE.match(line) for line in lines]
        if not lines or not all(found):
            return []
        return [match.group("path") for match in found if match]

    def file_name(self) -> str | None:
        """``NAME.toml`` / ``NAME.py`` when the block's first line is such a comment."""
        first = self.code.lstrip().splitlines()[0] if self.code.strip() else ""
        match = _FILE_NAME.match(first)
        return match.group("name") if match else None


def _parse_info(info: str) -> tuple[str, frozenset[str]]:
    """``python {.azure}`` -> ("python", {"azure"}); ``{.python .azure}`` likewise."""
    info = info.strip()
    classes: set[str] = set()
    lang = ""
    brace = re.search(r"\{(.*)\}", info)
    if brace:
        for token in brace.group(1).split():
            if token.startswith("."):
                classes.add(token[1:])
        info = (info[: brace.start()] + info[brace.end() :]).strip()
    if info:
        lang = info.split()[0]
    elif classes:
        # {.python .azure}: the first class is the language.
        first = brace.group(1).split()[0][1:] if brace else ""
        lang, classes = first, classes - {first}
    return lang.lower(), frozenset(classes)


def blocks_in(path: Path) -> list[Block]:
    """Every fenced block of the Markdown file *path*, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    name = path.resolve().relative_to(ROOT).as_posix()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        lang, classes = _parse_info(opening.group("info"))
        skip = _skip_reason(lines, i)
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        found.append(Block(name, i + 2, lang, classes, "\n".join(body) + "\n", skip))
        i = j + 1
    return found


def _skip_reason(lines: list[str], fence_index: int) -> str | None:
    k = fence_index - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    # `<!-- fmt: off -->` may sit between the skip marker and the fence.
    if k >= 0 and lines[k].strip() == "<!-- fmt: off -->":
        k -= 1
    match = _SKIP.match(lines[k]) if k >= 0 else None
    return match.group("reason") if match else None


def documentation_files() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def all_blocks() -> list[Block]:
    return [block for path in documentation_files() for block in blocks_in(path)]
