"""Throwaway PostgreSQL clusters for hexforge's own tests and benchmarks.

They are started by the code every generated project runs for its tests, the
template's ``components/conftest.py`` (loaded from this checkout, not copied): a
cluster in a temporary folder, reachable only through a Unix socket there (so two
clusters never compete for a port), run as the ``postgres`` user when we are root,
removed by ``stop()``.

Two flavours:

- the default one, as a generated project's tests get it: initdb takes its locale
  from the environment, usually C or C.UTF-8, where text sorts bytewise;
- an ICU one (``icu=True``): ``initdb --locale-provider=icu --icu-locale=en-US``,
  a language collation where 'a' < 'B' < 'b' and 'é' sorts next to 'e'. Code that
  orders text in SQL without saying how gives other pages there than the in-memory
  twin, which is what the list tests need to be able to see.
"""

from __future__ import annotations

import importlib.util
import subprocess
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

ICU_LOCALE = "en-US"
ICU_INITDB_OPTIONS = ("--locale-provider=icu", f"--icu-locale={ICU_LOCALE}")


@cache
def components_conftest() -> ModuleType:
    """hexforge's pytest plugin, which a project's components/conftest.py uses: its
    psycopg imports are lazy, starting a cluster needs only the standard library."""
    return importlib.import_module("hexforge.pytest_plugin")


@cache
def _icu_cluster_class() -> type[Any]:
    conftest = components_conftest()

    class IcuCluster(conftest._Cluster):  # type: ignore[misc,name-defined]
        """The projects' cluster, with initdb choosing an ICU collation: the one
        program call that differs, so every other step stays the projects' own."""

        def _run(self, program: Path, *args: str, as_user: dict[str, Any]) -> None:
            if program.name == "initdb":
                args = (*args, *ICU_INITDB_OPTIONS)
            super()._run(program, *args, as_user=as_user)

    return IcuCluster


class ClusterUnavailable(Exception):
    """No cluster could be started; the message says why."""


def start_cluster(*, icu: bool = False, root: Path | None = None) -> Any:
    """A running cluster (``.dsn``, ``.stop()``); ``icu`` picks the ICU collation."""
    conftest = components_conftest()
    cluster_class = _icu_cluster_class() if icu else conftest._Cluster
    try:
        return cluster_class.start(root)
    except conftest.PostgresUnavailable as error:
        flavour = f"an ICU ({ICU_LOCALE}) cluster" if icu else "a cluster"
        raise ClusterUnavailable(f"cannot start {flavour}: {error}") from None


def database_url(cluster: Any, database: str) -> str:
    """The cluster's connection string for another database of it."""
    dsn: str = cluster.dsn
    return dsn.replace("@/postgres?", f"@/{database}?")


def psql(dsn: str, sql: str) -> list[list[str]]:
    """Run ``sql`` with psql (no Python driver needed); rows of tab-separated fields."""
    program = components_conftest()._find_bin_dir() / "psql"
    command = [str(program), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    result = subprocess.run(
        [*command, "-d", dsn], input=sql, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"psql failed on {sql!r}: {result.stderr.strip()}")
    return [line.split("\t") for line in result.stdout.splitlines() if line]
