"""What the template writes into a user's project cites only what that project holds:
not hexforge's SPEC, not the pages of hexforge's own docs/ folder."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template"
# The contract and the reference pages live in hexforge's repository, not the user's
# (whose own docs/ an agent's manifest may name: docs/002_spec.md is theirs).
PAGES = "|".join(re.escape(page.name) for page in sorted((REPO / "docs").glob("*.md")))
CITATIONS = re.compile(rf"\bSPEC\b|\bdocs/({PAGES})")


def test_no_template_file_cites_hexforges_own_documents() -> None:
    cited = [
        f"{path.relative_to(TEMPLATE)}:{number}: {line.strip()}"
        for path in sorted(TEMPLATE.rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CITATIONS.search(line)
    ]
    assert cited == []
