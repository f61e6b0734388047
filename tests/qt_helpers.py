"""Helpers shared by the Qt widget tests."""

from __future__ import annotations


def paints_caused_by(qtbot, widget, update, expected: int) -> int:
    """Paint events of ``widget``'s viewport that ``update()`` leads to.

    Counting starts once earlier paints have stopped, and goes on for several frames after
    the ``expected`` paints arrived: long enough for the second paint pyqtgraph used to queue
    from inside the first one (about a frame later).
    """
    from PySide6.QtCore import QEvent, QObject

    class Counter(QObject):
        count = 0

        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    counter = Counter()
    widget.viewport().installEventFilter(counter)
    try:
        for _ in range(20):  # until 150 ms pass without a paint
            before = counter.count
            qtbot.wait(150)
            if counter.count == before:
                break
        counter.count = 0
        update()
        if expected:
            qtbot.waitUntil(lambda: counter.count >= expected, timeout=5000)
        qtbot.wait(150)
    finally:
        widget.viewport().removeEventFilter(counter)
    return counter.count


def open_window(qtbot, **kwargs):
    """A shown MainWindow (settings not remembered unless asked) whose worker has reported
    once. The tests' settings live in a private folder (conftest)."""
    from gradsim.app.main_window import MainWindow

    kwargs.setdefault("remember", False)
    window = MainWindow(**kwargs)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: (window.draw(), bool(window.session.snapshots))[1], timeout=5000)
    return window


def history(window):
    """The Recorder of the window's first run."""
    return window.session.histories[0]


def config_of(window):
    """The config of the window's first run."""
    return window.session.configs[0]


def latest(window):
    """The newest snapshot of the window's first run (None before the worker reported)."""
    snapshots = window.session.snapshots
    return snapshots[0] if snapshots else None


def state(window) -> str:
    """What the window's runs are doing, in the status bar's word."""
    from gradsim.app.views.status import run_state

    return run_state(window.session)


def error_box(window):
    """The newest error message box shown over ``window`` (None if none)."""
    from PySide6.QtWidgets import QMessageBox

    boxes = [
        box
        for box in window.findChildren(QMessageBox)
        if box.objectName() == "gradsim-error" and box.isVisible()
    ]
    return boxes[-1] if boxes else None


def error_text(window) -> str:
    """The text of the newest error message box over ``window`` ("" if none)."""
    box = error_box(window)
    return box.text() if box is not None else ""


