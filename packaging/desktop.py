"""The Linux bundle as a desktop citizen: a launcher entry and icons in the freedesktop layout,
and the install.sh that copies them to where launchers look.

PyInstaller knows nothing of share/applications or icon themes, so build.py adds them to the
finished bundle (``add_desktop_integration``)::

    gradsim/install.sh
    gradsim/share/applications/gradsim.desktop
    gradsim/share/icons/hicolor/<N>x<N>/apps/gradsim.png, scalable/apps/gradsim.svg

The same layout as under /usr/share, so install.sh only copies files, and a packager (Flatpak,
a .deb) can take share/ as it is.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
ICONS = HERE.parent / "resources" / "icons"
DESKTOP_ENTRY = HERE / "linux" / "gradsim.desktop"
INSTALL_SCRIPT = HERE / "linux" / "install.sh"
# The fixed sizes in hicolor's index.theme (hicolor-icon-theme 0.17): launchers look only in
# folders the index lists, so a 1024x1024 one would never be read. The SVG covers large sizes.
HICOLOR_SIZES = frozenset({16, 22, 24, 32, 36, 48, 64, 72, 96, 128, 192, 256, 384, 512})
_PNG_NAME = re.compile(r"gradsim-(\d+)\.png")


def icon_sizes(icons: Path = ICONS) -> list[int]:
    """The PNG sizes packaging/make_icons.py rendered that an icon theme can use."""
    found = (_PNG_NAME.fullmatch(path.name) for path in icons.glob("gradsim-*.png"))
    return sorted(int(m.group(1)) for m in found if m and int(m.group(1)) in HICOLOR_SIZES)


def icon_layout(icons: Path, share: Path) -> list[Path]:
    """Copy the icons into ``share/icons/hicolor`` as an icon theme lays them out; return the
    files written. The theme name is the file name: ``Icon=gradsim`` in the entry."""
    theme = share / "icons" / "hicolor"
    sources = {f"{n}x{n}/apps/gradsim.png": icons / f"gradsim-{n}.png" for n in icon_sizes(icons)}
    sources["scalable/apps/gradsim.svg"] = icons / "gradsim.svg"
    written = []
    for relative, source in sources.items():
        target = theme / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written


def add_desktop_integration(bundle: Path, icons: Path = ICONS) -> list[Path]:
    """Add the launcher entry, the icons and install.sh to a built Linux bundle (the folder
    holding the ``gradsim`` executable); return the files added."""
    share = bundle / "share"
    entry = share / "applications" / "gradsim.desktop"
    entry.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DESKTOP_ENTRY, entry)
    script = bundle / "install.sh"
    shutil.copyfile(INSTALL_SCRIPT, script)
    script.chmod(0o755)
    return [entry, *icon_layout(icons, share), script]
