"""Pieces every ``gradsim`` command shares: exit codes, argument types, config building, and
command-line output (results on stdout; progress and one-line errors on stderr).

Nothing here imports Qt: the commands work on machines without a display or Qt libraries.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from gradsim.engine.config import Config, ConfigError, apply_assignments

if TYPE_CHECKING:
    from gradsim.engine.presets import Preset
    from gradsim.engine.simulation import Simulation

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_STEPS = 100
BAR_WIDTH = 30
THEME_NAMES = ("dark", "light")
# A picture for slides comes out the same whoever makes it: not in the app's last theme.
PICTURE_THEME_HELP = "colour theme (default dark, whatever the app last used)"
# image_export.TARGETS, Qt-free (the command line parses it before Qt loads):
PLOT_NAMES = ("window", "heatmap", "profile", "loss", "distributions", "function", "map")


class UsageError(Exception):
    """Bad input (arguments, config, preset, output path): one line on stderr, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def image_size(text: str) -> tuple[int, int]:
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


def metric_name(text: str) -> str:
    from gradsim.engine.stats import STAT_NAMES

    if text not in STAT_NAMES:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(STAT_NAMES)}")
    return text


def add_config_arguments(command: argparse.ArgumentParser) -> None:
    """--preset | --config, then --set: how every command that trains picks its config."""
    source = command.add_mutually_exclusive_group()
    source.add_argument(
        "--preset", metavar="ID", help="start from a preset (see 'gradsim presets')"
    )
    source.add_argument("--config", metavar="FILE.toml", help="start from a TOML config file")
    command.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="extend",
        nargs="+",
        default=[],
        help="change one config field, e.g. --set depth=50 activation=relu (repeatable)",
    )


def num(value: float) -> str:
    return f"{float(value):.3g}"


class ProgressBar:
    """``\\r[#####     ] 40/100`` on stderr when it is a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.enabled = bool(stream is not None and isatty(stream))
        self.done = 0
        self._drawn = 0
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        stream = self.stream
        if not self.enabled or stream is None:  # enabled implies a stream
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:  # redraws cost more than fast steps
            return
        self._last = now
        filled = BAR_WIDTH * done // max(total, 1)
        text = f"\r[{'#' * filled}{' ' * (BAR_WIDTH - filled)}] {done}/{total}"
        stream.write(text)
        stream.flush()
        self._drawn = len(text) - 1

    def close(self) -> None:
        """Erase the bar so that the summary line stands alone."""
        if self._drawn and self.stream is not None:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0


def isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def out(line: str) -> None:
    sys.stdout.write(line + "\n")


def error(message: str) -> None:
    error_line("gradsim: error: " + " ".join(message.split()))


def error_line(line: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


# -- building blocks ------------------------------------------------------------------------


def build_config(
    preset_id: str | None, path: str | None, assignments: list[str]
) -> tuple[Config, str]:
    """The run's config and how to name it in the summary; bad input raises UsageError.

    A CSV dataset is read here, so that its sizes and loss are in the config (and a bad file
    is one error line) before anything trains.
    """
    try:
        if preset_id is not None:
            config, label = load_preset(preset_id).config, preset_id
        elif path is not None:
            config, label = Config.load(path), Path(path).name
        else:
            config, label = Config(), "the default config"
        if assignments:
            config = apply_assignments(config, assignments)
            custom = preset_id is None and path is None
            label = "a custom config" if custom else f"{label}, modified"
        from gradsim.engine.csv_data import resolve_data

        config = resolve_data(config)  # dataset = "csv": the file decides the sizes and loss
    except ConfigError as exc:  # CsvDataError included
        raise UsageError(str(exc)) from exc
    return config, label


def load_presets() -> list[Preset]:
    from gradsim.engine.presets import PresetError, list_presets

    try:
        return list_presets()
    except (PresetError, OSError) as exc:
        raise UsageError(f"cannot load the presets: {exc}") from exc


def load_preset(preset_id: str) -> Preset:
    from gradsim.engine.presets import PresetError, UnknownPresetError, get_preset

    try:
        return get_preset(preset_id)
    except UnknownPresetError as exc:
        raise UsageError(str(exc)) from exc
    except (PresetError, OSError) as exc:
        raise UsageError(f"cannot load the presets: {exc}") from exc


def make_simulation(
    config: Config, *, record: bool = True, distributions: int | None = None
) -> Simulation:
    from gradsim.engine.simulation import Simulation

    try:
        return Simulation(config, record=record, distributions=distributions)
    except MemoryError as exc:
        raise UsageError(
            f"not enough memory for this network (depth {config.depth}, width "
            f"{config.width}, batch_size {config.batch_size}); try smaller values"
        ) from exc
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


class Interrupted(Exception):
    """Ctrl-C during a command's training; the message is already printed (exit 130)."""


def train(
    config: Config, steps: int, out_name: str, distributions: int | None = None
) -> tuple[Simulation, int]:
    """A recorded run of ``steps`` steps (fewer if it diverges) with a progress bar, and how
    many steps it took; histograms every ``distributions`` steps if given. Ctrl-C prints
    that ``out_name`` was not written, then raises ``Interrupted``."""
    sim = make_simulation(config, distributions=distributions)
    bar = ProgressBar(sys.stderr)
    try:
        done = sim.run(steps, bar)
    except KeyboardInterrupt:
        bar.close()  # before the message, so that it starts on a clean line
        error_line(f"gradsim: interrupted after {bar.done} steps; {out_name} was not written")
        raise Interrupted from None
    finally:
        bar.close()
    return sim, done
