"""Pictures of the window or one of its plots for slides: PNG at any size, SVG, the clipboard.

A PNG is not an enlarged screen grab: the widget paints itself through a QPainter into an image
whose device pixel ratio maps the widget's logical size onto the requested pixels, so text,
lines and markers are drawn at full resolution. When the requested aspect ratio differs from
the widget's, a plot is laid out afresh at that aspect for the picture (and put back at once),
growing along its short side: the text is as large as a letterboxed fit would make it, and the
plot fills the picture. The window itself is never resized (the window manager would see it);
it is centred on its own background colour instead.

An SVG is the same painting recorded as vectors: text and lines stay vectors, images (the
heatmap, the colour bars) stay embedded rasters.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QCoreApplication, QEvent, QIODevice, QPoint, QPointF, QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QRegion
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QGraphicsView, QWidget

from gradsim.engine.atomic import reason, write_atomic, write_text_atomic

TARGETS = ("window", "heatmap", "profile", "loss", "distributions", "function", "map")
TARGET_NAMES = {
    "profile": "layer profile",
    "loss": "loss plot",
    "function": "learned function",
    "map": "order-to-chaos map",
}
FORMATS = (".png", ".svg")
MAX_PIXELS = 7680 * 4320  # the command line's largest size; ~130 MB of RGBA
SVG_DPI = 96  # the SVG's physical size: one widget pixel = one CSS pixel

_WITH_CHILDREN = QWidget.RenderFlag.DrawWindowBackground | QWidget.RenderFlag.DrawChildren
_ALONE = QWidget.RenderFlag.DrawWindowBackground
_SVG = "{http://www.w3.org/2000/svg}"
_XLINK = "{http://www.w3.org/1999/xlink}"
_NON_SCALING = "non-scaling-stroke"


# -- PNG and clipboard -----------------------------------------------------------------------


def render_image(
    widget: QWidget, size: tuple[int, int] | None = None, *, background: QColor | None = None
) -> QImage:
    """``widget`` painted into an image of exactly ``size`` pixels (None: its own size times
    its device pixel ratio), at full resolution; see the module notes for other aspect ratios.

    ``background`` fills what the widget does not cover (default: the widget's own background).
    Raises ValueError for a size that is not positive or above ``MAX_PIXELS``.
    """
    fit = size is not None
    if size is None:
        ratio = widget.devicePixelRatioF()
        size = (max(1, round(widget.width() * ratio)), max(1, round(widget.height() * ratio)))
    width, height = _checked_size(size)
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(background if background is not None else _background(widget))
    with _laid_out(widget, (width, height) if fit else None):
        logical = widget.size()
        scale = min(width / max(1, logical.width()), height / max(1, logical.height()))
        image.setDevicePixelRatio(scale)
        painter = QPainter(image)
        try:
            # Centred; the image's coordinates are logical pixels now.
            margin_x = (width / scale - logical.width()) / 2
            painter.translate(QPointF(margin_x, (height / scale - logical.height()) / 2))
            with _export_mode(widget, scale):
                QWidget.render(widget, painter, QPoint(), QRegion(), _WITH_CHILDREN)
        finally:
            painter.end()
    image.setDevicePixelRatio(1.0)  # its size() is its pixel size, wherever it goes next
    return image


def export_image(
    widget: QWidget,
    path: str | Path,
    size: tuple[int, int] | None = None,
    *,
    title: str = "gradsim",
    description: str = "",
) -> Path:
    """Save ``widget`` as PNG or SVG, by the path's suffix.

    ``size`` is the PNG's size in pixels (None: the widget's own); an SVG always has the
    widget's size, and carries ``title`` and ``description``. Raises ValueError (bad suffix
    or size) or OSError (cannot write), with a message that names the file; an existing file
    is replaced only by a complete one.
    """
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in FORMATS:
        raise ValueError(f"cannot save {path.name}: the file name must end in .png or .svg")
    _check_folder(path)
    if kind == ".svg":
        render_svg(widget, path, title=title, description=description)
        return path
    image = render_image(widget, size)
    # Encoded in memory, written by Python: a full disk or a name too long then says so,
    # where QImage.save(file) would only report that it failed.
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise OSError(f"cannot write {path}: Qt could not encode the PNG")
    data = bytes(buffer.data().data())
    try:
        write_atomic(path, lambda handle: handle.write(data))
    except OSError as exc:
        raise OSError(f"cannot write {path}: {reason(exc)}") from exc
    return path


def copy_image(widget: QWidget) -> QImage:
    """Put a picture of ``widget`` (at its on-screen size) on the clipboard; returns it."""
    image = render_image(widget)
    QApplication.clipboard().setImage(image)
    return image


def _checked_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(v) for v in size)
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise ValueError(f"image size {width}x{height} is not between 1x1 and 7680x4320 pixels")
    return width, height


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")


def _background(widget: QWidget) -> QColor:
    """What the widget paints behind itself (a plot's theme background, else the palette's)."""
    if isinstance(widget, QGraphicsView):
        color = widget.backgroundBrush().color()
        if color.alpha():
            return color
    return widget.palette().color(widget.backgroundRole())


def _settle_layouts() -> None:
    """Apply pending layout requests (a plot shown or resized just now) before painting."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


