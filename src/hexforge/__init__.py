"""hexforge: the tools of a hexagonal Python backend scaffolded by the hexforge template.

One package for every decision the template's Copier extensions and a generated
project share: answers and manifest files, the components on disk, the gates, the
architecture audit, migrations, sync and removal, the agent's story logs and tasks.
The ``hexforge`` command (:mod:`hexforge.cli`) runs them; a project's ``tools/*.py``
are entry points of a few lines that call it.
"""

__version__ = "0.15.2"
