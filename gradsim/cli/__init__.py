"""The ``gradsim`` command: run a simulation headless and export it, list presets, show a demo.

Students and scripts use it without a display, so it follows command-line manners: results on
stdout, progress and errors on stderr, a progress bar only on a terminal, and bad input
reported as ONE line starting ``gradsim: error:`` with exit status 2, never a traceback.
A stdout that cannot be written (``gradsim presets > /dev/full``) is such a refusal too: one
line, status 2 (a pipe closed by its reader, as by ``head``, ends quietly with status 1).
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
from collections.abc import Callable

import numpy as np

from gradsim import __version__
from gradsim.cli.app_commands import add_app_commands, add_opening_arguments, open_app
from gradsim.cli.common import (
    DEFAULT_STEPS,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Interrupted,
    Parser,
    ProgressBar,
    UsageError,
    add_config_arguments,
    build_config,
    error,
    error_line,
    load_preset,
    load_presets,
    make_simulation,
    num,
    out,
    positive_int,
    train,
)
from gradsim.engine.atomic import reason
from gradsim.engine.distributions import HISTOGRAMS_EVERY
from gradsim.textplot import demo_layers, describe, gradient_table

DEMO_PRESET = "seed-exploding"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (separate from ``main`` so docs and tests can inspect it)."""
    parser = Parser(
        prog="gradsim",
        description="Watch vanishing and exploding gradients happen, layer by layer.",
        epilog="Without a command, opens the app. Examples:\n"
        "  gradsim presets\n"
        "  gradsim run --preset seed-exploding --steps 200 --out run.csv\n"
        "  gradsim run --set depth=50 --set activation=sigmoid --out run.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradsim {__version__}")
    add_opening_arguments(parser)
    parser.add_argument(
        "--self-test",
        action="store_true",
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
    add_config_arguments(run)
    run.add_argument(
        "--steps",
        metavar="N",
        type=positive_int,
        default=DEFAULT_STEPS,
        help=f"training steps (default {DEFAULT_STEPS}); a diverged run stops early",
    )
    run.add_argument(
        "--out",
        metavar="FILE",
        required=True,
        help="output file: .csv (one row per step and layer, with its config in "
        "NAME.meta.json beside it), .npz or .json",
    )
    run.add_argument(
        "--histograms",
        metavar="FILE",
        help="also save per-layer histograms of h, z, ∂loss/∂z and ∂loss/∂W (.npz or .json)",
    )
    run.add_argument(
        "--histograms-every",
        metavar="K",
        type=positive_int,
        default=HISTOGRAMS_EVERY,
        help=f"with --histograms: measure every K-th step (default {HISTOGRAMS_EVERY}; "
        "step 0 and a diverging step always)",
    )
    run.set_defaults(handler=_cmd_run)

    add_app_commands(commands)

    presets = commands.add_parser(
        "presets",
        help="list the built-in presets",
        description="List the built-in presets: each one's id (for '--preset ID') and title.",
    )
    presets.set_defaults(handler=_cmd_presets)

    demo = commands.add_parser(
        "demo",
        help="run a preset and print its per-layer gradients as text",
        description="Run a preset and print the back-propagated gradient of every few layers "
        "at step 0 on a log scale, then how the run ended.",
    )
    demo.add_argument(
        "--preset", metavar="ID", default=DEMO_PRESET, help=f"preset to run (default {DEMO_PRESET})"
    )
    demo.add_argument(
        "--steps",
        metavar="N",
        type=positive_int,
        default=None,
        help="training steps (default: the preset's suggestion)",
    )
    demo.set_defaults(handler=_cmd_demo)
    # argparse writes the command as required ("COMMAND ..."); without one, the app opens.
    usage = parser.format_usage().removeprefix(f"usage: {parser.prog} ").rstrip()
    parser.usage = "%(prog)s " + usage.replace("COMMAND ...", "[COMMAND ...]")
    return parser


def streams_for_a_windowed_app() -> None:
    """A windowed Windows program (the frozen app, ``gradsim-app``) has no console, so no
    stdout or stderr: give print-outs and Qt's warnings somewhere harmless to go."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def gui_main() -> int:
    """Entry point of ``gradsim-app``, the gui-script: the app without a console window on
    Windows (elsewhere the same as ``gradsim``)."""
    streams_for_a_windowed_app()
    return main()


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
        handler: Callable[[argparse.Namespace], int] | None = args.handler
        status = open_app(args) if handler is None else handler(args)
        _flush_stdout()
        return status
    except UsageError as exc:
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        error_line("gradsim: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly, and keep Python's exit-time flush from
        # printing another error about the closed pipe.
        _silence_stdout()
        return EXIT_FAILURE
    except OSError as exc:
        if _from_stdout(exc):
            # e.g. `gradsim presets > /dev/full`: what was printed is lost, so a refusal.
            _silence_stdout()
            error(f"cannot write to standard output: {reason(exc)}")
            return EXIT_USAGE
        # A file the command did not word an error for: still one line, never a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        error(f"{where}{reason(exc)}")
        return EXIT_FAILURE


def _flush_stdout() -> None:
    """Here, not at the interpreter's exit: a full device is reported like any fault."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _from_stdout(exc: OSError) -> bool:
    """Whether ``exc`` was raised writing stdout: by ``out``'s write or ``_flush_stdout``."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code in (out.__code__, _flush_stdout.__code__)


def _silence_stdout() -> None:
    """Point stdout's file descriptor at the null device, so that the interpreter's final
    flush of what is still buffered succeeds instead of printing "Exception ignored"."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# -- commands -------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: opening the app should not pay for what it does not use.
    from gradsim.engine.distribution_export import check_histogram_path, write_histograms
    from gradsim.engine.export import ExportError, check_output_path, write_run, written_files

    config, label = build_config(args.preset, args.config, args.set)
    histograms = args.histograms
    try:
        check_output_path(args.out)
        if histograms is not None:
            check_histogram_path(histograms)
    except ExportError as exc:
        raise UsageError(str(exc)) from exc

    every = args.histograms_every if histograms is not None else None
    try:
        sim, done = train(config, args.steps, args.out, distributions=every)
    except Interrupted:
        return EXIT_INTERRUPTED

    recorder = sim.recorder
    assert recorder is not None
    try:
        write_run(args.out, config, recorder)
        if histograms is not None and sim.distribution_history is not None:
            write_histograms(sim.distribution_history, histograms, config)
    except ExportError as exc:  # e.g. disk full: still an unwritable output, exit 2
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        error_line(f"gradsim: interrupted while writing; {args.out} was not written")
        return EXIT_INTERRUPTED

    counted = f"{done} steps" if done == args.steps else f"{done} of {args.steps} steps"
    loss = recorder.loss
    parts = [f"loss {num(loss[0])} -> {num(loss[-1])}"] if len(loss) else []
    if recorder.diverged_at is not None:
        parts.append(f"diverged at step {recorder.diverged_at}: {recorder.divergence_reason}")
    wrote = [args.out, *map(str, written_files(args.out)[1:])]  # a CSV's .meta.json too
    if histograms is not None:
        wrote.append(histograms)
    listed = wrote[0] if len(wrote) == 1 else f"{', '.join(wrote[:-1])} and {wrote[-1]}"
    parts.append(f"wrote {listed}")
    out(f"ran {counted} of {label} ({describe(config)}): " + "; ".join(parts))
    return EXIT_OK


def _cmd_presets(args: argparse.Namespace) -> int:
    presets = load_presets()
    width = max((len(preset.id) for preset in presets), default=0)
    for preset in presets:
        out(f"{preset.id:<{width}}  {preset.title}")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    return _demo(args.preset, args.steps)


def _demo(preset_id: str, steps: int | None) -> int:
    """Run a preset and show its step-0 gradient profile as a text bar chart."""
    preset = load_preset(preset_id)
    config = preset.config
    steps = steps or preset.steps
    out(f"{preset.id}: {preset.title}")
    out(f"{describe(config)}; {steps} steps")
    out("")
    for paragraph in preset.description.split("\n\n"):
        out(textwrap.fill(paragraph, width=88))
        out("")

    sim = make_simulation(config, record=False)
    first = sim.step()
    layers = demo_layers(config.depth)
    grads = first.layers["backprop_grad_rms"]
    out("back-propagated gradient RMS at step 0, per layer (layer 1 is the input side)")
    out("\n".join(gradient_table(layers, grads[np.asarray(layers) - 1])))
    out("")

    bar = ProgressBar(sys.stderr)
    try:
        if not sim.diverged:
            sim.run(steps - 1, lambda done, _total: bar(done + 1, steps))
    finally:
        bar.close()
    last = sim.last
    assert last is not None
    if sim.diverged:
        out(f"outcome: diverged at step {last.step}: {last.divergence_reason}")
    else:
        out(
            f"outcome: loss {num(first.loss)} at step 0 -> {num(last.loss)} after "
            f"{sim.step_count} steps"
        )
    out(f"save a run for plotting: gradsim run --preset {preset.id} --out run.csv")
    return EXIT_OK


# -- text output ----------------------------------------------------------------------------