def run_gradsim(*args: str):
    """``python -m gradsim ARGS`` offscreen in a fresh process (stdout/stderr captured)."""
    import os
    import subprocess
    import sys

    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in os.environ.items() if k.startswith(("HOME", "XDG", "GRADSIM"))})
    return subprocess.run(
        [sys.executable, "-m", "gradsim", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


_SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def tick_number(text: str) -> float | None:
    """The number a tick label states ("2·10⁻³", "10⁶⁰", "0.0005", "1,000", "≤ 0.5", "25 %"),
    or None."""
    text = text.strip().lstrip("≤≥<> ").replace(",", "").replace("\u2009", "")
    if text.endswith("%"):
        percent = tick_number(text[:-1])
        return None if percent is None else percent / 100
    mantissa, times, power = text.partition("10")
    if times and power and power[0] in "⁻⁰¹²³⁴⁵⁶⁷⁸⁹":
        scale = float(mantissa.rstrip("·×")) if mantissa.rstrip("·×") else 1.0
        return scale * 10.0 ** int(power.translate(_SUPERSCRIPTS))
    try:
        return float(text)
    except ValueError:
        return None


def drawn_ticks(axis) -> list[tuple[float, str]]:
    """(value, label) of each labelled tick ``axis`` draws, as pyqtgraph's own drawing code
    makes them (``AxisItem.generateDrawSpecs``): the value is what the tick marks on the data
    (10**v on a log axis; explicit ticks of a decade colour bar are exponents too)."""
    import math

    lo, hi = sorted(axis.range)
    if axis._tickLevels is not None:  # explicit ticks: "25 %" at 0.25, else decades at 10**v
        levels = axis._tickLevels
        return [(v if s.endswith("%") else 10.0**v, s) for level in levels for v, s in level if s]
    horizontal = axis.orientation in ("top", "bottom")
    length = axis.geometry().width() if horizontal else axis.geometry().height()
    if length <= 0:  # not laid out: pyqtgraph draws nothing
        return []
    ticks = []
    for spacing, values in axis.tickValues(lo, hi, length):
        strings = axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing)
        for value, text in zip(values, strings, strict=True):
            if text and lo <= value <= hi:
                ticks.append((10.0**value if axis.logMode else value, text))
    drawn = _drawn_texts(axis)  # pyqtgraph skips a level whose labels would not fit
    return [(v, s) for v, s in ticks if math.isfinite(v) and s in drawn]


def _drawn_texts(axis) -> set[str]:
    """The tick texts ``axis`` actually paints (``generateDrawSpecs``, as in its paint)."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return {text for _, _, text in specs[2]} if specs else set()


def wrong_ticks(window) -> list[str]:
    """Every visible axis label in ``window`` whose number is not the value at its tick."""
    import math

    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsView

    wrong = []
    for view in window.findChildren(QGraphicsView):
        if not view.isVisible():
            continue
        for item in view.scene().items():
            axis = isinstance(item, pg.AxisItem) and item.isVisible()
            if not (axis and item.style["showValues"]):
                continue
            for value, text in drawn_ticks(item):
                number = tick_number(text)
                if number is None or not math.isclose(number, value, rel_tol=0.05, abs_tol=1e-12):
                    wrong.append(f"{item.labelText or item.orientation}: '{text}' at {value:.3g}")
    return wrong


def small_texts(window, min_px: float = 24.0) -> list[str]:
    """Visible texts in ``window`` smaller than ``min_px`` pixels (at 96 dpi: pt * 4/3):
    widget labels, tab bars, plot titles, legends, axis labels and ticks, text items."""
    import re

    import pyqtgraph as pg
    from PySide6.QtGui import QFontInfo
    from PySide6.QtWidgets import QGraphicsView, QLabel, QTabBar

    def pixels(font) -> float:
        return font.pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * 96 / 72

    def html_pixels(html: str) -> list[float]:
        html = re.sub(r"<body[^>]*>", "", html)  # Qt's default size, overridden inside
        sizes = [float(v) * 96 / 72 for v in re.findall(r"font-size:\s*([\d.]+)pt", html)]
        return sizes + [float(v) for v in re.findall(r"font-size:\s*([\d.]+)px", html)]

    small = []
    for widget in window.findChildren(QLabel) + window.findChildren(QTabBar):
        if widget.isVisible() and (not isinstance(widget, QLabel) or widget.text().strip()):
            widget.ensurePolished()
            size = QFontInfo(widget.font()).pixelSize()
            if size < min_px:
                text = widget.text()[:30] if isinstance(widget, QLabel) else "tabs"
                small.append(f"{type(widget).__name__} '{text}': {size}")
    for view in window.findChildren(QGraphicsView):
        if not view.isVisible():
            continue
        for item in view.scene().items():
            if not item.isVisible():
                continue
            if isinstance(item, pg.AxisItem) and item.style["showValues"] and drawn_ticks(item):
                size = pixels(item.style["tickFont"])
                if size < min_px:
                    small.append(f"axis '{item.labelText}' ticks: {size:.0f}")
            elif isinstance(item, pg.LabelItem) and item.text.strip():
                for size in html_pixels(f"font-size:{item.opts.get('size', '0pt')}"):
                    if size < min_px:
                        small.append(f"label '{item.text[:30]}': {size:.0f}")
            elif isinstance(item, pg.TextItem) and item.textItem.toPlainText().strip():
                # Sizes set in the item's HTML win over its default font.
                sizes = html_pixels(item.textItem.toHtml()) or [pixels(item.textItem.font())]
                for size in sizes:
                    if 0 < size < min_px:
                        small.append(f"text '{item.textItem.toPlainText()[:30]}': {size:.0f}")
    return small


def clipped_axis_labels(window) -> list[str]:
    """Visible axis titles in ``window`` longer than their axis (pyqtgraph centres a title on
    its axis, so a longer one runs past both ends and is cut by the neighbouring plot)."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsView

    clipped = []
    for view in window.findChildren(QGraphicsView):
        if not view.isVisible():
            continue
        for item in view.scene().items():
            if not (isinstance(item, pg.AxisItem) and item.isVisible() and item.label.isVisible()):
                continue
            if not item.labelText:
                continue
            vertical = item.orientation in ("left", "right")
            length = item.geometry().height() if vertical else item.geometry().width()
            text = item.label.boundingRect().width()
            if length > 0 and text > length + 1:
                clipped.append(f"'{item.labelText}': {text:.0f} px on a {length:.0f} px axis")
    return clipped
