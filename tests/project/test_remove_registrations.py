"""hexforge remove's edits of the registrations, against the wiring that writes them.

app/components.py is written by one function (hexforge.composition) for both; the
manifest is edited by the tool itself, without the wiring's YAML library. These
tests hold each to one result: a file the wiring wrote for some components, with
one removed by the tool, is byte for byte the file the wiring writes without it.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import manifest
from hexforge import composition
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


def write_answers(root: Path, name: str, refs: list[str], legacy: bool) -> None:
    folder = root / "components" / name
    folder.mkdir(parents=True)
    fields = ", ".join(["label:str", *(f"{other}_id:ref[{other}]" for other in refs)])
    (folder / ".copier-answers.yml").write_text(f"kind: component\nfields: {fields}\n")
    (folder / "__init__.py").write_text("\ndef build_router(pool): ...\n" if legacy else "")


@given(removals())
def test_the_registry_reads_as_if_the_component_never_was(
    removal: tuple[list[str], dict[str, list[str]], set[str], str],
) -> None:
    components, refs, legacy, removed = removal
    rest = [name for name in components if name != removed]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in components:
            write_answers(root, name, refs.get(name, []), name in legacy)
        before = composition.render_for(root)
        assert before == composition.render(components, refs, legacy)
        after = composition.render_for(root, leaving_out={removed})
    assert after == composition.render(rest, refs, legacy - {removed})
    assert not re.search(rf"\bcomponents\.{removed}\b|\b{removed}_service\b", after)


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


def test_a_component_whose_answers_file_is_gone_stays_in_the_registry(tmp_path: Path) -> None:
    """As the wiring keeps it (registered as the manifest has it) while its folder is
    there, so does a removal of another component."""
    write_answers(tmp_path, "warehouses", [], legacy=False)
    write_answers(tmp_path, "products", ["warehouses"], legacy=False)
    write_answers(tmp_path, "gone", [], legacy=False)
    (tmp_path / "components" / "products" / ".copier-answers.yml").unlink()
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "manifest.yaml").write_text(
        "components:\n  products:\n    entity: Product\n"
        "    fields: 'label:str, warehouses_id:ref[warehouses]'\n"
    )
    assert composition.render_for(tmp_path, leaving_out={"gone"}) == composition.render(
        ["warehouses", "products"], {"products": ["warehouses"]}
    )
