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
import math
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

import numpy as np

from gradsim import __version__
from gradsim.engine.config import Config, ConfigError, apply_assignments
from gradsim.engine.export import ExportError, check_output_path, write_run

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
_DEMO_BAR_WIDTH = 40
_DEMO_MIN_DECADES = 3.0


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (separate from ``main`` so docs and tests can inspect it)."""
    parser = _Parser(
        prog="gradsim",
        description="Watch vanishing and exploding gradients happen, layer by layer.",
        epilog="Without a command, runs the demo. Examples:\n"
        "  gradsim presets\n"
        "  gradsim run --preset seed-exploding --steps 200 --out run.csv\n"
        "  gradsim run --set depth=50 --set activation=sigmoid --out run.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradsim {__version__}")
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="train a network and save its per-layer statistics",
        description="Train a network headless and save every step's per-layer statistics. "
        "The config is a preset's, a TOML file's, or the defaults, then each --set in order.",
    )
    source = run.add_mutually_exclusive_group()
    source.add_argument("--preset", metavar="ID",
                        help="start from a preset (see 'gradsim presets')")
    source.add_argument("--config", metavar="FILE.toml", help="start from a TOML config file")
    run.add_argument(
        "--set", metavar="KEY=VALUE", action="extend", nargs="+", default=[],
        help="change one config field, e.g. --set depth=50 activation=relu (repeatable)",
    )
    run.add_argument(
        "--steps", metavar="N", type=_positive_int, default=DEFAULT_STEPS,
        help=f"training steps (default {DEFAULT_STEPS}); a diverged run stops early",
    )
    run.add_argument(
        "--out", metavar="FILE", required=True,
        help="output file: .csv (one row per step and layer), .npz or .json",
    )
    run.set_defaults(handler=_cmd_run)

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
        if args.handler is None:
            # No command: the headless demo for now; the GUI will open here instead.
            return _demo(DEMO_PRESET, None)
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


def describe(config: Config) -> str:
    """Short description of a config, e.g. ``depth 100, linear, identity x2``."""
    init = config.init if config.init_gain == 1.0 else f"{config.init} x{config.init_gain:g}"
    parts = [f"depth {config.depth}", config.activation, init]
    parts += [name for name in ("batchnorm", "residual") if getattr(config, name)]
    return ", ".join(parts)


def demo_layers(depth: int) -> list[int]:
    """Layers the demo shows: all of a shallow net, else 1, every ~tenth, and the last."""
    if depth <= 12:
        return list(range(1, depth + 1))
    every = max(1, round(depth / 10))
    return sorted({1, depth, *range(every, depth + 1, every)})


def gradient_table(layers: list[int], values: np.ndarray) -> list[str]:
    """Rows ``layer  value  ####`` with bar lengths proportional to log10(value)."""
    values = np.asarray(values, dtype=np.float64)
    shown = values[np.isfinite(values) & (values > 0)]
    logs = np.log10(shown) if shown.size else np.zeros(0)
    low, high = (float(logs.min()), float(logs.max())) if logs.size else (0.0, 0.0)
    # At least a few decades: a healthy net's small layer-to-layer wobble should look flat,
    # not fill the whole width the way an exploding net's 30 decades do.
    span = max(high - low, _DEMO_MIN_DECADES)
    low = (low + high - span) / 2
    rows = [f"  {'layer':>5}  {'grad RMS':>9}"]
    for layer, value in zip(layers, values.tolist(), strict=True):
        if math.isnan(value):
            bar = "(not a number: the values overflowed)"
        elif math.isinf(value):
            bar = "(overflow: beyond the largest float)"
        elif value <= 0:
            bar = "(exactly zero: vanished)"
        else:
            bar = "#" * (1 + round((math.log10(value) - low) / span * (_DEMO_BAR_WIDTH - 1)))
        rows.append(f"  {layer:>5}  {value:>9.2e}  {bar}")
    if logs.size:
        factor = 10 ** (span / (_DEMO_BAR_WIDTH - 1))
        rows.append(f"  (log scale: each # is a factor of {factor:.3g})")
    return rows


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

