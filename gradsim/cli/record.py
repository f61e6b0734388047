"""``gradsim record``: train headless, then write an animated GIF of the heatmap filling in.

The run trains in this process (no worker, no window), so the GIF shows exactly what
``gradsim run`` would record. Qt is imported only to paint the frames, offscreen.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gradsim.cli.common import (
    DEFAULT_STEPS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PICTURE_THEME_HELP,
    THEME_NAMES,
    Interrupted,
    Parser,
    ProgressBar,
    UsageError,
    add_config_arguments,
    build_config,
    error_line,
    image_size,
    load_preset,
    metric_name,
    out,
    positive_int,
    train,
)

DEFAULT_FRAMES = 60
DEFAULT_FPS = 12
DEFAULT_SIZE = (960, 540)
MAX_GIF = (1920, 1080)  # animation.MAX_SIZE, without importing Qt to check arguments


def add_record_command(commands: argparse._SubParsersAction[Parser]) -> None:
    record = commands.add_parser(
        "record",
        help="train headless and save an animated GIF of the heatmap filling in",
        description="Train a network headless, then save an animated GIF (looping) of its "
        "heatmap filling in step by step, on a fixed step axis and colour range (for slides).",
    )
    add_config_arguments(record)
    record.add_argument(
        "--steps",
        metavar="N",
        type=positive_int,
        default=None,
        help=f"training steps (default: the preset's, or {DEFAULT_STEPS})",
    )
    record.add_argument("--out", metavar="FILE.gif", required=True, help="GIF file to write")
    record.add_argument(
        "--frames",
        metavar="K",
        type=positive_int,
        default=DEFAULT_FRAMES,
        help=f"frames (default {DEFAULT_FRAMES}; fewer if the run records fewer steps)",
    )
    record.add_argument(
        "--fps",
        metavar="F",
        type=positive_int,
        default=DEFAULT_FPS,
        help=f"frames per second, 1 to 50 (default {DEFAULT_FPS})",
    )
    record.add_argument(
        "--size",
        metavar="WxH",
        type=image_size,
        default=DEFAULT_SIZE,
        help=f"GIF size in pixels, up to {MAX_GIF[0]}x{MAX_GIF[1]} "
        f"(default {DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]})",
    )
    record.add_argument(
        "--metric",
        metavar="NAME",
        type=metric_name,
        default=None,
        help="statistic shown (default: the preset's, else backprop_grad_rms)",
    )
    record.add_argument(
        "--theme", choices=THEME_NAMES, default="dark", help=PICTURE_THEME_HELP
    )
    record.set_defaults(handler=cmd_record)


def check_out(target: Path) -> None:
    """Refuse, before the run, an --out the file system would refuse at the end (a name too
    long, a read-only folder): UsageError naming it."""
    from gradsim.engine.atomic import check_writable, reason

    try:
        check_writable(target)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {reason(exc)}") from exc


def cmd_record(args: argparse.Namespace) -> int:
    """``gradsim record [--preset ID | --config FILE] [--set K=V ...] --out FILE.gif ...``."""
    target = Path(args.out)
    if target.suffix.lower() != ".gif":
        raise UsageError(f"--out must end in .gif, got {args.out!r}")
    if not target.parent.resolve().is_dir():
        raise UsageError(f"cannot write {args.out}: folder {target.parent} does not exist")
    check_out(target)
    width, height = args.size
    if width > MAX_GIF[0] or height > MAX_GIF[1]:
        raise UsageError(f"--size {width}x{height}: a GIF can be at most {MAX_GIF[0]}x{MAX_GIF[1]}")
    if args.fps > 50:
        raise UsageError(f"--fps {args.fps}: at most 50 (browsers slow faster GIFs down)")
    config, label = build_config(args.preset, args.config, args.set)
    preset = load_preset(args.preset) if args.preset is not None else None
    steps = args.steps or (preset.steps if preset else DEFAULT_STEPS)
    metric = args.metric or (preset.metric if preset else "backprop_grad_rms")

    try:
        sim, done = train(config, steps, args.out)
    except Interrupted:
        return EXIT_INTERRUPTED
    assert sim.recorder is not None

    from gradsim.app.launch import application

    application(offscreen=True)
    from gradsim.app.export.animation import frame_cuts, record_gif
    from gradsim.app.views.themes import THEMES

    frames = len(frame_cuts(sim.recorder.steps, args.frames))
    bar = ProgressBar(sys.stderr)
    try:
        record_gif(
            sim.recorder,
            metric,
            target,
            frames=args.frames,
            fps=args.fps,
            size=args.size,
            theme=THEMES[args.theme],
            progress=bar,
        )
    except KeyboardInterrupt:
        bar.close()
        error_line(f"gradsim: interrupted while drawing frames; {args.out} was not written")
        return EXIT_INTERRUPTED
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    finally:
        bar.close()
    counted = f"{done} steps" if done == steps else f"{done} of {steps} steps"
    out(f"wrote {args.out} ({frames} frames, {width}x{height}, {counted} of {label})")
    return EXIT_OK
