"""Every private Copier internal hexforge relies on, and nothing else.

Copier's public surface (questions, validators, ``_copier_conf``, tasks, migrations)
cannot tell a validator whether it runs for a copy or an update, nor tell a render
of the real project from the throwaway copies an update renders. hexforge reads
those facts from Copier's own objects, here and only here; tests/extensions/
test_copier_internals.py fails loudly, naming the internal, when an installed Copier
lacks one. The range below is the one those tests pass on; pyproject.toml
(``[template]`` extra) and copier.yml (``_min_copier_version``) pin the same.

How `copier update` runs (``Worker._apply_update``), which the checks below follow:

1. the old template version is rendered into a temporary folder (``old_copy``),
   with the project's last answers, its validators and tasks included;
2. the "before" migrations run, in the real project;
3. the real project is rendered: the questions are asked and validated here
   (a refusal stops the update before it writes a file), then the tasks run;
4. the new version is rendered into a second temporary folder (``new_copy``);
5. the difference old copy -> project is merged onto the new copy's files.

Copier itself is imported lazily: the wiring scripts import modules that import
this one, in a process where loading Copier would cost more than their work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

SUPPORTED_COPIER = ">=9.15.2,<10"
MIN_COPIER = "9.15.2"

# Frame locals of Worker._apply_update holding the update's temporary folders, and
# the name those folders start with (tempfile.TemporaryDirectory(prefix=...) in the
# temporary directory): only a migration, run as its own process, needs the name.
OLD_COPY_PREFIX = "copier._main.old_copy."
UPDATE_COPY_LOCALS = ("old_copy", "new_copy")


def operation() -> str:
    """``'copy'`` or ``'update'``: the Copier operation running in this process.

    Copier keeps it in the context variable ``copier._main._operation`` and shows it
    to tasks and ``_exclude`` (``_copier_operation``) but not to validators. Outside
    an operation (or on a Copier without it) this says ``'copy'``: the checks that
    depend on it are then the stricter ones.
    """
    current = getattr(_copier_main(), "_operation", None)
    return "copy" if current is None else str(current.get("copy"))


def update_copies() -> tuple[Path, ...]:
    """The temporary folders (old copy, new copy) of the update running now, if any.

    Read from the locals of Copier's ``Worker._apply_update`` frame on this thread's
    stack: exactly the folders Copier made for this update, whatever their names,
    so a project that only happens to live in a folder named like one is never
    mistaken for it.
    """
    code = _apply_update_code()
    if code is None:
        return ()
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            local = frame.f_locals
            return tuple(Path(str(local[name])) for name in UPDATE_COPY_LOCALS if name in local)
        frame = frame.f_back
    return ()


def in_temporary_copy(path: Path | str) -> bool:
    """Whether ``path`` lies in one of the temporary copies the running update renders."""
    copies = update_copies()
    if not copies:
        return False
    target = Path(str(path)).resolve()
    return any(target.is_relative_to(copy.resolve()) for copy in copies)


def updated_project() -> Path | None:
    """The project the running update writes to, seen from anywhere on its stack
    (a render of its temporary copies included); None outside an update.

    ``self`` of Copier's ``Worker._apply_update`` frame is the worker of the real
    project: the old and new copies are rendered by copies of it.
    """
    code = _apply_update_code()
    if code is None:
        return None
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            worker = frame.f_locals.get("self")
            return None if worker is None else Path(str(worker.dst_path)).absolute()
        frame = frame.f_back
    return None


def last_answers_file() -> Path | None:
    """The answers file the running update read the project's last answers from.

    That is the worker's ``subproject``: the ``-a`` file given, else Copier's default
    ``.copier-answers.yml``, in the destination. None outside an update, or in its
    temporary copies (they have no last answers of their own).
    """
    if operation() != "update":
        return None
    worker = _running_worker()
    if worker is None:
        return None
    subproject = worker.subproject
    path = Path(subproject.local_abspath) / subproject.answers_relpath
    return None if in_temporary_copy(path.parent) else path


def read_answers(path: Path) -> dict[str, Any]:
    """An answers file as Copier reads it (PyYAML, already loaded in Copier's process:
    no ruamel.yaml import on the way); empty when it is not a readable mapping."""
    import yaml  # Copier's own dependency

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def destination() -> Path | None:
    """The destination folder of the Copier worker running now (None outside one)."""
    worker = _running_worker()
    return None if worker is None else Path(worker.subproject.local_abspath)


def _copier_main() -> Any:
    """Copier's main module, when this process runs Copier (None otherwise).

    Never imported here: a process that has not loaded Copier (a task, a migration
    script) has no Copier operation on its stack, and importing Copier just to find
    that out cost each task ~0.3 s, a quarter of a ``copier copy``.
    """
    return sys.modules.get("copier._main")


def _running_worker() -> Any:
    """The innermost ``copier.Worker`` whose method is on this thread's stack."""
    worker_class = getattr(_copier_main(), "Worker", None)
    if worker_class is None:
        return None
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if isinstance(frame.f_locals.get("self"), worker_class):
            return frame.f_locals["self"]
        frame = frame.f_back
    return None


