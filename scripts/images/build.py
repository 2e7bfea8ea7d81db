"""Turning a folder of extracted Debian packages into an image, once per content.

The folder is read, never changed: the image's root file system is written as a tar with
the merged-/usr links (`/bin`, `/sbin`, `/lib`, `/lib64`), the accounts, the folders the
server owns, its configuration and the entrypoint added, and documentation left out.
Inside the container the suite's own C library is the one in use, so the programs run as
they are. The tar is imported with the recipe's ENTRYPOINT, CMD, ENV, EXPOSE, USER and a
content label; an image whose label matches is reused instead of built again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

from scripts.images.recipes import ImageRecipe
from scripts.vocabulary import SERVICE_UID

CONTENT_LABEL = "fastapi-compat-matrix.content"
SOURCE_LABEL = "fastapi-compat-matrix.source"
FORMAT_VERSION = "1"
"""Bump when the way images are put together changes: every image is then rebuilt."""
ENTRYPOINTS = Path(__file__).parent / "entrypoints"
ENTRYPOINT_PATH = "usr/local/bin/docker-entrypoint.sh"
MERGED_DIRS = ("bin", "sbin", "lib", "lib64")
LEFT_OUT = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/lintian",
    "usr/share/locale",
)


def content_digest(recipe: ImageRecipe, packages: Iterable[str]) -> str:
    """What an image is made of: the recipe, its entrypoint, the package files, the format."""
    digest = hashlib.sha256()
    digest.update(FORMAT_VERSION.encode())
    digest.update(json.dumps(asdict(recipe), sort_keys=True, default=str).encode())
    digest.update((ENTRYPOINTS / recipe.entrypoint).read_bytes())
    for name in sorted(packages):
        digest.update(name.encode() + b"\0")
    return digest.hexdigest()


def built_image_digest(client: Any, tag: str) -> str | None:
    """The content label of the image tagged `tag` in the engine, or None when there is none."""
    from docker.errors import ImageNotFound

    try:
        image = client.images.get(tag)
    except ImageNotFound:
        return None
    labels = image.labels or {}
    found = labels.get(CONTENT_LABEL)
    return str(found) if found else None


def build_image(
    client: Any, rootfs: Path, recipe: ImageRecipe, digest: str, source: str, scratch: Path
) -> str:
    """Import `rootfs` as `recipe.tag`, labelled with `digest` and `source`; returns its id."""
    with tempfile.NamedTemporaryFile(dir=scratch, prefix="compat-image-", suffix=".tar") as tar:
        write_root_tar(rootfs, recipe, Path(tar.name))
        answer = client.api.import_image_from_file(
            tar.name,
            repository=recipe.tag.rsplit(":", 1)[0],
            tag=recipe.version,
            changes=image_changes(recipe, {CONTENT_LABEL: digest, SOURCE_LABEL: source}),
        )
    image_id = _imported_id(answer)
    if image_id is None:
        raise RuntimeError(f"importing {recipe.tag} answered {answer!r}")
    return image_id


def _imported_id(answer: Any) -> str | None:
    """The image id from the engine's answer to an import (a JSON line, or several)."""
    text = answer.decode() if isinstance(answer, bytes) else str(answer)
    for line in reversed(text.strip().splitlines()):
        try:
            status = json.loads(line).get("status", "")
        except (json.JSONDecodeError, AttributeError):
            continue
        if isinstance(status, str) and status.startswith("sha256:"):
            return status
    return None


def image_changes(recipe: ImageRecipe, labels: dict[str, str]) -> list[str]:
    """The Dockerfile instructions the import applies."""
    changes = [
        f"ENTRYPOINT {json.dumps(['/' + ENTRYPOINT_PATH])}",
        f"CMD {json.dumps(list(recipe.command))}",
        f"EXPOSE {recipe.port}",
        f"USER {recipe.run_as}",
        f"WORKDIR {recipe.workdir}",
    ]
    changes += [f"ENV {key}={json.dumps(value)}" for key, value in sorted(recipe.env.items())]
    changes += [f"LABEL {key}={json.dumps(value)}" for key, value in sorted(labels.items())]
    return changes


