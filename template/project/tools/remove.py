"""`python tools/remove.py ARGS` runs `hexforge remove ARGS`.

Removes a component's code and its registrations. The code is hexforge's (the installed package); this file is the entry point.
"""

from hexforge.cli import tool

if __name__ == "__main__":
    tool("remove")
