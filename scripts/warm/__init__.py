"""The suite's pytest, imported once per run and forked for each cell.

A new interpreter pays about 2 s here before the first test runs: importing pytest and its
plugins, the service, SQLAlchemy, Celery and the suite's modules. `server` does that once,
then forks a copy for every run of the suite; `client` asks it for one from the harness.
"""
