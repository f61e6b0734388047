"""An animated GIF of a recorded run's heatmap filling in, step by step (for slides).

Every frame is drawn by a heatmap of its own (offscreen, never the window's) whose step axis and
colour range are pinned to the whole run, so columns appear from left to right and a colour
means the same value in every frame. Frames are painted like the PNG export (at full
resolution), then quantised to ONE palette made from the last frame, which holds every colour
any frame uses: viridis keeps its smooth ramp, nothing flickers between frames, and each frame
is stored as the small rectangle that changed. Frames are encoded and written one at a time
(``gif_stream.GifStream``), so memory is a few frames whatever their number (~180 MB peak for
the whole ``gradsim record`` at 1920x1080, 100 or 1,000 frames alike).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from gradsim.app.export.gif_stream import GifStream
from gradsim.app.export.image_export import render_image
from gradsim.app.views.colors import LevelTracker, log_values
from gradsim.app.views.heatmap import HeatmapView
from gradsim.app.views.themes import DEFAULT_THEME, Theme
from gradsim.engine.atomic import atomic_path
from gradsim.engine.recording import Recorder

if TYPE_CHECKING:
    from PIL import Image

LAYOUT_HEIGHT = 540  # frames are laid out this many logical pixels tall, then drawn at any size
MAX_SIZE = (1920, 1080)  # a GIF is a lossless 256-colour format: larger ones get very heavy
MIN_SIZE = (160, 90)
MAX_FPS = 50  # browsers slow down GIFs with delays under 20 ms
MAX_CELLS = 2_000_000  # heatmap cells per frame at most (~8 MB of colours)
HOLD_LAST_MS = 1500  # the finished picture stays up a moment before the loop starts again


def frame_cuts(steps: np.ndarray, frames: int) -> np.ndarray:
    """How many recorded rows each frame shows: frame k (1..frames) shows the rows up to the
    k-th of ``frames`` evenly spaced steps between the first and the last. A run with fewer
    recorded rows than ``frames`` gets one frame per row (repeats are dropped)."""
    steps = np.asarray(steps, dtype=np.int64)
    if steps.size == 0 or frames < 1:
        return np.empty(0, dtype=np.int64)
    first, last = int(steps[0]), int(steps[-1])
    cuts = first + ((last - first) * np.arange(1, frames + 1, dtype=np.int64)) // frames
    return np.unique(np.searchsorted(steps, cuts, side="right"))  # >= 1: cuts >= first


def record_gif(
    history: Recorder,
    metric: str,
    path: str | Path,
    *,
    frames: int = 60,
    fps: int = 12,
    size: tuple[int, int] = (960, 540),
    theme: Theme | None = None,
    progress: Callable[[int, int], bool | None] | None = None,
) -> bool:
    """Write an animated GIF (looping forever) of ``metric``'s heatmap filling in over the run.

    At most ``frames`` frames (fewer for a run with fewer recorded steps; see ``frame_cuts``),
    each shown 1/``fps`` s, the last one longer. ``progress(done, total)`` is called after
    each frame; returning False cancels: False is returned and no file is written (an existing
    one is left as it was). Raises ValueError for bad arguments or an empty history, OSError
    if the file cannot be written. Needs Pillow (Qt cannot write GIFs).
    """
    from PIL import Image

    path = Path(path)
    _check(path, frames, fps, size)
    try:
        steps, values = history.window(metric, None)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None
    if steps.size == 0:
        raise ValueError("nothing recorded yet: train some steps first")
    theme = theme or DEFAULT_THEME
    counts = frame_cuts(steps, frames)
    delay = max(20, round(1000 / fps / 10) * 10)  # GIF delays are in hundredths of a second
    view = _heatmap(steps, values, metric, theme, size)
    try:
        # The whole run first: its palette serves every frame. No dithering: it would speckle
        # the flat areas, flicker from frame to frame and bloat the file.
        last = _frame(view, steps, values, int(counts[-1]), size, theme)
        flat = Image.Dither.NONE
        palette = last.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=flat)
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as handle:
                # Each frame is encoded and written as soon as it is drawn: memory holds about
                # two frames whatever their number (the writer keeps the previous one).
                gif = GifStream(handle, loop=0)
                for done, count in enumerate(counts, 1):
                    if done == len(counts):
                        rgb, duration = last, max(delay, HOLD_LAST_MS)
                    else:
                        rgb, duration = _frame(view, steps, values, count, size, theme), delay
                    gif.add(rgb.quantize(palette=palette, dither=flat), duration)
                    del rgb
                    if progress is not None and progress(done, len(counts)) is False:
                        raise _Cancelled
                gif.close()
        except OSError as exc:
            raise OSError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except _Cancelled:
        return False  # atomic_path removed the temporary file; the old one is untouched
    finally:
        view.close()
        view.deleteLater()
    return True


class _Cancelled(Exception):
    """Raised inside the atomic write when ``progress`` returns False: the file is dropped."""


def _check(path: Path, frames: int, fps: int, size: tuple[int, int]) -> None:
    if path.suffix.lower() != ".gif":
        raise ValueError(f"cannot save {path.name}: the file name must end in .gif")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    if frames < 1:
        raise ValueError(f"need at least 1 frame, got {frames}")
    if not 1 <= fps <= MAX_FPS:
        raise ValueError(f"frames per second must be 1 to {MAX_FPS}, got {fps}")
    width, height = size
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise ValueError(
            f"GIF size {width}x{height} is not between {MIN_SIZE[0]}x{MIN_SIZE[1]} and "
            f"{MAX_SIZE[0]}x{MAX_SIZE[1]}"
        )


def _heatmap(
    steps: np.ndarray, values: np.ndarray, metric: str, theme: Theme, size: tuple[int, int]
) -> HeatmapView:
    """An offscreen heatmap with the whole run's step axis and colour range pinned."""
    # One column per step where the cell budget allows: a column then keeps its pixels from
    # frame to frame (binning a growing span into a fixed number of columns would move every
    # bin each frame: shimmering noise, and a GIF that cannot store frames as small changes).
    view = HeatmapView(max_columns=int(steps[-1] - steps[0]) + 1, max_cells=MAX_CELLS)
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)  # a desktop never sees it
    view.set_theme(theme)
    view.set_metric(metric)
    view.set_window(None)
    logs = log_values(values)
    finite = np.isfinite(logs)
    lo = float(np.min(logs, where=finite, initial=np.inf))
    hi = float(np.max(logs, where=finite, initial=-np.inf))
    view.set_levels(*LevelTracker().update_range(lo, hi))  # what auto levels give the whole run
    scale = size[1] / LAYOUT_HEIGHT  # below 1: a thumbnail of the full layout, not a cramped one
    view.resize(round(size[0] / scale), LAYOUT_HEIGHT)
    view.show()
    view.set_x_range(int(steps[0]), int(steps[-1]))
    return view


def _frame(
    view: HeatmapView,
    steps: np.ndarray,
    values: np.ndarray,
    count: int,
    size: tuple[int, int],
    theme: Theme,
) -> Image.Image:
    """The heatmap of the first ``count`` rows, labelled with its step, as an RGB image."""
    from PIL import Image

    view.set_data(steps[:count], values[:count])
    image = render_image(view, size).convertToFormat(QImage.Format.Format_RGB888)
    _label(image, f"step {int(steps[count - 1])}", theme)
    width, height = image.width(), image.height()
    return Image.frombuffer(
        "RGB", (width, height), bytes(image.constBits()), "raw", "RGB", image.bytesPerLine(), 1
    ).copy()


def _label(image: QImage, text: str, theme: Theme) -> None:
    """``text`` in the top right corner (the title line's free end), in the theme's colour."""
    scale = image.height() / LAYOUT_HEIGHT
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(10, round(17 * scale)))
    painter = QPainter(image)
    try:
        painter.setFont(font)
        painter.setPen(QColor(theme.foreground))
        margin = round(10 * scale)
        box = QRect(margin, round(4 * scale), image.width() - 2 * margin, round(30 * scale))
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(box, align, text)
    finally:
        painter.end()
