"""Suite-wide fixtures. The extension modules import each other by plain name
(as Copier's loader and the wiring script see them), so their folder goes on
sys.path here too."""

from __future__ import annotations

import sys
from pathlib import Path

EXTENSIONS = Path(__file__).resolve().parent.parent / "extensions"
if str(EXTENSIONS) not in sys.path:
    sys.path.insert(0, str(EXTENSIONS))
