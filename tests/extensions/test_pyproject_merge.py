"""pyproject.toml: hexforge adds what is missing and changes nothing the user wrote."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyproject_merge as pm
from tests.extensions.support import PROJECT_CONFIG, assert_only_additions

CORPUS = Path(__file__).parent / "pyproject_corpus"
CORPUS_FILES = sorted(CORPUS.glob("*.toml"))
REFERENCE: dict[str, Any] = tomllib.loads(PROJECT_CONFIG.read_text())
RUNTIME = REFERENCE["project"]["dependencies"]
DEV = REFERENCE["project"]["optional-dependencies"]["dev"]
PYTEST = REFERENCE["tool"]["pytest"]["ini_options"]
MARKERS = {pm.marker_name(marker) for marker in PYTEST["markers"]}


def names(requirements: list[str]) -> set[str | None]:
    return {pm.requirement_name(requirement) for requirement in requirements}


def assert_has_what_hexforge_needs(data: dict[str, Any], *, deps: bool = True) -> None:
    tool = data["tool"]
    assert set(PYTEST) <= set(tool["pytest"]["ini_options"])
    assert {pm.marker_name(m) for m in tool["pytest"]["ini_options"]["markers"]} >= MARKERS
    ruff_lint = {**tool["ruff"], **tool["ruff"].get("lint", {})}
    assert set(REFERENCE["tool"]["ruff"]["lint"]) <= set(ruff_lint)
    assert {"line-length", "target-version"} <= set(tool["ruff"])
    assert set(REFERENCE["tool"]["mypy"]) <= set(tool["mypy"])
    if deps:
        assert names(RUNTIME) <= names(data["project"]["dependencies"])
        assert names(DEV) <= names(data["project"]["optional-dependencies"]["dev"])


def merge(text: str) -> pm.MergeResult:
    return pm.merge_pyproject(text, "demo")


# --- a new project -----------------------------------------------------------------


def test_new_pyproject_is_the_reference_without_its_comment() -> None:
    text = pm.new_pyproject("shop-api")
    assert not text.startswith(("#", "\n"))
    assert text.startswith("[build-system]\n")
    data = tomllib.loads(text)
    assert data["project"]["name"] == "shop-api"
    assert {**data, "project": {**data["project"], "name": "{project_name}"}} == REFERENCE


def test_a_new_pyproject_needs_no_merge() -> None:
    text = pm.new_pyproject("shop-api")
    result = merge(text)
    assert result.text == text
    assert result.changes == []


# --- the corpus of real-world layouts -------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.stem for p in CORPUS_FILES])
def test_corpus_merge_only_adds(path: Path, newline: str) -> None:
    original = path.read_text().replace("\n", newline)
    result = merge(original)
    assert_only_additions(original, result.text)
    assert pm.extends(tomllib.loads(original), tomllib.loads(result.text))
    if "\r\n" in original:
        assert result.text.count("\n") == result.text.count("\r\n"), "mixed line endings"
    again = merge(result.text)
    assert again.text == result.text
    assert again.changes == []


@pytest.mark.parametrize(
    "path",
    [p for p in CORPUS_FILES if p.stem not in {"poetry", "dynamic_deps"}],
    ids=lambda p: p.stem,
)
def test_corpus_merge_gives_hexforge_what_it_needs(path: Path) -> None:
    data = tomllib.loads(merge(path.read_text()).text)
    assert_has_what_hexforge_needs(data)


def test_existing_values_win_over_hexforge_values() -> None:
    result = merge((CORPUS / "own_ruff.toml").read_text())
    tool = tomllib.loads(result.text)["tool"]
    assert tool["ruff"]["line-length"] == 88
    assert tool["ruff"]["lint"]["select"] == ["ALL"]
    assert tool["mypy"]["strict"] is False
    assert tool["mypy"]["python_version"] == "3.11"  # missing, so added


def test_requirements_match_by_normalised_name_and_keep_their_pins() -> None:
    original = (CORPUS / "dev_extras.toml").read_text()
    result = merge(original)
    project = tomllib.loads(result.text)["project"]
    kept = tomllib.loads(original)["project"]["dependencies"]
    # The project's own, pins and spelling as written; then what it lacks, as hexforge
    # writes it (the corpus file names every runtime dependency but two).
    assert project["dependencies"][: len(kept)] == kept
    assert project["dependencies"][len(kept) :] == [
        requirement
        for requirement in RUNTIME
        if pm.requirement_name(requirement) not in names(kept)
    ]
    assert len(project["dependencies"]) == len(kept) + 2
    dev = project["optional-dependencies"]["dev"]
    assert dev[:4] == ["PyTest==8.3.3", "Ruff==0.7.1", "import_linter==2.1", "MyPy==1.13.0"]
    assert dev[4:] == [
        "pytest-asyncio>=0.24",
        "pytest-xdist>=3.5",
        "httpx>=0.27",
        "squawk-cli>=2.0",
    ]
    assert result.changes[:2] == ["2 dependencies", "4 dev dependencies"]


def test_markers_are_merged_by_name_keeping_the_projects_descriptions() -> None:
    result = merge((CORPUS / "setuptools_comments.toml").read_text())
    markers = tomllib.loads(result.text)["tool"]["pytest"]["ini_options"]["markers"]
    assert markers[:2] == ["unit: fast tests", "slow: takes more than a second"]
    assert [pm.marker_name(m) for m in markers[2:]] == ["integration", "regression"]
    assert '    "unit: fast tests",   # ours, keep\n' in result.text


def test_marker_with_arguments_counts_by_its_name() -> None:
    result = merge((CORPUS / "arrays_comments.toml").read_text())
    markers = tomllib.loads(result.text)["tool"]["pytest"]["ini_options"]["markers"]
    assert [pm.marker_name(m) for m in markers] == ["integration", "unit", "regression"]


def test_legacy_top_level_ruff_select_counts_as_present() -> None:
    result = merge((CORPUS / "legacy_ruff.toml").read_text())
    ruff = tomllib.loads(result.text)["tool"]["ruff"]
    assert "lint" not in ruff
    assert ruff["select"] == ["E", "F"]


def test_dynamic_dependencies_are_left_alone_with_a_warning() -> None:
    result = merge((CORPUS / "dynamic_deps.toml").read_text())
    project = tomllib.loads(result.text)["project"]
    assert "dependencies" not in project
    assert "optional-dependencies" not in project
    assert len(result.warnings) == 2
    assert "dynamic" in result.warnings[0]
    assert "fastapi>=0.115" in result.warnings[0]


def test_poetry_project_gets_no_project_table_but_a_poetry_add_hint() -> None:
    result = merge((CORPUS / "poetry.toml").read_text())
    data = tomllib.loads(result.text)
    assert "project" not in data
    assert "poetry add" in result.warnings[0]
    assert_has_what_hexforge_needs(data, deps=False)


def test_existing_project_without_project_table_gets_one_but_no_build_settings() -> None:
    result = merge((CORPUS / "minimal.toml").read_text())
    data = tomllib.loads(result.text)
    assert data["build-system"] == {
        "requires": ["setuptools"],
        "build-backend": "setuptools.build_meta",
    }
    assert list(data["project"])[:4] == ["name", "version", "requires-python", "dependencies"]
    assert data["project"]["name"] == "demo"
    assert "setuptools" not in data.get("tool", {})
    assert "[project] table" in result.changes


def test_inline_tables_stay_on_one_line() -> None:
    result = merge((CORPUS / "inline_tables.toml").read_text())
    line = next(x for x in result.text.splitlines() if x.startswith("optional-dependencies"))
    assert line.endswith("}")
    assert '"import-linter>=2.0"' in line
    assert "mypy.strict = true" in result.text  # a dotted-key table gets a dotted key


def test_added_tables_are_separated_by_blank_lines() -> None:
    result = merge((CORPUS / "uv_groups.toml").read_text())
    assert "]\n\n[project.optional-dependencies]\n" in result.text
    assert "]\n\n[dependency-groups]\n" in result.text
    assert result.text.endswith('strict = true\nmypy_path = "tools"\n')


def test_no_trailing_newline_is_handled() -> None:
    original = (CORPUS / "no_trailing_newline.toml").read_text()
    assert not original.endswith("\n")
    result = merge(original)
    assert_only_additions(original, result.text)
    assert result.text.endswith("\n") and not result.text.endswith("\n\n")


def test_pytest_ini_keeps_pytest_settings_out_of_pyproject() -> None:
    original = (CORPUS / "uv_groups.toml").read_text()
    result = pm.merge_pyproject(original, "demo", ["pytest.ini"])
    assert "pytest" not in tomllib.loads(result.text)["tool"]
    assert any("pytest.ini" in w and "unit, integration, regression" in w for w in result.warnings)


def test_tox_ini_section_counts_only_when_pyproject_has_no_pytest_table() -> None:
    without = pm.merge_pyproject((CORPUS / "hatch.toml").read_text(), "demo", ["tox.ini"])
    assert "pytest" not in tomllib.loads(without.text)["tool"]
    with_table = (CORPUS / "setuptools_comments.toml").read_text()
    merged = pm.merge_pyproject(with_table, "demo", ["tox.ini"])
    assert "integration" in {
        pm.marker_name(m)
        for m in tomllib.loads(merged.text)["tool"]["pytest"]["ini_options"]["markers"]
    }


def test_pytest_config_files_finds_the_files_pytest_would_read(tmp_path: Path) -> None:
    assert pm.pytest_config_files(tmp_path) == []
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    (tmp_path / "tox.ini").write_text("[tox]\nenvlist = py311\n\n[pytest]\naddopts = -ra\n")
    assert pm.pytest_config_files(tmp_path) == ["tox.ini"]
    (tmp_path / "pytest.ini").write_text("")
    assert pm.pytest_config_files(tmp_path) == ["pytest.ini", "tox.ini"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[project\nname = 1\n", "not valid TOML"),
        ("project = 1\n", "not a table"),
        ('[project]\nname = "x"\ndependencies = "fastapi"\n', "not a list"),
        ("[tool.pytest.ini_options]\nmarkers = 3\n", "markers is not a list"),
        ("tool = 5\n", "not a table"),
    ],
)
def test_unmergeable_files_raise_a_clear_error(text: str, problem: str) -> None:
    with pytest.raises(pm.PyprojectError, match=problem):
        merge(text)


@pytest.mark.parametrize(
    ("requirement", "name"),
    [
        ("fastapi>=0.110", "fastapi"),
        ("psycopg[binary,pool]>=3.2", "psycopg"),
        ("Import_Linter==2.1", "import-linter"),
        ("ruamel.yaml", "ruamel-yaml"),
        ('  requests >= 2 ; python_version >= "3.11"', "requests"),
        ("pkg @ https://example.com/pkg.whl", "pkg"),
        ("", None),
        (3, None),
    ],
)
def test_requirement_name(requirement: object, name: str | None) -> None:
    assert pm.requirement_name(requirement) == name


@pytest.mark.parametrize(
    ("marker", "name"),
    [("unit: fast", "unit"), ("slow(reason): x", "slow"), ("plain", "plain"), ("", None)],
)
def test_marker_name(marker: str, name: str | None) -> None:
    assert pm.marker_name(marker) == name


# --- generated existing projects -------------------------------------------------

# Distribution names, some of them hexforge's own under other spellings.
DIST_NAMES = ["FastAPI", "pydantic", "Psycopg", "psycopg_pool", "uvicorn", "requests", "attrs"]
DEV_NAMES = ["PyTest", "pytest_asyncio", "HTTPX", "ruff", "MyPy", "import.linter", "coverage"]
SPECIFIERS = ["", ">=1", "==2.0.1", "[extra]>=3", " ~= 1.4"]


def requirement_lists(pool: list[str]) -> st.SearchStrategy[list[str]]:
    requirement = st.builds(lambda n, s: n + s, st.sampled_from(pool), st.sampled_from(SPECIFIERS))
    return st.lists(requirement, max_size=6)


def toml_array(items: list[str], multiline: bool, comment: bool) -> str:
    quoted = [f'"{item}"' for item in items]
    if not multiline:
        return "[" + ", ".join(quoted) + "]"
    lines = [f"    {q},{'  # why' if comment else ''}" for q in quoted]
    return "[\n" + "".join(line + "\n" for line in lines) + "]"


SETTING_VALUES: dict[str, list[str]] = {
    "pytest": ['pythonpath = ["src"]', 'asyncio_mode = "strict"', 'addopts = "-q"'],
    "ruff": ["line-length = 79", 'target-version = "py312"'],
    "ruff.lint": ['select = ["E"]', 'ignore = ["E501"]'],
    "mypy": ["strict = false", 'python_version = "3.12"'],
}


@st.composite
def pyprojects(draw: st.DrawFn) -> str:
    multiline = draw(st.booleans())
    comment = multiline and draw(st.booleans())
    parts = ['[project]\nname = "generated"\nversion = "1.0"\n']
    if draw(st.booleans()):
        deps = toml_array(draw(requirement_lists(DIST_NAMES)), multiline, comment)
        parts.append(f"dependencies = {deps}\n")
    if draw(st.booleans()):
        dev = toml_array(draw(requirement_lists(DEV_NAMES)), multiline, comment)
        parts.append(f"\n[project.optional-dependencies]\ndev = {dev}\n")
    for table, header in [
        ("pytest", "tool.pytest.ini_options"),
        ("ruff", "tool.ruff"),
        ("ruff.lint", "tool.ruff.lint"),
        ("mypy", "tool.mypy"),
    ]:
        chosen = draw(st.lists(st.sampled_from(SETTING_VALUES[table]), unique=True))
        if table == "pytest" and draw(st.booleans()):
            markers = draw(
                st.lists(st.sampled_from(["unit: mine", "slow: x", "integration"]), unique=True)
            )
            chosen.append(f"markers = {toml_array(markers, multiline, comment)}")
        keep_empty_table = draw(st.booleans())
        if chosen or keep_empty_table:
            parts.append(f"\n# {header}\n[{header}]\n" + "".join(f"{line}\n" for line in chosen))
    return "".join(parts)


@settings(max_examples=150, deadline=None)
@given(pyprojects())
def test_generated_pyprojects_merge_safely(original: str) -> None:
    result = merge(original)
    merged = tomllib.loads(result.text)
    assert_only_additions(original, result.text)
    assert pm.extends(tomllib.loads(original), merged)
    assert_has_what_hexforge_needs(merged)
    again = merge(result.text)
    assert again.text == result.text
    assert again.changes == []


@settings(max_examples=100, deadline=None)
@given(requirement_lists(DIST_NAMES))
def test_dependencies_are_never_duplicated(existing: list[str]) -> None:
    deps_text = toml_array(existing, multiline=True, comment=False)
    original = f'[project]\nname = "x"\nversion = "1"\ndependencies = {deps_text}\n'
    deps = tomllib.loads(merge(original).text)["project"]["dependencies"]
    assert deps[: len(existing)] == existing
    added = deps[len(existing) :]
    assert names(added).isdisjoint(names(existing))
    assert names(RUNTIME) <= names(deps)


def test_the_hexforge_pin_is_added_then_moved_and_nothing_else_changes() -> None:
    source = (CORPUS / "uv_groups.toml").read_text()
    first = pm.merge_pyproject(source, "gateway", pin="hexforge @ git+https://example.org/h@v1")
    second = pm.merge_pyproject(
        first.text, "gateway", pin="hexforge @ git+https://example.org/h@v2"
    )
    assert second.text == first.text.replace("@v1", "@v2")
    assert second.changes == ["the hexforge version"]
    again = pm.merge_pyproject(
        second.text, "gateway", pin="hexforge @ git+https://example.org/h@v2"
    )
    assert (again.text, again.changes) == (second.text, [])
