"""`python tools/sync.py ARGS` runs `hexforge sync ARGS`.

Brings the wiring and the components to a newer template version. The code is hexforge's (the installed package); this file is the entry point.
"""

from hexforge.cli import tool

if __name__ == "__main__":
    tool("sync")