def write_root_tar(rootfs: Path, recipe: ImageRecipe, target: Path) -> None:
    """The image's root file system as a tar at `target` (see the module's docstring)."""
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        written: set[str] = set()
        for member, data in _added_entries(recipe):
            tar.addfile(member, data)
            written.add(member.name)
        for path, name in _package_files(rootfs):
            if name in written:
                continue
            member = tar.gettarinfo(str(path), arcname=name)
            member.uid = member.gid = 0
            member.uname = member.gname = "root"
            if member.isreg():
                with path.open("rb") as content:
                    tar.addfile(member, content)
            else:
                tar.addfile(member)
            written.add(name)


def _package_files(rootfs: Path) -> Iterator[tuple[Path, str]]:
    """Every entry under `rootfs` with its name in the image: `/bin/x` becomes `usr/bin/x`."""
    for folder, dirnames, filenames in os.walk(rootfs):
        base = Path(folder)
        relative = base.relative_to(rootfs)
        dirnames.sort()
        keep = []
        for dirname in dirnames:
            path = base / dirname
            name = _image_name(relative / dirname)
            if path.is_symlink():  # os.walk does not descend into links: add them as entries
                if name is not None:
                    yield path, name
            elif name is not None or _is_merged_root(relative / dirname):
                keep.append(dirname)  # `/lib` itself is a link in the image; its files are not
                if name is not None:
                    yield path, name
        dirnames[:] = keep
        for filename in sorted(filenames):
            name = _image_name(relative / filename)
            if name is not None:
                yield base / filename, name


def _is_merged_root(relative: Path) -> bool:
    return relative.as_posix() in MERGED_DIRS or relative.as_posix() == "var/run"


def _image_name(relative: Path) -> str | None:
    """The entry's name in the image, or None when it is left out (or replaced by a link)."""
    parts = PurePosixPath(relative.as_posix()).parts
    if parts and parts[0] in MERGED_DIRS:
        if len(parts) == 1:
            return None  # the image has a link there
        parts = ("usr", *parts)
    elif parts[:2] == ("var", "run"):
        if len(parts) == 2:
            return None  # a link to /run
        parts = ("run", *parts[2:])
    name = "/".join(parts)
    if any(name == left or name.startswith(left + "/") for left in LEFT_OUT):
        return None
    return name


def _added_entries(recipe: ImageRecipe) -> Iterator[tuple[tarfile.TarInfo, io.BytesIO | None]]:
    for folder in ("usr", "usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "etc", "run", "var"):
        yield _directory(folder, 0o755), None
    for link in MERGED_DIRS:
        yield _symlink(link, f"usr/{link}"), None
    yield _symlink("var/run", "../run"), None
    yield _directory("tmp", 0o1777), None
    for folder in recipe.owned_dirs:
        yield _directory(folder.strip("/"), 0o755, owner=SERVICE_UID), None
    yield _file("etc/passwd", _passwd(recipe.account), 0o644)
    yield _file("etc/group", f"root:x:0:\n{recipe.account}:x:{SERVICE_UID}:\n", 0o644)
    entrypoint = (ENTRYPOINTS / recipe.entrypoint).read_text()
    yield _file(ENTRYPOINT_PATH, entrypoint, 0o755)
    for path, text in sorted(recipe.files.items()):
        yield _file(path.strip("/"), text, 0o644)
    for path, target in sorted(recipe.links.items()):
        yield _symlink(path.strip("/"), target), None


def _passwd(account: str) -> str:
    return (
        "root:x:0:0:root:/root:/bin/sh\n"
        f"{account}:x:{SERVICE_UID}:{SERVICE_UID}:{account}:/nonexistent:/usr/sbin/nologin\n"
    )


def _directory(name: str, mode: int, owner: int = 0) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = tarfile.DIRTYPE
    member.mode = mode
    member.uid = member.gid = owner
    return member


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = tarfile.SYMTYPE
    member.linkname = target
    member.mode = 0o777
    return member


def _file(name: str, text: str, mode: int) -> tuple[tarfile.TarInfo, io.BytesIO]:
    data = text.encode()
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mode = mode
    return member, io.BytesIO(data)
