"""`python tools/preflight.py ARGS` runs `hexforge preflight ARGS`.

The coding agent's pre-flight checklist. The code is hexforge's (the installed package); this file is the entry point.
"""

from hexforge.cli import tool

if __name__ == "__main__":
    tool("preflight")
