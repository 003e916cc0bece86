"""`python tools/migrate.py ARGS` runs `hexforge migrate ARGS`.

The components' SQL migrations: up, plan, status, drop. The code is hexforge's (the installed package); this file is the entry point.
"""

from hexforge.cli import tool

if __name__ == "__main__":
    tool("migrate")
