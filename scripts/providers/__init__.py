"""Running servers as throwaway processes: the provider contract (`base`), the process
runner, free ports, accounts, setup commands and data-directory templates.

The sources that use them are in `scripts.sources`; the backends in `scripts.backends`.
"""
