"""Word-level redline between two texts of a contract document.

Texts are cut into tokens — words, runs of punctuation and runs of whitespace — and compared with
``difflib.SequenceMatcher`` (Ratcliff/Obershelp, the standard library's matcher) with its junk
heuristic off, so common words are never skipped. The result is a list of chunks
``(op, text)`` with ``op`` one of ``equal``, ``insert``, ``delete``; joining the ``equal`` and
``delete`` chunks gives the old text back and joining ``equal`` and ``insert`` gives the new one,
so nothing is lost in either direction. A replaced run of words shows as a deletion followed by an
insertion. :func:`to_html` escapes every chunk and marks changes with ``<del>``/``<ins>``.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from typing import Literal

Op = Literal["equal", "insert", "delete"]

_TOKEN = re.compile(r"\s+|\w+(?:[.,'’-]\w+)*|[^\w\s]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Chunk:
    op: Op
    text: str


def tokens(text: str) -> list[str]:
    """Words (with inner points, commas, apostrophes and hyphens: ``25.50``, ``1,275.00``,
    ``don't``), punctuation runs and whitespace runs; their concatenation is ``text``."""
    return _TOKEN.findall(text)


def _append(out: list[Chunk], op: Op, text: str) -> None:
    if not text:
        return
    if out and out[-1].op == op:
        out[-1] = Chunk(op, out[-1].text + text)
    else:
        out.append(Chunk(op, text))


def diff(old: str, new: str) -> list[Chunk]:
    """The word-level changes that turn ``old`` into ``new``."""
    a, b = tokens(old), tokens(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: list[Chunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _append(out, "equal", "".join(a[i1:i2]))
        elif tag == "delete":
            _append(out, "delete", "".join(a[i1:i2]))
        elif tag == "insert":
            _append(out, "insert", "".join(b[j1:j2]))
        else:  # replace
            _append(out, "delete", "".join(a[i1:i2]))
            _append(out, "insert", "".join(b[j1:j2]))
    return out


def old_text(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks if c.op != "insert")


def new_text(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks if c.op != "delete")


def stats(chunks: list[Chunk]) -> dict[str, int]:
    """Words inserted and deleted (whitespace and punctuation not counted)."""
    counts = {"inserted": 0, "deleted": 0}
    for chunk in chunks:
        if chunk.op == "equal":
            continue
        words = sum(1 for t in tokens(chunk.text) if t[:1].isalnum() or t[:1] == "_")
        counts["inserted" if chunk.op == "insert" else "deleted"] += words
    return counts


def to_html(chunks: list[Chunk]) -> str:
    """Escaped HTML: unchanged text as is, deletions in ``<del>``, insertions in ``<ins>``.
    Line breaks are kept by the caller's ``white-space: pre-wrap``."""
    parts = []
    for chunk in chunks:
        text = html.escape(chunk.text)
        if chunk.op == "equal":
            parts.append(text)
        elif chunk.op == "delete":
            parts.append(f"<del>{text}</del>")
        else:
            parts.append(f"<ins>{text}</ins>")
    return "".join(parts)
