""".claude/manifest.yaml: hexforge's ``components:`` key inside the agent's file.

The manifest belongs to the coding agent, which keeps its own keys there (phase,
versions, notes...). hexforge owns one top-level key, ``components:``, and
rewrites only the lines of that key. It also adds the keys the agent's protocol
reads (:data:`AGENT_KEYS`: ``phase``, ``outstanding.tasks``,
``outstanding.remediation``) where they are absent, and never changes their values.

A YAML round-trip (load, change, dump) cannot promise that ``components:``
alone changes: ruamel.yaml drops a comment that follows the replaced value and
re-indents block sequences. So ruamel.yaml is used to *find* the key
and to *check* the result, and the replacement itself is textual; every other
byte of the file stays as it was.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from registry import Component

KEY = "components"

HEADER = """\
# The coding agent's workspace manifest.
# hexforge keeps the `components:` key up to date on every scaffold (one entry per
# component under components/, rebuilt from their .copier-answers.yml files);
# every other key in this file belongs to the agent and is never touched.
"""


# The agent's keys and their first values, added when absent (never overwritten).
AGENT_KEYS = "phase: coding\noutstanding:\n  tasks: []\n  remediation: []\n"
OUTSTANDING = ("tasks", "remediation")


class ManifestError(ValueError):
    """The manifest cannot be updated without touching the agent's content."""


def new_manifest(components: Iterable[Component]) -> str:
    return HEADER + AGENT_KEYS + components_block(components)


def with_agent_keys(text: str) -> str:
    """``text`` with the agent's keys it lacks added; every existing value kept.

    Absent top-level keys are appended as text (nothing else in the file moves);
    an ``outstanding`` mapping lacking ``tasks`` or ``remediation`` gets them through
    a ruamel.yaml round trip, checked to change nothing else. An ``outstanding``
    that is not a mapping is the agent's business: left as it is.
    """
    data = _load(text)
    have = dict(data) if isinstance(data, dict) else {}
    wanted = YAML(typ="safe", pure=True).load(AGENT_KEYS)
    blocks = [key for key in wanted if key not in have]
    updated = text
    if blocks:
        newline = "\r\n" if "\r\n" in text else "\n"
        lines = AGENT_KEYS.splitlines(keepends=True)
        chosen = "".join(line for line in lines if _block_of(line, lines) in blocks)
        separator = "" if not text or text.endswith("\n") else newline
        updated = text + separator + chosen.replace("\n", newline)
    outstanding = have.get("outstanding")
    if isinstance(outstanding, dict) and any(key not in outstanding for key in OUTSTANDING):
        updated = _complete_outstanding(updated)
    after = _load(updated)
    expected = {**_plain(have), **{key: wanted[key] for key in blocks}}
    if isinstance(expected.get("outstanding"), dict):
        expected["outstanding"] = {
            **{key: [] for key in OUTSTANDING},
            **expected["outstanding"],
        }
    if _plain(after) != expected:
        raise ManifestError("adding the agent's keys would have changed other keys")
    return updated


def _block_of(line: str, lines: list[str]) -> str:
    """The top-level key whose block ``line`` (a line of AGENT_KEYS) belongs to."""
    key = ""
    for candidate in lines:
        if not candidate.startswith(" "):
            key = candidate.split(":", 1)[0]
        if candidate is line:
            return key
    return key


def _complete_outstanding(text: str) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.width = 1_000_000
    data = yaml.load(text)
    for key in OUTSTANDING:
        data["outstanding"].setdefault(key, [])
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def entry(component: Component) -> dict[str, str | None]:
    """What the manifest records about one component."""
    return {
        "entity": component.entity,
        "fields": component.fields,
        "template_version": component.template_version,
    }


def registered(text: str) -> dict[str, Any]:
    """The ``components:`` mapping of a manifest's text; empty when there is none."""
    try:
        data = _load(text)
    except ManifestError:
        return {}
    value = data.get(KEY) if isinstance(data, dict) else None
    return _plain(value) if isinstance(value, dict) else {}


