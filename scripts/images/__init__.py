"""Server images built here from Debian's archive, for machines that reach no registry.

python -m scripts images [--matrix matrix-images.toml] [TAG ...]    (nox -s images)
"""
