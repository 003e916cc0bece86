"""extensions/project_settings.py: the project's ruff configuration, and the settings
under which generated code cannot pass (refused before anything is written)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import project_settings


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' own user-level ruff configuration never leaks in."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.mark.parametrize(
    ("user", "needed", "expected"),
    [
        ("==0.95.2", ">=0.110", False),
        ("<2", ">=2.6", False),
        ("<0.100", ">=0.110", False),
        (">0.110,<0.110.1", ">=0.110", True),
        ("~=2.5", ">=2.6", True),
        ("==2.*", ">=2.6", True),
        ("!=0.110", ">=0.110", True),
        ("", ">=0.110", True),
        (">=1,<3", ">=2.6", True),
        ("==1.*", ">=2.6", False),
    ],
)
def test_overlaps_finds_a_common_version_when_there_is_one(
    user: str, needed: str, expected: bool
) -> None:
    assert project_settings.overlaps(SpecifierSet(user), SpecifierSet(needed)) is expected


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("pyproject", "fragment"),
    [
        ('[project]\ndependencies = ["fastapi==0.95.2"]\n', "'fastapi==0.95.2'"),
        ('[project]\ndependencies = ["pydantic<2"]\n', "'pydantic<2'"),
        (
            '[project.optional-dependencies]\nweb = ["fastapi[all]<0.100"]\n',
            "[project.optional-dependencies] web",
        ),
        ('[dependency-groups]\ndev = ["pytest-asyncio<0.17"]\n', "[dependency-groups] dev"),
        ('[tool.mypy]\npython_version = "3.10"\n', "python_version = '3.10'"),
    ],
)
def test_settings_the_generated_code_cannot_pass_are_named(
    tmp_path: Path, pyproject: str, fragment: str
) -> None:
    write(tmp_path / "pyproject.toml", pyproject)

    message = project_settings.settings_error(tmp_path)

    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "pyproject",
    [
        '[project]\ndependencies = ["fastapi>=0.100", "pydantic~=2.5", "requests==2.0"]\n',
        "[project]\ndependencies = [\"fastapi==0.95.2; python_version < '3.0'\"]\n",
        '[tool.mypy]\npython_version = "3.12"\n',
        "not toml at all = = =\n",
        "",
    ],
)
def test_settings_the_generated_code_runs_on_pass(tmp_path: Path, pyproject: str) -> None:
    write(tmp_path / "pyproject.toml", pyproject)

    assert project_settings.settings_error(tmp_path) == ""


def test_mypy_reads_mypy_ini_before_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "mypy.ini", "[mypy]\npython_version = 3.9\n")
    write(tmp_path / "pyproject.toml", '[tool.mypy]\npython_version = "3.12"\n')

    assert "mypy.ini [mypy]" in project_settings.settings_error(tmp_path)


def test_a_missing_project_has_no_objection(tmp_path: Path) -> None:
    assert project_settings.settings_error(tmp_path / "nowhere") == ""


def test_ruff_config_is_the_nearest_file_ruff_would_read(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "pyproject.toml", "[project]\nname = 'x'\n")  # no [tool.ruff]
    assert project_settings.ruff_config(project) is None
    assert project_settings.ruff_config_option(project) == "--isolated"

    parent = write(tmp_path / "ruff.toml", "line-length = 79\n")
    assert project_settings.ruff_config(project) == parent

    own = write(project / "pyproject.toml", "[tool.ruff]\nline-length = 88\n")
    assert project_settings.ruff_config(project) == own

    preferred = write(project / ".ruff.toml", "line-length = 90\n")
    assert project_settings.ruff_config_option(project) == f"--config={preferred}"


def test_the_user_config_applies_when_the_project_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    user = write(tmp_path / "config" / "ruff" / "ruff.toml", "line-length = 120\n")

    assert project_settings.ruff_config(tmp_path / "project") == user


def test_outside_an_update_the_project_is_the_destination(tmp_path: Path) -> None:
    assert project_settings.project_root(tmp_path) == tmp_path


def test_a_folder_only_named_like_a_temporary_copy_is_its_own_project(tmp_path: Path) -> None:
    # Temporary copies are told by the update running on the stack, not by names.
    copy = tmp_path / "copier._main.old_copy.abc123"
    assert project_settings.project_root(copy) == copy


def test_the_default_line_length_is_the_one_hexforge_adds() -> None:
    reference = tomllib.loads(project_settings.REFERENCE.read_text(encoding="utf-8"))
    assert reference["tool"]["ruff"]["line-length"] == project_settings.DEFAULT_LINE_LENGTH


ALNUM = st.sampled_from("aZ7")
NAMES = st.builds(
    lambda first, parts: first + "".join(parts),
    ALNUM,
    st.lists(
        st.builds(lambda sep, end: sep + end, st.sampled_from(["", ".", "_", "-", "-_"]), ALNUM)
    ),
)
TAILS = st.sampled_from(
    [
        "",
        " ",
        "[binary,pool]",
        ">=1.0",
        " >= 2, <3",
        "==2.*",
        "; python_version > '3'",
        "[x] ; sys_platform != 'win32'",
        " @ https://example.invalid/p.whl",
        "~=1.4",
    ]
)


@given(name=NAMES, tail=TAILS)
def test_the_quick_name_of_a_requirement_is_the_one_packaging_reads(name: str, tail: str) -> None:
    # The precheck judges only the requirements whose name the generated code needs,
    # and reads that name without packaging: both must agree on every valid text.
    text = name + tail
    try:
        expected = canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        assume(False)
    assert project_settings._name(text) == expected


@pytest.mark.parametrize(
    ("declared", "refused"),
    [
        (['"fastapi>=0.115"', '"requests"', '"Pydantic >= 2.6"'], False),
        (['"fastapi>=0.115"', '"pydantic<2"'], True),
        (['"FastAPI == 0.95.2"'], True),
        (['"psycopg_binary"', '"pydantic.v1-compat<1"'], False),
    ],
)
def test_only_requirements_on_what_the_code_needs_are_judged(
    tmp_path: Path, declared: list[str], refused: bool
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "p"\ndependencies = [{", ".join(declared)}]\n', encoding="utf-8"
    )
    assert bool(project_settings.settings_error(tmp_path)) is refused
