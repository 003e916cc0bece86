"""The component registry: which components the project has, read from disk.

There is no list kept anywhere else to drift out of date: a component is
registered when ``components/<name>/.copier-answers.yml`` exists, says
``kind: component`` and names that very folder. Every wiring run rebuilds
app/components.py and the manifest's ``components:`` key from this scan, so a
registration can never be lost to a concurrent run, and a deleted component
disappears on the next one. What does not add up is reported, never silently
dropped: a folder whose answers name another component (moved by hand), and a
registered component whose folder is still there but whose answers file is gone
(kept as it was registered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from naming import snake_rule_error

ANSWERS_FILE = ".copier-answers.yml"


@dataclass(frozen=True)
class Component:
    name: str  # the package folder: components/<name>/
    entity: str
    fields: str
    template_version: str | None  # the template's _commit when rendered (tag or hash)


@dataclass
class Scan:
    components: list[Component]
    warnings: list[str]


def scan(root: Path, registered: Mapping[str, Any] | None = None) -> Scan:
    """Every component under ``root/components``, sorted by name.

    ``registered`` is what the manifest recorded so far (name -> entry): a component
    there whose folder still exists but lost its answers file stays, as recorded.
    """
    result = Scan([], [])
    for answers_path in sorted((root / "components").glob(f"*/{ANSWERS_FILE}")):
        name = answers_path.parent.name
        answers = read_answers(answers_path)
        if answers is None:
            result.warnings.append(f"components/{name}/{ANSWERS_FILE} is not YAML: skipped")
        elif answers.get("kind") != "component":
            continue  # a folder rendered by another template, not a hexforge component
        elif (problem := snake_rule_error(name)) is not None:
            result.warnings.append(f"components/{name} is not a package name ({problem}): skipped")
        elif (recorded := answers.get("component_name", name)) != name:
            result.warnings.append(
                f"components/{name} holds the answers of component {recorded!r}: it was moved "
                f"or renamed by hand, so it is not registered; move it back (git mv "
                f"components/{name} components/{recorded}), or scaffold {name} anew"
            )
        else:
            result.components.append(_component(name, answers))
    found = {component.name for component in result.components}
    for name, entry in sorted((registered or {}).items()):
        if name in found or not (root / "components" / name).is_dir():
            continue
        result.warnings.append(
            f"components/{name} has no {ANSWERS_FILE}: kept registered as it was, but it "
            f"cannot be updated; restore it (git checkout -- components/{name}/{ANSWERS_FILE})"
        )
        result.components.append(_component(name, _answers_of(entry)))
    result.components.sort(key=lambda component: component.name)
    return result


def _answers_of(entry: object) -> dict[str, Any]:
    """A manifest entry (entity, fields, template_version) as answers."""
    known = entry if isinstance(entry, Mapping) else {}
    return {
        "entity_name": known.get("entity", ""),
        "fields": known.get("fields", ""),
        "_commit": known.get("template_version"),
    }


def read_answers(path: Path) -> dict[str, Any] | None:
    """A Copier answers file as a dict; None when it is not a readable YAML mapping.

    Every scalar stays the string it is written as (YAML's base schema): a YAML 1.2
    reader takes an unquoted ``_commit: 5e72125`` for a float (infinity) and ``1.10``
    for 1.1, and the manifest would record that number as the template version."""
    try:
        data = YAML(typ="base", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError):
        return None
    return data if isinstance(data, dict) else None


def _component(name: str, answers: dict[str, Any]) -> Component:
    commit = answers.get("_commit")
    return Component(
        name=name,
        entity=str(answers.get("entity_name", "")),
        fields=str(answers.get("fields", "")),
        template_version=None if commit is None else str(commit),
    )
