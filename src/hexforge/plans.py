"""A story's plan files, IMPLEMENTATION-PLAN.md and SCOPE.md, still holding the hints
of their skeleton (``<one paragraph: ...>``, ``<AC-1>``, ``<yes / no>``): a story is
not complete while its plan says nothing (SPEC section 15).

A hint is ``<...>`` outside code (fenced blocks and backtick spans), not an autolink
(``<https://...>``) or an HTML tag a plan may use (``<br>``, ``<details>``), with no
space right inside either bracket (``a < b and c > d`` is prose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hexforge.core import read_text

PLAN_FILES = ("IMPLEMENTATION-PLAN.md", "SCOPE.md")

HINT = re.compile(r"<(?=\S)[^>\n]*(?<=\S)>")
CODE_SPAN = re.compile(r"`+[^`\n]*`+")
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
NOT_A_HINT = re.compile(
    r"</?(?:br|hr|details|summary|sub|sup|kbd|b|i|em|strong|p|div|span|img|a|code|pre|"
    r"table|thead|tbody|tr|td|th|ul|ol|li)\b[^>]*>|<(?:https?://|mailto:)[^>]*>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Placeholder:
    path: Path
    line: int
    hint: str

    def message(self) -> str:
        return (
            f"{self.path}:{self.line}: plan-placeholder: still holds the skeleton hint "
            f"{self.hint!r}: a complete story's plan is filled in"
        )


def placeholders(directory: Path) -> list[Placeholder]:
    """Every skeleton hint left in the plan files of the story folder ``directory``."""
    found: list[Placeholder] = []
    for name in PLAN_FILES:
        path = directory / name
        if not path.is_file():
            continue
        try:
            text, _ = read_text(path)
        except UnicodeDecodeError:
            continue  # the log check does not read plan files; nothing to say here
        found += _in_text(path, text)
    return found


def _in_text(path: Path, text: str) -> list[Placeholder]:
    found = []
    fence: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        opened = FENCE.match(line)
        if opened:
            marker = opened.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        prose = NOT_A_HINT.sub("", CODE_SPAN.sub("", line))
        hint = HINT.search(prose)
        if hint:
            found.append(Placeholder(path, number, hint.group(0)))
    return found
