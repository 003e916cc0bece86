"""`python tools/completion_report.py ARGS` runs `hexforge report ARGS`.

The completion report, from the tasks and the evidence. The code is hexforge's (the installed package); this file is the entry point.
"""

from hexforge.cli import tool

if __name__ == "__main__":
    tool("report")
