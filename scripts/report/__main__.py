"""`python -m scripts.report` is spelt `python -m scripts report` now: this says so."""

import sys

from scripts.command_line import old_spelling

if __name__ == "__main__":
    old_spelling("report", sys.argv[1:])