def _apply_update_code() -> Any:
    method = getattr(getattr(_copier_main(), "Worker", None), "_apply_update", None)
    return getattr(method, "__code__", None)


def refusal(message: str) -> Exception:
    """The exception that makes Copier's CLI print ``message`` alone and exit 1.

    Copier's public ``UserMessageError``; raised from a Jinja global outside a
    validator (validators turn every exception into their own error with a
    traceback), it reaches the CLI as is.
    """
    try:
        from copier.errors import UserMessageError
    except ImportError:
        return RuntimeError(message)
    return UserMessageError(message)


# How Copier words a refused answer: Question.validate_answer raises
# ValueError(f"Validation error for question '{name}': {message}").
VALIDATION_ERROR = "Validation error for question "
VALIDATE_ANSWER = ("copier._user_data", "validate_answer")

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


def print_refusals_alone() -> None:
    """Make a refused answer end Copier's CLI with its one line instead of a traceback.

    Copier lets the ValueError of a failed validator (given with ``-d``) escape to the
    interpreter, which prints the whole traceback above the line that matters. This
    hook, installed when Copier loads hexforge, prints that line alone for exactly
    that error raised by Copier's validation, and leaves every other one to the
    previous hook. The exit status stays 1.
    """
    if getattr(sys.excepthook, "hexforge", False):
        return
    sys.excepthook = _refusal_hook(sys.excepthook)


def _refusal_hook(previous: ExceptHook) -> ExceptHook:
    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, ValueError) and is_refused_answer(error, trace):
            print(str(error), file=sys.stderr)
            return
        previous(kind, error, trace)

    hook.hexforge = True  # type: ignore[attr-defined]
    return hook


def is_refused_answer(error: BaseException, trace: TracebackType | None) -> bool:
    """Whether ``error`` is Copier's "Validation error for question ..." of a validator."""
    if not str(error).startswith(VALIDATION_ERROR) or trace is None:
        return False
    while trace.tb_next is not None:
        trace = trace.tb_next
    frame = trace.tb_frame
    return (frame.f_globals.get("__name__"), frame.f_code.co_name) == VALIDATE_ANSWER


def missing_internals() -> list[str]:
    """The internals above that the installed Copier lacks (empty when all are there)."""
    missing = []
    try:
        from copier import _main
    except ImportError:
        return ["copier._main"]
    if _main.__name__ + ".old_copy." != OLD_COPY_PREFIX:
        missing.append(f"temporary folders named {OLD_COPY_PREFIX}*")
    if not hasattr(_main, "_operation"):
        missing.append("copier._main._operation (the operation context variable)")
    worker = getattr(_main, "Worker", None)
    if worker is None:
        return [*missing, "copier._main.Worker"]
    code = getattr(getattr(worker, "_apply_update", None), "__code__", None)
    if code is None:
        missing.append("copier._main.Worker._apply_update")
    else:
        absent = [name for name in UPDATE_COPY_LOCALS if name not in code.co_varnames]
        missing += [f"local {name!r} of Worker._apply_update" for name in absent]
    try:
        from copier._user_data import Question
    except ImportError:
        missing.append(f"{'.'.join(VALIDATE_ANSWER[:1])}.Question")
    else:
        if "Validation error for question" not in _source(Question.validate_answer):
            missing.append("Question.validate_answer raising 'Validation error for question'")
    for attribute in ("subproject", "answers_file", "dst_path", "_ask"):
        if not hasattr(worker, attribute) and attribute not in getattr(
            worker, "__dataclass_fields__", {}
        ):
            missing.append(f"copier._main.Worker.{attribute}")
    return missing


def _source(function: Any) -> str:
    import inspect

    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""
