"""Glob patterns over keys: ``*``, ``?``, ``[...]`` within a segment; ``**`` across segments."""

from __future__ import annotations

import re
from functools import lru_cache

from remote_store import paths
from remote_store.errors import InvalidArgument

_MAGIC = re.compile(r"[*?\[]")


def literal_prefix(pattern: str) -> str:
    """The longest run of leading segments free of wildcards: the only listing a glob needs."""
    literal: list[str] = []
    for segment in pattern.split("/")[:-1]:
        if _MAGIC.search(segment):
            break
        literal.append(segment)
    return "/".join(literal)


def needs_recursion(pattern: str, prefix: str) -> bool:
    """Whether matching *pattern* below *prefix* needs more than one level of listing."""
    rest = pattern[len(prefix) :].lstrip("/")
    return "**" in rest or "/" in rest


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Translate a normalised glob pattern into an anchored regular expression; a
    malformed one (``[z-a]``) is `InvalidArgument`."""
    try:
        return re.compile(_translate(pattern) + r"\Z", re.DOTALL)
    except re.error as error:
        raise InvalidArgument(f"malformed glob pattern {pattern!r}: {error.msg}") from None


def _translate(pattern: str) -> str:
    out: list[str] = []
    segments = pattern.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            out.append(".*" if last else "(?:[^/]*/)*")
            continue
        out.append(_translate_segment(segment))
        if not last:
            out.append("/")
    return "".join(out)


def _translate_segment(segment: str) -> str:
    parts: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                parts.append(re.escape(char))
            else:
                body = segment[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                # A class never matches "/" (a negated class or a range like [+-0] would).
                escaped = body.replace("\\", "\\\\").replace("[", "\\[")
                parts.append("(?!/)[" + escaped + "]")
                i = end
        else:
            parts.append(re.escape(char))
        i += 1
    return "".join(parts)


def escape(text: str) -> str:
    """Make *text* match itself literally inside a pattern."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def normalize_pattern(pattern: object) -> str:
    """Validate a glob pattern like a path (no ``..``, no NUL) and return it canonical."""
    return paths.normalize(pattern, allow_root=False)
