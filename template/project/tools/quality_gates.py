"""`python tools/quality_gates.py ARGS` runs `hexforge gates ARGS`.

Every quality gate, and the evidence files. The code is hexforge's (the installed package); this file is the entry point.
"""

from hexforge.cli import tool

if __name__ == "__main__":
    tool("gates")
