"""The architecture audit, tools/hex_audit.py in every generated project.

Each case writes a clean, realistic component (tests/project/audit_cases/realistic.py),
plants one violation and expects the rule id, the file and the exact line. The line
is looked up in the planted file by a marker, never written down by hand.

In-process checks run the audit twice, once with its text pre-checks and once with
every file parsed, and require the same findings: a pre-check may save a parse but
must never hide a finding. The command line is tested as a subprocess, the way the
quality gates run it.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REPO
from tests.project.audit_cases.realistic import COMPONENT, write_component
from tests.project.tooling import load_tool

TOOLS = REPO / "template" / "project" / "tools"
AUDIT = REPO / "src" / "hexforge" / "audit.py"
CORE = REPO / "src" / "hexforge" / "core.py"
ORDERS = Path("components") / "orders"
SHOWN = "components/orders"

# The canonical tree of SPEC section 2, written out independently of the audit.
REQUIRED_FILES = [
    "__init__.py",
    "README.md",
    "domain/__init__.py",
    "domain/model.py",
    "domain/service.py",
    "domain/exceptions.py",
    "domain/rules.py",
    "ports/__init__.py",
    "ports/inbound.py",
    "ports/outbound.py",
    "adapters/__init__.py",
    "adapters/inbound/__init__.py",
    "adapters/inbound/api_handler.py",
    "adapters/outbound/__init__.py",
    "adapters/outbound/postgres_repo.py",
    "adapters/outbound/memory_repo.py",
    "tests/__init__.py",
    "tests/conftest.py",
]
TIERS = ["tests/unit", "tests/integration", "tests/regression"]


def _load() -> ModuleType:
    return load_tool("hex_audit.py", "hex_audit_under_test")


hex_audit = _load()

Found = tuple[str, str, int]


# --- helpers -------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root (the cwd) with one clean component, components/orders."""
    write_component(tmp_path / "components", "orders")
    (tmp_path / "components" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(*paths: str) -> list[Found]:
    """(rule, path, line) of every finding, the same with and without the pre-checks."""
    components = hex_audit.discover(list(paths) or ["components"])
    fast = hex_audit.audit(components)
    full = hex_audit.audit(components, fast=False)
    assert fast.findings == full.findings, "a text pre-check changed the findings"
    return [(f.rule, f.path, f.line) for f in fast.findings]


def plant(relative: str, code: str, *, after: str | None = None) -> None:
    """Add code to a file of components/orders: after an anchor text, or at the end."""
    path = ORDERS / relative
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if after is None:
        text = (text.rstrip("\n") + "\n\n\n" + code) if text else code
    else:
        assert text.count(after) == 1, f"anchor {after!r} is not unique in {relative}"
        text = text.replace(after, after + code)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def replace(relative: str, old: str, new: str) -> None:
    path = ORDERS / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not unique in {relative}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(relative: str, marker: str) -> int:
    lines = (ORDERS / relative).read_text(encoding="utf-8").splitlines()
    hits = [number for number, line in enumerate(lines, 1) if marker in line]
    assert len(hits) == 1, f"marker {marker!r} found on lines {hits} of {relative}"
    return hits[0]


def expect(rule: str, relative: str, marker: str) -> Found:
    return (rule, f"{SHOWN}/{relative}", line_of(relative, marker))


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hexforge", "audit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- clean components ------------------------------------------------------------------


def test_realistic_component_is_clean(project: Path) -> None:
    assert findings() == []


def test_clean_component_passes_the_cli(project: Path) -> None:
    result = cli(cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == ["hex_audit: 1 component(s) checked, no findings"]
    assert result.stderr == ""


def test_idiomatic_extras_are_clean(project: Path) -> None:
    """Constructs a generated or hand-grown component uses, none of them a violation."""
    plant(
        "domain/model.py",
        "from . import exceptions as _exceptions\n"
        "from .exceptions import OrderError\n"
        "from components.orders.domain import rules as _rules\n"
        "import components.orders.domain.exceptions\n"
        "import uuid\n"
        "from datetime import timedelta\n"
        "from functools import total_ordering\n"
        "from typing import Final, Protocol\n"
        "from uuid import NAMESPACE_URL, uuid5\n",
        after="from uuid import UUID\n",
    )
    plant(
        "domain/model.py",
        "GRACE: Final = timedelta(days=1)\n\n\n"
        "class _Now(Protocol):\n"
        "    def now(self) -> datetime: ...\n\n\n"
        "def stamped(source: _Now) -> datetime:\n"
        "    return source.now()\n\n\n"
        "def stable_id(name: str) -> UUID:\n"
        "    return uuid5(NAMESPACE_URL, name) if name else uuid.UUID(int=0)\n\n\n"
        "@total_ordering\n"
        "@dataclass(frozen=True, slots=True, kw_only=True, order=False)\n"
        "class Window:\n"
        "    opens: datetime\n"
        "    today: date | None = None\n\n"
        "    def __lt__(self, other: Window) -> bool:\n"
        "        return self.opens < other.opens\n\n"
        "    def print_label(self) -> str:\n"
        "        return f'{self.opens.time()}'\n\n"
        "    def open(self) -> Window:\n"
        "        return self\n\n"
        "    def reopen(self) -> Window:\n"
        "        return self.open()\n",
    )
    plant(
        "domain/service.py",
        "# The service never imports adapters (see adapters/outbound for them).\n"
        "LAYERS = ('domain', 'ports', 'adapters')\n\n\n"
        "def _describe() -> str:\n"
        '    """Example of what not to write:\n\n'
        "    from components.orders.adapters.outbound import memory_repo\n"
        '    """\n'
        "    adapters = [layer for layer in LAYERS if layer != 'domain']\n"
        "    return ', '.join(adapters)\n",
    )
    plant(
        "ports/outbound.py",
        "from abc import ABC as Interface\n"
        "from collections.abc import Callable\n"
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n"
        "    from collections.abc import Sequence\n",
        after="from datetime import datetime\n",
    )
    plant(
        "ports/outbound.py",
        "class _Registry:\n"
        "    names: tuple[str, ...] = ()\n\n\n"
        "class OrderExporter(Interface):\n"
        '    """Ships orders elsewhere."""\n\n'
        "    @property\n"
        "    @abstractmethod\n"
        "    def target(self) -> str:\n"
        '        """Where orders go."""\n\n'
        "    @classmethod\n"
        "    @abc.abstractmethod\n"
        "    def build(cls, dsn: str, /, *, retries: int = max(1, 2)) -> OrderExporter: ...\n\n"
        "    @staticmethod\n"
        "    @abstractmethod\n"
        "    def label(order: Order) -> str: ...\n\n"
        "    @abstractmethod\n"
        "    async def export(\n"
        "        self,\n"
        "        orders: Sequence[Order],  # already validated\n"
        "        pair: tuple[int, str, bytes] = (1, 'a, b', b''),\n"
        "        *extra: Callable[[Order], str],\n"
        "        **options: dict[str, int],\n"
        '    ) -> "tuple[int, int]":\n'
        "        ...\n\n"
        "    def _helper(self, anything):  # private: not part of the port\n"
        "        return anything\n\n"
        "    def __repr__(self) -> str:\n"
        "        return 'OrderExporter'\n",
    )
    plant(
        "adapters/outbound/memory_exporter.py",
        "from components.orders.ports.outbound import OrderExporter\n\n\n"
        "class InMemoryOrderExporter(OrderExporter):\n"
        "    pass\n",
    )
    plant(
        "adapters/inbound/__init__.py",
        "from components.orders.adapters.inbound import api_handler\n",
    )
    plant("domain/policies/__init__.py", "")
    plant("domain/policies/pricing.py", "from ..model import Money\n\nFREE = Money\n")
    plant("adapters/outbound/redis_cache.py", "import redis\n")
    assert findings() == []


def test_source_is_read_never_imported(project: Path) -> None:
    plant("domain/service.py", "raise SystemExit('the audit must not import project code')\n")
    plant("ports/outbound.py", "raise SystemExit('the audit must not import project code')\n")
    result = cli(cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("tool", [AUDIT, CORE], ids=lambda p: p.name)
def test_audit_itself_is_stdlib_only_but_for_its_yaml_reader(tool: Path) -> None:
    tree = ast.parse(tool.read_text(encoding="utf-8"))
    modules = {
        alias.name.partition(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").partition(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert modules <= set(sys.stdlib_module_names) | {"hexforge", "yaml"}


# --- structure -------------------------------------------------------------------------


@pytest.mark.parametrize("relative", REQUIRED_FILES)
def test_missing_required_file(project: Path, relative: str) -> None:
    (ORDERS / relative).unlink()
    found = findings()
    assert ("HEX101", f"{SHOWN}/{relative}", 0) in found
    if relative != "adapters/outbound/memory_repo.py":
        assert found == [("HEX101", f"{SHOWN}/{relative}", 0)]


def test_missing_memory_repo_also_leaves_every_port_without_twin(project: Path) -> None:
    (ORDERS / "adapters/outbound/memory_repo.py").unlink()
    assert findings() == [
        ("HEX101", f"{SHOWN}/adapters/outbound/memory_repo.py", 0),
        expect("HEX501", "ports/outbound.py", "class ReadOnlyOrderRepository("),
        expect("HEX501", "ports/outbound.py", "class OrderRepository("),
        expect("HEX501", "ports/outbound.py", "class Clock("),
        expect("HEX501", "ports/outbound.py", "class IdGenerator("),
    ]


def test_required_file_that_is_a_directory_counts_as_missing(project: Path) -> None:
    (ORDERS / "domain/rules.py").unlink()
    (ORDERS / "domain/rules.py").mkdir()
    assert findings() == [("HEX101", f"{SHOWN}/domain/rules.py", 0)]


@pytest.mark.parametrize("tier", TIERS)
def test_missing_test_tier(project: Path, tier: str) -> None:
    shutil.rmtree(ORDERS / tier)
    assert findings() == [("HEX102", f"{SHOWN}/{tier}", 0)]


def test_test_tier_that_is_a_file_counts_as_missing(project: Path) -> None:
    shutil.rmtree(ORDERS / "tests/regression")
    (ORDERS / "tests/regression").write_text("", encoding="utf-8")
    assert findings() == [("HEX102", f"{SHOWN}/tests/regression", 0)]


def test_tiers_with_only_init_or_gitkeep_are_enough(project: Path) -> None:
    for tier in ("tests/unit", "tests/integration"):
        shutil.rmtree(ORDERS / tier)
        (ORDERS / tier).mkdir()
    (ORDERS / "tests/unit/__init__.py").write_text("", encoding="utf-8")
    (ORDERS / "tests/integration/.gitkeep").write_text("", encoding="utf-8")
    assert findings() == []


def test_empty_component_directory_reports_the_whole_tree(project: Path) -> None:
    (Path("components") / "empty").mkdir()
    found = [f for f in findings() if f[1].startswith("components/empty/")]
    assert sorted(found) == sorted(
        [("HEX101", f"components/empty/{r}", 0) for r in REQUIRED_FILES]
        + [("HEX102", f"components/empty/{t}", 0) for t in TIERS]
    )


def test_caches_hidden_dirs_and_files_are_not_components(project: Path) -> None:
    for name in ("__pycache__", ".mypy_cache", ".hidden"):
        (Path("components") / name).mkdir()
    (Path("components") / "README.md").write_text("x", encoding="utf-8")
    assert findings() == []
    assert hex_audit.audit(hex_audit.discover(["components"])).components == 1


# --- dependency direction --------------------------------------------------------------

SERVICE_ANCHOR = "from components.orders.ports.inbound import OrderUseCases\n"

DOMAIN_IMPORTS = {
    "absolute-from": (
        "from components.orders.adapters.outbound.memory_repo import InMemoryOrderRepository\n",
        "memory_repo import InMemoryOrderRepository",
    ),
    "absolute-import": ("import components.orders.adapters.outbound.memory_repo\n", "import comp"),
    "absolute-alias": (
        "import components.orders.adapters.outbound.memory_repo as repo\n",
        "as repo",
    ),
    "from-component-import-adapters": (
        "from components.orders import adapters\n",
        "import adapters",
    ),
    "from-adapters-import-outbound": (
        "from components.orders.adapters import outbound\n",
        "import outbound",
    ),
    "relative-module": ("from ..adapters.outbound import memory_repo\n", "from ..adapters"),
    "relative-package": ("from .. import adapters\n", "from .. import adapters"),
    "relative-alias": (
        "from ..adapters.outbound.memory_repo import InMemoryOrderRepository as Repo\n",
        "as Repo",
    ),
    "multi-line-from": (
        "from components.orders.adapters.outbound.memory_repo import (\n"
        "    InMemoryOrderRepository,\n"
        ")\n",
        "memory_repo import (",
    ),
    "multi-line-names": (
        "from components.orders import (\n    domain,  # (the core)\n    adapters,\n)\n",
        "from components.orders import (",
    ),
    "type-checking": (
        "if TYPE_CHECKING:\n"
        "    from components.orders.adapters.outbound.postgres_repo import (\n"
        "        PostgresOrderRepository,\n"
        "    )\n",
        "postgres_repo import (",
    ),
    "other-component": (
        "from components.billing.adapters.outbound.memory_repo import InMemoryInvoices\n",
        "InMemoryInvoices",
    ),
    "other-component-relative": (
        "from ...billing.adapters import outbound as billing_outbound\n",
        "billing_outbound",
    ),
    "backslash-module": (
        "from components.orders.adapters.outbound \\\n    import memory_repo\n",
        "from components.orders.adapters.outbound \\",
    ),
    "backslash-names": (
        "import json, \\\n    components.orders.adapters.outbound.memory_repo\n",
        "import json, \\",
    ),
    "after-semicolon": ("import json; import components.orders.adapters  # noqa\n", "import json;"),
    "trailing-comment": (
        "from ..adapters.outbound import postgres_repo  # noqa: F401\n",
        "postgres_repo  # noqa",
    ),
    "importlib": (
        "import importlib\n\n"
        '_REPO = importlib.import_module("components.orders.adapters.outbound.memory_repo")\n',
        "import_module(",
    ),
    "importlib-aliased": (
        "from importlib import import_module as im\n\n"
        '_REPO = im("components.orders.adapters.outbound.postgres_repo")\n',
        '_REPO = im("',
    ),
    "importlib-assigned": (
        "import importlib\n\nload = importlib.import_module\n"
        '_REPO = load("components.orders.adapters.outbound.postgres_repo")\n',
        '_REPO = load("',
    ),
    "dunder-import-aliased": (
        "from builtins import __import__ as imp\n\n"
        '_REPO = imp("components.orders.adapters.outbound.postgres_repo")\n',
        '_REPO = imp("',
    ),
}


@pytest.mark.parametrize("form", DOMAIN_IMPORTS)
def test_domain_must_not_import_adapters(project: Path, form: str) -> None:
    code, marker = DOMAIN_IMPORTS[form]
    plant("domain/service.py", code, after=SERVICE_ANCHOR)
    assert findings() == [expect("HEX201", "domain/service.py", marker)]


def test_domain_import_inside_a_function(project: Path) -> None:
    plant(
        "domain/service.py",
        "def default_repository() -> object:\n"
        "    from components.orders.adapters.outbound.memory_repo import (\n"
        "        InMemoryOrderRepository,\n"
        "    )\n\n"
        "    return InMemoryOrderRepository()\n",
    )
    assert findings() == [expect("HEX201", "domain/service.py", "memory_repo import (")]


def test_domain_import_inside_a_method_under_try(project: Path) -> None:
    plant(
        "domain/service.py",
        "    def _fallback(self) -> None:\n"
        "        try:\n"
        "            from ..adapters.outbound import postgres_repo as pg\n"
        "        except ImportError:\n"
        "            pg = None\n"
        "        del pg\n",
        after="        self._ids = ids\n",
    )
    assert findings() == [expect("HEX201", "domain/service.py", "postgres_repo as pg")]


@pytest.mark.parametrize(
    "relative", ["domain/rules.py", "domain/exceptions.py", "domain/__init__.py"]
)
def test_every_domain_module_is_checked(project: Path, relative: str) -> None:
    plant(relative, "from components.orders.adapters.outbound import memory_repo\n")
    assert findings() == [expect("HEX201", relative, "import memory_repo")]


def test_domain_model_importing_adapters_is_a_direction_finding(project: Path) -> None:
    plant(
        "domain/model.py",
        "from ..adapters.outbound import memory_repo\n",
        after="from uuid import UUID\n",
    )
    assert findings() == [expect("HEX201", "domain/model.py", "import memory_repo")]


def test_domain_subpackage_relative_import(project: Path) -> None:
    plant("domain/policies/__init__.py", "")
    plant("domain/policies/pricing.py", '"""Pricing."""\n\nfrom ...adapters import outbound\n')
    assert findings() == [expect("HEX201", "domain/policies/pricing.py", "import outbound")]


def test_imports_of_adapters_by_other_components_domains(project: Path) -> None:
    write_component(Path("components"), "billing")
    plant(
        "domain/service.py",
        "from components.billing.adapters.outbound.memory_repo import InMemoryOrderRepository\n",
        after=SERVICE_ANCHOR,
    )
    assert findings() == [expect("HEX201", "domain/service.py", "components.billing.adapters")]


OUTBOUND_ANCHOR = "from components.orders.domain.model import Order, OrderId, OrderPage\n"

PORT_IMPORTS = {
    "outbound-absolute": (
        "ports/outbound.py",
        "from components.orders.adapters.outbound.memory_repo import InMemoryOrderRepository\n",
        "InMemoryOrderRepository",
    ),
    "outbound-relative": (
        "ports/outbound.py",
        "from ..adapters.outbound import postgres_repo\n",
        "import postgres_repo",
    ),
    "outbound-type-checking": (
        "ports/outbound.py",
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n"
        "    from ..adapters.outbound.memory_repo import InMemoryOrderRepository\n",
        "InMemoryOrderRepository",
    ),
    "inbound-absolute": (
        "ports/inbound.py",
        "from components.orders.adapters.inbound.api_handler import OrderOut\n",
        "OrderOut",
    ),
    "inbound-package": ("ports/inbound.py", "from .. import adapters\n", "import adapters"),
    "init-other-component": (
        "ports/__init__.py",
        "from components.billing.adapters import outbound\n",
        "import outbound",
    ),
}


@pytest.mark.parametrize("form", PORT_IMPORTS)
def test_ports_must_not_import_adapters(project: Path, form: str) -> None:
    relative, code, marker = PORT_IMPORTS[form]
    anchors = {
        "ports/outbound.py": OUTBOUND_ANCHOR,
        "ports/inbound.py": "from typing import TYPE_CHECKING\n",
    }
    plant(relative, code, after=anchors.get(relative))
    assert findings() == [expect("HEX202", relative, marker)]


HANDLER_ANCHOR = "from components.orders.ports.inbound import OrderUseCases\n"

INBOUND_IMPORTS = {
    "absolute": (
        "from components.orders.adapters.outbound.postgres_repo import PostgresOrderRepository\n",
        "PostgresOrderRepository",
    ),
    "relative-module": ("from ..outbound import memory_repo\n", "import memory_repo"),
    "relative-name": (
        "from ..outbound.memory_repo import InMemoryOrderRepository\n",
        "InMemoryOrderRepository",
    ),
    "relative-package": ("from .. import outbound\n", "from .. import outbound"),
    "adapters-package": ("from components.orders.adapters import outbound\n", "import outbound"),
    "alias": (
        "import components.orders.adapters.outbound.memory_repo as memory\n",
        "as memory",
    ),
    "other-component": (
        "from components.billing.adapters.outbound.memory_repo import InMemoryInvoices\n",
        "InMemoryInvoices",
    ),
    "type-checking": (
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n"
        "    from ..outbound.postgres_repo import PostgresOrderRepository\n",
        "PostgresOrderRepository",
    ),
}


@pytest.mark.parametrize("form", INBOUND_IMPORTS)
def test_inbound_adapters_must_not_import_outbound_adapters(project: Path, form: str) -> None:
    code, marker = INBOUND_IMPORTS[form]
    plant("adapters/inbound/api_handler.py", code, after=HANDLER_ANCHOR)
    assert findings() == [expect("HEX203", "adapters/inbound/api_handler.py", marker)]


def test_inbound_adapter_import_inside_a_function(project: Path) -> None:
    plant(
        "adapters/inbound/api_handler.py",
        "def _wire() -> object:\n"
        "    from components.orders.adapters.outbound.memory_repo import (\n"
        "        InMemoryOrderRepository,\n"
        "    )\n\n"
        "    return InMemoryOrderRepository()\n",
    )
    assert findings() == [
        expect("HEX203", "adapters/inbound/api_handler.py", "memory_repo import (")
    ]


def test_inbound_adapter_may_import_inbound_adapters_and_ports(project: Path) -> None:
    plant(
        "adapters/inbound/__init__.py",
        "from components.orders.adapters.inbound.api_handler import router\n"
        "from . import api_handler\n\n"
        '__all__ = ["api_handler", "router"]\n',
    )
    assert findings() == []


# --- what domain/ and ports/ may import (HEX204-HEX206) ----------------------------------

LAYER_FILES = [
    "domain/__init__.py",
    "domain/service.py",
    "domain/rules.py",
    "domain/exceptions.py",
    "domain/policies/pricing.py",
    "ports/__init__.py",
    "ports/inbound.py",
    "ports/outbound.py",
]

THIRD_PARTY = {
    "fastapi-name": ("from fastapi import HTTPException\n", "HTTPException"),
    "psycopg-name": ("from psycopg import AsyncConnection\n", "AsyncConnection"),
    "pydantic-module": ("import pydantic\n", "import pydantic"),
    "dotted-alias": ("import psycopg.rows as rows\n", "psycopg.rows as rows"),
    "multi-line": (
        "from sqlalchemy.orm import (\n    Session,  # (the unit of work)\n    Mapped,\n)\n",
        "sqlalchemy.orm import (",
    ),
    "type-checking": (
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n    from httpx import AsyncClient\n",
        "AsyncClient",
    ),
    "in-function": (
        "def _raise() -> None:\n    from fastapi import HTTPException\n\n"
        "    raise HTTPException(404)\n",
        "from fastapi import HTTPException",
    ),
    "importlib": (
        'import importlib\n\n_PG = importlib.import_module("psycopg")\n',
        "import_module(",
    ),
    "project-code": ("from app.settings import DATABASE_URL\n", "app.settings"),
    "after-stdlib": ("import json, requests\n", "import json, requests"),
}


def _plant_layer_file(relative: str, code: str) -> None:
    if relative.startswith("domain/policies/"):
        plant("domain/policies/__init__.py", "")
        plant(relative, '"""Pricing policies."""\n\nfrom ..model import Money\n\nFREE = Money\n')
    plant(relative, code)


@pytest.mark.parametrize("form", THIRD_PARTY)
@pytest.mark.parametrize("relative", LAYER_FILES)
def test_domain_and_ports_import_only_the_stdlib(project: Path, relative: str, form: str) -> None:
    code, marker = THIRD_PARTY[form]
    _plant_layer_file(relative, code)
    assert findings() == [expect("HEX204", relative, marker)]


def test_third_party_finding_names_the_module_and_the_rule(project: Path) -> None:
    plant("domain/service.py", "from fastapi import HTTPException\n", after=SERVICE_ANCHOR)
    result = cli("--format", "json", cwd=project)
    assert result.returncode == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["rule"] == "HEX204"
    assert finding["path"] == f"{SHOWN}/domain/service.py"
    assert finding["line"] == line_of("domain/service.py", "HTTPException")
    assert "fastapi.HTTPException" in finding["message"]
    assert "standard library" in finding["message"]


OUTSIDE_THE_COMPONENT = {
    "other-domain": ("from components.billing.domain.model import Invoice\n", "Invoice"),
    "other-ports": ("import components.billing.ports.inbound as billing\n", "as billing"),
    "other-relative": ("from ...billing.domain import model as billing_model\n", "billing_model"),
    "own-package": ("from components.orders import OrderService\n", "import OrderService"),
    "own-package-module": ("import components.orders\n", "import components.orders"),
    "components-package": ("import components\n", "import components"),
    "own-tests": ("from components.orders.tests import conftest\n", "import conftest"),
    "above-the-root": ("from .... import settings\n", "import settings"),
}


@pytest.mark.parametrize("form", OUTSIDE_THE_COMPONENT)
@pytest.mark.parametrize(
    "relative", ["domain/service.py", "domain/rules.py", "ports/inbound.py", "ports/outbound.py"]
)
def test_domain_and_ports_stay_inside_their_component(
    project: Path, relative: str, form: str
) -> None:
    code, marker = OUTSIDE_THE_COMPONENT[form]
    plant(relative, code)
    assert findings() == [expect("HEX205", relative, marker)]


# Outside domain/ and ports/: another component only from adapters/outbound/, and only
# its public API (HEX207). The relative forms climb from the file's package (one level
# per dot) to components/.
ANOTHER_COMPONENTS_INTERNALS = {
    "domain": ("from components.billing.domain.model import Invoice\n", "Invoice"),
    "ports": ("import components.billing.ports.inbound as billing\n", "as billing"),
    "adapters": ("from components.billing.adapters import compose as other\n", "as other"),
    "tests": ("from components.billing.tests import conftest\n", "import conftest"),
    "function-level": (
        "def _load() -> None:\n    import components.billing.domain\n",
        "import components.billing.domain",
    ),
}
ADAPTER_FILES = [
    "adapters/outbound/memory_repo.py",
    "adapters/outbound/refs_api.py",
    "adapters/inbound/api_handler.py",
    "adapters/compose.py",
    "__init__.py",
]


@pytest.mark.parametrize("form", ANOTHER_COMPONENTS_INTERNALS)
@pytest.mark.parametrize("relative", ADAPTER_FILES)
def test_no_module_reaches_into_another_component(project: Path, relative: str, form: str) -> None:
    code, marker = ANOTHER_COMPONENTS_INTERNALS[form]
    plant(relative, code)
    assert findings() == [expect("HEX207", relative, marker)]


@pytest.mark.parametrize(
    ("relative", "code", "marker"),
    [
        ("adapters/outbound/refs_api.py", "from .... import billing\n", "import billing"),
        ("adapters/compose.py", "from ... import billing\n", "import billing"),
        ("__init__.py", "from .. import billing\n", "import billing"),
        ("adapters/outbound/refs_api.py", "from ....billing import domain\n", "import domain"),
    ],
)
def test_relative_imports_of_another_component_count_too(
    project: Path, relative: str, code: str, marker: str
) -> None:
    plant(relative, code)
    rule = "HEX207"
    if relative.startswith("adapters/outbound/") and "import billing" in code:
        assert findings() == []  # the public API, from an outbound adapter: allowed
        return
    assert findings() == [expect(rule, relative, marker)]


def test_an_outbound_adapter_may_use_another_components_public_api(project: Path) -> None:
    plant(
        "adapters/outbound/refs_api.py",
        "import components.billing\n"
        "from components.billing import UseCases, exists\n"
        "from components import billing as billing_api\n",
    )
    plant("adapters/compose.py", "from components.orders.adapters.outbound import refs_api\n")
    assert findings() == []


def test_the_public_api_of_another_component_is_for_outbound_adapters_only(
    project: Path,
) -> None:
    plant("adapters/inbound/api_handler.py", "import components.billing\n")
    assert findings() == [
        expect("HEX207", "adapters/inbound/api_handler.py", "import components.billing")
    ]


ONLY_THE_SERVICE_USES_PORTS = {
    "absolute": ("from components.orders.ports.outbound import Clock\n", "import Clock"),
    "relative": ("from ..ports import inbound\n", "from ..ports"),
    "module": ("import components.orders.ports.outbound as outbound_ports\n", "outbound_ports"),
}


@pytest.mark.parametrize("form", ONLY_THE_SERVICE_USES_PORTS)
@pytest.mark.parametrize(
    "relative",
    ["domain/rules.py", "domain/exceptions.py", "domain/__init__.py", "domain/policies/pricing.py"],
)
def test_only_the_service_imports_ports(project: Path, relative: str, form: str) -> None:
    code, marker = ONLY_THE_SERVICE_USES_PORTS[form]
    if relative.count("/") == 2:  # one package deeper: one more dot up to the component
        code, marker = code.replace("from ..", "from ..."), marker.replace("..", "...")
    _plant_layer_file(relative, code)
    assert findings() == [expect("HEX206", relative, marker)]


def test_what_domain_and_ports_may_import(project: Path) -> None:
    """The allowed-direction lists: the service its ports, ports each other and the
    domain, everyone the stdlib (clock and I/O included: those are the model's rules)."""
    plant(
        "domain/service.py",
        "from components.orders.ports import outbound as _outbound\n"
        "from ..ports.outbound import Clock as _Clock\n"
        "import components.orders.domain.rules\n"
        "import asyncio\nimport logging\nfrom __future__ import annotations as _a\n",
        after=SERVICE_ANCHOR,
    )
    plant("ports/inbound.py", "from components.orders.ports.outbound import Clock\n")
    plant("ports/outbound.py", "from . import inbound\nfrom ..domain import exceptions\n")
    plant("domain/exceptions.py", "from . import model\nfrom .model import OrderId\n")
    plant("domain/rules.py", "import components.orders.domain.model as m\nimport typing\n")
    assert findings() == []


def test_one_finding_per_import_statement(project: Path) -> None:
    plant("ports/outbound.py", "from fastapi import HTTPException, Request, status\n")
    plant("domain/rules.py", "import pydantic, fastapi\n")
    assert findings() == [
        expect("HEX204", "domain/rules.py", "import pydantic, fastapi"),
        expect("HEX204", "domain/rules.py", "import pydantic, fastapi"),
        expect("HEX204", "ports/outbound.py", "HTTPException, Request"),
    ]


# --- domain model purity ---------------------------------------------------------------

MODEL_ANCHOR = "from uuid import UUID\n"

FOREIGN_IMPORTS = {
    "pydantic": ("import pydantic\n", "import pydantic"),
    "pydantic-name": ("from pydantic import BaseModel\n", "BaseModel"),
    "pydantic-alias": ("import pydantic as pd\n", "pydantic as pd"),
    "sqlalchemy": ("from sqlalchemy.orm import Mapped, mapped_column\n", "sqlalchemy"),
    "attrs": ("import attrs\n", "import attrs"),
    "django": ("from django.db import models\n", "django"),
    "other-component": (
        "from components.billing.domain.model import Money as BillingMoney\n",
        "BillingMoney",
    ),
    "own-ports": ("from components.orders.ports.outbound import Clock\n", "import Clock"),
    "own-ports-relative": ("from ..ports import outbound\n", "from ..ports"),
    "above-the-root": ("from .... import settings\n", "settings"),
}


@pytest.mark.parametrize("form", FOREIGN_IMPORTS)
def test_domain_model_is_stdlib_only(project: Path, form: str) -> None:
    code, marker = FOREIGN_IMPORTS[form]
    plant("domain/model.py", code, after=MODEL_ANCHOR)
    assert findings() == [expect("HEX301", "domain/model.py", marker)]


def test_domain_model_foreign_import_under_type_checking(project: Path) -> None:
    plant(
        "domain/model.py",
        "    from sqlalchemy.orm import Session\n",
        after="    from collections.abc import Mapping\n",
    )
    assert findings() == [expect("HEX301", "domain/model.py", "Session")]


def test_domain_model_foreign_import_inside_a_function(project: Path) -> None:
    plant(
        "domain/model.py",
        "def schema() -> object:\n    import pydantic\n\n    return pydantic.BaseModel\n",
    )
    assert findings() == [expect("HEX301", "domain/model.py", "import pydantic")]


def test_domain_model_framework_decorator_is_caught_at_its_import(project: Path) -> None:
    plant("domain/model.py", "from attrs import frozen as entity\n", after=MODEL_ANCHOR)
    plant("domain/model.py", "@entity\nclass Snapshot:\n    total: Decimal\n")
    assert findings() == [expect("HEX301", "domain/model.py", "frozen as entity")]


CLOCK_AND_RANDOM = {
    "datetime.now": (
        "",
        "def stamp() -> datetime:\n    return datetime.now(UTC)\n",
        "datetime.now",
    ),
    "datetime.utcnow": ("", "def stamp() -> datetime:\n    return datetime.utcnow()\n", "utcnow"),
    "datetime.today": (
        "",
        "def stamp() -> datetime:\n    return datetime.today()\n",
        "datetime.today",
    ),
    "date.today": ("", "def day() -> date:\n    return date.today()\n", "date.today"),
    "class-alias": (
        "from datetime import datetime as dt\n",
        "def stamp() -> datetime:\n    return dt.now()\n",
        "dt.now()",
    ),
    "module-alias": (
        "import datetime as d\n",
        "def stamp() -> datetime:\n    return d.datetime.now(d.UTC)\n",
        "d.datetime.now",
    ),
    "time.time": (
        "import time as clock\n",
        "def seconds() -> float:\n    return clock.time()\n",
        "clock.time()",
    ),
    "time.monotonic_ns": (
        "import time as clock\n",
        "def tick() -> int:\n    return clock.monotonic_ns()\n",
        "monotonic_ns",
    ),
    "from-time": (
        "from time import time_ns\n",
        "def nanos() -> int:\n    return time_ns()\n",
        "return time_ns()",
    ),
    "uuid.uuid4": (
        "import uuid\n",
        "def new_id() -> OrderId:\n    return OrderId(uuid.uuid4())\n",
        "uuid.uuid4()",
    ),
    "from-uuid": (
        "from uuid import uuid4\n",
        "def new_id() -> OrderId:\n    return OrderId(uuid4())\n",
        "OrderId(uuid4())",
    ),
    "uuid1-alias": (
        "from uuid import uuid1 as make_id\n",
        "def new_id() -> UUID:\n    return make_id()\n",
        "return make_id()",
    ),
    "default-factory": (
        "from uuid import uuid4\n",
        "@dataclass(frozen=True)\nclass Token:\n    value: UUID = field(default_factory=uuid4)\n",
        "default_factory=uuid4",
    ),
    "reference-not-call": ("", "class Stamped:\n    at = datetime.now\n", "at = datetime.now"),
    "parenthesised": (
        "from datetime import datetime as dt\n",
        "def stamp() -> datetime:\n    return (dt).now()\n",
        "(dt).now()",
    ),
    "split-over-lines": (
        "from datetime import datetime as dt\n",
        "def stamp() -> datetime:\n"
        "    return (\n        dt  # chain starts\n        .now()\n    )\n",
        "chain starts",
    ),
    "comment-inside-the-chain": (
        "from datetime import datetime as dt\n",
        "def stamp() -> datetime:\n"
        "    return (\n        dt.  # reads the clock\n        now()\n    )\n",
        "reads the clock",
    ),
    "star-import": (
        "from uuid import *  # noqa: F403\n",
        "def new_id() -> UUID:\n    return uuid4()  # noqa: F405\n",
        "return uuid4()",
    ),
    "import-random": ("import random\n", "", "import random"),
    "from-random": ("from random import choice\n", "", "from random import choice"),
    "random-alias": ("import random as rnd\n", "", "random as rnd"),
    "secrets": ("import secrets\n", "", "import secrets"),
    "from-secrets": ("from secrets import token_hex\n", "", "token_hex"),
    "random-in-function": (
        "",
        "def pick(items: list[str]) -> str:\n"
        "    import random\n\n    return random.choice(items)\n",
        "import random",
    ),
}


@pytest.mark.parametrize("form", CLOCK_AND_RANDOM)
def test_domain_model_is_deterministic(project: Path, form: str) -> None:
    imports, code, marker = CLOCK_AND_RANDOM[form]
    if imports:
        plant("domain/model.py", imports, after=MODEL_ANCHOR)
    if code:
        plant("domain/model.py", code)
    assert findings() == [expect("HEX302", "domain/model.py", marker)]


DOMAIN_IO = {
    "open": (
        "",
        "def load(path: str) -> str:\n"
        "    with open(path) as handle:\n        return handle.read()\n",
        "open(path)",
    ),
    "print": ("", "def debug(order: Order) -> None:\n    print(order)\n", "print(order)"),
    "input": ("", "def ask() -> str:\n    return input()\n", "input()"),
    "os": ("import os\n", "", "import os"),
    "pathlib": ("from pathlib import Path\n", "", "pathlib"),
    "socket": ("import socket\n", "", "import socket"),
    "subprocess": ("import subprocess as sp\n", "", "subprocess as sp"),
}


@pytest.mark.parametrize("form", DOMAIN_IO)
def test_domain_model_does_no_io(project: Path, form: str) -> None:
    imports, code, marker = DOMAIN_IO[form]
    if imports:
        plant("domain/model.py", imports, after=MODEL_ANCHOR)
    if code:
        plant("domain/model.py", code)
    assert findings() == [expect("HEX303", "domain/model.py", marker)]


def test_purity_rules_apply_to_the_model_only(project: Path) -> None:
    """The clock, randomness and I/O of the stdlib are the model's rules (HEX302/303)."""
    plant(
        "domain/rules.py",
        "import os\nimport random\nfrom datetime import datetime\n\nNOW = datetime.now()\n",
    )
    plant("domain/service.py", "import uuid\n\nNEW = uuid.uuid4()\n", after=SERVICE_ANCHOR)
    assert findings() == []


# --- ports ---------------------------------------------------------------------------


def test_port_class_must_be_an_abc(project: Path) -> None:
    replace("ports/outbound.py", "class Clock(abc.ABC):", "class Clock:")
    assert findings() == [expect("HEX401", "ports/outbound.py", "class Clock:")]


def test_protocol_is_not_an_abc(project: Path) -> None:
    plant("ports/outbound.py", "from typing import Protocol\n", after=OUTBOUND_ANCHOR)
    replace("ports/outbound.py", "class Clock(abc.ABC):", "class Clock(Protocol):")
    assert findings() == [expect("HEX401", "ports/outbound.py", "class Clock(Protocol)")]


def test_data_class_in_an_inbound_port_module(project: Path) -> None:
    plant(
        "ports/inbound.py",
        "from dataclasses import dataclass\n",
        after="from typing import TYPE_CHECKING\n",
    )
    plant(
        "ports/inbound.py",
        "@dataclass(frozen=True)\nclass CreateOrder:\n    customer: str\n",
    )
    assert findings() == [expect("HEX401", "ports/inbound.py", "class CreateOrder")]


def test_abc_through_an_alias_a_metaclass_or_another_port(project: Path) -> None:
    replace(
        "ports/outbound.py",
        "class IdGenerator(metaclass=ABCMeta):",
        "class IdGenerator(metaclass=abc.ABCMeta):",
    )
    plant("ports/outbound.py", "from abc import ABC as Interface\n", after=OUTBOUND_ANCHOR)
    replace("ports/outbound.py", "class Clock(abc.ABC):", "class Clock(Interface):")
    assert findings() == []


def test_abc_names_are_resolved_through_every_import(project: Path) -> None:
    """Both the pre-check and the parser see imports anywhere in the module."""
    plant(
        "ports/outbound.py",
        "def _compat() -> None:\n    from abc import ABC as Base  # noqa: F401\n\n\n"
        "class Notifier(Base):\n"
        "    @abstractmethod\n"
        "    async def notify(self, order: Order) -> None: ...\n",
    )
    plant(
        "adapters/outbound/memory_repo.py",
        "class InMemoryNotifier(outbound.Notifier):\n    pass\n",
    )
    assert findings() == []


def test_port_method_must_be_abstract(project: Path) -> None:
    replace(
        "ports/outbound.py",
        "    @abstractmethod\n    async def add(self, order: Order) -> Order:",
        "    async def add(self, order: Order) -> Order:",
    )
    assert findings() == [expect("HEX402", "ports/outbound.py", "async def add(")]


@pytest.mark.parametrize(
    ("code", "marker"),
    [
        (
            "    async def exists(self, order_id: OrderId) -> bool:\n"
            "        return await self.get(order_id) is not None\n",
            "async def exists(",
        ),
        ("    @staticmethod\n    def table() -> str:\n        return 'orders'\n", "def table("),
        ("    @property\n    def name(self) -> str:\n        return 'orders'\n", "def name("),
    ],
)
def test_concrete_public_port_methods(project: Path, code: str, marker: str) -> None:
    plant(
        "ports/outbound.py",
        "\n" + code,
        after='        """Delete an order; return whether it existed."""\n',
    )
    assert findings() == [expect("HEX402", "ports/outbound.py", marker)]


@pytest.mark.parametrize(
    ("old", "new", "marker"),
    [
        (
            "async def get(self, order_id: OrderId) -> Order | None:",
            "async def get(self, order_id) -> Order | None:",
            "async def get(self, order_id)",
        ),
        (
            "async def delete(self, order_id: OrderId) -> bool:",
            "async def delete(self, order_id: OrderId):",
            "async def delete(",
        ),
        (
            "async def add(self, order: Order) -> Order:",
            "async def add(self, *orders, **options) -> Order:",
            "async def add(",
        ),
        (
            "async def list(self, *, limit: int, offset: int) -> OrderPage:",
            "async def list(self, *, limit=50, offset: int = 0) -> OrderPage:",
            "async def list(",
        ),
        (
            "async def update(self, order: Order) -> Order:",
            "async def update(\n"
            "        self,\n        order: Order,  # the new state\n"
            "        reason,\n    ) -> Order:",
            "async def update(",
        ),
    ],
)
def test_port_method_must_be_fully_annotated(
    project: Path, old: str, new: str, marker: str
) -> None:
    replace("ports/outbound.py", old, new)
    assert findings() == [expect("HEX403", "ports/outbound.py", marker)]


def test_static_port_method_gets_no_self_exemption(project: Path) -> None:
    plant(
        "ports/inbound.py",
        "\n    @staticmethod\n    @abstractmethod\n    def parse(raw) -> OrderDraft: ...\n",
        after='        """Delete the order, or raise OrderNotFoundError."""\n',
    )
    assert findings() == [expect("HEX403", "ports/inbound.py", "def parse(raw)")]


def test_concrete_unannotated_method_breaks_two_rules(project: Path) -> None:
    plant(
        "ports/inbound.py",
        "\n    def ping(self):\n        return True\n",
        after='        """Delete the order, or raise OrderNotFoundError."""\n',
    )
    line = line_of("ports/inbound.py", "def ping(")
    assert findings() == [
        ("HEX402", f"{SHOWN}/ports/inbound.py", line),
        ("HEX403", f"{SHOWN}/ports/inbound.py", line),
    ]


def test_port_finding_messages_name_the_method_and_what_is_missing(project: Path) -> None:
    replace(
        "ports/outbound.py",
        "async def get(self, order_id: OrderId) -> Order | None:",
        "async def get(self, order_id, *, strict):",
    )
    report = hex_audit.audit(hex_audit.discover(["components"]))
    (finding,) = report.findings
    assert "ReadOnlyOrderRepository.get" in finding.message
    assert "order_id, strict, return" in finding.message


# --- in-memory twins -------------------------------------------------------------------


def _drop_class(relative: str, name: str, next_marker: str) -> None:
    path = ORDERS / relative
    text = path.read_text(encoding="utf-8")
    start = text.index(f"class {name}(")
    end = text.index(next_marker, start) if next_marker else len(text)
    path.write_text(text[:start] + text[end:], encoding="utf-8")


def test_outbound_port_needs_an_in_memory_twin(project: Path) -> None:
    _drop_class("adapters/outbound/memory_repo.py", "FixedClock", "class SequentialIdGenerator")
    assert findings() == [expect("HEX501", "ports/outbound.py", "class Clock(")]


def test_twin_of_a_port_covers_the_ports_it_extends(project: Path) -> None:
    _drop_class("adapters/outbound/memory_repo.py", "InMemoryOrderRepository", "class FixedClock")
    assert findings() == [
        expect("HEX501", "ports/outbound.py", "class ReadOnlyOrderRepository("),
        expect("HEX501", "ports/outbound.py", "class OrderRepository("),
    ]


def test_new_port_without_twin(project: Path) -> None:
    plant(
        "ports/outbound.py",
        "class EventPublisher(ABC):\n"
        "    @abstractmethod\n"
        "    async def publish(self, name: str) -> None: ...\n",
    )
    assert findings() == [expect("HEX501", "ports/outbound.py", "class EventPublisher(")]


def test_twin_may_live_in_any_memory_module(project: Path) -> None:
    _drop_class("adapters/outbound/memory_repo.py", "FixedClock", "class SequentialIdGenerator")
    plant(
        "adapters/outbound/memory_clock.py",
        "from datetime import datetime\n\n"
        "from components.orders.ports.outbound import Clock\n\n\n"
        "class FrozenClock(Clock):\n"
        "    def now(self) -> datetime:\n"
        "        return datetime(2024, 1, 1)\n",
    )
    assert findings() == []


def test_docstring_with_class_lines_in_other_quotes(project: Path) -> None:
    """A class statement shown in a '''docstring''' is neither a port nor a twin."""
    plant(
        "ports/outbound.py",
        "def _example() -> None:\n    '''How a port looks:\n\n"
        "class Phantom(ABC):\n    def run(self): ...\n'''\n",
    )
    _drop_class("adapters/outbound/memory_repo.py", "FixedClock", "class SequentialIdGenerator")
    plant(
        "adapters/outbound/memory_repo.py",
        "def _example() -> None:\n    '''To do:\n\nclass InMemoryClock(Clock):\n    ...\n'''\n",
    )
    assert findings() == [expect("HEX501", "ports/outbound.py", "class Clock(")]


@pytest.mark.parametrize(
    ("relative", "code"),
    [
        (
            "adapters/outbound/fakes.py",
            "from components.orders.ports.outbound import Clock\n\n\n"
            "class FakeClock(Clock):\n    pass\n",
        ),
        (
            "adapters/outbound/memory_repo.py",
            'class Later:\n    """To do: class InMemoryClock(Clock) for the tests."""\n',
        ),
        ("adapters/outbound/memory_repo.py", "# class InMemoryClock(Clock):\n#     pass\n"),
        ("adapters/outbound/memory/clock.py", "class InMemoryClock(Clock):\n    pass\n"),
    ],
    ids=["not-a-memory-module", "docstring", "comment", "nested-directory"],
)
def test_what_does_not_count_as_a_twin(project: Path, relative: str, code: str) -> None:
    _drop_class("adapters/outbound/memory_repo.py", "FixedClock", "class SequentialIdGenerator")
    plant(relative, code)
    assert findings() == [expect("HEX501", "ports/outbound.py", "class Clock(")]


# --- unreadable code -------------------------------------------------------------------


def test_syntax_error_in_a_file_the_audit_must_parse(project: Path) -> None:
    plant("domain/service.py", "from ..adapters import (\n", after=SERVICE_ANCHOR)
    found = findings()
    assert [(rule, path) for rule, path, _ in found] == [("HEX001", f"{SHOWN}/domain/service.py")]


def test_syntax_error_in_a_port_module(project: Path) -> None:
    replace(
        "ports/inbound.py",
        "async def get(self, order_id: OrderId) -> Order:",
        "async def get(self, order_id: OrderId -> Order:",
    )
    found = findings()
    assert [(rule, path) for rule, path, _ in found] == [("HEX001", f"{SHOWN}/ports/inbound.py")]


# --- hostile trees and code -------------------------------------------------------------


def test_symlink_loops_are_walked_once(project: Path) -> None:
    """Links back up the tree neither recurse without end nor show the component's
    adapters again under domain/ (which would be false findings)."""
    (ORDERS / "domain" / "loop").symlink_to("..", target_is_directory=True)
    (ORDERS / "ports" / "self").symlink_to(".", target_is_directory=True)
    (ORDERS / "adapters" / "outbound" / "up").symlink_to("../..", target_is_directory=True)
    (Path("components") / "again").symlink_to(".", target_is_directory=True)
    (Path("components") / "orders_alias").symlink_to("orders", target_is_directory=True)
    assert findings() == []
    assert hex_audit.audit(hex_audit.discover(["components"])).components == 1
    result = cli(cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_symlink_to_a_real_folder_is_audited(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("shared") / "policies"
    outside.mkdir()
    (outside / "__init__.py").write_text("", encoding="utf-8")
    (outside / "tax.py").write_text("from fastapi import HTTPException\n", encoding="utf-8")
    (ORDERS / "domain" / "policies").symlink_to(outside, target_is_directory=True)
    assert findings() == [("HEX204", f"{SHOWN}/domain/policies/tax.py", 1)]


def test_dangling_and_self_links_are_not_components(project: Path) -> None:
    (Path("components") / "gone").symlink_to("nowhere")
    (Path("components") / "me").symlink_to("me")
    assert findings() == []


@pytest.mark.parametrize("relative", ["domain/service.py", "domain/model.py", "ports/outbound.py"])
def test_a_very_long_expression_is_analysed(project: Path, relative: str) -> None:
    plant(relative, "TOTAL = " + " + ".join(["1"] * 3000) + "\n")
    plant(relative, "CHAIN = Order" + ".parent" * 3000 + "\n")
    assert findings() == []
    plant(relative, "import pydantic  # after the long lines\n")
    rule = "HEX301" if relative == "domain/model.py" else "HEX204"
    result = cli("--format", "json", cwd=project)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["line"]) == (rule, line_of(relative, "after the long"))


def test_code_too_deep_for_the_parser_is_reported_not_a_crash(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hex_audit, "DEEP_RECURSION_LIMIT", 100)
    plant("domain/service.py", "TOTAL = " + " + ".join(["1"] * 3000) + "\n")
    plant("domain/service.py", "import pydantic\n")  # the file must be parsed
    report = hex_audit.audit(hex_audit.discover(["components"]))
    (finding,) = report.findings
    assert (finding.rule, finding.path, finding.line) == ("HEX001", f"{SHOWN}/domain/service.py", 0)
    assert "nested too deeply" in finding.message


# --- several components and paths ------------------------------------------------------


def test_findings_of_several_components_are_sorted(project: Path) -> None:
    write_component(Path("components"), "billing")
    (Path("components") / "billing" / "domain" / "rules.py").unlink()
    plant("domain/model.py", "import pydantic\n", after=MODEL_ANCHOR)
    assert findings() == [
        ("HEX101", "components/billing/domain/rules.py", 0),
        expect("HEX301", "domain/model.py", "import pydantic"),
    ]
    report = hex_audit.audit(hex_audit.discover(["components"]))
    assert report.summary() == {
        "components": 2,
        "components_with_findings": 2,
        "findings": 2,
        "by_rule": {"HEX101": 1, "HEX301": 1},
    }


def test_single_component_path_and_duplicates(project: Path) -> None:
    write_component(Path("components"), "billing")
    plant("domain/model.py", "import pydantic\n", after=MODEL_ANCHOR)
    components = hex_audit.discover(["components/orders", "components", "components/orders/"])
    assert [Path(c.directory).name for c in components] == ["orders", "billing"]
    assert findings("components/orders") == [expect("HEX301", "domain/model.py", "import pydantic")]


def test_components_folder_with_another_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_component(tmp_path / "services", "orders")
    monkeypatch.chdir(tmp_path)
    assert findings("services") == []
    plant_path = tmp_path / "services" / "orders" / "domain" / "service.py"
    plant_path.write_text(
        plant_path.read_text(encoding="utf-8")
        + "\nfrom services.orders.adapters import outbound\n",
        encoding="utf-8",
    )
    ((rule, path, _),) = findings("services")
    assert (rule, path) == ("HEX201", "services/orders/domain/service.py")


# --- command line ----------------------------------------------------------------------

FINDING_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): (?P<rule>HEX\d{3}) .+ \(fix: .+\)$")


def test_cli_text_report(project: Path) -> None:
    plant(
        "domain/service.py", "from ..adapters.outbound import memory_repo\n", after=SERVICE_ANCHOR
    )
    (ORDERS / "tests/integration/__init__.py").unlink()
    (ORDERS / "tests/integration/test_repository.py").unlink()
    (ORDERS / "tests/integration").rmdir()
    result = cli("components/", cwd=project)
    assert result.returncode == 1
    *lines, summary = result.stdout.strip().splitlines()
    parsed = [FINDING_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["rule"], m["path"], int(m["line"])) for m in parsed if m] == [
        expect("HEX201", "domain/service.py", "from ..adapters"),
        ("HEX102", f"{SHOWN}/tests/integration", 0),
    ]
    assert summary == "hex_audit: 2 finding(s) in 1 of 1 component(s)"
    assert result.stderr == ""


def test_cli_json_report(project: Path) -> None:
    write_component(Path("components"), "billing")
    replace("ports/outbound.py", "class Clock(abc.ABC):", "class Clock:")
    result = cli("--format", "json", cwd=project)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert set(document) == {"findings", "summary"}
    (finding,) = document["findings"]
    assert finding == {
        "rule": "HEX401",
        "path": f"{SHOWN}/ports/outbound.py",
        "line": line_of("ports/outbound.py", "class Clock:"),
        "message": "port Clock is not an ABC",
        "fix": hex_audit.RULES["HEX401"].fix,
    }
    assert document["summary"] == {
        "components": 2,
        "components_with_findings": 1,
        "findings": 1,
        "by_rule": {"HEX401": 1},
    }


def test_cli_json_clean(project: Path) -> None:
    result = cli("components", "--format=json", cwd=project)
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert document["findings"] == []
    assert document["summary"]["components"] == 1


def test_cli_paths_are_relative_to_the_working_directory(project: Path) -> None:
    plant("domain/model.py", "import pydantic\n", after=MODEL_ANCHOR)
    inside = cli(".", cwd=project / ORDERS)
    assert inside.stdout.startswith("domain/model.py:"), inside.stdout
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    outside = cli(str(project / "components"), cwd=elsewhere)
    # Above the working directory a relative path would need "..": the path is absolute.
    assert outside.stdout.startswith(f"{project / ORDERS / 'domain' / 'model.py'}:"), outside.stdout


@pytest.mark.parametrize(
    "args",
    [["--format", "xml"], ["--nope"], ["no_such_dir"], ["components/__init__.py"]],
    ids=["bad-format", "bad-flag", "missing-path", "file-path"],
)
def test_cli_usage_errors(project: Path, args: list[str]) -> None:
    result = cli(*args, cwd=project)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("hex_audit: error:")


def test_cli_default_path_missing(tmp_path: Path) -> None:
    result = cli(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "hex_audit: error: components/: no such directory"


def test_cli_help_points_to_the_rule_reference(project: Path) -> None:
    result = cli("--help", cwd=project)
    assert result.returncode == 0
    assert "docstring" in result.stdout
    assert "--format" in result.stdout


def test_docstring_is_the_rule_reference() -> None:
    documented = set(re.findall(r"^(HEX\d{3})  ", hex_audit.__doc__ or "", re.MULTILINE))
    assert documented == set(hex_audit.RULES)
    for rule in hex_audit.RULES.values():
        assert rule.title and rule.fix


# --- the text pre-checks never hide a finding ------------------------------------------


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fuzz") / "components"
    write_component(root, "orders")
    yield root


def _parity(root: Path, relative: str, text: str) -> None:
    path = root / "orders" / relative
    path.write_text(text, encoding="utf-8")
    try:
        components = hex_audit.discover([str(root / "orders")])
        fast = hex_audit.audit(components).findings
        full = hex_audit.audit(components, fast=False).findings
        assert fast == full, f"--- {relative} ---\n{text}"
    finally:
        path.write_text(COMPONENT[relative], encoding="utf-8")


MODULES = [
    "components.orders.adapters.outbound.memory_repo",
    "components.orders.adapters",
    "components.orders",
    "components.billing.adapters.outbound",
    "components.orders.domain.exceptions",
    "components.orders.ports.outbound",
    "pydantic",
    "fastapi",
    "app.settings",
    "components.billing.domain.model",
    "components.orders.ports",
    "components",
    "datetime",
    "time",
    "uuid",
    "random",
    "os",
    "collections.abc",
    ".",
    "..",
    "...",
    ".exceptions",
    "..adapters",
    "..adapters.outbound",
    "..outbound",
    "..ports",
    "...billing.adapters",
]
NAMES = [
    "adapters",
    "outbound",
    "memory_repo",
    "InMemoryOrderRepository",
    "datetime",
    "date",
    "uuid4",
    "choice",
    "BaseModel",
    "Clock",
]
USES = [
    "",
    "x_ = datetime.now()",
    "x_ = date.today()",
    "x_ = alias_x.now()",
    "x_ = (alias_y).today()",
    "x_ = alias_y.uuid4()",
    "x_ = uuid4()",
    "x_ = open('f')",
    "x_ = self.open()",
    "x_ = time()",
    "x_ = (\n        alias_x.  # c\n        now()\n    )",
]


@st.composite
def import_statements(draw: st.DrawFn) -> str:
    module = draw(st.sampled_from(MODULES))
    name, other = draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES))
    if module.startswith("."):
        form = draw(st.sampled_from(["from", "from-as", "from-parens"]))
    else:
        form = draw(st.sampled_from(["import", "import-as", "from", "from-as", "from-parens"]))
    return {
        "import": f"import {module}",
        "import-as": f"import {module} as alias_x",
        "from": f"from {module} import {name}",
        "from-as": f"from {module} import {name} as alias_y",
        "from-parens": (
            f"from {module} import (\n    {name},  # why (see {other})\n    {other} as alias_y,\n)"
        ),
    }[form]


@st.composite
def planted_code(draw: st.DrawFn) -> str:
    statement = draw(import_statements())
    use = draw(st.sampled_from(USES))
    placement = draw(
        st.sampled_from(
            [
                "top",
                "type-checking",
                "function",
                "try",
                "semicolon",
                "docstring",
                "other-docstring",
                "comment",
                "string",
            ]
        )
    )
    indented = statement.replace("\n", "\n    ")
    body = f"    {use}\n" if use else ""
    return {
        "top": f"{statement}\n",
        "type-checking": f"if TYPE_CHECKING:\n    {indented}\n",
        "function": f"def f_(self: object) -> None:\n    {indented}\n{body}    return None\n",
        "try": f"try:\n    {indented}\nexcept ImportError:\n    pass\n",
        "semicolon": f"y_ = 1; {statement}\n",
        "docstring": f'def g_() -> None:\n    """Example:\n\n    {indented}\n    """\n',
        "other-docstring": f"def g_() -> None:\n    '''Example:\n\n{statement}\n'''\n",
        "comment": "# " + statement.replace("\n", "\n# ") + "\n",
        "string": f"S_ = {statement!r}\n",
    }[placement] + (f"\n\ndef h_(self: object) -> None:\n    {use}\n" if use else "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    relative=st.sampled_from(
        [
            "domain/service.py",
            "domain/model.py",
            "domain/rules.py",
            "ports/outbound.py",
            "ports/inbound.py",
            "adapters/inbound/api_handler.py",
        ]
    ),
    code=planted_code(),
)
def test_pre_checks_agree_with_the_parser_on_imports(
    fuzz_root: Path, relative: str, code: str
) -> None:
    original = COMPONENT[relative]
    _parity(fuzz_root, relative, original + "\n\n" + code)


@st.composite
def port_methods(draw: st.DrawFn) -> str:
    decorators = draw(
        st.sampled_from(
            [
                [],
                ["@abstractmethod"],
                ["@abc.abstractmethod"],
                ["@staticmethod", "@abstractmethod"],
                ["@classmethod", "@abstractmethod"],
                ["@property", "@abstractmethod"],
                ["@abstractmethod", "@some.decorator(1)"],
            ]
        )
    )
    name = draw(st.sampled_from(["tick", "_tick", "__call__"]))
    params = draw(
        st.sampled_from(
            [
                "",
                "self",
                "self, step",
                "self, step: int",
                "self, step: int = 1",
                "self, step=1",
                "self, *, step: int",
                "self, *, step",
                "self, *steps: int",
                "self, *steps",
                "self, **opts: str",
                "self, **opts",
                "self, pair: tuple[int, str, bytes]",
                "self, cb: Callable[[int], str] = print",
                "self, step: int = max(1, 2)",
                "self,\n        step: int,  # why\n    ",
                "self,\n        step,  # why\n    ",
                "cls, step: int",
                "step: int",
                "step",
                "self, /, step: int",
                "self, name: str = 'a, (b'",
                "self, key=lambda item: item",
            ]
        )
    )
    returns = draw(st.sampled_from(["", " -> None", " -> tuple[int, int]", ' -> "Clock"']))
    body = draw(
        st.sampled_from(
            [
                " ...",
                '\n        """Doc (with a paren."""',
                "\n        return None",
                "\n        '''Example:\n\nclass Phantom(ABC):\n    def run(self): ...\n'''",
            ]
        )
    )
    prefix = draw(st.sampled_from(["", "async "]))
    lines = [f"    {d}" for d in decorators] + [f"    {prefix}def {name}({params}){returns}:{body}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=port_methods(),
    where=st.sampled_from(
        ["class Clock(abc.ABC):\n", "class IdGenerator(metaclass=ABCMeta):\n", "class _Private:\n"]
    ),
)
def test_pre_checks_agree_with_the_parser_on_ports(
    fuzz_root: Path, method: str, where: str
) -> None:
    original = COMPONENT["ports/outbound.py"]
    if where == "class _Private:\n":
        text = original + "\n\nclass _Private:\n" + method
    else:
        text = original.replace(where, where + method + "\n", 1)
    _parity(fuzz_root, "ports/outbound.py", text)


# --- HEX601: use cases whose body is still the generated one ----------------------------

UNWRITTEN = (
    "\n    async def reserve(self, order_id: OrderId, quantity: int) -> Order:\n"
    "        await self.get(order_id)\n"
    "        # Write the rule here.\n"
    '        raise NotImplementedError("OrderService.reserve is not written yet")  # RESERVE\n'
)


def test_an_unwritten_use_case_is_reported_with_its_name_and_line(project: Path) -> None:
    plant("domain/service.py", UNWRITTEN, after="        self._ids = ids\n")

    assert findings() == [expect("HEX601", "domain/service.py", "# RESERVE")]
    report = hex_audit.audit(hex_audit.discover(["components"]))
    assert "use case reserve is not implemented" in report.findings[0].message


def test_a_use_case_is_reported_wherever_its_raise_is_nested(project: Path) -> None:
    plant(
        "domain/service.py",
        "\n    async def restock(self, order_id: OrderId) -> Order:\n"
        "        order = await self.get(order_id)\n"
        "        if order:\n"
        "            try:\n"
        "                pass\n"
        "            finally:\n"
        "                raise NotImplementedError  # RESTOCK\n"
        "        return order\n",
        after="        self._ids = ids\n",
    )

    assert findings() == [expect("HEX601", "domain/service.py", "# RESTOCK")]


def test_a_written_use_case_and_a_nested_helper_are_not_reported(project: Path) -> None:
    plant(
        "domain/service.py",
        "\n    async def reserve(self, order_id: OrderId, quantity: int) -> Order:\n"
        "        def later() -> None:\n"
        '            raise NotImplementedError("a helper of the user\'s, not the body")\n'
        "        order = await self.get(order_id)\n"
        "        del later, quantity\n"
        "        return order\n",
        after="        self._ids = ids\n",
    )

    assert findings() == []


def test_the_cli_names_the_unwritten_use_case_and_fails(project: Path) -> None:
    plant("domain/service.py", UNWRITTEN, after="        self._ids = ids\n")

    result = cli(cwd=project)

    assert result.returncode == 1
    line = line_of("domain/service.py", "# RESERVE")
    assert f"{SHOWN}/domain/service.py:{line}: HEX601 use case reserve is not implemented" in (
        result.stdout
    )


# --- access control (HEX701) and the actor -----------------------------------------------

GUARDED_ROUTES = """\
from typing import Annotated

from fastapi import APIRouter
from hexforge.actor import Actor
from hexforge.service import access

router = APIRouter()


@router.get("/orders")
async def list_orders(actor: Annotated[Actor, access.rule("public")]) -> list[str]:
    return []


@router.delete("/orders/{order_id}", dependencies=[access.rule("role:admin")])
async def delete_order(order_id: str) -> None:
    return None


@router.post("/orders")
async def create_order() -> None:  # nobody decided
    return None
"""


def test_a_route_without_an_access_rule_is_found_where_access_control_is_on(
    project: Path,
) -> None:
    (ORDERS / "adapters/inbound/api_handler.py").write_text(GUARDED_ROUTES, encoding="utf-8")

    assert findings() == [expect("HEX701", "adapters/inbound/api_handler.py", "nobody decided")]


def test_with_auth_jwt_answered_a_handler_without_any_rule_is_found_route_by_route(
    project: Path,
) -> None:
    handler = GUARDED_ROUTES.replace('access.rule("public")', "None").replace(
        ', dependencies=[access.rule("role:admin")]', ""
    )
    (ORDERS / "adapters/inbound/api_handler.py").write_text(handler, encoding="utf-8")
    assert findings() == []  # no rule anywhere and no answer: access control is off

    (ORDERS / ".copier-answers.yml").write_text("auth: jwt\nkind: component\n", encoding="utf-8")

    assert [rule for rule, _, _ in findings()] == ["HEX701"] * 3


def test_the_domain_may_import_the_actor_and_nothing_else_of_hexforge(project: Path) -> None:
    plant(
        "domain/rules.py",
        "from hexforge.actor import Actor\n",
        after="from __future__ import annotations\n",
    )
    assert findings() == []

    plant("domain/rules.py", "from hexforge.service import access  # not a domain value\n")

    assert findings() == [expect("HEX204", "domain/rules.py", "not a domain value")]