@contextlib.contextmanager
def _laid_out(widget: QWidget, size: tuple[int, int] | None) -> Iterator[None]:
    """Give a plot (not the window) ``size``'s aspect ratio while it is painted.

    It grows along its short side, so the scale is the one a letterboxed fit would have. The
    old geometry is back before the event loop runs again, so the screen never shows it.
    """
    _settle_layouts()  # before resizing: a pending request of a parent would undo the resize
    old = widget.size()
    if size is None or widget.isWindow() or old.isEmpty():
        yield
        return
    scale = min(size[0] / old.width(), size[1] / old.height())
    widget.resize(max(1, round(size[0] / scale)), max(1, round(size[1] / scale)))
    try:
        yield
    finally:
        widget.resize(old)


@contextlib.contextmanager
def _export_mode(widget: QWidget, scale: float) -> Iterator[None]:
    """pyqtgraph's export mode on every plot in ``widget`` while it is painted.

    Markers are drawn as shapes rather than copied from a screen-resolution pixmap, curves are
    antialiased, the "A" button hides, and the background is painted rather than copied from a
    cached pixmap. Above 1x the data lines widen with ``scale``: pyqtgraph's pens are
    "cosmetic" (a fixed number of device pixels), so a 4K picture would otherwise show curves a
    third as thick as on screen next to text three times as large. Axes and grid lines stay
    one device pixel wide (hairlines; their pens are cached by colour, so they are left alone).
    """
    views = widget.findChildren(QGraphicsView)
    if isinstance(widget, QGraphicsView):
        views.append(widget)
    undo: list[Callable[[], None]] = []
    try:
        for view in views:
            undo.append(partial(view.setCacheMode, view.cacheMode()))
            view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
            for item in view.scene().items():
                if hasattr(item, "setExportMode"):
                    item.setExportMode(True, {"antialias": True})
                    undo.append(partial(item.setExportMode, False))
                if scale > 1.0:
                    undo.extend(_thicken(item, scale))
        yield
    finally:
        for restore in reversed(undo):
            restore()


def _thicken(item: object, scale: float) -> list[Callable[[], None]]:
    """Widen the cosmetic pens of a curve or a marker line; returns how to undo it."""
    undo: list[Callable[[], None]] = []
    if isinstance(item, pg.PlotCurveItem):
        for key in ("pen", "shadowPen"):
            pen = item.opts.get(key)
            if isinstance(pen, QPen) and pen.isCosmetic():
                undo.append(partial(item.opts.__setitem__, key, pen))
                item.opts[key] = _wider(pen, scale)
    elif isinstance(item, pg.InfiniteLine) and item.currentPen.isCosmetic():
        undo.append(partial(setattr, item, "currentPen", item.currentPen))
        item.currentPen = _wider(item.currentPen, scale)
    return undo


