"""Naming rules and the names derived from them.

This module is the single place where hexforge decides what a valid name is and
how one name becomes another (component -> entity class, table, URL path...).
Validators, templates and the wiring code all call it, so a rule changed here
changes everywhere at once. Stdlib only: it runs inside Copier's interpreter.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass

SNAKE_RE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
PASCAL_RE = re.compile(r"[A-Z][a-zA-Z0-9]*")
STORY_ID_RE = re.compile(r"[A-Z][A-Z0-9]*-[0-9]+")
PROJECT_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")

# Python keywords and soft keywords (match, case, type, _) are never names.
PYTHON_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | {"type"}

# Long enough for real names, short enough that every generated line stays within
# ruff's 100 columns and every identifier within PostgreSQL's 63 bytes.
MAX_NAME_LENGTH = 30


def snake_rule_error(value: str) -> str | None:
    """Return why ``value`` is not a usable snake_case identifier, or None."""
    if not value:
        return "must not be empty"
    if not value.isascii():
        return f"{value!r} has non-ASCII characters: use a-z, 0-9 and _ only"
    if value.startswith("__") or value.endswith("__"):
        return f"{value!r} is a dunder name, which Python reserves"
    if not SNAKE_RE.fullmatch(value):
        return (
            f"{value!r} is not snake_case: use lowercase letters, digits and single "
            "underscores, starting with a letter (for example order_items)"
        )
    if value in PYTHON_KEYWORDS:
        return f"{value!r} is a Python keyword"
    if len(value) > MAX_NAME_LENGTH:
        return f"{value!r} is longer than {MAX_NAME_LENGTH} characters"
    return None


def pascal_rule_error(value: str) -> str | None:
    """Return why ``value`` is not a usable entity class name, or None.

    The templates never use the entity's snake_case form as a bare variable, only
    inside longer names (``create_order``, ``order_id``), so its only clashes are
    with the names a generated module imports or Python itself reserves.
    """
    if not value:
        return "must not be empty"
    if not value.isascii():
        return f"{value!r} has non-ASCII characters: use A-Z, a-z and 0-9 only"
    if not PASCAL_RE.fullmatch(value):
        return (
            f"{value!r} is not PascalCase: start with an uppercase letter and use only "
            "letters and digits (for example OrderItem)"
        )
    if len(value) > MAX_NAME_LENGTH:
        return f"{value!r} is longer than {MAX_NAME_LENGTH} characters"
    if value in PYTHON_CONSTANTS:
        return f"{value!r} is a Python constant, not a possible class name"
    if value in ENTITY_RESERVED:
        return (
            f"{value!r} is a name the generated modules already import "
            f"({', '.join(sorted(ENTITY_RESERVED))}); choose another"
        )
    if value in AMBIGUOUS_NAMES:
        return (
            f"{value!r} reads like 1 or 0 (ruff rule E742 rejects it as a class name); "
            "choose a descriptive entity name"
        )
    if not SNAKE_RE.fullmatch(pascal_to_snake(value)):
        return (
            f"{value!r} has no snake_case form for the names derived from it; "
            "start each word with a capital (for example OrderItem)"
        )
    return None


def component_rule_error(value: str) -> str | None:
    """Return why ``value`` cannot name a component (package and table), or None."""
    if (problem := snake_rule_error(value)) is not None:
        return problem + " (it becomes the Python package components.<name>)"
    if value in PACKAGE_LAYOUT_NAMES:
        return (
            f"{value!r} is taken by the project layout: {PACKAGE_LAYOUT_NAMES[value]}; "
            "choose another name"
        )
    if value.startswith("pg_"):
        return (
            f"{value!r} starts with pg_, which PostgreSQL reserves for its system catalog "
            "(the table name would resolve to a catalog table); choose another name"
        )
    for suffix in POSTGRES_GENERATED_SUFFIXES:
        if value.endswith(suffix):
            return (
                f"{value!r} ends with {suffix}, like the indexes and constraints PostgreSQL "
                "names after each table (orders -> orders_pkey), so its table could clash "
                "with another component's; choose another name"
            )
    return None


def field_name_error(value: str) -> str | None:
    """Return why ``value`` cannot name a field, or None (message without the question)."""
    if (problem := snake_rule_error(value)) is not None:
        return problem
    if value in AMBIGUOUS_NAMES:
        return (
            f"{value!r} reads like 1 or I (ruff rule E741 rejects it as a variable): "
            "choose a descriptive name"
        )
    if value in IMPLICIT_FIELDS:
        return f"{value!r} is reserved: hexforge adds id and version itself"
    if value in POSTGRES_SYSTEM_COLUMNS:
        return (
            f"{value!r} is a PostgreSQL system column of every table, so no column can "
            "take it; choose another name"
        )
    if value in FIELD_RESERVED or value.startswith("model_"):
        return (
            f"{value!r} clashes with the generated code (reserved: names starting "
            f"with model_, and {', '.join(sorted(FIELD_RESERVED))})"
        )
    return None


def use_case_name_error(value: str, names: ComponentNames) -> str | None:
    """Return why ``value`` cannot name a use case of the component ``names`` describes
    (a method of its port and service, a route segment), or None."""
    if (problem := snake_rule_error(value)) is not None:
        return f"use case name {problem}"
    crud = {
        f"create_{names.entity_snake}",
        f"get_{names.entity_snake}",
        f"list_{names.entity_plural}",
        f"update_{names.entity_snake}",
        f"delete_{names.entity_snake}",
    }
    if value in CRUD_NAMES or value in crud:
        return (
            f"use case {value!r} collides with the generated create, get, list, update and "
            f"delete ({', '.join(sorted(CRUD_NAMES | crud))}): name what it does "
            "(e.g. reserve, discontinue)"
        )
    if value in CLASS_BODY_NAMES:
        return (
            f"use case {value!r} would hide {value} (a builtin, the commands module or the "
            "abstractmethod decorator) in the generated port and service classes: choose "
            "another name"
        )
    return None


def enum_value_error(value: str) -> str | None:
    """Return why ``value`` cannot be an enum value (its member is ``value.upper()``)."""
    if not SNAKE_RE.fullmatch(value) or len(value) > MAX_NAME_LENGTH:
        return (
            f"enum value {value!r} is not a snake_case identifier "
            f"(lowercase letters, digits, single underscores; at most {MAX_NAME_LENGTH} characters)"
        )
    if value.upper() in AMBIGUOUS_NAMES:
        return (
            f"enum value {value!r} names the member {value.upper()}, which reads like 1 or 0 "
            "(ruff rule E741 rejects it): choose a descriptive value"
        )
    return None


def feature_dir_rule_error(value: str) -> str | None:
    """Return why ``value`` (a relative path, already checked as one) cannot hold
    story logs, or None."""
    if value.split("/")[0] == "components":
        return (
            f"{value!r} is inside components/, where every folder is a component: the "
            "audit would check the story log as one; choose a folder outside it "
            "(for example plans/features/wishlist)"
        )
    return None


# The entity's own operations: a use case of one of these names would read as the
# CRUD route or method it is not.
CRUD_NAMES = frozenset({"create", "get", "list", "read", "replace", "update", "delete"})

# Names the port and service class bodies look up (the commands module in the
# annotations, ``commands.X``; the abstractmethod decorator; builtins such as int in
# the annotations): a method of that name, defined earlier in the class, would hide
# them from the rest of it.
CLASS_BODY_NAMES = frozenset({"commands", "abstractmethod"}) | frozenset(
    name for name in dir(builtins) if not name.startswith("_")
)

# True, False and None are keywords that look like class names.
PYTHON_CONSTANTS = frozenset({"True", "False", "None"})

# Every PascalCase name a generated component module imports or defines besides
# the ones derived from the entity: an entity of that name would replace it.
ENTITY_RESERVED = frozenset(
    {"ABC", "APIRouter", "Annotated", "Any", "AsyncConnection", "AsyncConnectionPool"}
    | {"AsyncIterator", "AwareDatetime", "BaseModel", "Component", "ConfigDict", "Decimal"}
    | {"FastAPI", "FrozenInstanceError", "HTTPException", "HTTPStatus", "NewType", "Pool"}
    | {"Protocol", "Query", "Response", "TupleRow", "UTC", "UUID", "UniqueViolation"}
    | {"CheckViolation", "Field", "StrEnum", "WithJsonSchema"}
    | {"AfterValidator", "BeforeValidator", "Callable", "TypeAdapter", "ValidationError", "Value"}
    | {"Iterable", "UseCases"}  # UseCases: the public API's entity-independent alias
    | {"Actor", "Awaitable", "Serial", "T", "TypeVar"}
    # builtins the list's module names beside the enum classes it imports
    | {"OverflowError", "UnicodeDecodeError", "ValueError"}
    # module constants of the generated modules (an all-caps name is valid PascalCase)
    | {"COLUMNS", "CONSTRAINTS", "FIELDS", "FILTERABLE", "FRAMEWORKS", "INDEXES", "PROJECT"}
    | {"RANGED", "SORTABLE", "SORTS", "UNKNOWN", "ANONYMOUS", "MAX_PAGE_SIZE"}
)

# Names ruff rejects as variables (E741) or classes (E742), since they read like
# 1, I or 0.
AMBIGUOUS_NAMES = frozenset({"l", "I", "O"})

# Names components/<name> cannot take, and why.
PACKAGE_LAYOUT_NAMES = {
    "conftest": "components/conftest.py, the PostgreSQL test fixture, is in every project",
    # tools/hex_audit.py takes a folder with domain/ or ports/ for one component.
    "domain": "components/domain/ would make the audit take components/ for one component",
    "ports": "components/ports/ would make the audit take components/ for one component",
}

# PostgreSQL names a table's indexes, constraints and sequences <table>_<suffix>.
POSTGRES_GENERATED_SUFFIXES = ("_pkey", "_fkey", "_key", "_seq", "_idx", "_excl", "_check")

# Columns PostgreSQL adds to every table (CREATE TABLE refuses them as user columns).
POSTGRES_SYSTEM_COLUMNS = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"})

# id and version: every entity has them already.
IMPLICIT_FIELDS = frozenset({"id", "version"})

# Field names the generated classes already use: attributes and methods of the
# entity, its DTOs and Pydantic's BaseModel, and what the class body itself looks
# up next to the fields (the annotated types, the classmethod decorator), which a
# field of that name would replace.
FIELD_RESERVED = frozenset(
    {"self", "cls", "type", "str", "int", "float", "bool", "date", "datetime", "classmethod"}
    | {"construct", "copy", "dict", "from_orm", "json", "parse_file", "parse_obj", "parse_raw"}
    | {"schema", "schema_json", "update_forward_refs", "validate"}
    | {"create", "revised", "to_draft", "from_entity", "from_page"}
    # the list's query parameters (SPEC section 8), which filters share with fields,
    # and the builtin their model's annotations use
    | {"limit", "cursor", "sort", "count", "to_query", "list"}
)


def singular(word: str) -> str:
    """English singular of one lowercase word, good enough for code names."""
    for plural_end, singular_end in (
        ("ies", "y"),
        ("sses", "ss"),
        ("shes", "sh"),
        ("ches", "ch"),
        ("xes", "x"),
        ("zzes", "zz"),
    ):
        if word.endswith(plural_end) and len(word) > len(plural_end):
            return word[: -len(plural_end)] + singular_end
    if word.endswith(("ss", "us", "is")) or not word.endswith("s") or len(word) < 3:
        return word
    return word[:-1]


def plural(word: str) -> str:
    """English plural of one lowercase word, the inverse of :func:`singular`."""
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def snake_to_pascal(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def pascal_to_snake(pascal: str) -> str:
    words = re.findall(
        r"[A-Z]+[0-9]*(?=[A-Z][a-z]|$)|[A-Z]?[a-z][a-z0-9]*|[A-Z]+[0-9]*|[0-9]+", pascal
    )
    return "_".join(word.lower() for word in words)


def default_entity_name(component_name: str) -> str:
    """``orders`` -> ``Order``; ``order_items`` -> ``OrderItem``."""
    if not component_name:
        return ""
    *head, last = component_name.split("_")
    return snake_to_pascal("_".join([*head, singular(last)]))


def default_project_name(folder_name: str) -> str:
    """A PEP 508 distribution name from a folder name (``My App`` -> ``my-app``)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", folder_name).strip("-._").lower()
    return slug or "app"


