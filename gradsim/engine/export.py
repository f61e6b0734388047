"""Save a run (its config and recorded statistics) as CSV, NPZ or JSON, and load it back.

This is the file contract shared by the command line and the app, so the layouts are stable:

CSV
    Two files. ``run.csv`` is a plain table that any CSV reader opens with its defaults
    (``pandas.read_csv(path)``, ``csv.DictReader``, R's ``read.csv``, a spreadsheet): the
    header row ``CSV_COLUMNS`` on line 1, then one row per (step, layer) and nothing else.
    ``layer`` is 1-based (1 = input side); ``loss`` and ``accuracy`` repeat on every layer
    row of their step. Floats are written with ``repr`` (shortest exact round trip);
    non-finite values as ``inf``, ``-inf``, ``nan`` (pandas reads them as floats; a
    spreadsheet shows them as text). What
    re-loading needs is in the sidecar ``run.meta.json`` beside it (``sidecar_path``: the
    extension ``.csv`` replaced by ``.meta.json``, so it never collides with ``run.json``,
    the JSON export of the same run): ``{"gradsim_version", "config", "diverged_at",
    "divergence_reason"}`` as in the JSON format, and ``rows``, the CSV's number of data
    rows (so a truncated table is noticed). ``read_run`` refuses a CSV whose sidecar is
    missing. Older CSVs, whose leading ``#`` lines held that metadata instead
    (``# config: {JSON}``, ``# diverged_at: K``, ``# divergence_reason: "..."``), still load.
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
file is never left half-written. A CSV's two files are both written to temporary files first,
then the sidecar and the CSV are moved into place: if the sidecar cannot be written, neither
an existing CSV nor its sidecar is touched. Every failure is an ``ExportError`` with a
one-line message naming the path.
"""

from __future__ import annotations

import itertools
import json
import os
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from gradsim import __version__
from gradsim.engine.atomic import atomic_path, check_writable, reason, write_atomic
from gradsim.engine.config import Config, ConfigError
from gradsim.engine.recording import Recorder
from gradsim.engine.stats import STAT_NAMES

FORMATS: tuple[str, ...] = (".csv", ".npz", ".json")
CSV_COLUMNS: tuple[str, ...] = ("step", "layer", "loss", "accuracy", *STAT_NAMES)
SIDECAR_SUFFIX = ".meta.json"  # run.csv's metadata: run.meta.json (run.json is the JSON export)
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
    try:
        if path.is_dir():  # os.stat: ENAMETOOLONG for a name too long, an OSError
            raise ExportError(f"cannot write {path}: it is a directory")
        sidecar = sidecar_path(path)
        if file_format(path) == ".csv" and sidecar.is_dir():
            raise ExportError(f"cannot write {path}: its metadata file {sidecar} is a directory")
        parent = path.parent
        if not parent.is_dir():
            raise ExportError(f"cannot write {path}: directory {parent} does not exist")
        check_writable(path)  # a folder written to as atomic_path will, the name's length
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    return path


def sidecar_path(path: str | Path) -> Path:
    """The metadata file written beside a CSV run file: ``run.csv`` -> ``run.meta.json``."""
    return Path(path).with_suffix(SIDECAR_SUFFIX)


def written_files(path: str | Path) -> tuple[Path, ...]:
    """The files ``write_run(path, ...)`` writes: ``path``, and for a CSV its sidecar."""
    path = Path(path)
    return (path, sidecar_path(path)) if file_format(path) == ".csv" else (path,)


def write_run(path: str | Path, config: Config, recorder: Recorder) -> None:
    """Write a run in the format chosen by the extension; atomic; raises ``ExportError``.

    A CSV also writes its metadata to ``sidecar_path(path)`` (see ``written_files``).
    """
    path = Path(path)
    fmt = file_format(path)
    if recorder.depth != config.depth:
        raise ValueError(f"recorder depth {recorder.depth} != config depth {config.depth}")
    data = recorder.arrays()
    meta = {
        "gradsim_version": __version__,
        "config": config.to_dict(),
        "diverged_at": recorder.diverged_at,
        "divergence_reason": recorder.divergence_reason,
    }
    if fmt == ".csv":
        _write_csv_files(path, meta, data, recorder.depth)
        return
    writer = {".npz": _write_npz, ".json": _write_json}[fmt]
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


