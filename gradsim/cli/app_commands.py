"""Commands that involve the app: open it (on a preset, config or lesson), render screenshots,
list lessons. Qt is imported only when a window is really built."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from gradsim.cli.common import (
    DEFAULT_STEPS,
    EXIT_OK,
    PICTURE_THEME_HELP,
    PLOT_NAMES,
    THEME_NAMES,
    Parser,
    UsageError,
    add_config_arguments,
    build_config,
    image_size,
    load_preset,
    metric_name,
    out,
    positive_int,
)
from gradsim.cli.display import window_problem
from gradsim.cli.record import add_record_command, check_out

if TYPE_CHECKING:
    from gradsim.engine.lessons import Lesson


def add_opening_arguments(parser: argparse.ArgumentParser) -> None:
    """What ``gradsim`` (no command) opens, and how."""
    opening = parser.add_mutually_exclusive_group()
    opening.add_argument("--preset", metavar="ID", help="open the app on this preset")
    opening.add_argument("--config", metavar="FILE.toml", help="open the app on this config")
    opening.add_argument(
        "--lesson",
        metavar="NAME|FILE",
        help="open in lesson mode: a bundled lesson (see 'gradsim lessons') or a lesson file",
    )
    _add_look_arguments(parser, "colour theme (default: the last one used, else dark)")


def _add_look_arguments(parser: argparse.ArgumentParser, theme_help: str) -> None:
    parser.add_argument(
        "--scene",
        metavar="N",
        type=positive_int,
        default=1,
        help="with --lesson: start at scene N (default 1)",
    )
    parser.add_argument(
        "--present",
        action="store_true",
        help="presentation mode: full screen, large fonts, high contrast",
    )
    parser.add_argument(
        "--theme",
        choices=THEME_NAMES,
        default=None,
        help=theme_help,
    )


def add_app_commands(commands: argparse._SubParsersAction[Parser]) -> None:
    """The ``screenshot``, ``record`` and ``lessons`` commands."""
    shot = commands.add_parser(
        "screenshot",
        help="render the app offscreen after N steps and save it as a PNG or SVG",
        description="Build the real main window offscreen, train N steps through its worker, "
        "and save a picture of it or of one plot (for slides and handouts). With --compare, "
        "runs 2-4 presets side by side; with --lesson, shows one scene of a lesson.",
    )
    add_config_arguments(shot)
    shot.add_argument(
        "--compare",
        metavar="ID",
        action="append",
        default=[],
        help="compare presets side by side, in lockstep: give it 2 to 4 times",
    )
    shot.add_argument(
        "--lesson",
        metavar="NAME|FILE",
        default=None,
        help="show a scene of a lesson (with --scene N)",
    )
    _add_look_arguments(shot, PICTURE_THEME_HELP)
    shot.add_argument(
        "--steps",
        metavar="N",
        type=positive_int,
        default=None,
        help="training steps before the picture (default: the preset's or scene's, or 100)",
    )
    shot.add_argument(
        "--size",
        metavar="WxH",
        type=image_size,
        default=(1920, 1080),
        help="PNG size in pixels (default 1920x1080); an SVG has the plot's own size",
    )
    shot.add_argument(
        "--metric",
        metavar="NAME",
        type=metric_name,
        default=None,
        help="statistic shown in the heatmap (default: the preset's)",
    )
    shot.add_argument(
        "--map",
        action="store_true",
        help="show the order-to-chaos map instead of the layer profile",
    )
    shot.add_argument(
        "--plot",
        choices=PLOT_NAMES,
        default="window",
        help="picture the whole window (default) or one plot: heatmap, layer profile, loss, "
        "learned function or order-to-chaos map (a comparison has its heatmaps, loss and "
        "profile)",
    )
    shot.add_argument(
        "--out", metavar="FILE", required=True, help="file to write: .png, or .svg (vectors)"
    )
    shot.set_defaults(handler=cmd_screenshot)

    add_record_command(commands)

    lessons = commands.add_parser(
        "lessons",
        help="list the bundled lessons and their scenes",
        description="List the bundled lessons: each one's name (for 'gradsim --lesson NAME'), "
        "title and numbered scenes (for '--scene N'). Your own lesson files open with "
        "'gradsim --lesson FILE.toml'.",
    )
    lessons.set_defaults(handler=cmd_lessons)


def open_app(args: argparse.Namespace) -> int:
    """``gradsim [--preset ID | --config FILE | --lesson NAME] [--present] [--theme T]``."""
    preset = load_preset(args.preset) if args.preset is not None else None
    config = build_config(None, args.config, [])[0] if args.config is not None else None
    lesson = _lesson(args.lesson, args.scene) if args.lesson is not None else None
    problem = window_problem()
    if problem is not None:
        raise UsageError(problem)
    from gradsim.app.launch import LaunchError, run_app

    try:
        return run_app(
            config=config,
            preset=preset,
            lesson=lesson,
            scene=args.scene - 1,
            present=args.present,
            theme=args.theme,
        )
    except LaunchError as exc:
        raise UsageError(str(exc)) from exc


def cmd_screenshot(args: argparse.Namespace) -> int:
    target = Path(args.out)
    kind = target.suffix.lower()
    if kind not in (".png", ".svg"):
        raise UsageError(f"--out must end in .png or .svg, got {args.out!r}")
    if not target.parent.resolve().is_dir():
        raise UsageError(f"cannot write {args.out}: folder {target.parent} does not exist")
    check_out(target)
    if args.compare and args.plot in ("profile", "map"):
        raise UsageError(
            f"--plot {args.plot}: a comparison has no {args.plot}; use heatmap or loss"
        )
    from gradsim.app.export.screenshot import Shot

    shot = Shot(
        size=args.size,
        plot=args.plot,
        metric=args.metric,
        theme=args.theme,
        present=args.present,
        show_map=args.map,
    )
    if args.compare:
        if args.preset or args.config or args.set or args.lesson:
            raise UsageError("--compare takes presets only; leave out --preset/--config/--set")
        if not 2 <= len(args.compare) <= 4:
            raise UsageError(f"--compare needs 2 to 4 presets, got {len(args.compare)}")
        presets = [load_preset(preset_id) for preset_id in args.compare]
        shot.compare = [(p.title, p.config) for p in presets]
        shot.metric = args.metric or presets[0].metric
        shot.steps = args.steps or max(p.steps for p in presets)
        label = " vs ".join(args.compare)
    elif args.lesson is not None:
        if args.preset or args.config or args.set:
            raise UsageError("--lesson shows the scene's own config; leave out --preset/--config")
        shot.lesson = _lesson(args.lesson, args.scene)
        shot.scene = args.scene - 1
        shot.steps = args.steps
        label = f"lesson {shot.lesson.id}, scene {args.scene}"
    else:
        shot.config, label = build_config(args.preset, args.config, args.set)
        shot.preset = load_preset(args.preset) if args.preset is not None else None
        shot.steps = args.steps or (shot.preset.steps if shot.preset else DEFAULT_STEPS)
    from gradsim.app.export.screenshot import render
    from gradsim.app.launch import LaunchError

    try:
        render(shot, target)
    except (LaunchError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    what = "" if args.plot == "window" else f"{args.plot} of "
    shape = "SVG" if kind == ".svg" else f"{args.size[0]}x{args.size[1]}"
    out(f"wrote {args.out} ({shape}, {what}{label})")
    return EXIT_OK


def cmd_lessons(args: argparse.Namespace) -> int:
    from gradsim.engine.lessons import LessonError, list_lessons

    try:
        lessons = list_lessons()
    except (LessonError, OSError) as exc:
        raise UsageError(f"cannot load the lessons: {exc}") from exc
    for lesson in lessons:
        out(f"{lesson.id}  {lesson.title} ({len(lesson.scenes)} scenes)")
        for number, scene in enumerate(lesson.scenes, 1):
            runs = f"  [{' vs '.join(r.label for r in scene.compare)}]" if scene.compare else ""
            out(f"  {number:>2}. {scene.title}{runs}")
    return EXIT_OK


def _lesson(name: str, scene: int) -> Lesson:
    from gradsim.engine.lessons import LessonError, UnknownLessonError, load_lesson

    try:
        lesson = load_lesson(name)
    except UnknownLessonError as exc:
        raise UsageError(str(exc)) from exc
    except LessonError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot read lesson {name}: {exc.strerror or exc}") from exc
    if scene > len(lesson.scenes):
        raise UsageError(f"--scene {scene}: lesson {lesson.id} has {len(lesson.scenes)} scenes")
    return lesson
