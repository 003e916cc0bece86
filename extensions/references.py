"""References between components (``warehouse:ref[warehouses]``), checked against the project.

A ``ref[other]`` field needs ``other`` to exist in the project, and the references of
all components to form no cycle: the composition root builds a component after those
it references (extensions/app_main.py), which a cycle makes impossible. Both are
refused by the ``fields`` validator, at copy or update time, before anything is
written. Stdlib only, plus Copier's own YAML reader.
"""

from __future__ import annotations

from pathlib import Path

from copier_internals import read_answers, updated_project
from fields import REF_RE

ANSWERS_FILE = ".copier-answers.yml"


def reference_fields(text: str) -> list[tuple[str, str]]:
    """(field, referenced component) of each ``ref[...]`` field of a fields answer."""
    found = []
    for item in text.split(","):
        name, _, rest = item.partition(":")
        match = REF_RE.fullmatch(rest.split(":")[0].strip())
        if match:
            found.append((name.strip(), match.group(1)))
    return found


def project_references(root: Path) -> dict[str, list[str]]:
    """Each component of the project at ``root`` and the components it references."""
    graph: dict[str, list[str]] = {}
    for path in sorted((root / "components").glob(f"*/{ANSWERS_FILE}")):
        answers = read_answers(path)
        if answers.get("kind") == "component":
            fields = str(answers.get("fields", ""))
            graph[path.parent.name] = [other for _, other in reference_fields(fields)]
    return graph


def cycle_through(graph: dict[str, list[str]], start: str) -> list[str] | None:
    """A path of references from ``start`` back to it, or None."""
    path = [start]

    def visit(name: str, seen: set[str]) -> list[str] | None:
        for other in graph.get(name, []):
            if other == start:
                return [*path, start]
            if other in seen:
                continue
            seen.add(other)
            path.append(other)
            if (found := visit(other, seen)) is not None:
                return found
            path.pop()
        return None

    return visit(start, {start})


def references_error(fields_text: object, component: object, dst: object) -> str:
    """Validator: '' unless a ref field names a component the project lacks, or the
    references would form a cycle (the message names the field and the rule)."""
    if not isinstance(fields_text, str) or not isinstance(component, str) or not component:
        return ""
    refs = reference_fields(fields_text)
    if not refs:
        return ""
    # In an update's temporary copies, the project is the one being updated.
    root = updated_project() or Path(str(dst))
    graph = project_references(root)
    for field, other in refs:
        if other == component:
            return (
                f"field {field!r}: ref[{other}] references the component itself: references "
                "must not form a cycle (the composition root builds a component after those "
                "it references); keep such a link as a plain uuid field"
            )
        if other not in graph:
            there = ", ".join(sorted(set(graph) - {component})) or "none"
            return (
                f"field {field!r}: ref[{other}] names no component of this project "
                f"(components/{other}/{ANSWERS_FILE} is missing; its components: {there}): "
                f"scaffold {other} first"
            )
    graph[component] = [other for _, other in refs]
    cycle = cycle_through(graph, component)
    if cycle is not None:
        field = next(name for name, other in refs if other == cycle[1])
        return (
            f"field {field!r}: ref[{cycle[1]}] would make the references a cycle "
            f"({' -> '.join(cycle)}): the composition root builds a component after those "
            "it references; drop one ref of the cycle"
        )
    return ""
