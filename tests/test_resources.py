"""resource_path must find the bundled files in a checkout, a frozen app and an installed wheel.

Each layout is exercised for real where that is cheap (the checkout, a built wheel unpacked
into a temporary directory) and by pointing the lookup at a fake layout otherwise (PyInstaller).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gradsim import resources
from gradsim.resources import candidate_roots, resource_path, resources_root

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PRESET = ("presets", "seed-exploding.toml")


def _fake_tree(root: Path) -> Path:
    target = root.joinpath(*DEFAULT_PRESET)
    target.parent.mkdir(parents=True)
    target.write_text('id = "fake"\n', encoding="utf-8")
    return target


def test_checkout_layout_finds_repo_resources() -> None:
    assert resources_root() == REPO / "resources"
    path = resource_path(*DEFAULT_PRESET)
    assert path == REPO / "resources" / "presets" / "seed-exploding.toml"
    assert path.is_file()
    assert resource_path("presets").is_dir()


def test_frozen_layout_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = _fake_tree(tmp_path / "resources")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_root() == tmp_path / "resources"
    assert resource_path(*DEFAULT_PRESET) == target


def test_meipass_ignored_when_not_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_tree(tmp_path / "resources")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert resources_root() == REPO / "resources"


def test_frozen_without_bundle_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert candidate_roots()[0] == tmp_path / "resources"
    assert resources_root() == REPO / "resources"


def test_wheel_layout_preferred_over_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "site" / "gradsim"
    target = _fake_tree(package / "_resources")
    _fake_tree(tmp_path / "site" / "resources")  # a stray checkout-style dir must lose
    monkeypatch.setattr(resources, "_PACKAGE_DIR", package)
    assert resources_root() == package / "_resources"
    assert resource_path(*DEFAULT_PRESET) == target


def test_nothing_found_names_every_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(resources, "_PACKAGE_DIR", tmp_path / "pkg" / "gradsim")
    with pytest.raises(FileNotFoundError) as info:
        resources_root()
    message = str(info.value)
    assert "resources directory" in message
    assert str(tmp_path / "pkg" / "gradsim" / "_resources") in message
    assert str(tmp_path / "pkg" / "resources") in message


def test_missing_resource_is_named() -> None:
    with pytest.raises(FileNotFoundError, match=r"presets/no-such-preset\.toml"):
        resource_path("presets", "no-such-preset.toml")


@pytest.mark.parametrize("part", ["/etc/passwd", "../pyproject.toml", "presets/../../x"])
def test_escaping_parts_rejected(part: str) -> None:
    with pytest.raises(ValueError, match="relative"):
        resource_path(part)


def test_no_qt_imported() -> None:
    code = (
        "import sys, gradsim.resources, gradsim.engine.presets\n"
        "gradsim.engine.presets.list_presets()\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)


def _build_wheel(tmp_path: Path) -> Path:
    """Build a wheel from a copy of the sources (so build artefacts never touch the repo)."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy2(REPO / "pyproject.toml", src)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "gradsim", src / "gradsim", ignore=ignore)
    shutil.copytree(REPO / "resources", src / "resources", ignore=ignore)
    readme = REPO / "README.md"
    if readme.exists():
        shutil.copy2(readme, src)
    else:  # hatchling insists on the readme named in pyproject.toml
        (src / "README.md").write_text("# gradsim\n", encoding="utf-8")
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        text = result.stdout + result.stderr
        if "hatchling" in text and ("No matching distribution" in text or "connection" in text):
            pytest.skip("cannot fetch the build backend (hatchling) to build a wheel")
        pytest.fail(f"building the wheel failed:\n{text}")
    (wheel,) = out.glob("gradsim-*.whl")
    return wheel


def test_built_wheel_carries_and_finds_resources(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "gradsim/_resources/presets/seed-exploding.toml" in names
        assert "gradsim/_resources/lessons/vanishing-exploding.toml" in names
        for preset in (REPO / "resources" / "presets").glob("*.toml"):
            assert f"gradsim/_resources/presets/{preset.name}" in names
        site = tmp_path / "site"
        archive.extractall(site)
    # Import the unpacked wheel (not the checkout) and let it find and load its own presets.
    code = (
        "import gradsim.resources as r, gradsim.engine.presets as p\n"
        "print(r.resources_root())\n"
        "print(len(p.list_presets()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=60,
    )
    root, count = result.stdout.split()
    assert Path(root) == site / "gradsim" / "_resources"
    assert int(count) == len(list((REPO / "resources" / "presets").glob("*.toml")))


def test_icons_for_every_platform_are_there() -> None:
    """packaging/make_icons.py's outputs: PNGs of each size, a Windows .ico, a macOS .icns."""
    import struct

    for size in (16, 24, 32, 48, 64, 128, 256, 512, 1024):
        header = resource_path("icons", f"gradsim-{size}.png").read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", header[16:24]) == (size, size)
    assert resource_path("icons", "gradsim.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert resource_path("icons", "gradsim.icns").read_bytes()[:4] == b"icns"
    assert b"<svg" in resource_path("icons", "gradsim.svg").read_bytes()
