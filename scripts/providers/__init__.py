"""Running servers as throwaway processes: the provider contract (`base`), the process
runner, free ports, accounts and setup commands. They know no backend: the backends
(`scripts.backends`) use them, and the sources (`scripts.sources`) use both; the data-directory
templates, which a backend builds, are in `scripts.sources.templates`.
"""
