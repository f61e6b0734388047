"""What the frozen app leaves out, with the reason for each rule (used by gradsim.spec).

PyInstaller's PySide6 hooks bring whole plugin folders and every translation; gradsim draws
with QtWidgets + pyqtgraph, reads PNG icons and writes PNG/SVG, so most of that is dead
weight. Each rule's saving is measured at build time (``saving_report``) and printed by
``build.py``, so a rule that stops paying for itself is visible.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

SAVINGS_FILE = Path(__file__).resolve().parents[1] / "build" / "exclusion_savings.json"


@dataclass(frozen=True)
class Rule:
    pattern: str  # fnmatch pattern on the file's path inside the bundle
    reason: str


# Python modules never imported by the app, in groups (build.py --measure builds without each
# group's exclusion in turn and prints what it saves).
MODULE_GROUPS: dict[str, tuple[str, list[str]]] = {
    "dev-tools": (
        "installed next to gradsim for tests and notebooks, never imported by the app",
        ["tkinter", "matplotlib", "IPython", "pytest", "hypothesis", "pandas", "scipy"],
    ),
    "pyqtgraph-extras": (
        "pyqtgraph's 3-D, examples, notebook, canvas, flowchart and console parts",
        ["pyqtgraph.opengl", "pyqtgraph.examples", "pyqtgraph.jupyter", "pyqtgraph.canvas",
         "pyqtgraph.flowchart", "pyqtgraph.console"],
    ),
    "openssl": (
        "no network connections; hashlib/hmac (multiprocessing's pipe authentication) fall "
        "back to Python's own digests",
        ["ssl", "_ssl", "_hashlib"],
    ),
    "readline": ("line editing for an interactive prompt", ["readline"]),
    "cjk-codecs": (
        "East-Asian legacy text encodings: gradsim reads UTF-8",
        ["_codecs_jp", "_codecs_hk", "_codecs_kr", "_codecs_cn", "_codecs_tw", "_codecs_iso2022"],
    ),
    "qt-modules": (
        "Qt modules gradsim does not use (network, QML/Quick, PDF, SQL, printing, designer...)",
        [f"PySide6.{m}" for m in ("QtNetwork", "QtQml", "QtQuick", "QtQuickWidgets", "QtPdf",
         "QtDBus", "QtSql", "QtTest", "QtXml", "QtConcurrent", "QtPrintSupport", "QtHelp",
         "QtDesigner", "QtUiTools")],
    ),
}  # fmt: skip
KEEP_GROUP_ENV = "GRADSIM_KEEP_MODULE_GROUP"  # set by build.py --measure
EXCLUDED_MODULES = [
    module
    for name, (_, modules) in MODULE_GROUPS.items()
    if name != os.environ.get(KEEP_GROUP_ENV)
    for module in modules
]

_EMBEDDED = "for embedded/kiosk devices without a desktop"
EXCLUDED_FILES: list[Rule] = [
    Rule("PySide6/Qt/translations/*", "Qt's own UI translations: gradsim's text is English"),
    Rule("PySide6/Qt/plugins/platforms/libqeglfs.so", f"EGL full-screen platform {_EMBEDDED}"),
    Rule("PySide6/Qt/plugins/platforms/libqlinuxfb.so", f"framebuffer platform {_EMBEDDED}"),
    Rule("PySide6/Qt/plugins/platforms/libqminimalegl.so", "EGL test platform"),
    Rule("PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so", f"Vulkan display {_EMBEDDED}"),
    Rule("PySide6/Qt/plugins/platforms/libqvnc.so", "VNC server platform"),
    Rule("PySide6/Qt/plugins/egldeviceintegrations/*", f"eglfs back-ends {_EMBEDDED}"),
    Rule("PySide6/Qt/plugins/generic/*", f"evdev/TUIO raw input {_EMBEDDED}"),
    Rule("PySide6/Qt/plugins/platformthemes/libqgtk3.so",
         "GTK3 theme: pulls GTK, cairo and pango in; Qt's own dialogs and style do"),
    Rule("PySide6/Qt/plugins/imageformats/libq[!s]*.so",
         "image readers (jpeg, tiff, webp, gif, ico...): gradsim loads PNG (built in) and SVG"),
    Rule("PIL/_avif*", "Pillow's AVIF codec: gradsim writes only GIF with Pillow"),
    Rule("PIL/_webp*", "Pillow's WebP codec (as above)"),
    Rule("PIL/_imagingtk*", "Pillow's Tk bridge (no Tk)"),
    Rule("PIL/_imagingcms*", "Pillow's colour management (not used for GIF)"),
]


def _is_root(dest: str) -> bool:
    """Loaded by name at run time (dlopen), not as another library's dependency."""
    name = dest.rsplit("/", 1)[-1]
    return (
        "/plugins/" in f"/{dest}"
        or "cpython-" in name
        or name.endswith((".abi3.so", ".pyd"))
        or "/lib-dynload/" in f"/{dest}"
        or name.startswith("libpython")
    )


def unneeded_libraries(binaries: list[tuple]) -> list[tuple]:
    """Shared libraries no kept extension module or plugin needs any more (e.g. what only an
    excluded plugin linked), found by following the libraries' dependencies from the roots."""
    from PyInstaller.depend.bindepend import get_imports

    by_name = {entry[0].replace("\\", "/").rsplit("/", 1)[-1]: entry for entry in binaries}
    queue = [entry for entry in binaries if _is_root(entry[0].replace("\\", "/"))]
    needed = {id(entry) for entry in queue}
    while queue:
        entry = queue.pop()
        for name, _ in get_imports(entry[1]):
            dep = by_name.get(name)
            if dep is not None and id(dep) not in needed:
                needed.add(id(dep))
                queue.append(dep)
    return [entry for entry in binaries if id(entry) not in needed]


def stripped(entry: tuple, folder: Path) -> tuple:
    """The TOC entry with its file replaced by a copy without debug symbols."""
    import shutil
    import subprocess

    dest, source, kind = entry
    copy = folder / dest
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, copy)
    subprocess.run(["strip", "--strip-debug", str(copy)], check=True)
    return (dest, str(copy), kind)


def saving_report(kind: str, dropped: list[tuple[tuple, Rule]]) -> None:
    """Add the bytes each rule dropped (``kind``: binaries or data) to SAVINGS_FILE."""
    totals: dict[str, dict] = {}
    if SAVINGS_FILE.exists():
        totals = json.loads(SAVINGS_FILE.read_text(encoding="utf-8"))
    for entry, rule in dropped:
        source = entry[1]
        size = os.path.getsize(source) if os.path.isfile(source) else 0
        item = totals.setdefault(rule.pattern, {"reason": rule.reason, "bytes": 0, "files": 0})
        item["bytes"] += size
        item["files"] += 1
    SAVINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
    SAVINGS_FILE.write_text(json.dumps(totals, indent=1), encoding="utf-8")
