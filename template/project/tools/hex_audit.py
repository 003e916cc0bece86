"""`python tools/hex_audit.py ARGS` runs `hexforge audit ARGS`.

The architecture audit of the components. The code is hexforge's (the installed package); this file is the entry point.
"""

from hexforge.cli import tool

if __name__ == "__main__":
    tool("audit")
