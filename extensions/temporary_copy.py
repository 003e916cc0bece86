"""Whether a task runs in one of the throwaway copies `copier update` renders.

Copier renders the old and the new template version into temporary folders named
like ``copier._main.old_copy.XXXX`` and runs the tasks there too. Only the real
project is wired or migrated. Kept apart, with no imports to speak of, so a task
can leave such a copy before importing anything heavy.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPORARY_COPY = re.compile(r"copier\.(_)?main\.(old|new)_copy\.")


def in_temporary_copy(path: Path) -> bool:
    return any(TEMPORARY_COPY.match(part) for part in path.resolve().parts)
