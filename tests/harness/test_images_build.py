"""Images from a folder of extracted packages: the root file system they get (merged /usr,
accounts, owned folders, entrypoint, no documentation), the folder left untouched, the
content label that decides reuse, and the recipes' tags under the project's prefix."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest

from scripts.images.build import content_digest, image_changes, write_root_tar
from scripts.images.recipes import PREFIX, UnknownImageError, is_local_image
from scripts.sources.image_builds import known_recipes, recipe_for
from scripts.vocabulary import SERVICE_UID


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    """A bookworm-style extraction: real /bin and /lib64, files under /usr, documentation."""
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "dash").write_text("#!dash")
    (root / "bin" / "dash").chmod(0o755)
    (root / "bin" / "sh").symlink_to("dash")
    (root / "lib64").mkdir()
    (root / "lib64" / "ld-linux-x86-64.so.2").symlink_to(
        "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    )
    (root / "usr" / "lib" / "postgresql" / "17" / "bin").mkdir(parents=True)
    (root / "usr" / "lib" / "postgresql" / "17" / "bin" / "postgres").write_text("elf")
    (root / "usr" / "share" / "doc" / "dash").mkdir(parents=True)
    (root / "usr" / "share" / "doc" / "dash" / "copyright").write_text("text")
    (root / "var" / "run" / "postgresql").mkdir(parents=True)
    return root


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): (
            f"-> {path.readlink()}"
            if path.is_symlink()
            else hashlib.sha256(path.read_bytes() if path.is_file() else b"dir").hexdigest()
        )
        for path in sorted(folder.rglob("*"))
    }


def test_the_image_root_merges_usr_adds_the_contract_and_leaves_the_folder_untouched(
    rootfs: Path, tmp_path: Path
) -> None:
    before = snapshot(rootfs)
    recipe = recipe_for(f"{PREFIX}/postgres:17")
    target = tmp_path / "root.tar"
    write_root_tar(rootfs, recipe, target)
    assert snapshot(rootfs) == before
    with tarfile.open(target) as tar:
        members = {member.name: member for member in tar.getmembers()}
        passwd = tar.extractfile("etc/passwd")
        assert passwd is not None
        accounts = passwd.read().decode()
    assert members["bin"].issym()
    assert members["bin"].linkname == "usr/bin"
    assert members["lib64"].linkname == "usr/lib64"
    assert members["usr/bin/dash"].isreg()
    assert members["usr/bin/dash"].mode & 0o111
    assert members["usr/bin/sh"].linkname == "dash"
    assert members["usr/lib64/ld-linux-x86-64.so.2"].issym()
    assert "usr/lib/postgresql/17/bin/postgres" in members
    assert not any(name.startswith("usr/share/doc") for name in members)
    assert members["var/run"].linkname == "../run"
    assert "run/postgresql" in members
    assert "var/run/postgresql" not in members
    assert members["var/lib/postgresql"].uid == SERVICE_UID
    assert members["usr/bin/dash"].uid == 0
    assert members["usr/local/bin/docker-entrypoint.sh"].mode == 0o755
    assert members["tmp"].mode == 0o1777
    assert f"postgres:x:{SERVICE_UID}:{SERVICE_UID}:" in accounts


def test_the_content_label_changes_with_the_packages_and_only_then() -> None:
    recipe = recipe_for(f"{PREFIX}/redis:8.0")
    packages = ["redis-server_8.0.2-3_amd64.deb", "libc6_2.41-12_amd64.deb"]
    same = content_digest(recipe, reversed(packages))
    assert content_digest(recipe, packages) == same
    newer = ["redis-server_8.0.3-1_amd64.deb", "libc6_2.41-12_amd64.deb"]
    assert content_digest(recipe, newer) != same
    assert content_digest(recipe_for(f"{PREFIX}/valkey:8"), packages) != same


def test_the_image_runs_the_entrypoint_as_the_official_image_does() -> None:
    recipe = recipe_for(f"{PREFIX}/postgres:17")
    changes = image_changes(recipe, {"fastapi-compat-matrix.content": "abc"})
    assert 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' in changes
    assert 'CMD ["postgres"]' in changes
    assert "EXPOSE 5432" in changes
    assert "USER postgres" in changes
    assert 'ENV PGDATA="/var/lib/postgresql/data"' in changes
    assert 'LABEL fastapi-compat-matrix.content="abc"' in changes


def test_every_image_is_tagged_under_the_projects_prefix_never_as_an_official_one() -> None:
    for recipe in known_recipes():
        assert recipe.tag == f"{PREFIX}/{recipe.backend}:{recipe.version}"
        assert is_local_image(recipe.tag)
    assert not is_local_image("postgres:17-alpine")
    assert not is_local_image("valkey/valkey:8-alpine")


def test_an_image_without_a_recipe_lists_those_that_exist() -> None:
    with pytest.raises(UnknownImageError, match=r"fastapi-compat-matrix/mysql:9\.7"):
        recipe_for(f"{PREFIX}/mysql:8.0")


def test_a_recipe_takes_the_suite_and_packages_the_matrix_file_names(tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(
        "[database.sqlite.stdlib]\n"
        'library = { module = "sqlite3" }\n'
        '[cache.valkey."8"]\n'
        'binaries = { debian = { suite = "bookworm", packages = ["valkey-server"] } }\n'
    )
    recipe = recipe_for(f"{PREFIX}/valkey:8", [matrix])
    assert (recipe.suite, recipe.packages) == ("bookworm", ("valkey-server", "valkey-tools"))
    assert recipe.command == ("valkey-server",)
    assert recipe.account == "valkey"
    with pytest.raises(UnknownImageError, match="these can be built here: fastapi-compat"):
        recipe_for(f"{PREFIX}/redis:8.0", [matrix])
