"""Headless pictures of the real window: one run, a comparison, or a lesson scene.

The window is built offscreen exactly as on a desktop and trains through its real worker, so a
screenshot shows what a lecturer would see, not a re-drawing of it. The picture is the whole
window or one of its plots (``image_export.TARGETS``), as a PNG or an SVG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gradsim.app.launch import LaunchError, application, settle

if TYPE_CHECKING:
    from gradsim.app.main_window import MainWindow
    from gradsim.engine.config import Config
    from gradsim.engine.lessons import Lesson
    from gradsim.engine.presets import Preset


PLOT_WINDOW_SIZE = (1600, 900)  # the window a single plot is pictured in (the app's default)


@dataclass
class Shot:
    """What to show. Exactly one of ``config``, ``compare`` or ``lesson`` is used."""

    size: tuple[int, int] = (1920, 1080)  # of the PNG (and of the window, for the window)
    plot: str = "window"  # or one plot: see image_export.TARGETS
    steps: int | None = None  # None: the scene's own (lessons) or 100
    metric: str | None = None
    theme: str | None = None  # "dark" / "light"; None: dark
    present: bool = False  # presentation look (controls hidden, projector fonts)
    show_map: bool = False  # the order-to-chaos map in place of the layer profile
    config: Config | None = None
    preset: Preset | None = None
    compare: list[tuple[str, Config]] = field(default_factory=list)
    lesson: Lesson | None = None
    scene: int = 0  # 0-based


def render(shot: Shot, out: Path, timeout_s: float = 600.0) -> Path:
    """Build the window offscreen, train, and save ``shot.plot`` to ``out`` (.png or .svg).

    A PNG has ``shot.size`` pixels; an SVG the widget's own size. The window has ``shot.size``
    when it is the picture, else the app's default size. Raises LaunchError (the run did not
    finish, or could not start: then no picture is written), ValueError (e.g. no layer
    profile in a comparison), OSError (cannot write), or KeyboardInterrupt (Ctrl+C: the
    worker is stopped at once).
    """
    application(offscreen=True)
    from gradsim.app.export.image_export import export_image
    from gradsim.app.main_window import MainWindow

    window = MainWindow(
        config=shot.config if not shot.compare and shot.lesson is None else None,
        preset=shot.preset,
        remember=False,
        metric=shot.metric,
    )
    try:
        window.resize(*(shot.size if shot.plot == "window" else PLOT_WINDOW_SIZE))
        window.show()
        if shot.theme is not None:
            window.view_state.set_theme(shot.theme)
        if shot.present:
            window.presentation.set_active(True, fullscreen=False)
        _stage(window, shot)
        _settle(window, timeout_s)
        if shot.show_map or shot.plot == "map":
            window.single.show_map(True)
        size = shot.size if Path(out).suffix.lower() == ".png" else None
        widget = window.export_widget(shot.plot)
        return export_image(widget, out, size, **window.files.describe(shot.plot))
    except KeyboardInterrupt:
        window.session.stop(100)  # a long step need not finish: the picture is not wanted
        raise
    finally:
        window.close()


def _stage(window: MainWindow, shot: Shot) -> None:
    """Start what the picture shows: a scene (its own opening steps), a comparison or a run."""
    session = window.session
    if shot.lesson is not None:
        window.lecture.start_lesson(shot.lesson, shot.scene)
        scene = shot.lesson.scenes[shot.scene]
        steps = shot.steps if shot.steps is not None else scene.steps
        if shot.metric is not None:
            window.view_state.set_metric(shot.metric)
        if steps > scene.steps:
            # Replaces the scene's own opening (and its "then play"): train to ``steps``, pause.
            session.run_until(steps)
        elif scene.play:
            session.pause()  # after its opening: a picture of the scene, not of a running show
        return
    steps = shot.steps if shot.steps is not None else 100
    if shot.compare:
        window.lecture.start_comparison(shot.compare, shot.metric)
    session.run_until(steps)


def _settle(window: MainWindow, timeout_s: float) -> None:
    if not settle(window, timeout_s):
        raise LaunchError(f"the run did not finish within {timeout_s:.0f} s")
    session = window.session
    if session.worker_error is not None:
        raise LaunchError(session.worker_error)
    # A run that could not start (too big for memory, a lesson's CSV missing) would show
    # only the error banner: say why instead of picturing it. (Diverging is no error.)
    for error in session.errors:
        if error:
            raise LaunchError(" ".join(error.split()))
