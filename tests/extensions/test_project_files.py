"""The files the wiring writes once: app/settings.py builds on the package's settings,
and the README's table of settings is the settings class, variable for variable."""

from __future__ import annotations

import re

import pytest

import project_files
from hexforge.service import settings as service_settings


def test_the_readme_lists_every_setting_with_its_default() -> None:
    fields = service_settings.ServiceSettings.model_fields
    listed = {name: default for name, default, _ in project_files.SETTINGS}
    assert list(listed) == [name.upper() for name in fields]
    defaults = service_settings.ServiceSettings.model_construct()
    for name in fields:
        shown = listed[name.upper()]
        value = getattr(defaults, name)
        if value is None or value == []:
            assert shown in {"unset", "none"}, name
        else:
            expected = str(value).lower() if isinstance(value, bool) else str(value)
            assert shown == expected, name
    table = project_files.readme("shop")
    for name in listed:
        assert re.search(rf"^\| `{name}` \| ", table, re.MULTILINE), name


def test_the_settings_module_subclasses_the_package_settings() -> None:
    namespace: dict[str, object] = {}
    exec(compile(project_files.SETTINGS_PY, "app/settings.py", "exec"), namespace)
    settings_class = namespace["Settings"]
    assert isinstance(settings_class, type)
    assert issubclass(settings_class, service_settings.ServiceSettings)


@pytest.mark.parametrize(
    ("environment", "line"),
    [
        (
            {"DATABASE_POOL_MAX": "zero"},
            "DATABASE_POOL_MAX='zero': Input should be a valid integer",
        ),
        ({"DATABASE_POOL_MIN": "5", "DATABASE_POOL_MAX": "2"}, "DATABASE_POOL_MIN (5) must not"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='LOUD': Input should be 'DEBUG'"),
        ({"MAX_BODY_BYTES": "0"}, "MAX_BODY_BYTES='0': Input should be greater than or equal"),
        ({"HEXFORGE_MIGRATE_ON_START": "perhaps"}, "HEXFORGE_MIGRATE_ON_START='perhaps'"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], line: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(service_settings.SettingsError) as refused:
        service_settings.load(service_settings.ServiceSettings)
    message = str(refused.value)
    assert "\n" not in message and line in message, message


def test_the_values_are_read_in_any_case_and_origins_split_on_commas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example,")
    monkeypatch.setenv("DATABASE_URL", "  ")
    loaded = service_settings.load(service_settings.ServiceSettings)
    assert (loaded.log_format, loaded.log_level) == ("json", "DEBUG")
    assert loaded.cors_origins == ["https://a.example", "https://b.example"]
    assert loaded.database_url is None
