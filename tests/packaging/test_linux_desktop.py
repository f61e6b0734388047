"""The Linux bundle's desktop files, checked without building: the launcher entry is valid and
names the app's window class, the icons land in the freedesktop layout, and install.sh puts
both where launchers look (in a temporary HOME) and takes them away again."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
sys.path.insert(0, str(PACKAGING))
from desktop import DESKTOP_ENTRY, ICONS, add_desktop_integration, icon_layout  # noqa: E402

THEME_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # of resources/icons; 1024 is no theme size
THEME_FILES = {f"{n}x{n}/apps/gradsim.png" for n in THEME_SIZES} | {"scalable/apps/gradsim.svg"}
needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="install.sh needs a POSIX sh")


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_desktop_entry_has_the_keys_launchers_use() -> None:
    from gradsim.app.launch import APP_NAME

    entry = read_entry(DESKTOP_ENTRY)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "gradsim"
    assert entry["GenericName"] and entry["Comment"] and entry["Keywords"].endswith(";")
    assert entry["Exec"] == "gradsim"  # install.sh makes it the bundle's absolute path
    assert entry["Icon"] == "gradsim"  # the icon theme's file name, see icon_layout
    assert entry["Terminal"] == "false"
    assert {"Education", "Science"} <= set(entry["Categories"].split(";"))
    # Qt's X11 window class is the application name: docks group the window with the entry.
    assert entry["StartupWMClass"] == APP_NAME


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_desktop_entry_passes_desktop_file_validate() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(DESKTOP_ENTRY)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error:" not in result.stdout


def test_icon_layout_is_the_hicolor_theme(tmp_path: Path) -> None:
    written = icon_layout(ICONS, tmp_path / "share")
    theme = tmp_path / "share" / "icons" / "hicolor"
    assert files_under(theme) == THEME_FILES
    assert sorted(written) == sorted(theme / name for name in THEME_FILES)
    png = (theme / "48x48" / "apps" / "gradsim.png").read_bytes()
    assert png == (ICONS / "gradsim-48.png").read_bytes()


def test_icon_layout_keeps_only_sizes_a_theme_lists(tmp_path: Path) -> None:
    icons = tmp_path / "icons"
    icons.mkdir()
    for name in ("gradsim-22.png", "gradsim-1024.png", "gradsim-big.png", "gradsim.svg"):
        (icons / name).write_bytes(b"x")
    icon_layout(icons, tmp_path / "share")
    theme = tmp_path / "share" / "icons" / "hicolor"
    assert files_under(theme) == {"22x22/apps/gradsim.png", "scalable/apps/gradsim.svg"}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A bundle as build.py leaves it, with a stand-in executable, in a folder with a space."""
    folder = tmp_path / "my apps" / "gradsim"
    folder.mkdir(parents=True)
    exe = folder / "gradsim"
    exe.write_text("#!/bin/sh\necho gradsim stand-in\n", encoding="utf-8")
    exe.chmod(0o755)
    add_desktop_integration(folder)
    return folder


def install(bundle: Path, home: Path, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env["HOME"] = str(home)
    result = subprocess.run(
        ["sh", str(bundle / "install.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@needs_sh
def test_install_sh_installs_for_the_user_and_uninstalls(bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    install(bundle, home)
    share = home / ".local" / "share"
    entry = read_entry(share / "applications" / "gradsim.desktop")
    exe = bundle / "gradsim"
    assert entry["Exec"] == f'"{exe}"'  # quoted: the path has a space
    assert Path(entry["Exec"].strip('"')).is_absolute()
    assert entry["Icon"] == "gradsim"
    theme = share / "icons" / "hicolor"
    assert files_under(theme) >= THEME_FILES
    assert not (theme / "icon-theme.cache").exists()  # kept current, never created
    link = home / ".local" / "bin" / "gradsim"
    assert link.is_symlink() and link.resolve() == exe.resolve()
    ran = subprocess.run([entry["Exec"].strip('"')], capture_output=True, text=True, timeout=10)
    assert ran.stdout == "gradsim stand-in\n"

    install(bundle, home, "--uninstall")
    assert not (share / "applications" / "gradsim.desktop").exists()
    assert not THEME_FILES & files_under(theme)
    assert not link.exists() and not link.is_symlink()


@needs_sh
def test_install_sh_leaves_a_gradsim_it_did_not_make(bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    pip_script = home / ".local" / "bin" / "gradsim"
    pip_script.parent.mkdir(parents=True)
    pip_script.write_text("#!/bin/sh\n", encoding="utf-8")
    assert "left as it is" in install(bundle, home)
    assert install(bundle, home, "--uninstall")
    assert pip_script.read_text(encoding="utf-8") == "#!/bin/sh\n"


@needs_sh
def test_install_sh_refuses_unknown_options(bundle: Path) -> None:
    result = subprocess.run(
        ["sh", str(bundle / "install.sh"), "--prefix=/opt"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "unknown option" in result.stderr


def test_the_app_names_the_desktop_entry_it_belongs_to() -> None:
    """Wayland groups a window under the entry named by the app's desktop file name, X11 by
    its window class: both must be the entry's (a pip install runs as "python3.11")."""
    code = (
        "from gradsim.app.launch import application; "
        "print(application(offscreen=True).desktopFileName())"
    )  # a fresh process: the app's own QApplication, not the tests'
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    name = done.stdout.strip()
    entry = (PACKAGING / "linux" / "gradsim.desktop").read_text(encoding="utf-8")
    assert name == "gradsim" and f"StartupWMClass={name}\n" in entry
