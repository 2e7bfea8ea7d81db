"""Build the images of the project's own that a matrix file names (`nox -s images`).

For each image: the Debian suite's packages for that version (the dependency closure,
downloaded into the cache once), extracted into a scratch folder, imported into the engine.
An image whose content label matches what it would be built from is reused, not rebuilt.
The engine is the one at `DOCKER_HOST` when one answers there, else the private engine
(`scripts.docker_engine`), whose data root keeps the images between runs.

It sits above `scripts.images` (what an image holds and how it is written) and beside the
`image` source, whose engine it uses.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts import docker_engine, paths
from scripts.backends import BACKENDS, ServerBackend
from scripts.images.build import build_image, built_image_digest, content_digest
from scripts.images.recipes import ImageRecipe, UnknownImageError, is_local_image
from scripts.matrix import BinariesSource, ImageSource, Matrix, MatrixError, load_matrix
from scripts.providers.base import Unavailable
from scripts.sources.image import docker_host, ping_docker

RECIPE_MATRICES = (paths.REPO_ROOT / "matrix-images.toml", paths.MATRIX_FILE)
"""Where the suites and packages of the images come from, first file first."""
DownloadClosure = Callable[[str, Sequence[str], Path], list[Path]]
ExtractDebs = Callable[[Sequence[Path], Path], None]


@dataclass(frozen=True)
class Built:
    tag: str
    action: str  # "built" | "reused"
    seconds: float
    source: str

    def line(self) -> str:
        return f"{self.tag:<38} {self.action:<7} {self.seconds:6.1f} s  {self.source}"


def recipes_in(matrix: Matrix) -> list[ImageRecipe]:
    """The images that can be built from what `matrix` names: every version with Debian
    packages (`binaries = { debian = {...} }`) of a backend whose module gives a recipe."""
    recipes: list[ImageRecipe] = []
    for spec in matrix.versions:
        found = BACKENDS.get(spec.backend)
        if not isinstance(found, ServerBackend):
            continue
        for source in spec.sources:
            if isinstance(source, BinariesSource) and source.debian is not None:
                debian = source.debian
                recipe = found.image_recipe(spec.version, debian.suite, debian.packages)
                if recipe is not None:
                    recipes.append(recipe)
                break
    return recipes


def known_recipes(matrix_files: Sequence[Path] = RECIPE_MATRICES) -> list[ImageRecipe]:
    """Every image the matrix files let us build, each tag once (the first file's wins)."""
    recipes: dict[str, ImageRecipe] = {}
    for matrix_file in matrix_files:
        for recipe in recipes_in(load_matrix(matrix_file)):
            recipes.setdefault(recipe.tag, recipe)
    return list(recipes.values())


def recipe_for(tag: str, matrix_files: Sequence[Path] = RECIPE_MATRICES) -> ImageRecipe:
    """The recipe of image `tag`; `UnknownImageError` listing those that can be built."""
    recipes = known_recipes(matrix_files)
    for recipe in recipes:
        if recipe.tag == tag:
            return recipe
    known = ", ".join(recipe.tag for recipe in recipes)
    raise UnknownImageError(f"no recipe builds {tag}; these can be built here: {known}")


def images_in(matrix_file: Path) -> list[str]:
    """The images of the project's own that `matrix_file` names, in file order."""
    matrix = load_matrix(matrix_file)
    tags = [
        source.image
        for spec in matrix.versions
        for source in spec.sources
        if isinstance(source, ImageSource) and is_local_image(source.image)
    ]
    return list(dict.fromkeys(tags))


def server_packages_line(recipe: ImageRecipe, debs: Sequence[Path]) -> str:
    """`debian sid mysql-server-core 9.7.4-2`: the suite and its server packages' versions."""
    from scripts.sources.debian import package_versions

    ours = [deb for deb in debs if deb.name.partition("_")[0] in recipe.packages]
    versions = package_versions(ours)
    shown = [f"{name} {versions.get(name, '?')}" for name in recipe.packages]
    return f"debian {recipe.suite} {', '.join(shown)}"


def ensure_image(
    client: Any,
    recipe: ImageRecipe,
    *,
    download_closure: DownloadClosure,
    extract_debs: ExtractDebs,
    cache: Path,
    scratch: Path,
) -> Built:
    """Build `recipe`'s image unless the engine has it with the same content already."""
    started = time.monotonic()
    debs = download_closure(recipe.suite, recipe.all_packages, cache)
    digest = content_digest(recipe, (deb.name for deb in debs))
    source = server_packages_line(recipe, debs)
    if built_image_digest(client, recipe.tag) == digest:
        return Built(recipe.tag, "reused", time.monotonic() - started, source)
    rootfs = Path(tempfile.mkdtemp(prefix="compat-rootfs-", dir=scratch))
    try:
        extract_debs(debs, rootfs)
        build_image(client, rootfs, recipe, digest, source, scratch)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return Built(recipe.tag, "built", time.monotonic() - started, source)


@contextmanager
def engine() -> Iterator[str]:
    """The engine at DOCKER_HOST when one answers, else the private engine."""
    try:
        ping_docker()
    except Unavailable:
        with docker_engine.private_engine() as private:
            how = "started" if private.started_here else "joined"
            print(f"docker: {how} the private engine at {private.host} ({private.storage_driver})")
            yield private.host
        return
    yield docker_host()


def build_images(tags: Sequence[str], matrix_file: Path = RECIPE_MATRICES[0]) -> int:
    """Build `tags` (default: the images of our own that `matrix_file` names); the exit status."""
    try:
        tags = list(tags) or images_in(matrix_file)
        recipes = [recipe_for(tag, (matrix_file, *RECIPE_MATRICES)) for tag in tags]
    except (MatrixError, UnknownImageError) as error:
        print(f"images: {error}", file=sys.stderr)
        return 2
    if not recipes:
        print(f"images: {matrix_file} names no image of this project's own (none to build)")
        return 0
    import docker

    from scripts.sources.debian import download_closure, extract_debs

    started = time.monotonic()
    failed = 0
    try:
        with engine() as host:
            client = docker.DockerClient(base_url=host, timeout=600)
            cache = paths.cache_dir() / "debian"
            for recipe in recipes:
                try:
                    built = ensure_image(
                        client,
                        recipe,
                        download_closure=download_closure,
                        extract_debs=extract_debs,
                        cache=cache,
                        scratch=paths.scratch_dir(),
                    )
                except Exception as error:  # one image failing must not stop the others
                    failed += 1
                    print(f"{recipe.tag:<38} failed  {type(error).__name__}: {error}", flush=True)
                else:
                    print(built.line(), flush=True)
            client.close()
    except docker_engine.EngineError as error:
        print(f"images: no Docker engine: {error}", file=sys.stderr)
        return 1
    print(f"{len(recipes)} image(s) in {time.monotonic() - started:.1f} s")
    return 1 if failed else 0
