"""Archives built member by member, hostile ones included: tarballs, wheels and .deb files."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["file", "dir", "symlink", "hardlink", "chardev", "fifo"]

_TAR_TYPES: dict[Kind, bytes] = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "chardev": tarfile.CHRTYPE,
    "fifo": tarfile.FIFOTYPE,
}
_ZIP_TYPES: dict[Kind, int] = {
    "file": stat.S_IFREG,
    "dir": stat.S_IFDIR,
    "symlink": stat.S_IFLNK,
    "chardev": stat.S_IFCHR,
    "fifo": stat.S_IFIFO,
}


@dataclass(frozen=True)
class Member:
    """One entry: `target` is a file's content, or where a link points."""

    name: str
    kind: Kind = "file"
    target: str = ""
    mode: int = 0o644


def write_tar(members: list[Member], path: Path, compression: str = "gz") -> Path:
    with tarfile.open(path, f"w:{compression}", format=tarfile.GNU_FORMAT) as archive:
        _add_to_tar(archive, members)
    return path


def _add_to_tar(archive: tarfile.TarFile, members: list[Member]) -> None:
    for member in members:
        info = tarfile.TarInfo(member.name)
        info.type = _TAR_TYPES[member.kind]
        info.mode = member.mode
        info.mtime = 499162500  # npm's fixed date
        data = None
        if member.kind == "file":
            content = member.target.encode()
            info.size = len(content)
            data = io.BytesIO(content)
        elif member.kind in ("symlink", "hardlink"):
            info.linkname = member.target
        elif member.kind == "chardev":
            info.devmajor, info.devminor = 1, 3
        archive.addfile(info, data)


def write_wheel(members: list[Member], path: Path) -> Path:
    """A zip whose Unix modes say each entry's kind (a symlink's content is its target)."""
    with zipfile.ZipFile(path, "w") as archive:
        for member in members:
            name = member.name + "/" if member.kind == "dir" else member.name
            info = zipfile.ZipInfo(name)
            info.external_attr = (_ZIP_TYPES[member.kind] | member.mode) << 16
            archive.writestr(info, member.target)
    return path


def write_deb(members: list[Member], path: Path) -> Path:
    """A .deb as dpkg-deb reads it: an ar archive of debian-binary, control and data tars."""
    control = io.BytesIO()
    with tarfile.open(fileobj=control, mode="w:gz") as archive:
        _add_to_tar(archive, [Member("./control", target="Package: hostile\nVersion: 1\n")])
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz", format=tarfile.GNU_FORMAT) as archive:
        _add_to_tar(archive, members)
    parts = [
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", control.getvalue()),
        ("data.tar.gz", data.getvalue()),
    ]
    with path.open("wb") as deb:
        deb.write(b"!<arch>\n")
        for name, content in parts:
            header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(content):<10}`\n"
            deb.write(header.encode())
            deb.write(content + (b"\n" if len(content) % 2 else b""))
    return path
