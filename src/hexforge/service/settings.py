"""The settings of a served application (SPEC §13), read from the environment.

``ServiceSettings`` is the base of the project's own ``app/settings.py``: a project
adds its settings there. Each value comes from the variable of the same name in
upper case, or from a ``.env`` file in the working folder; an invalid value stops the
start with one line naming the variable and the rule (:func:`load`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024
# Settings whose value a refusal never repeats.
SECRETS = frozenset({"auth_hs256_secret"})


class ServiceSettings(BaseSettings):
    """What an operator sets to run the service; every field is an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL connection URL; unset or empty, the service keeps its data "
        "in memory (lost at exit)",
    )
    database_pool_min: int = Field(default=1, ge=0, description="connections the pool keeps open")
    database_pool_max: int = Field(
        default=10, ge=1, description="most connections the pool opens at once"
    )
    database_statement_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="a statement running longer is cancelled (milliseconds; 0: no limit)",
    )
    hexforge_migrate_on_start: bool = Field(
        default=False,
        description="apply pending migrations at start (under the migration lock) instead "
        "of refusing to serve",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="the least severe log line written"
    )
    log_format: Literal["json", "console"] = Field(
        default="console", description="`json`: one JSON object per line; `console`: for people"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated origins a browser may call the API from (none by default)",
    )
    max_body_bytes: int = Field(
        default=MIB, ge=1, description="a request body larger than this is answered 413"
    )
    auth_issuer: str | None = Field(
        default=None, description="`iss` every token must carry (required with auth=jwt)"
    )
    auth_audience: str | None = Field(
        default=None, description="`aud` every token must carry (required with auth=jwt)"
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="the identity provider's JWKS URL: tokens signed RS256 or ES256 with its keys",
    )
    auth_hs256_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="a shared secret of 32 characters or more: tokens signed HS256 "
        "(development and tests; set this or AUTH_JWKS_URL)",
    )
    auth_leeway_s: int = Field(
        default=30, ge=0, le=600, description="clock skew allowed on `exp`, `nbf`, `iat` (seconds)"
    )
    auth_roles_claim: str = Field(
        default="roles", min_length=1, description="the claim holding the actor's roles"
    )

    @field_validator(
        "database_url",
        "auth_issuer",
        "auth_audience",
        "auth_jwks_url",
        "auth_hs256_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _pool_bounds(self) -> ServiceSettings:
        if self.database_pool_min > self.database_pool_max:
            raise ValueError(
                f"DATABASE_POOL_MIN ({self.database_pool_min}) must not exceed "
                f"DATABASE_POOL_MAX ({self.database_pool_max})"
            )
        return self

    def auth_problem(self) -> str | None:
        """Why these settings cannot verify tokens, or None: what a service whose routes
        need tokens checks at start."""
        missing = [
            name.upper() for name in ("auth_issuer", "auth_audience") if not getattr(self, name)
        ]
        if (self.auth_jwks_url is None) == (self.auth_hs256_secret is None):
            missing.append("exactly one of AUTH_JWKS_URL and AUTH_HS256_SECRET")
        if not missing:
            return None
        return (
            f"invalid settings: {', '.join(missing)} required: routes of this service "
            "need bearer tokens (auth=jwt)"
        )


class SettingsError(SystemExit):
    """A setting's value breaks its rule; the message is one line for the operator."""


Settings = TypeVar("Settings", bound=ServiceSettings)


def load(settings_class: type[Settings]) -> Settings:
    """The settings read from the environment, or :class:`SettingsError` naming each
    variable whose value breaks its rule."""
    try:
        return settings_class()
    except ValidationError as error:
        raise SettingsError(describe(error)) from None


def describe(error: ValidationError) -> str:
    """One line for every broken rule: the variable, the value given, the rule."""
    problems = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        message = item["msg"].removeprefix("Value error, ")
        if not field:
            problems.append(message)
            continue
        shown = "'***'" if field in SECRETS else _shown(item.get("input"))
        problems.append(f"{field.upper()}={shown}: {message}")
    return "invalid settings: " + "; ".join(problems)


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > 60:
        text = text[:57] + "..."
    return repr(text) if isinstance(value, str) else text
