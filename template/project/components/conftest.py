"""The components' tests get their PostgreSQL database from hexforge's pytest plugin:
``TEST_DATABASE_URL`` when set, else a throwaway cluster in a temporary folder."""

from hexforge.pytest_plugin import postgres_dsn, pytest_unconfigure

__all__ = ["postgres_dsn", "pytest_unconfigure"]