def _write_csv_files(path: Path, meta: dict[str, Any], data: _Written, depth: int) -> None:
    """The table to ``path``, the metadata to its sidecar: both complete, or neither replaced.

    Both are written to temporary files first; then the sidecar, then the CSV, is moved into
    place (``atomic_path`` replaces its target on leaving the block, and removes the
    temporary file on an error).
    """
    sidecar = sidecar_path(path)
    rows = int(data["step"].shape[0]) * depth  # lets reading notice a truncated table
    text = json.dumps({**meta, "rows": rows}, indent=2) + "\n"
    if path.is_dir():  # else found only when moving it into place, after the sidecar
        raise ExportError(f"cannot write {path}: it is a directory")
    try:
        with atomic_path(path) as tmp:
            _write_synced(tmp, lambda handle: _write_csv(handle, data, depth))
            try:
                with atomic_path(sidecar) as tmp_meta:
                    _write_synced(tmp_meta, lambda handle: handle.write(text.encode("utf-8")))
            except OSError as exc:
                raise ExportError(
                    f"cannot write {path}: its metadata file {sidecar}: {_reason(exc)}"
                ) from exc
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc


def _write_synced(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def _write_csv(handle: IO[bytes], data: _Written, depth: int) -> None:
    """The table alone: the header row, then one row per (step, layer)."""
    handle.write((",".join(CSV_COLUMNS) + "\n").encode("ascii"))
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
    meta: dict[str, Any] | None = None
    with open(path, encoding="utf-8") as handle:
        line = handle.readline()
        if line.startswith("#"):  # the older layout: the metadata in leading '#' lines
            meta, line = _read_comment_lines(handle, line)
        columns = tuple(name.strip() for name in line.strip().split(","))
        if columns != CSV_COLUMNS:
            raise ValueError(f"expected the columns {','.join(CSV_COLUMNS)} on the first line")
        if meta is None:
            meta = _read_sidecar(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for a 0-step run
            table = np.loadtxt(handle, delimiter=",", dtype=np.float64, ndmin=2, comments="#")
    if table.size == 0:
        table = np.zeros((0, len(CSV_COLUMNS)))
    if meta.get("rows") not in (None, table.shape[0]):
        raise ValueError(
            f"{table.shape[0]} data rows, but {sidecar_path(path).name} says {meta['rows']} "
            "(a truncated file?)"
        )
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


def _read_comment_lines(handle: IO[str], line: str) -> tuple[dict[str, Any], str]:
    """The metadata of an older CSV's leading ``#`` lines, and the first line after them."""
    meta: dict[str, Any] = {}
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
    return meta, line


def _read_sidecar(path: Path) -> dict[str, Any]:
    """A CSV's metadata file; any problem with it is an ``ExportError`` that names it."""
    sidecar = sidecar_path(path)
    try:
        raw = sidecar.read_bytes()
    except FileNotFoundError as exc:
        raise ExportError(
            f"cannot read {path}: its metadata file {sidecar} is missing "
            f"(gradsim writes it beside the CSV; keep the two files together)"
        ) from exc
    except OSError as exc:
        raise ExportError(
            f"cannot read {path}: its metadata file {sidecar}: {_reason(exc)}"
        ) from exc
    try:
        meta = _expect(json.loads(raw.decode("utf-8")), dict, "the document")
        _expect(meta.get("config"), dict, "config")
        rows = meta.get("rows")
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int)):
            raise ValueError("rows must be an integer")
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ExportError(
            f"cannot read {path}: its metadata file {sidecar} is not valid: {exc}"
        ) from exc
    return meta


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


def read_npz_arrays(path: Path) -> dict[str, NDArray[Any]]:
    """Every array of an .npz file, read without pickle; ValueError if it is not one."""
    # Open the file here: numpy leaks its own handle when a truncated archive fails to open.
    with open(path, "rb") as handle:
        try:
            npz = np.load(handle, allow_pickle=False)
        except ValueError as exc:  # not a zip: numpy then suspects a pickle
            raise ValueError("not an .npz archive") from exc
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with npz:
            return {key: npz[key] for key in npz.files}


def _read_npz(path: Path) -> tuple[dict[str, Any], _Read]:
    return _npz_contents(read_npz_arrays(path))


def _npz_contents(npz: Mapping[str, NDArray[Any]]) -> tuple[dict[str, Any], _Read]:
    needed = ("config", "diverged_at", "step", "loss", "accuracy", *STAT_NAMES)
    missing = [key for key in needed if key not in npz]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    config = npz["config"]
    if config.ndim != 0 or config.dtype.kind != "U":
        raise ValueError("'config' must be a JSON string")
    diverged = npz["diverged_at"]
    if diverged.ndim != 0 or diverged.dtype.kind not in "iu":
        raise ValueError("'diverged_at' must be an integer")
    reason = npz.get("divergence_reason")
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
    return reason(exc)