@dataclass(frozen=True)
class ComponentNames:
    """Every name the component templates and the wiring derive from the answers."""

    component: str  # orders (package and table name)
    entity: str  # Order (entity class)
    entity_snake: str  # order (variables, parameters)
    entity_plural: str  # orders (collection variables, use-case names)
    entity_title: str  # order (prose)
    a_entity: str  # "an order", "a customer" (prose with its article)
    id_type: str  # OrderId
    id_param: str  # order_id
    table: str  # orders
    url_path: str  # /orders
    repository_port: str  # OrderRepository
    use_cases_port: str  # OrderUseCases
    service: str  # OrderService
    postgres_repository: str  # PostgresOrderRepository
    memory_repository: str  # InMemoryOrderRepository
    draft: str  # OrderDraft
    page: str  # OrderPage
    query: str  # OrderQuery (what a list asks for)
    sort_key: str  # OrderSortKey
    filter: str  # OrderFilter
    error: str  # OrderError
    not_found: str  # OrderNotFound
    already_exists: str  # OrderAlreadyExists
    stale: str  # StaleOrder
    invalid: str  # InvalidOrder
    conflict: str  # OrderConflict (what a business rule raises when it refuses)
    view: str  # OrderView (what an invariant reads the stored entities through)
    entity_var: str  # order: a use case's parameter (and_ for an entity And: not a keyword)
    check: str  # check_order (the invariant, in domain/invariants.py)


