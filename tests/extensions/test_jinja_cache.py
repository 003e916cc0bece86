"""extensions/jinja_cache.py: templates compiled once, across runs and clones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from jinja2 import Environment, FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

import jinja_cache


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: nothing loaded yet."""
    monkeypatch.setattr(jinja_cache, "_LOADED", {})


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(jinja_cache.CACHE_ENV, str(folder))
    return folder


def clone(root: Path, files: dict[str, str]) -> Path:
    """A template folder, as Copier's fresh clone of it would be."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def environment(folder: Path, **options: object) -> tuple[Environment, list[str]]:
    """A sandboxed environment like Copier's, with the caches; and the names it compiled."""
    env = SandboxedEnvironment(loader=FileSystemLoader(str(folder)), **options)  # type: ignore[arg-type]
    jinja_cache.install(env)
    compiled: list[str] = []
    compile_source = env.compile

    def counting_compile(source: str, name: str | None = None, *args: object) -> object:
        compiled.append(name or "<string>")
        return compile_source(source, name, *args)  # type: ignore[arg-type]

    env.compile = counting_compile  # type: ignore[method-assign,assignment]
    return env, compiled


def test_a_second_clone_of_the_same_template_reuses_the_compiled_file(
    tmp_path: Path, cache_dir: Path
) -> None:
    files = {"components/README.md.jinja": "# {{ name }}\n"}
    first, first_compiled = environment(clone(tmp_path / "clone1", files))
    assert first.get_template("components/README.md.jinja").render(name="orders") == "# orders"
    second, second_compiled = environment(clone(tmp_path / "clone2", files))
    assert second.get_template("components/README.md.jinja").render(name="books") == "# books"
    assert first_compiled == ["components/README.md.jinja"]
    assert second_compiled == []
    assert len(list(cache_dir.iterdir())) == 1


def test_environments_of_one_process_read_an_entry_once(tmp_path: Path, cache_dir: Path) -> None:
    """An update builds three environments in one process: the code the first read
    from the disk serves the others."""
    files = {"a.jinja": "{{ x }}!"}
    first, _ = environment(clone(tmp_path / "clone1", files))
    assert first.get_template("a.jinja").render(x=1) == "1!"
    for entry in cache_dir.iterdir():
        entry.unlink()  # what a later environment reads, it reads from memory
    second, compiled = environment(clone(tmp_path / "clone2", files))
    assert second.get_template("a.jinja").render(x=2) == "2!"
    assert compiled == []
    assert list(cache_dir.iterdir()) == []
    edited, compiled = environment(clone(tmp_path / "clone3", {"a.jinja": "{{ x }}?"}))
    assert edited.get_template("a.jinja").render(x=3) == "3?"
    assert compiled == ["a.jinja"]


def test_an_edited_file_is_compiled_again(tmp_path: Path, cache_dir: Path) -> None:
    environment(clone(tmp_path / "v1", {"a.jinja": "v1 {{ x }}"}))[0].get_template("a.jinja")
    env, compiled = environment(clone(tmp_path / "v2", {"a.jinja": "v2 {{ x }}"}))
    assert env.get_template("a.jinja").render(x=1) == "v2 1"
    assert compiled == ["a.jinja"]


def test_other_syntax_settings_never_share_an_entry(tmp_path: Path, cache_dir: Path) -> None:
    files = {"a.jinja": "{% if x %}\n  yes\n{% endif %}\n"}
    plain, _ = environment(clone(tmp_path / "one", files), keep_trailing_newline=True)
    trimmed, compiled = environment(
        clone(tmp_path / "two", files), keep_trailing_newline=True, trim_blocks=True
    )
    assert plain.get_template("a.jinja").render(x=True) == "\n  yes\n\n"
    assert trimmed.get_template("a.jinja").render(x=True) == "  yes\n"
    assert compiled == ["a.jinja"]


@pytest.mark.parametrize("setting", ["off", "0", "false"])
def test_the_disk_cache_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv(jinja_cache.CACHE_ENV, setting)
    env, _ = environment(clone(tmp_path / "t", {"a.jinja": "{{ x }}"}))
    assert env.bytecode_cache is None
    assert env.get_template("a.jinja").render(x=3) == "3"


