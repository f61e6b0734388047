"""Build the standalone gradsim app with PyInstaller (onedir; a .app bundle on macOS).

    python packaging/build.py

Installs what the build needs into the running Python (gradsim itself and PyInstaller) when
they are missing, builds from packaging/gradsim.spec into dist/, adds the launcher entry, icons
and install.sh on Linux (packaging/desktop.py), packs the app into one archive in dist/
(packaging/archive.py), and prints where the app is, its size, how long the build took, and
what each exclusion rule saved.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from archive import make_archive  # packaging/, this script's folder
from desktop import add_desktop_integration

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "gradsim.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyi"
PYINSTALLER = "pyinstaller>=6.10,<7"
MIB = 1024 * 1024


def app_path() -> Path:
    """Where the build puts the app: the .app bundle on macOS, else the onedir folder."""
    return DIST / "gradsim.app" if sys.platform == "darwin" else DIST / "gradsim"


def executable() -> Path:
    """The program to run inside the app."""
    if sys.platform == "darwin":
        return app_path() / "Contents" / "MacOS" / "gradsim"
    return app_path() / ("gradsim.exe" if sys.platform == "win32" else "gradsim")


def _ensure_installed() -> None:
    missing = [name for name in ("PySide6", "pyqtgraph", "numpy", "PIL", "threadpoolctl")
               if importlib.util.find_spec(name) is None]  # fmt: skip
    if missing or importlib.util.find_spec("gradsim") is None:
        _pip("-e", str(ROOT))
    if importlib.util.find_spec("PyInstaller") is None:
        _pip(PYINSTALLER)


def _pip(*args: str) -> None:
    print(f"installing {' '.join(args)} ...", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args], check=True)


def _write_windows_version(version: str) -> None:
    """The version resource Explorer shows under Properties → Details."""
    found = [int(n) for n in re.findall(r"\d+", version)[:3]]
    numbers = tuple([*found, 0, 0, 0, 0][:4])
    text = f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}),
  kids=[StringFileInfo([StringTable('040904B0', [
    StringStruct('CompanyName', 'gradsim'),
    StringStruct('FileDescription', 'gradsim: vanishing and exploding gradients, live'),
    StringStruct('FileVersion', '{version}'),
    StringStruct('ProductName', 'gradsim'),
    StringStruct('ProductVersion', '{version}'),
    StringStruct('OriginalFilename', 'gradsim.exe')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])]
)
"""
    target = ROOT / "build" / "version_info.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _build(env: dict[str, str] | None = None) -> int:
    shutil.rmtree(app_path(), ignore_errors=True)
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def _measure_module_groups() -> None:
    """Build with every exclusion, then once with each module group back in: the difference
    is what excluding that group saves."""
    sys.path.insert(0, str(ROOT / "packaging"))
    from exclusions import KEEP_GROUP_ENV, MODULE_GROUPS

    sizes = {}
    for group in ("", *MODULE_GROUPS):
        if _build({**os.environ, KEEP_GROUP_ENV: group}) != 0:
            raise SystemExit(f"measuring build without excluding {group!r} failed")
        sizes[group] = folder_size(app_path())
    print("excluded modules (packaging/exclusions.py MODULE_GROUPS):")
    for group, (reason, _) in MODULE_GROUPS.items():
        print(f"  {(sizes[group] - sizes['']) / MIB:6.2f} MiB  {group}: {reason}")


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _package(version: str) -> None:
    """Make the built app a desktop citizen (Linux) and pack it into one file to hand out."""
    if sys.platform.startswith("linux"):
        add_desktop_integration(app_path())
        print(f"desktop: {app_path() / 'install.sh'} adds it to the launcher menu (--help)")
    start = time.perf_counter()
    archive = make_archive(app_path(), version, DIST)
    seconds = time.perf_counter() - start
    size = archive.stat().st_size / MIB
    print(f"archive: {archive}  ({size:.1f} MiB, packed in {seconds:.0f} s)")


def _print_savings() -> None:
    savings_file = ROOT / "build" / "exclusion_savings.json"
    if savings_file.exists():
        savings = json.loads(savings_file.read_text(encoding="utf-8"))
        print("left out (packaging/exclusions.py):")
        for pattern, item in sorted(savings.items(), key=lambda kv: -kv[1]["bytes"]):
            print(f"  {item['bytes'] / MIB:6.2f} MiB  {item['files']:3d} files  {pattern}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="reuse PyInstaller's work folder")
    parser.add_argument(
        "--measure",
        action="store_true",
        help="also build once without each group of excluded modules, and print its saving",
    )
    args = parser.parse_args(argv)
    _ensure_installed()
    # Read, not imported: an install made just now is not on this interpreter's path yet.
    init = (ROOT / "gradsim" / "__init__.py").read_text(encoding="utf-8")
    __version__ = re.search(r'__version__ = "([^"]+)"', init).group(1)

    if sys.platform == "win32":
        _write_windows_version(__version__)
    if args.measure:
        _measure_module_groups()
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    start = time.perf_counter()
    returncode = _build()
    seconds = time.perf_counter() - start
    if returncode != 0:
        print(f"build FAILED after {seconds:.0f} s", file=sys.stderr)
        return returncode
    print(f"\ngradsim {__version__} built in {seconds:.0f} s")
    print(f"app:  {app_path()}  ({folder_size(app_path()) / MIB:.1f} MiB)")
    print(f"run:  {executable()}")
    _print_savings()
    _package(__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
