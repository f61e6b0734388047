"""Headless pictures of the real window: one run, a comparison, or a lesson scene.

The window is built offscreen exactly as on a desktop and trains through its real worker, so a
screenshot shows what a lecturer would see, not a re-drawing of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QImage

from gradsim.app.launch import LaunchError, application, wait_until
from gradsim.engine.atomic import atomic_path

if TYPE_CHECKING:
    from gradsim.app.main_window import MainWindow
    from gradsim.engine.config import Config
    from gradsim.engine.lessons import Lesson
    from gradsim.engine.presets import Preset


@dataclass
class Shot:
    """What to show. Exactly one of ``config``, ``compare`` or ``lesson`` is used."""

    size: tuple[int, int] = (1920, 1080)
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


def render(shot: Shot, out: Path, timeout_s: float = 600.0) -> QImage:
    """Build the window offscreen, train, and save a PNG of ``shot.size`` to ``out``."""
    application(offscreen=True)
    from gradsim.app.main_window import MainWindow

    window = MainWindow(
        config=shot.config if not shot.compare and shot.lesson is None else None,
        preset=shot.preset,
        remember=False,
        metric=shot.metric,
    )
    try:
        window.resize(*shot.size)
        window.show()
        if shot.theme is not None:
            window.set_theme(shot.theme)
        if shot.present:
            window.presentation.set_active(True, fullscreen=False)
        _stage(window, shot)
        _settle(window, timeout_s)
        if shot.show_map:
            window.single.show_map(True)
        image = window.grab().toImage()
        if image.width() != shot.size[0] or image.height() != shot.size[1]:
            image = image.scaled(*shot.size)
        with atomic_path(out) as tmp:
            if not image.save(str(tmp), "PNG"):
                raise LaunchError(f"cannot write {out}")
        return image
    finally:
        window.close()


def _stage(window: MainWindow, shot: Shot) -> None:
    """Start what the picture shows: a scene (its own opening steps), a comparison or a run."""
    if shot.lesson is not None:
        window.start_lesson(shot.lesson, shot.scene)
        scene = shot.lesson.scenes[shot.scene]
        steps = shot.steps if shot.steps is not None else scene.steps
        if shot.metric is not None:
            window.set_metric(shot.metric)
        if steps > scene.steps:
            _settle(window, 600.0)
            window.run_until(steps)
        elif scene.play:
            window.pause_after_entry()  # a picture of the scene, not of a running show
        return
    steps = shot.steps if shot.steps is not None else 100
    if shot.compare:
        window.start_comparison(shot.compare, shot.metric)
    window.run_until(steps)


def _settle(window: MainWindow, timeout_s: float) -> None:
    if not wait_until(lambda: (window.draw(), window.is_idle())[1], timeout_s):
        raise LaunchError(f"the run did not finish within {timeout_s:.0f} s")
    window.draw()
    window.refresh_status()
