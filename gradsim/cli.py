"""The ``gradsim`` command: run a simulation headless and export it, list presets, show a demo.

Students and scripts use it without a display, so it follows command-line manners: results on
stdout, progress and errors on stderr, a progress bar only on a terminal, and bad input
reported as ONE line starting ``gradsim: error:`` with exit status 2, never a traceback.
Status 1 means a failure after the run (e.g. the disk filled up while writing); 130 means
Ctrl-C. Output files are written atomically, so a failed or interrupted command leaves an
existing file as it was.

Nothing here imports Qt: the GUI will be imported lazily when it opens, so the command works
on machines without a display or Qt libraries.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

import numpy as np

from gradsim import __version__
from gradsim.engine.config import Config, ConfigError, apply_assignments
from gradsim.textplot import demo_layers, describe, gradient_table

if TYPE_CHECKING:
    from gradsim.engine.presets import Preset
    from gradsim.engine.simulation import Simulation

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_STEPS = 100
DEMO_PRESET = "seed-exploding"
_BAR_WIDTH = 30


class UsageError(Exception):
    """Bad input (arguments, config, preset, output path): one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if not sep or not (320 <= size[0] <= 7680 and 240 <= size[1] <= 4320):
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT from 320x240 to 7680x4320, got {text!r}"
        )
    return size


def _metric(text: str) -> str:
    from gradsim.engine.stats import STAT_NAMES

    if text not in STAT_NAMES:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(STAT_NAMES)}")
    return text


