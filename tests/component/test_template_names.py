"""A fast guard on the component templates: the entity's snake_case form never
appears as a bare Python name, only inside longer ones (create_order, order_id).

That is what keeps any accepted entity name from shadowing a local, a parameter,
a fixture or an import (test_names_by_construction.py proves it slowly).
"""

from __future__ import annotations

import re

from tests.helpers import REPO

COMPONENT = REPO / "template" / "component" / "components" / "{{ component_name }}"
BARE = re.compile(r"(?<![\w`])\{\{ *(?:n|names)\.entity_snake *\}\}(?![\w`])")
PLURAL = re.compile(r"(?<![\w`])\{\{ *(?:n|names)\.entity_plural *\}\}(?![\w`])")


def test_no_template_uses_the_entity_as_a_bare_name() -> None:
    offenders = [
        f"{path.relative_to(COMPONENT)}:{number}: {line.strip()}"
        for path in sorted(COMPONENT.rglob("*.jinja"))
        # {% if x %}name.py{% endif %}.jinja: a module rendered only when asked for
        if re.sub(r"\{%.*?%\}", "", path.name).endswith(".py.jinja")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BARE.search(line.split("#")[0]) or PLURAL.search(line.split("#")[0])
    ]
    assert offenders == []
