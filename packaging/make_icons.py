"""Render resources/icons/gradsim.svg into the sizes the platforms need.

    python packaging/make_icons.py

Writes, next to the SVG: gradsim-16.png … gradsim-1024.png (Linux desktop files and the
window icon), gradsim.ico (Windows: 16-256 px in one file) and gradsim.icns (macOS). The
outputs are committed so a build needs neither this script nor its tools; run it again after
editing the SVG. Qt (PySide6's SVG renderer) draws the PNGs; Pillow packs ICO and ICNS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SOURCE = ICONS / "gradsim.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_png(size: int, out: Path) -> None:
    """Draw the SVG at ``size`` × ``size`` pixels, antialiased, on a transparent background."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"cannot write {out}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - needed
    pngs = {}
    for size in PNG_SIZES:
        pngs[size] = ICONS / f"gradsim-{size}.png"
        render_png(size, pngs[size])
    with Image.open(pngs[256]) as big:
        big.save(ICONS / "gradsim.ico", sizes=[(s, s) for s in ICO_SIZES])
    with Image.open(pngs[1024]) as huge:
        huge.save(ICONS / "gradsim.icns")  # Pillow writes the 16-1024 px set from the largest
    for path in sorted(ICONS.iterdir()):
        sys.stdout.write(f"{path.relative_to(ICONS.parents[1])}  {path.stat().st_size:,} bytes\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
