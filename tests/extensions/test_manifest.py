""".claude/manifest.yaml: hexforge rewrites its `components:` key and not one other byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import manifest
from registry import Component

ORDERS = Component("orders", "Order", "customer:str, total:decimal, note:str?", "v1")
ITEMS = Component("order_items", "OrderItem", "sku:str, qty:int", "1234567")
UNVERSIONED = Component("tags", "Tag", "label:str", None)


def load(text: str) -> object:
    return YAML(typ="safe", pure=True).load(text)


def test_new_manifest_has_a_header_and_the_registry() -> None:
    text = manifest.new_manifest([ORDERS, ITEMS, UNVERSIONED])
    assert text.startswith("# ")
    assert "`components:`" in text.split("components:\n")[0]
    assert load(text) == {
        "phase": "coding",
        "outstanding": {"tasks": [], "remediation": []},
        "components": {
            "orders": {"entity": "Order", "fields": ORDERS.fields, "template_version": "v1"},
            # a hash of digits stays a string, not a number
            "order_items": {
                "entity": "OrderItem",
                "fields": ITEMS.fields,
                "template_version": "1234567",
            },
            "tags": {"entity": "Tag", "fields": "label:str", "template_version": None},
        },
    }


def test_new_manifest_without_components() -> None:
    text = manifest.new_manifest([])
    assert text.endswith("components: {}\n")
    assert load(text) == {
        "phase": "coding",
        "outstanding": {"tasks": [], "remediation": []},
        "components": {},
    }


def test_long_fields_stay_on_one_line() -> None:
    fields = ", ".join(f"field_number_{i}:str" for i in range(20))
    text = manifest.components_block([Component("wide", "Wide", fields, "v1")])
    assert f"    fields: {fields}\n" in text


AGENT_MANIFEST = """\
# Agent workspace manifest -- edited by the agent.
project:   billing        # odd spacing kept
phase: build
versions: {spec: 3, tasklist: 7}   # flow mapping

components:
  stale:   {entity: Stale, fields: 'x:int', template_version: v0}
  # a comment inside the block goes with it

# -- evidence (the agent's) --
evidence:
- quality_gates_run.json     # indentless sequence
- test_report.json
notes: |
  Multi-line note,
     with its own indentation.
anchors:
  base: &base {retries: 3}
  job: *base