def test_the_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(jinja_cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert jinja_cache.cache_directory() == tmp_path / "hexforge" / "jinja"


def test_without_a_home_the_cache_goes_to_a_private_temporary_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(jinja_cache.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    folder = jinja_cache.cache_directory()
    assert folder is not None
    assert folder.parent.name == f"hexforge-{os.getuid()}"


@pytest.fixture
def unusable(tmp_path: Path) -> Iterator[Path]:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    yield blocker / "cache"


def test_a_folder_that_cannot_be_made_means_no_disk_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unusable: Path
) -> None:
    monkeypatch.setenv(jinja_cache.CACHE_ENV, str(unusable))
    env, _ = environment(clone(tmp_path / "t", {"a.jinja": "{{ x }}"}))
    assert env.bytecode_cache is None
    assert env.get_template("a.jinja").render(x=4) == "4"


def test_a_folder_others_can_write_to_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv(jinja_cache.CACHE_ENV, str(shared))
    env, _ = environment(clone(tmp_path / "t", {"a.jinja": "{{ x }}"}))
    assert env.bytecode_cache is None  # someone else could plant compiled code there
    os.chmod(shared, 0o700)
    env, _ = environment(clone(tmp_path / "t2", {"a.jinja": "{{ x }}"}))
    assert env.bytecode_cache is not None


def test_the_key_changes_with_jinja_and_the_extensions(tmp_path: Path, cache_dir: Path) -> None:
    plain, _ = environment(tmp_path)
    extended = SandboxedEnvironment(extensions=["jinja2.ext.loopcontrols"])
    jinja_cache.install(extended)
    assert isinstance(plain.bytecode_cache, jinja_cache.TemplateNameBytecodeCache)
    assert isinstance(extended.bytecode_cache, jinja_cache.TemplateNameBytecodeCache)
    assert f"jinja2={jinja2.__version__}" in plain.bytecode_cache.fingerprint
    assert plain.bytecode_cache.get_cache_key("a") != extended.bytecode_cache.get_cache_key("a")


def test_from_string_compiles_each_source_once(tmp_path: Path, cache_dir: Path) -> None:
    env, compiled = environment(tmp_path)
    first = env.from_string("{{ a }}-{{ b }}")
    again = env.from_string("{{ a }}-{{ b }}")
    assert first is again
    assert first.render(a=1, b=2) == "1-2"
    assert again.render(a="x", b="y") == "x-y"
    assert env.from_string("{{ a }}").render(a=5) == "5"
    assert compiled == ["<string>", "<string>"]
    # Globals bound to the template: never shared through the memo.
    bound = env.from_string("{{ a }}-{{ b }}", globals={"a": 7})
    assert bound is not first
    assert bound.render(b=8) == "7-8"


def test_a_later_run_reads_a_string_compiled_by_an_earlier_one(
    tmp_path: Path, cache_dir: Path
) -> None:
    first, first_compiled = environment(tmp_path / "clone1")
    assert first.from_string("{% if a %}{{ b }}{% endif %}").render(a=1, b="yes") == "yes"
    second, second_compiled = environment(tmp_path / "clone2")
    template = second.from_string("{% if a %}{{ b }}{% endif %}")
    assert template.render(a=1, b="again") == "again"
    assert template.render(a=0, b="no") == ""
    assert (first_compiled, second_compiled) == (["<string>"], [])
    # Another source is compiled, and an environment of other syntax settings never
    # reads the first one's code.
    assert second.from_string("{{ b }}!").render(b="x") == "x!"
    assert second_compiled == ["<string>"]
    other, other_compiled = environment(tmp_path / "clone3", trim_blocks=True)
    assert other.from_string("{% if a %}{{ b }}{% endif %}").render(a=1, b="z") == "z"
    assert other_compiled == ["<string>"]


def test_strings_are_compiled_every_run_when_the_disk_cache_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(jinja_cache.CACHE_ENV, "off")
    first, first_compiled = environment(tmp_path)
    second, second_compiled = environment(tmp_path)
    for env in (first, second):
        assert env.from_string("{{ a }}").render(a=3) == "3"
    assert first_compiled == second_compiled == ["<string>"]


@pytest.mark.slow
def test_copier_runs_share_the_cache_and_render_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_v1: Path
) -> None:
    from tests.helpers import copier_copy, init_repo, tree_bytes

    cache = tmp_path / "jinja"
    monkeypatch.setenv(jinja_cache.CACHE_ENV, str(cache))
    data = {"kind": "component", "component_name": "orders", "fields": "total:decimal"}
    cold = init_repo(tmp_path / "cold" / "shop")
    copier_copy(template_v1, cold, data)
    entries = {path.name: path.stat().st_mtime_ns for path in cache.iterdir()}
    assert len(entries) > 20  # every rendered file of the project and the component

    warm = init_repo(tmp_path / "warm" / "shop")
    copier_copy(template_v1, warm, data)
    # Same names (not the clone's path), nothing compiled or written again.
    assert {path.name: path.stat().st_mtime_ns for path in cache.iterdir()} == entries
    assert tree_bytes(warm) == tree_bytes(cold)

    monkeypatch.setenv(jinja_cache.CACHE_ENV, "off")
    uncached = init_repo(tmp_path / "uncached" / "shop")
    copier_copy(template_v1, uncached, data)
    assert tree_bytes(uncached) == tree_bytes(cold)
