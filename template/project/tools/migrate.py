"""`python tools/migrate.py ARGS` runs `hexforge migrate ARGS`: the components' SQL
migrations (up, plan, status, drop). Components rendered before the package import
this module as ``tools.migrate``: it offers them the package's names until updated.
"""

from hexforge.cli import tool
from hexforge.migrate import *  # noqa: F403

if __name__ == "__main__":
    tool("migrate")
