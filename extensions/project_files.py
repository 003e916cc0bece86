"""Files the wiring writes once into a project, after which they are the user's:
app/settings.py and, when the project has none, README.md.

The README's table of settings mirrors hexforge.service.settings.ServiceSettings
(the variables, their defaults and rules); tests/extensions/test_project_files.py
holds the two together.
"""

from __future__ import annotations

SETTINGS_PY = '''"""The service's settings: hexforge's (database, logs, limits) and yours.

Each field is read from the environment variable of its name in upper case, or from
a .env file in the working folder; a bad value stops the start with one line naming
the variable and its rule. Add your own fields to the class: hexforge wrote this file
once and never rewrites it.
"""

from __future__ import annotations

from hexforge.service import ServiceSettings


class Settings(ServiceSettings):
    """Every setting of this service (README.md lists hexforge's)."""
'''

# (variable, default as shown, what it does)
SETTINGS = (
    ("DATABASE_URL", "unset", "PostgreSQL connection URL; unset, data is kept in memory"),
    ("DATABASE_POOL_MIN", "1", "connections the pool keeps open (0 or more)"),
    ("DATABASE_POOL_MAX", "10", "most connections open at once (1 or more, at least the min)"),
    ("DATABASE_STATEMENT_TIMEOUT_MS", "5000", "a longer statement is cancelled (0: no limit)"),
    ("HEXFORGE_MIGRATE_ON_START", "false", "apply pending migrations at start, under a lock"),
    ("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    ("LOG_FORMAT", "console", "`json`: one JSON object per line; `console`: for people"),
    ("CORS_ORIGINS", "none", "comma-separated origins browsers may call the API from"),
    ("MAX_BODY_BYTES", "1048576", "a larger request body is answered 413 (1 MiB by default)"),
    ("AUTH_ISSUER", "unset", "`iss` every bearer token must carry (required with auth=jwt)"),
    ("AUTH_AUDIENCE", "unset", "`aud` every bearer token must carry (required with auth=jwt)"),
    ("AUTH_JWKS_URL", "unset", "the identity provider's JWKS: RS256/ES256 tokens, keys cached"),
    ("AUTH_HS256_SECRET", "unset", "shared secret (32+ characters) for HS256 tokens: development"),
    ("AUTH_LEEWAY_S", "30", "clock skew allowed on `exp`, `nbf` and `iat`, in seconds"),
    ("AUTH_ROLES_CLAIM", "roles", "the claim listing the actor's roles"),
)


def readme(title: str) -> str:
    rows = "\n".join(f"| `{name}` | {default} | {rule} |" for name, default, rule in SETTINGS)
    return f"""# {title}

A hexagonal Python service scaffolded with hexforge: each bounded context is a
component under `components/`, served by `app/main.py`.

## Run it

```sh
pip install -e ".[dev]"              # or: uv sync --extra dev
uvicorn app.main:app --reload        # in memory; set DATABASE_URL for PostgreSQL
python tools/quality_gates.py        # every gate: lint, types, architecture, tests
```

On PostgreSQL, apply the migrations first (`hexforge migrate up`), as the deploy does.
`docker compose up --build` runs PostgreSQL, the migrations once, then the service.

## Operating it

- `GET /healthz`: 200 while the process serves. `GET /readyz`: 200 when the
  database answers and no migration is pending, else 503 with the reason.
- Every error is an RFC 9457 problem (`application/problem+json`).
- `X-Request-ID` is taken from the request (or made) and returned; every log line
  of the request carries it.
- SIGTERM lets requests in flight finish, then closes the database pool.
- With the `otel` extra installed and `OTEL_EXPORTER_OTLP_ENDPOINT` set, FastAPI and
  psycopg spans are exported over OTLP.

## Settings

Read from the environment (or a `.env` file) by `app/settings.py`; a bad value stops
the start with one line naming the variable.

| Variable | Default | Meaning |
|---|---|---|
{rows}
"""
