"""Save a run (its config and recorded statistics) as CSV, NPZ or JSON, and load it back.

This is the file contract shared by the command line and the app, so the layouts are stable:

CSV
    Tidy: one row per (step, layer), columns ``CSV_COLUMNS``; ``layer`` is 1-based (1 = input
    side); ``loss`` and ``accuracy`` repeat on every layer row of their step. Floats are
    written with ``repr`` (shortest exact round trip); non-finite values as ``inf``, ``-inf``,
    ``nan``. Leading ``#`` lines carry what re-loading needs: ``# gradsim 0.1.0``,
    ``# config: {JSON}``, ``# diverged_at: K`` (or ``none``) and ``# divergence_reason:``
    (a JSON string or ``null``). Skip them with ``pandas.read_csv(path, comment="#")`` or,
    with the ``csv`` module, by dropping lines that start with ``#``.
NPZ
    One ``(steps, layers)`` float64 array per statistic; ``step``, ``loss``, ``accuracy``
    vectors; 0-d string arrays ``config`` (JSON), ``gradsim_version`` and
    ``divergence_reason`` ("" if none); 0-d int ``diverged_at`` (-1 if none). Needs no
    pickle: ``numpy.load(path, allow_pickle=False)``.
JSON
    ``{"gradsim_version", "config", "diverged_at", "divergence_reason", "step", "loss",
    "accuracy", "stats": {name: [[value per layer] per step]}}``. Strict JSON has no inf/nan,
    so non-finite numbers are the strings ``"inf"``, ``"-inf"`` and ``"nan"``; the file
    parses with any JSON reader. ``diverged_at`` and ``divergence_reason`` are null if none.

Writes are atomic (temporary file beside the target, then ``os.replace``), so an existing
file is never left half-written. Every failure is an ``ExportError`` with a one-line message
naming the path.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from gradsim import __version__
from gradsim.engine.atomic import write_atomic
from gradsim.engine.config import Config, ConfigError
from gradsim.engine.recording import Recorder
from gradsim.engine.stats import STAT_NAMES

FORMATS: tuple[str, ...] = (".csv", ".npz", ".json")
CSV_COLUMNS: tuple[str, ...] = ("step", "layer", "loss", "accuracy", *STAT_NAMES)
NONFINITE: dict[str, float] = {"inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}
_CSV_CHUNK_CELLS = 100_000  # rows formatted per batch: bounds memory, keeps the joins large

# What a run file holds: ``Recorder.arrays()`` when writing (int64 steps, float64 values);
# when reading, whatever the file had, for ``Recorder.from_arrays`` to check.
_Written = dict[str, NDArray[np.int64 | np.float64]]
_Read = Mapping[str, NDArray[np.generic]]
_T = TypeVar("_T")


class ExportError(Exception):
    """A run file cannot be written or read; the message is one line naming the path."""


@dataclass(frozen=True)
class RunData:
    """A loaded run file."""

    config: Config
    recorder: Recorder


def file_format(path: str | Path) -> str:
    """The format (``".csv"``, ``".npz"`` or ``".json"``) chosen by ``path``'s extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = f"'{Path(path).suffix}'" if suffix else "(none)"
        raise ExportError(
            f"cannot use {path}: unsupported file extension {shown}; use .csv, .npz or .json"
        )
    return suffix