def components_block(components: Iterable[Component]) -> str:
    """The ``components:`` key as YAML text, entries in the given order."""
    registry = {component.name: entry(component) for component in components}
    yaml = YAML(typ="rt", pure=True)
    yaml.width = 1_000_000  # never fold a long fields answer over two lines
    yaml.representer.add_representer(type(None), _represent_null)
    stream = io.StringIO()
    yaml.dump({KEY: registry}, stream)
    return stream.getvalue()


def _represent_null(representer: Any, _: None) -> Any:
    # `template_version: null` says "no version" more plainly than an empty value.
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def update_manifest(text: str, components: Iterable[Component]) -> str:
    """``text`` with its ``components:`` key replaced (or appended) for ``components``.

    Raises :class:`ManifestError` when the manifest is not a single YAML mapping,
    or when the textual replacement would not give exactly the intended data.
    """
    components = list(components)
    before = _load(text)
    lines = text.splitlines(keepends=True)
    block = components_block(components)
    if before is None or KEY not in before:
        start = end = len(lines)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
    else:
        start, end = _key_span(lines, *_key_position(before))
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    updated = "".join([*lines[:start], block.replace("\n", newline), *lines[end:]])
    _check(before, _load(updated), components)
    return updated


def check_editable(text: str) -> None:
    """Raise :class:`ManifestError` when :func:`update_manifest` could not edit ``text``
    (whatever the components): the same parsing and checks, nothing written."""
    update_manifest(text, [])


@functools.lru_cache(maxsize=8)
def _load(text: str) -> Any:
    """``text`` parsed, once per text: one wiring reads the same manifest, before and
    after each of its edits, six times. Callers only read the result."""
    try:
        data = YAML(typ="rt", pure=True).load(text)
    except YAMLError as error:
        raise ManifestError(f"it is not valid YAML ({_one_line(error)})") from None
    if data is not None and not isinstance(data, dict):
        raise ManifestError("its top level is not a mapping of keys")
    return data


def _key_position(data: Any) -> tuple[int, int]:
    try:
        line, column = data.lc.key(KEY)
    except (AttributeError, KeyError, TypeError):  # inherited through a YAML merge key
        raise ManifestError("its `components:` key is not written in the file itself") from None
    return int(line), int(column)


def _key_span(lines: list[str], line: int, column: int) -> tuple[int, int]:
    """Lines [start, end) holding the key at ``line``/``column`` and its value.

    The value goes on while lines are indented deeper than the key, or are list
    items at the key's own indentation (YAML allows `key:` then `- item`). Blank
    lines and comments that end the block stay outside it: they belong to the
    next key as much as to this one.
    """
    end = line + 1
    last = end
    while end < len(lines):
        content = lines[end].rstrip("\r\n")
        stripped = content.lstrip(" ")
        depth = len(content) - len(stripped)
        if stripped and not stripped.startswith("#"):
            if depth < column or (depth == column and not _is_list_item(stripped)):
                break
            last = end + 1
        end += 1
    return line, last


def _is_list_item(stripped: str) -> bool:
    return stripped == "-" or stripped.startswith("- ")


def _check(before: Any, after: Any, components: list[Component]) -> None:
    """The edit must change ``components:`` and nothing else, not even key order."""
    expected = {component.name: entry(component) for component in components}
    old = {} if before is None else dict(before)
    new = dict(after) if isinstance(after, dict) else {}
    if _plain(new.pop(KEY, None)) != expected:
        raise ManifestError("its `components:` key could not be located as a block")
    old.pop(KEY, None)
    if list(old) != list(new) or repr(_plain(old)) != repr(_plain(new)):
        raise ManifestError("rewriting `components:` would have changed other keys")


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists, for comparison."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _one_line(error: YAMLError) -> str:
    return " ".join(str(error).split())
