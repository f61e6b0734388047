"""The single-file archive of the app (packaging/archive.py), on a small fake app: every member
under one top folder, executables still executable, links still links, named per platform."""

from __future__ import annotations

import os
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
sys.path.insert(0, str(PACKAGING))
from archive import archive_path, make_archive, write_tar_gz, write_zip  # noqa: E402


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A onedir app in miniature: an executable, a nested library, a link."""
    folder = tmp_path / "gradsim"
    (folder / "_internal" / "PySide6").mkdir(parents=True)
    exe = folder / "gradsim"
    exe.write_bytes(b"#!/bin/sh\n")
    exe.chmod(0o755)
    (folder / "_internal" / "PySide6" / "libQt6Core.so.6").write_bytes(b"\0" * 1000)
    if hasattr(os, "symlink") and sys.platform != "win32":
        (folder / "_internal" / "libQt6Core.so").symlink_to("PySide6/libQt6Core.so.6")
    return folder


def test_tar_gz_has_one_top_folder_and_keeps_modes_and_links(app: Path, tmp_path: Path) -> None:
    target = write_tar_gz(app, tmp_path / "gradsim-1.2.3-linux-x86_64.tar.gz", "gradsim-1.2.3")
    with tarfile.open(target) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert all(name.split("/")[0] == "gradsim-1.2.3" for name in members)
    assert "gradsim-1.2.3/_internal/PySide6/libQt6Core.so.6" in members
    exe = members["gradsim-1.2.3/gradsim"]
    assert exe.mode & stat.S_IXUSR and exe.uid == 0 and exe.uname == ""
    if sys.platform != "win32":
        link = members["gradsim-1.2.3/_internal/libQt6Core.so"]
        assert link.issym() and link.linkname == "PySide6/libQt6Core.so.6"
    assert not list(tmp_path.glob("*.part"))


def test_zip_has_one_top_folder(app: Path, tmp_path: Path) -> None:
    target = write_zip(app, tmp_path / "gradsim.zip", "gradsim-1.2.3")
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        mode = archive.getinfo("gradsim-1.2.3/gradsim").external_attr >> 16
    assert names and all(name.startswith("gradsim-1.2.3/") for name in names)
    if sys.platform != "win32":
        assert mode & stat.S_IXUSR


@pytest.mark.parametrize(
    ("system", "machine", "name"),
    [
        ("linux", "x86_64", "gradsim-0.1.0-linux-x86_64.tar.gz"),
        ("linux", "aarch64", "gradsim-0.1.0-linux-aarch64.tar.gz"),
        ("win32", "AMD64", "gradsim-0.1.0-windows-x86_64.zip"),
        ("darwin", "arm64", "gradsim-0.1.0-macos-arm64.zip"),
    ],
)
def test_archive_names_say_version_system_and_machine(system, machine, name) -> None:
    assert archive_path(Path("dist"), "0.1.0", system, machine) == Path("dist", name)


def test_make_archive_for_windows_zips_under_a_versioned_folder(app: Path, tmp_path: Path) -> None:
    target = make_archive(app, "0.1.0", tmp_path, system="win32")
    assert target.name.startswith("gradsim-0.1.0-windows-") and target.suffix == ".zip"
    with zipfile.ZipFile(target) as archive:
        assert {name.split("/")[0] for name in archive.namelist()} == {"gradsim-0.1.0"}