def check_output_path(path: str | Path) -> Path:
    """Check, before a long run, that ``path`` has a known extension and can be written.

    Creates and removes a temporary file in the target directory: the only reliable test
    (permission bits say nothing about read-only mounts, and root passes ``os.access``).
    """
    path = Path(path)
    file_format(path)
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise ExportError(f"cannot write {path}: directory {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    os.close(fd)
    os.unlink(tmp)
    return path


def write_run(path: str | Path, config: Config, recorder: Recorder) -> None:
    """Write a run in the format chosen by the extension; atomic; raises ``ExportError``."""
    path = Path(path)
    fmt = file_format(path)
    if recorder.depth != config.depth:
        raise ValueError(f"recorder depth {recorder.depth} != config depth {config.depth}")
    writer = {".csv": _write_csv, ".npz": _write_npz, ".json": _write_json}[fmt]
    data = recorder.arrays()
    meta = {
        "gradsim_version": __version__,
        "config": config.to_dict(),
        "diverged_at": recorder.diverged_at,
        "divergence_reason": recorder.divergence_reason,
    }
    try:
        write_atomic(path, lambda handle: writer(handle, meta, data, recorder.depth))
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc


def read_run(path: str | Path) -> RunData:
    """Load a file written by ``write_run``; unreadable or malformed files raise ExportError."""
    path = Path(path)
    fmt = file_format(path)
    reader = {".csv": _read_csv, ".npz": _read_npz, ".json": _read_json}[fmt]
    try:
        meta, arrays = reader(path)
        config = Config.from_dict(_expect(meta.get("config"), dict, "config"))
        diverged_at = meta.get("diverged_at")
        if diverged_at is not None and (
            isinstance(diverged_at, bool) or not isinstance(diverged_at, int)
        ):
            raise ValueError(f"diverged_at must be an integer or none, got {diverged_at!r}")
        reason = meta.get("divergence_reason")
        if reason is not None and not isinstance(reason, str):
            raise ValueError(f"divergence_reason must be a string, got {reason!r}")
        recorder = Recorder.from_arrays(config.depth, arrays, diverged_at, reason)
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {_reason(exc)}") from exc
    except ConfigError as exc:
        raise ExportError(f"cannot read {path}: bad config: {exc}") from exc
    except (ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise ExportError(f"cannot read {path}: not a valid gradsim {fmt} file: {exc}") from exc
    return RunData(config=config, recorder=recorder)


# -- CSV ------------------------------------------------------------------------------------


def _write_csv(handle: IO[bytes], meta: dict[str, Any], data: _Written, depth: int) -> None:
    diverged = meta["diverged_at"]
    header = [
        f"# gradsim {meta['gradsim_version']}",
        f"# config: {json.dumps(meta['config'])}",
        f"# diverged_at: {'none' if diverged is None else diverged}",
        f"# divergence_reason: {json.dumps(meta['divergence_reason'])}",
        "# one row per (step, layer); layer 1 is the input side. "
        "Skip these lines: pandas.read_csv(path, comment='#')",
        ",".join(CSV_COLUMNS),
    ]
    handle.write(("\n".join(header) + "\n").encode("ascii"))
    layers = [str(layer) for layer in range(1, depth + 1)]
    n = data["step"].shape[0]
    chunk = max(1, _CSV_CHUNK_CELLS // depth)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        columns = [
            _per_layer(list(map(str, data["step"][start:stop].tolist())), depth),
            layers * (stop - start),
            _per_layer(list(map(repr, data["loss"][start:stop].tolist())), depth),
            _per_layer(list(map(repr, data["accuracy"][start:stop].tolist())), depth),
        ]
        columns += [list(map(repr, data[name][start:stop].ravel().tolist())) for name in STAT_NAMES]
        text = "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"
        handle.write(text.encode("ascii"))


def _per_layer(values: list[str], depth: int) -> list[str]:
    """Repeat each per-step string for every layer row (formatting once per step)."""
    repeated: list[str] = np.repeat(np.array(values, dtype=object), depth).tolist()
    return repeated


def _read_csv(path: Path) -> tuple[dict[str, Any], _Read]:
    meta: dict[str, Any] = {}
    with open(path, encoding="utf-8") as handle:
        line = handle.readline()
        while line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            key, value = key.strip(), value.strip()
            if sep and key == "config":
                meta["config"] = json.loads(value)
            elif sep and key == "diverged_at":
                meta["diverged_at"] = None if value == "none" else int(value)
            elif sep and key == "divergence_reason":
                meta["divergence_reason"] = json.loads(value)
            line = handle.readline()
        if "config" not in meta:
            raise ValueError("no '# config:' line")
        columns = tuple(name.strip() for name in line.strip().split(","))
        if columns != CSV_COLUMNS:
            raise ValueError(f"expected the columns {','.join(CSV_COLUMNS)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for a 0-step run
            table = np.loadtxt(handle, delimiter=",", dtype=np.float64, ndmin=2, comments="#")
    if table.size == 0:
        table = np.zeros((0, len(CSV_COLUMNS)))
    depth = _expect(meta["config"], dict, "config").get("depth", Config().depth)
    if not isinstance(depth, int) or depth < 1 or table.shape[0] % depth:
        raise ValueError(f"{table.shape[0]} data rows is not a whole number of steps")
    rows = table.reshape(-1, depth, len(CSV_COLUMNS))
    if not np.array_equal(rows[:, :, 1], np.broadcast_to(np.arange(1, depth + 1), rows.shape[:2])):
        raise ValueError(f"each step must list layers 1 to {depth} in order")
    for column in (0, 2, 3):
        first = rows[:, :1, column]
        if not np.array_equal(
            rows[:, :, column], np.broadcast_to(first, rows.shape[:2]), equal_nan=True
        ):
            raise ValueError(f"'{CSV_COLUMNS[column]}' differs between the layers of a step")
    arrays = {"step": rows[:, 0, 0], "loss": rows[:, 0, 2], "accuracy": rows[:, 0, 3]}
    for index, name in enumerate(STAT_NAMES, start=4):
        arrays[name] = rows[:, :, index]
    return meta, arrays


# -- NPZ ------------------------------------------------------------------------------------


def _write_npz(handle: IO[bytes], meta: dict[str, Any], data: _Written, depth: int) -> None:
    diverged = meta["diverged_at"]
    np.savez(
        handle,
        gradsim_version=np.array(meta["gradsim_version"]),
        config=np.array(json.dumps(meta["config"])),
        diverged_at=np.array(-1 if diverged is None else diverged, dtype=np.int64),
        divergence_reason=np.array(meta["divergence_reason"] or ""),
        # numpy's stub has allow_pickle: bool among the keywords, and mypy assumes **data
        # could fill it; its keys are the recorder's ARRAY_NAMES, so none does.
        **data,  # type: ignore[arg-type]
    )


def _read_npz(path: Path) -> tuple[dict[str, Any], _Read]:
    # Open the file here: numpy leaks its own handle when a truncated archive fails to open.
    with open(path, "rb") as handle:
        try:
            npz = np.load(handle, allow_pickle=False)
        except ValueError as exc:  # not a zip: numpy then suspects a pickle
            raise ValueError("not an .npz archive") from exc
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with npz:
            return _npz_contents(npz)


def _npz_contents(npz: np.lib.npyio.NpzFile) -> tuple[dict[str, Any], _Read]:
    needed = ("config", "diverged_at", "step", "loss", "accuracy", *STAT_NAMES)
    missing = [key for key in needed if key not in npz.files]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    config = npz["config"]
    if config.ndim != 0 or config.dtype.kind != "U":
        raise ValueError("'config' must be a JSON string")
    diverged = npz["diverged_at"]
    if diverged.ndim != 0 or diverged.dtype.kind not in "iu":
        raise ValueError("'diverged_at' must be an integer")
    reason = npz["divergence_reason"] if "divergence_reason" in npz.files else None
    meta = {
        "config": json.loads(config.item()),
        "diverged_at": None if int(diverged) < 0 else int(diverged),
        "divergence_reason": (str(reason.item()) or None) if reason is not None else None,
    }
    arrays = {name: npz[name] for name in ("step", "loss", "accuracy", *STAT_NAMES)}
    return meta, arrays


# -- JSON -----------------------------------------------------------------------------------


def _json_floats(values: NDArray[np.number]) -> list[Any]:
    """Nested lists of floats, with non-finite values as "inf", "-inf" or "nan"."""
    finite = np.isfinite(values)
    nested: list[Any]
    if finite.all():
        nested = values.tolist()
        return nested
    out = values.astype(object)
    out[np.isnan(values)] = "nan"
    out[values == np.inf] = "inf"
    out[values == -np.inf] = "-inf"
    nested = out.tolist()
    return nested


def _from_json_floats(values: object, name: str) -> NDArray[np.float64]:
    """Inverse of ``_json_floats``; anything but numbers and the three strings is an error."""
    if not isinstance(values, list):
        raise ValueError(f"'{name}' must be a list")
    flat = values
    if values and isinstance(values[0], list):
        if not all(isinstance(row, list) for row in values):
            raise ValueError(f"'{name}' must be a list of lists")
        flat = list(itertools.chain.from_iterable(values))
    kinds = set(map(type, flat))
    if kinds - {float, int, str}:
        raise ValueError(f'\'{name}\' must hold numbers (or "inf", "-inf", "nan")')
    if str in kinds:
        bad = {value for value in flat if isinstance(value, str)} - set(NONFINITE)
        if bad:
            raise ValueError(f"'{name}' holds the string {sorted(bad)[0]!r}")
    return np.array(values, dtype=np.float64)


def _write_json(handle: IO[bytes], meta: dict[str, Any], data: _Written, depth: int) -> None:
    document = dict(meta)
    document["step"] = data["step"].tolist()
    document["loss"] = _json_floats(data["loss"])
    document["accuracy"] = _json_floats(data["accuracy"])
    document["stats"] = {name: _json_floats(data[name]) for name in STAT_NAMES}
    handle.write(json.dumps(document, allow_nan=False, separators=(",", ":")).encode("utf-8"))


def _read_json(path: Path) -> tuple[dict[str, Any], _Read]:
    text = path.read_text(encoding="utf-8")
    document = _expect(json.loads(text), dict, "the document")
    stats = _expect(document.get("stats"), dict, "stats")
    steps = _expect(document.get("step"), list, "step")
    if any(isinstance(step, bool) or not isinstance(step, int) for step in steps):
        raise ValueError("'step' must hold integers")
    arrays = {
        "step": np.array(steps, dtype=np.int64),
        "loss": _from_json_floats(document.get("loss"), "loss"),
        "accuracy": _from_json_floats(document.get("accuracy"), "accuracy"),
    }
    depth = _expect(document.get("config"), dict, "config").get("depth", Config().depth)
    for name in STAT_NAMES:
        values = _from_json_floats(stats.get(name), name)
        arrays[name] = values.reshape(0, depth) if values.size == 0 and depth else values
    return document, arrays


# -- helpers --------------------------------------------------------------------------------


def _expect(value: object, kind: type[_T], what: str) -> _T:
    if not isinstance(value, kind):
        raise ValueError(f"{what} must be a {'mapping' if kind is dict else kind.__name__}")
    return value


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