def component_names(component_name: str, entity_name: str) -> ComponentNames:
    entity_snake = pascal_to_snake(entity_name)
    plural_snake = plural_of_snake(entity_snake)
    return ComponentNames(
        component=component_name,
        entity=entity_name,
        entity_snake=entity_snake,
        entity_plural=plural_snake,
        entity_title=entity_snake.replace("_", " "),
        a_entity=("an " if entity_snake[:1] in "aeiou" else "a ") + entity_snake.replace("_", " "),
        id_type=f"{entity_name}Id",
        id_param=f"{entity_snake}_id",
        table=component_name,
        url_path="/" + component_name.replace("_", "-"),
        repository_port=f"{entity_name}Repository",
        use_cases_port=f"{entity_name}UseCases",
        service=f"{entity_name}Service",
        postgres_repository=f"Postgres{entity_name}Repository",
        memory_repository=f"InMemory{entity_name}Repository",
        draft=f"{entity_name}Draft",
        page=f"{entity_name}Page",
        query=f"{entity_name}Query",
        sort_key=f"{entity_name}SortKey",
        filter=f"{entity_name}Filter",
        error=f"{entity_name}Error",
        not_found=f"{entity_name}NotFound",
        already_exists=f"{entity_name}AlreadyExists",
        stale=f"Stale{entity_name}",
        invalid=f"Invalid{entity_name}",
        conflict=f"{entity_name}Conflict",
        view=f"{entity_name}View",
        entity_var=_variable(entity_snake),
        check=f"check_{entity_snake}",
    )