"""


def test_update_replaces_only_the_components_block() -> None:
    updated = manifest.update_manifest(AGENT_MANIFEST, [ORDERS])
    before, after = AGENT_MANIFEST.split("components:\n", 1)
    assert updated.startswith(before + "components:\n  orders:\n")
    assert updated.endswith(after[after.index("\n# -- evidence") :])
    data = load(updated)
    assert isinstance(data, dict)
    assert list(data) == [
        "project",
        "phase",
        "versions",
        "components",
        "evidence",
        "notes",
        "anchors",
    ]
    assert list(data["components"]) == ["orders"]
    assert manifest.update_manifest(updated, [ORDERS]) == updated


def test_update_appends_components_when_absent() -> None:
    text = "phase: qa\nnotes: keep\n"
    assert manifest.update_manifest(text, []) == text + "components: {}\n"
    no_newline = manifest.update_manifest("phase: qa", [ORDERS])
    assert no_newline.startswith("phase: qa\ncomponents:\n  orders:\n")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_update_of_an_empty_manifest(text: str) -> None:
    updated = manifest.update_manifest(text, [ORDERS])
    assert updated.startswith(text)
    assert load(updated) == load(manifest.components_block([ORDERS]))


def test_update_handles_an_indentless_components_list_and_crlf() -> None:
    text = "components:\r\n- a\r\n- b\r\nphase: x\r\n"
    updated = manifest.update_manifest(text, [ORDERS])
    assert updated.endswith("phase: x\r\n")
    assert "\n" not in updated.replace("\r\n", "")


def test_removed_components_disappear() -> None:
    text = manifest.new_manifest([ORDERS, ITEMS])
    updated = manifest.update_manifest(text, [ITEMS])
    assert manifest.registered(updated) == {"order_items": manifest.entry(ITEMS)}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a list\n- not a mapping\n", "not a mapping"),
        ("phase: [unclosed\n", "not valid YAML"),
        ("a: 1\n---\nb: 2\n", "not valid YAML"),
        ("a: 1\na: 2\n", "not valid YAML"),
        ("{phase: x, components: {}}\n", "could not be located|changed other keys"),
        ("base: &b {components: {}}\n<<: *b\n", "not written in the file"),
    ],
    ids=["list", "broken", "two-documents", "duplicate-key", "flow-top-level", "merge-key"],
)
def test_manifests_that_cannot_be_edited_safely_raise(text: str, problem: str) -> None:
    with pytest.raises(manifest.ManifestError, match=problem):
        manifest.update_manifest(text, [ORDERS])


def test_registered_reads_the_current_entries() -> None:
    assert manifest.registered(AGENT_MANIFEST) == {
        "stale": {"entity": "Stale", "fields": "x:int", "template_version": "v0"}
    }
    assert manifest.registered("not: [valid") == {}
    assert manifest.registered("components: 3\n") == {}


# --- generated agent manifests -------------------------------------------------------

keys = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True).filter(lambda k: k != "components")
scalars = st.sampled_from(
    ["x", "'quoted: yes'", '"double"', "42", "3.5", "true", "null", "~", "2024-01-31"]
)
comments = st.sampled_from(["", "   # why", "  #x"])


@st.composite
def agent_entries(draw: st.DrawFn, key: str) -> str:
    """One top-level key of the agent's, in one of YAML's many spellings."""
    kind = draw(
        st.sampled_from(["scalar", "flow", "block-map", "block-seq", "indentless", "literal"])
    )
    note = draw(comments)
    items = draw(st.lists(scalars, min_size=1, max_size=3))
    indent = " " * draw(st.integers(min_value=1, max_value=4))
    if kind == "scalar":
        return f"{key}: {items[0]}{note}\n"
    if kind == "flow":
        return f"{key}: [{', '.join(items)}]{note}\n"
    if kind == "block-map":
        return f"{key}:{note}\n" + "".join(f"{indent}k{i}: {v}\n" for i, v in enumerate(items))
    if kind == "block-seq":
        return f"{key}:\n" + "".join(f"{indent}- {v}{note}\n" for v in items)
    if kind == "indentless":
        return f"{key}:\n" + "".join(f"- {v}\n" for v in items)
    return f"{key}: |\n" + "".join(f"{indent}line {v}\n" for v in items)


@st.composite
def manifests(draw: st.DrawFn) -> tuple[str, str, str]:
    """(text before components, the components block, text after), as the agent wrote them."""
    names = draw(st.lists(keys, unique=True, max_size=5))
    entries = [draw(agent_entries(name)) for name in names]
    extras = st.sampled_from(["", "\n", "# agent note\n", "\n# section\n\n"])
    entries = [draw(extras) + entry for entry in entries]
    position = draw(st.integers(min_value=0, max_value=len(entries)))
    old = draw(st.lists(st.sampled_from(["orders", "legacy", "x"]), unique=True))
    block = "components:\n" + "".join(f"  {n}: {{entity: E, fields: 'a:int'}}\n" for n in old)
    if not old:
        block = draw(st.sampled_from(["components: {}\n", "components:\n", "components: []\n"]))
    return "".join(entries[:position]), block, "".join(entries[position:])


@settings(max_examples=200, deadline=None)
@given(manifests(), st.lists(st.sampled_from([ORDERS, ITEMS, UNVERSIONED]), unique=True))
def test_every_byte_outside_components_is_kept(
    parts: tuple[str, str, str], components: list[Component]
) -> None:
    before, old_block, after = parts
    components = sorted(components, key=lambda c: c.name)
    updated = manifest.update_manifest(before + old_block + after, components)
    new_block = manifest.components_block(components)
    assert updated == before + new_block + after
    assert manifest.update_manifest(updated, components) == updated