def _wider(pen: QPen, scale: float) -> QPen:
    wider = QPen(pen)
    wider.setWidthF(max(pen.widthF(), 1.0) * scale)  # width 0 is a 1-pixel hairline
    return wider


# -- SVG -------------------------------------------------------------------------------------


def render_svg(
    widget: QWidget, path: str | Path, *, title: str = "gradsim", description: str = ""
) -> None:
    """Write ``widget`` as an SVG of its own size: text and lines as vectors, images embedded.

    Each widget is recorded on its own at the origin, then placed by a translated group and
    clipped to what its parents show. (Recorded all at once, children are placed through a
    redirection offset that Qt's SVG writer leaves out of its clip paths: every clipped plot
    in the window came out cut to the wrong rectangle.) Strokes end up in the drawing's own
    units (``scalable_strokes``). Written atomically; OSError if it cannot be.
    """
    path = Path(path)
    _check_folder(path)
    ET.register_namespace("", _SVG[1:-1])
    ET.register_namespace("xlink", _XLINK[1:-1])
    width, height = widget.width(), widget.height()
    root = ET.Element(f"{_SVG}svg", version="1.1", viewBox=f"0 0 {width} {height}")
    root.set("width", f"{width * 25.4 / SVG_DPI:.2f}mm")
    root.set("height", f"{height * 25.4 / SVG_DPI:.2f}mm")
    ET.SubElement(root, f"{_SVG}title").text = title
    ET.SubElement(root, f"{_SVG}desc").text = description
    defs = ET.SubElement(root, f"{_SVG}defs")
    _settle_layouts()
    with _export_mode(widget, 1.0):
        for number, (part, origin, shown) in enumerate(_visible_parts(widget)):
            prefix = f"w{number}-"
            clip = ET.SubElement(defs, f"{_SVG}clipPath", id=f"{prefix}shown")
            x, y, w, h = shown.x(), shown.y(), shown.width(), shown.height()
            ET.SubElement(clip, f"{_SVG}rect", x=str(x), y=str(y), width=str(w), height=str(h))
            placed = ET.SubElement(
                root, f"{_SVG}g", transform=f"matrix(1,0,0,1,{origin.x()},{origin.y()})"
            )
            body = ET.SubElement(placed, f"{_SVG}g", {"clip-path": f"url(#{prefix}shown)"})
            for element in _recorded(part, prefix):
                if element.tag == f"{_SVG}defs":
                    defs.extend(list(element))
                elif element.tag not in (f"{_SVG}title", f"{_SVG}desc"):
                    body.append(element)
    scalable_strokes(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise OSError(f"cannot write {path}: {reason(exc)}") from exc


def _visible_parts(root: QWidget) -> Iterator[tuple[QWidget, QPoint, QRect]]:
    """Each visible widget under ``root`` (parents before children, in stacking order), its
    position in ``root`` and the part of it (its own coordinates) its ancestors let show."""

    def walk(widget: QWidget, shown: QRect) -> Iterator[tuple[QWidget, QPoint, QRect]]:
        origin = widget.mapTo(root, QPoint(0, 0)) if widget is not root else QPoint(0, 0)
        shown = shown.intersected(widget.rect().translated(origin))
        if shown.isEmpty():
            return
        yield widget, origin, shown.translated(-origin)
        for child in widget.children():
            if isinstance(child, QWidget) and not child.isWindow() and child.isVisibleTo(widget):
                yield from walk(child, shown)

    yield from walk(root, root.rect())


def _recorded(widget: QWidget, prefix: str) -> ET.Element:
    """An SVG of ``widget`` alone (without its children), its ids prefixed to stay unique."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # SVG 1.1 rather than Qt's default SVG Tiny 1.2: only 1.1 keeps the clipping (a zoomed
    # heatmap must not spill over its axes).
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setOutputDevice(buffer)
    generator.setSize(widget.size())
    generator.setViewBox(widget.rect())
    painter = QPainter(generator)
    try:
        QWidget.render(widget, painter, QPoint(), QRegion(), _ALONE)
    finally:
        painter.end()
    fragment = ET.fromstring(bytes(buffer.data().data()).decode("utf-8"))
    for element in fragment.iter():
        for key, value in element.attrib.items():
            if key == "id":
                element.set(key, prefix + value)
            elif "url(#" in value:
                element.set(key, value.replace("url(#", f"url(#{prefix}"))
            elif key == f"{_XLINK}href" and value.startswith("#"):
                element.set(key, f"#{prefix}{value[1:]}")
    return fragment


_MATRIX = re.compile(r"matrix\(([^)]*)\)")
_PATH_TOKEN = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[A-Za-z]")
_POINTS = {"polyline": "points", "polygon": "points", "path": "d"}


def scalable_strokes(root: ET.Element) -> None:
    """Rewrite an SVG tree in place so that every stroke is in the drawing's own units.

    Qt writes pyqtgraph's cosmetic pens as ``non-scaling-stroke`` inside groups that carry the
    plot's data-to-pixel transform. Viewers that ignore that attribute (several slide tools)
    would draw a 2-pixel loss curve hundreds of pixels wide, and those that honour it keep
    lines hairline-thin on an enlarged slide. Here the transform is applied to the points
    themselves, after which the attribute can go: widths are plain widget pixels, and lines
    grow with the text. Elements this cannot rewrite keep their attribute.
    """
    for group in list(root.iter(f"{_SVG}g")):
        matrix = _matrix(group.get("transform"))
        if matrix is not None and matrix[:4] != (1.0, 0.0, 0.0, 1.0) and len(group):
            _bake(group, matrix)
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in root.iter():
        if element.get("vector-effect") == _NON_SCALING and _unscaled(element, parents):
            del element.attrib["vector-effect"]


def _matrix(transform: str | None) -> tuple[float, ...] | None:
    match = _MATRIX.fullmatch(transform.strip()) if transform else None
    if match is None:
        return None
    try:
        values = tuple(float(v) for v in match.group(1).replace(",", " ").split())
    except ValueError:
        return None
    return values if len(values) == 6 else None


def _bake(group: ET.Element, m: tuple[float, ...]) -> None:
    """Apply ``m`` to the points of a group of polylines and paths and drop the group's
    transform; the group is left alone unless every child can be rewritten."""
    a, b, c, d, e, f = m
    rewritten: list[tuple[ET.Element, str, str]] = []
    for child in group:
        key = _POINTS.get(child.tag.removeprefix(_SVG))
        if key is None or child.get("vector-effect") != _NON_SCALING or key not in child.attrib:
            return
        out: list[str] = []
        pending: list[float] = []
        for token in _PATH_TOKEN.findall(child.attrib[key]):
            if token.isalpha():
                if pending or token not in "MLCZ":  # Qt's absolute commands, whole pairs only
                    return
                out.append(token)
                continue
            pending.append(float(token))
            if len(pending) == 2:
                x, y = pending
                out.append(f"{a * x + c * y + e:.6g},{b * x + d * y + f:.6g}")
                pending = []
        if pending:
            return
        rewritten.append((child, key, " ".join(out)))
    for child, key, value in rewritten:
        child.set(key, value)
    del group.attrib["transform"]


def _unscaled(element: ET.Element, parents: dict[ET.Element, ET.Element]) -> bool:
    """Whether nothing above ``element`` scales, rotates or skews it."""
    node = parents.get(element)
    while node is not None:
        if node.get("transform"):
            matrix = _matrix(node.get("transform"))
            if matrix is None or matrix[:4] != (1.0, 0.0, 0.0, 1.0):
                return False
        node = parents.get(node)
    return True