# The other parameters of a use case's rule: an entity named like one gets an underscore.
RULE_PARAMETERS = frozenset({"command", "actor"})


def _variable(snake: str) -> str:
    """``snake`` as a parameter name: ``and_`` for a keyword, ``command_`` for a name
    the rule's other parameters hold."""
    return f"{snake}_" if keyword.iskeyword(snake) or snake in RULE_PARAMETERS else snake


def plural_of_snake(snake: str) -> str:
    *head, last = snake.split("_")
    return "_".join([*head, plural(last)])


def answers_file(kind: object, component: object, feature_dir: object, story_id: object) -> str:
    """Where a scaffold of ``kind`` keeps its Copier answers, relative to the project."""
    if kind == "component":
        return f"components/{component}/.copier-answers.yml"
    if kind == "story":
        return f"{feature_dir}/in-progress/{story_id}/_implementation/.copier-answers.yml"
    return ".copier-answers.yml"


@dataclass(frozen=True)
class ReferenceNames:
    """The names a component gives to what it needs from a component it references
    (``warehouse:ref[warehouses]``): all derived from the referenced component's name,
    never from its answers, so every render of the referencing one agrees."""

    component: str  # warehouses: the referenced package
    id_type: str  # WarehouseId: the referencing domain's own NewType for its ids
    port: str  # KnownWarehouses: the outbound port "does this id exist"
    memory: str  # InMemoryKnownWarehouses: its in-memory twin
    adapter: str  # KnownWarehousesThroughApi: the adapter asking the component itself
    attribute: str  # known_warehouses: the service's parameter and attribute
    use_cases: str  # warehouses_use_cases: compose.build's parameter for its use cases
    use_cases_type: str  # WarehousesUseCases: the referenced use-case port, in refs_api.py


def reference_names(component_name: str) -> ReferenceNames:
    pascal = snake_to_pascal(component_name)
    return ReferenceNames(
        component=component_name,
        id_type=f"{default_entity_name(component_name)}Id",
        port=f"Known{pascal}",
        memory=f"InMemoryKnown{pascal}",
        adapter=f"Known{pascal}ThroughApi",
        attribute=f"known_{component_name}",
        use_cases=f"{component_name}_use_cases",
        use_cases_type=f"{pascal}UseCases",
    )