def _add_config_arguments(command: argparse.ArgumentParser) -> None:
    """--preset | --config, then --set: how every command that trains picks its config."""
    source = command.add_mutually_exclusive_group()
    source.add_argument("--preset", metavar="ID",
                        help="start from a preset (see 'gradsim presets')")
    source.add_argument("--config", metavar="FILE.toml", help="start from a TOML config file")
    command.add_argument(
        "--set", metavar="KEY=VALUE", action="extend", nargs="+", default=[],
        help="change one config field, e.g. --set depth=50 activation=relu (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (separate from ``main`` so docs and tests can inspect it)."""
    parser = _Parser(
        prog="gradsim",
        description="Watch vanishing and exploding gradients happen, layer by layer.",
        epilog="Without a command, opens the app. Examples:\n"
        "  gradsim presets\n"
        "  gradsim run --preset seed-exploding --steps 200 --out run.csv\n"
        "  gradsim run --set depth=50 --set activation=sigmoid --out run.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradsim {__version__}")
    opening = parser.add_mutually_exclusive_group()
    opening.add_argument("--preset", metavar="ID", help="open the app on this preset")
    opening.add_argument("--config", metavar="FILE.toml", help="open the app on this config")
    parser.add_argument(
        "--self-test", action="store_true",
        help="check this installation (presets, engine, an offscreen window) and exit",
    )
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="train a network and save its per-layer statistics",
        description="Train a network headless and save every step's per-layer statistics. "
        "The config is a preset's, a TOML file's, or the defaults, then each --set in order.",
    )
    _add_config_arguments(run)
    run.add_argument(
        "--steps", metavar="N", type=_positive_int, default=DEFAULT_STEPS,
        help=f"training steps (default {DEFAULT_STEPS}); a diverged run stops early",
    )
    run.add_argument(
        "--out", metavar="FILE", required=True,
        help="output file: .csv (one row per step and layer), .npz or .json",
    )
    run.set_defaults(handler=_cmd_run)

    shot = commands.add_parser(
        "screenshot",
        help="render the app offscreen after N steps and save it as a PNG",
        description="Build the real main window offscreen, train N steps through its worker, "
        "and save a picture of it (for slides and handouts).",
    )
    _add_config_arguments(shot)
    shot.add_argument("--steps", metavar="N", type=_positive_int, default=None,
                      help="training steps before the picture (default: the preset's, or 100)")
    shot.add_argument("--size", metavar="WxH", type=_size, default=(1920, 1080),
                      help="image size in pixels (default 1920x1080)")
    shot.add_argument("--metric", metavar="NAME", type=_metric, default=None,
                      help="statistic shown in the heatmap (default: the preset's)")
    shot.add_argument("--out", metavar="FILE.png", required=True, help="PNG file to write")
    shot.set_defaults(handler=_cmd_screenshot)

    presets = commands.add_parser("presets", help="list the built-in presets")
    presets.set_defaults(handler=_cmd_presets)

    demo = commands.add_parser(
        "demo",
        help="run a preset and print its per-layer gradients as text",
        description="Run a preset and print the back-propagated gradient of every few layers "
        "at step 0 on a log scale, then how the run ended.",
    )
    demo.add_argument("--preset", metavar="ID", default=DEMO_PRESET,
                      help=f"preset to run (default {DEMO_PRESET})")
    demo.add_argument("--steps", metavar="N", type=_positive_int, default=None,
                      help="training steps (default: the preset's suggestion)")
    demo.set_defaults(handler=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``gradsim`` and ``python -m gradsim``; returns the exit status."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version print, then exit
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        if args.self_test:
            from gradsim.app.launch import self_test

            return self_test()
        if args.handler is None:
            return _open_app(args.preset, args.config)
        return args.handler(args)
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error_line("gradsim: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly, and keep Python's exit-time flush from
        # printing another error about the closed pipe.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE


# -- commands -------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: opening the app should not pay for what it does not use.
    from gradsim.engine.export import ExportError, check_output_path, write_run

    config, label = _build_config(args.preset, args.config, args.set)
    try:
        check_output_path(args.out)
    except ExportError as exc:
        raise UsageError(str(exc)) from exc

    sim = _simulation(config)
    bar = _ProgressBar(sys.stderr)
    try:
        done = sim.run(args.steps, bar)
    except KeyboardInterrupt:
        bar.close()  # before the message, so that it starts on a clean line
        _error_line(f"gradsim: interrupted after {bar.done} steps; {args.out} was not written")
        return EXIT_INTERRUPTED
    finally:
        bar.close()

    recorder = sim.recorder
    assert recorder is not None
    try:
        write_run(args.out, config, recorder)
    except ExportError as exc:  # e.g. disk full: still an unwritable output, exit 2
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error_line(f"gradsim: interrupted while writing; {args.out} was not written")
        return EXIT_INTERRUPTED

    counted = f"{done} steps" if done == args.steps else f"{done} of {args.steps} steps"
    loss = recorder.loss
    parts = [f"loss {_num(loss[0])} -> {_num(loss[-1])}"] if len(loss) else []
    if recorder.diverged_at is not None:
        parts.append(f"diverged at step {recorder.diverged_at}: {recorder.divergence_reason}")
    parts.append(f"wrote {args.out}")
    _out(f"ran {counted} of {label} ({describe(config)}): " + "; ".join(parts))
    return EXIT_OK


def _open_app(preset_id: str | None, path: str | None) -> int:
    preset = _preset(preset_id) if preset_id is not None else None
    config = _build_config(None, path, [])[0] if path is not None else None
    from gradsim.app.launch import LaunchError, run_app

    try:
        return run_app(config=config, preset=preset)
    except LaunchError as exc:
        raise UsageError(str(exc)) from exc


def _cmd_screenshot(args: argparse.Namespace) -> int:
    config, label = _build_config(args.preset, args.config, args.set)
    preset = _preset(args.preset) if args.preset is not None else None
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UsageError(f"--out must end in .png, got {args.out!r}")
    if not out.parent.resolve().is_dir():
        raise UsageError(f"cannot write {args.out}: folder {out.parent} does not exist")
    steps = args.steps or (preset.steps if preset is not None else DEFAULT_STEPS)
    from gradsim.app.launch import LaunchError, render_screenshot

    try:
        render_screenshot(config, preset, steps, args.size, args.metric, out)
    except (LaunchError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    _out(f"wrote {args.out} ({args.size[0]}x{args.size[1]}, {label}, {steps} steps)")
    return EXIT_OK


def _cmd_presets(args: argparse.Namespace) -> int:
    presets = _presets()
    width = max((len(preset.id) for preset in presets), default=0)
    for preset in presets:
        _out(f"{preset.id:<{width}}  {preset.title}")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    return _demo(args.preset, args.steps)


def _demo(preset_id: str, steps: int | None) -> int:
    """Run a preset and show its step-0 gradient profile as a text bar chart."""
    preset = _preset(preset_id)
    config = preset.config
    steps = steps or preset.steps
    _out(f"{preset.id}: {preset.title}")
    _out(f"{describe(config)}; {steps} steps")
    _out("")
    for paragraph in preset.description.split("\n\n"):
        _out(textwrap.fill(paragraph, width=88))
        _out("")

    sim = _simulation(config, record=False)
    first = sim.step()
    layers = demo_layers(config.depth)
    grads = first.layers["backprop_grad_rms"]
    _out("back-propagated gradient RMS at step 0, per layer (layer 1 is the input side)")
    _out("\n".join(gradient_table(layers, grads[np.asarray(layers) - 1])))
    _out("")

    bar = _ProgressBar(sys.stderr)
    try:
        if not sim.diverged:
            sim.run(steps - 1, lambda done, _total: bar(done + 1, steps))
    finally:
        bar.close()
    last = sim.last
    assert last is not None
    if sim.diverged:
        _out(f"outcome: diverged at step {last.step}: {last.divergence_reason}")
    else:
        _out(f"outcome: loss {_num(first.loss)} at step 0 -> {_num(last.loss)} after "
             f"{sim.step_count} steps")
    _out(f"save a run for plotting: gradsim run --preset {preset.id} --out run.csv")
    return EXIT_OK


# -- text output ----------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{float(value):.3g}"


class _ProgressBar:
    """``\\r[#####     ] 40/100`` on stderr when it is a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.enabled = bool(stream is not None and _isatty(stream))
        self.done = 0
        self._drawn = 0
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:  # redraws cost more than fast steps
            return
        self._last = now
        filled = _BAR_WIDTH * done // max(total, 1)
        text = f"\r[{'#' * filled}{' ' * (_BAR_WIDTH - filled)}] {done}/{total}"
        self.stream.write(text)  # type: ignore[union-attr]
        self.stream.flush()  # type: ignore[union-attr]
        self._drawn = len(text) - 1

    def close(self) -> None:
        """Erase the bar so that the summary line stands alone."""
        if self._drawn and self.stream is not None:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _error(message: str) -> None:
    _error_line("gradsim: error: " + " ".join(message.split()))


def _error_line(line: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


# -- building blocks ------------------------------------------------------------------------


def _build_config(preset_id: str | None, path: str | None, assignments: list[str]
                  ) -> tuple[Config, str]:
    """The run's config and how to name it in the summary; bad input raises UsageError."""
    try:
        if preset_id is not None:
            config, label = _preset(preset_id).config, preset_id
        elif path is not None:
            config, label = Config.load(path), Path(path).name
        else:
            config, label = Config(), "the default config"
        if assignments:
            config = apply_assignments(config, assignments)
            custom = preset_id is None and path is None
            label = "a custom config" if custom else f"{label}, modified"
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    return config, label


def _presets() -> list[Preset]:
    from gradsim.engine.presets import PresetError, list_presets

    try:
        return list_presets()
    except (PresetError, OSError) as exc:
        raise UsageError(f"cannot load the presets: {exc}") from exc


def _preset(preset_id: str) -> Preset:
    from gradsim.engine.presets import PresetError, UnknownPresetError, get_preset

    try:
        return get_preset(preset_id)
    except UnknownPresetError as exc:
        raise UsageError(str(exc)) from exc
    except (PresetError, OSError) as exc:
        raise UsageError(f"cannot load the presets: {exc}") from exc


def _simulation(config: Config, *, record: bool = True) -> Simulation:
    from gradsim.engine.simulation import Simulation

    try:
        return Simulation(config, record=record)
    except MemoryError as exc:
        raise UsageError(
            f"not enough memory for this network (depth {config.depth}, width "
            f"{config.width}, batch_size {config.batch_size}); try smaller values"
        ) from exc
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc

