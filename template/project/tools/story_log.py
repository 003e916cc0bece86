"""`python tools/story_log.py ARGS` runs `hexforge story ARGS`.

The story logs: chunk, check, block, tokens. The code is hexforge's (the installed package); this file is the entry point.
"""

from hexforge.cli import tool

if __name__ == "__main__":
    tool("story")
