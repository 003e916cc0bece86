"""``python -m hexforge``: the ``hexforge`` command with this interpreter."""

import sys

from hexforge.cli import main

sys.exit(main())
