"""Floors and ceilings of one library, found by bisecting over the index's releases.

`python -m scripts floor <library>` (`nox -s floor -- <library>`): the oldest release, within
the range matrix.toml's `[floor.<library>]` gives, on which the suite still passes on a cell;
`--ceiling`: the newest release that still passes on a cell where the newest fails.

- `spec`: the `[floor]` table, read and checked;
- `releases`: the final, unyanked releases an index lists inside a range, oldest first;
- `bisection`: the search itself, a pure function over a probe;
- `probe`: one release tried, by running one cell through the harness as a subprocess;
- `answer`: what was found, kept in `<results>/floors.json` for the report;
- `command`: the command that ties them together.
"""
