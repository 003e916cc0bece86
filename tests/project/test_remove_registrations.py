"""tools/remove.py's edits of the registrations, against the wiring that writes them.

The tool is stdlib-only and cannot import the wiring (extensions/app_main.py,
extensions/manifest.py), so it rewrites their lines itself. These tests hold the two
to one result: a file the wiring wrote for some components, with one removed by the
tool, is byte for byte the file the wiring writes without that component.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import app_main
import manifest
from registry import Component
from tests.project.tooling import load_tool

remove = load_tool("remove.py", "hexforge_remove_tool")

names = st.from_regex(r"[a-z][a-z0-9]{0,3}(_[a-z0-9]{1,3}){0,2}", fullmatch=True)


@st.composite
def removals(draw: st.DrawFn) -> tuple[list[str], dict[str, list[str]], set[str], str]:
    """Some components (in any order); their references (no cycle: each references
    only components drawn before it); those still at a version that built its own
    router (no references then); and the one removed, which none references
    (tools/remove.py refuses the others)."""
    chosen = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    legacy = set(draw(st.lists(st.sampled_from(chosen), unique=True)))
    current = [name for name in chosen if name not in legacy]
    refs = {
        name: draw(st.lists(st.sampled_from(current[:index]), unique=True)) if index else []
        for index, name in enumerate(current)
    }
    referenced = {other for targets in refs.values() for other in targets}
    unreferenced = [name for name in chosen if name not in referenced]
    return chosen, refs, legacy, draw(st.sampled_from(unreferenced))


@given(removals(), st.sampled_from(["", "    "]))
def test_app_main_reads_as_if_the_component_never_was(
    removal: tuple[list[str], dict[str, list[str]], set[str], str], indent: str
) -> None:
    components, refs, legacy, removed = removal
    rest = [name for name in components if name != removed]

    # The user may indent the blocks (inside an `if`, say): the wiring keeps that.
    def indented(text: str) -> str:
        return text.replace("# >>> hexforge", f"{indent}# >>> hexforge").replace(
            "# <<< hexforge", f"{indent}# <<< hexforge"
        )

    empty = indented(app_main.new_app_main("shop", []))
    before = app_main.update_app_main(empty, components, refs, legacy)
    expected = app_main.update_app_main(empty, rest, refs, legacy)

    assert remove.unregister_from_app_main(before, removed) == expected
    assert remove.unregister_from_app_main(expected, removed) == expected  # not there: no change


def test_app_main_without_markers_is_refused() -> None:
    text = app_main.new_app_main("shop", ["orders"]).replace(
        "# <<< hexforge: component registry", ""
    )
    with pytest.raises(remove.Refused, match="lost its hexforge markers"):
        remove.unregister_from_app_main(text, "orders")


AGENT_BEFORE = """\
# The agent's own notes.
phase: coding   # keep
versions:
  python: "3.11"

"""
AGENT_AFTER = """
# what is left to do
outstanding:
  tasks:
    - id: T1
      title: Orders
      status: pending
"""

fields_answers = st.sampled_from(["name:str", "sku:str:unique, price:decimal:gt=0", "note:str?"])


@given(removals(), fields_answers, st.sampled_from(["v1", None]), st.booleans())
def test_manifest_reads_as_if_the_component_never_was(
    removal: tuple[list[str], dict[str, list[str]], set[str], str],
    fields: str,
    version: str | None,
    agent_keys_after: bool,
) -> None:
    chosen, _, _, removed = removal
    components = [Component(name, "Thing", fields, version) for name in sorted(chosen)]
    base = AGENT_BEFORE + manifest.components_block([]) + (AGENT_AFTER if agent_keys_after else "")
    before = manifest.update_manifest(base, components)
    expected = manifest.update_manifest(base, [c for c in components if c.name != removed])

    assert remove.unregister_from_manifest(before, removed) == expected


def test_a_manifest_without_the_component_is_left_alone() -> None:
    text = manifest.new_manifest([Component("orders", "Order", "name:str", "v1")])
    assert remove.unregister_from_manifest(text, "customers") == text


def test_a_folded_fields_answer_is_read_whole(tmp_path: Path) -> None:
    # Copier's YAML folds a long answer over indented lines; a ref at its end counts.
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(
        "_commit: v1\nfields: sku:str:unique:max_length=40, price:decimal:gt=0, note:str?,\n"
        "    warehouse:ref[warehouses]\nkind: component\n"
    )
    assert remove.read_answers(answers) == {
        "_commit": "v1",
        "fields": "sku:str:unique:max_length=40, price:decimal:gt=0, note:str?, "
        "warehouse:ref[warehouses]",
        "kind": "component",
    }
