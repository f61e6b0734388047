"""The user's own data: a CSV table of numeric features and one target column.

Format: UTF-8 (a byte-order mark is fine), comma-separated, a header row of column names,
then one row per sample; quoted fields may hold commas. Blank lines are skipped. Other
separators are not guessed (a ';' or tab file is reported as having one column, with a hint).

Task rule for ``task = "auto"``: the target is a classification when it is not numeric, or
when it holds whole numbers only, with at most ``MAX_AUTO_CLASSES`` distinct values that
are also at most half the row count (so labels repeat); otherwise it is a regression.
Classes are the sorted distinct target values: numbers when every value is a number
(1 and 1.0 are one class), otherwise the texts.

Features are standardised per column (constant columns become 0), like the generated
datasets, so the theory's E[x²] is about 1. A regression target is standardised too: the
loss and the output gradient scale with the target's units, and a price in dollars would
"explode" the first gradient for reasons that have nothing to do with depth.

``resolve_data`` also lowers batch_size to the row count, so a small file trains full-batch:
repeating rows to fill a bigger batch would weight some samples twice, and the config would
not say what was trained on.

Parsed tables are cached by (resolved path, mtime, size, target_column, task), so
``resolve_data`` and the ``Simulation`` built from its config read a large file once.
"""

from __future__ import annotations

import csv
import math
import os
import stat
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from gradsim.engine.config import FIELDS, TASKS, Config, ConfigError, quoted

MAX_AUTO_CLASSES = 20
MAX_CSV_BYTES = 512 * 1024 * 1024  # a guard against endless input, far above a useful table
_CACHE_SIZE = 4
_CHUNK_ROWS = 1024  # rows parsed by numpy at a time (and between progress calls)

Progress = Callable[[int, int], bool]
"""``progress(characters read, file size)`` while parsing; returning False cancels."""


class CsvDataError(ConfigError):
    """The CSV file cannot be used; the message names the file, and the line and column."""


class CsvLoadCancelled(Exception):
    """``progress`` returned False: the parse stopped, and nothing was cached."""


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A parsed, standardised CSV table. Its arrays are read-only (they are cached)."""

    path: Path
    feature_names: tuple[str, ...]
    target_name: str
    task: str  # "classification" or "regression"
    features: NDArray[np.float64]  # (N, F) float64, standardised
    targets: NDArray[np.float64]  # (N, classes) one-hot, or (N, 1) standardised values
    labels: NDArray[np.int64] | None  # (N,) int64 class index; None for regression
    class_names: tuple[str | int | float, ...] | None
    target_mean: float | None = None  # regression: the raw target = mean + std * target
    target_std: float | None = None

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.features.shape[1])

    @property
    def output_dim(self) -> int:
        """Outputs the network needs: one per class, or 1 for regression."""
        return int(self.targets.shape[1])

    @property
    def loss(self) -> str:
        return "cross_entropy" if self.task == "classification" else "mse"

    def summary(self) -> str:
        """One line for a status bar, e.g. "iris.csv: 150 rows, 4 features, 3 classes"."""
        kind = f"{self.output_dim} classes" if self.labels is not None else "regression"
        return (
            f"{self.path.name}: {self.n_rows} rows, {self.n_features} features, {kind} "
            f"of {self.target_name!r}"
        )


_CACHE: OrderedDict[tuple[object, ...], CsvTable] = OrderedDict()
_CACHE_LOCK = threading.Lock()  # the GUI resolves on its thread, a worker may train on another


def read_csv_table(
    path: str | Path, target_column: str = "", task: str = "auto", progress: Progress | None = None
) -> CsvTable:
    """Read, check and standardise a CSV file (cached); problems raise ``CsvDataError``.

    ``progress`` is called every ``_CHUNK_ROWS`` rows (not on a cache hit); when it returns
    False the parse raises ``CsvLoadCancelled``. Peak memory is about twice the float64
    table plus one chunk of text."""
    if task not in TASKS:
        raise CsvDataError(f"task = {task!r} is not allowed: expected {FIELDS['task'].allowed()}")
    shown = str(path)
    resolved = Path(path).expanduser().resolve()
    try:
        info = os.stat(resolved)
    except OSError as exc:
        raise CsvDataError(f"cannot read data file {shown}: {_reason(exc)}") from exc
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block, /dev/zero never end
        raise CsvDataError(f"cannot read data file {shown}: it is not a regular file")
    if info.st_size > MAX_CSV_BYTES:
        raise CsvDataError(
            f"cannot read data file {shown}: it is too large ({info.st_size} bytes; gradsim "
            f"reads at most {MAX_CSV_BYTES})"
        )
    key = (str(resolved), info.st_mtime_ns, info.st_size, target_column.strip(), task)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    table = _parse(resolved, shown, target_column.strip(), task, info.st_size, progress)
    with _CACHE_LOCK:
        _CACHE[key] = table
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return table


def resolve_data(config: Config, progress: Progress | None = None) -> Config:
    """For dataset = "csv": input_dim, output_dim and loss from the file, and batch_size at
    most its row count (a batch of every row, rather than rows repeated); else unchanged.
    ``progress`` is as for ``read_csv_table``."""
    if config.dataset != "csv":
        return config
    table = read_csv_table(config.data_path, config.target_column, config.task, progress)
    return config.replace(
        input_dim=table.n_features,
        output_dim=table.output_dim,
        loss=table.loss,
        batch_size=min(config.batch_size, table.n_rows),
    )


def clear_cache() -> None:
    """Forget every parsed table."""
    with _CACHE_LOCK:
        _CACHE.clear()


# -- parsing ----------------------------------------------------------------------------------


def _parse(
    path: Path, shown: str, target_column: str, task: str, size: int, progress: Progress | None
) -> CsvTable:
    """Stream the file once: the features go straight into one float64 array (sized by a
    count of line breaks), so no list of strings for the whole file is ever held; only the
    target column's texts are kept (it may hold class names)."""
    bound = _line_bound(path, shown)
    counter = _Counter()
    lines = array("q")  # each data row's line number, for the target's messages
    values: list[str] = []
    try:
        # utf-8-sig drops a byte-order mark (Excel writes one); newline="" as csv requires.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(
                _limited(handle, shown, counter), skipinitialspace=True, strict=True
            )
            try:
                records = (r for r in reader if len(r) > 1 or "".join(r).strip())
                header = next(records, None)
                if header is None:
                    raise CsvDataError(
                        f"{shown} is empty: expected a header row of column names, then one row "
                        "per sample"
                    )
                names, target = _columns(header, shown, target_column)
                feature_names = tuple(name for i, name in enumerate(names) if i != target)
                width = len(names)
                features = np.empty((max(bound, 1), width - 1))
                chunk: list[list[str]] = []
                n = 0
                for record in records:
                    if len(record) != width:
                        raise CsvDataError(
                            f"{shown}: line {reader.line_num} has {len(record)} values, the "
                            f"header has {width}"
                        )
                    values.append(record.pop(target).strip())
                    lines.append(reader.line_num)
                    chunk.append(record)
                    if len(chunk) == _CHUNK_ROWS:
                        features = _store(features, n, chunk, lines, shown, feature_names)
                        n += len(chunk)
                        chunk.clear()
                        if progress is not None and not progress(min(counter.chars, size), size):
                            raise CsvLoadCancelled(f"loading {shown} was cancelled")
                features = _store(features, n, chunk, lines, shown, feature_names)
                n += len(chunk)
            except csv.Error as exc:
                raise CsvDataError(f"{shown}: line {reader.line_num}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise CsvDataError(
            f"cannot read data file {shown}: it is not UTF-8 text (byte {exc.start}); save it "
            "as UTF-8 CSV"
        ) from exc
    except OSError as exc:
        raise CsvDataError(f"cannot read data file {shown}: {_reason(exc)}") from exc
    if n == 0:
        raise CsvDataError(f"{shown} has a header but no data rows")
    if n < len(features):  # blank lines or quoted line breaks: give the spare rows back
        features.resize((n, width - 1), refcheck=False)
    features = _standardise(features)
    for value, line in zip(values, lines, strict=True):
        if not value:
            raise CsvDataError(f"{shown}: line {line}, column {quoted(names[target])} is empty")
    numbers = _numbers(values)
    if task == "auto":
        task = "classification" if _looks_like_classes(numbers, len(values)) else "regression"
    labels: NDArray[np.int64] | None = None
    classes: tuple[str | int | float, ...] | None = None
    mean = std = None
    if task == "regression":
        y = _regression_target(values, numbers, shown, lines, names[target]).reshape(-1, 1)
        with np.errstate(over="ignore"):  # informative only; the scaled targets stay finite
            mean, std = float(np.mean(y)), float(np.std(y))
        targets = _standardise(y)
    else:
        classes, labels = _classes(values, numbers, shown, names[target])
        targets = np.zeros((len(labels), len(classes)))
        targets[np.arange(len(labels)), labels] = 1.0
    return CsvTable(
        path=path,
        feature_names=feature_names,
        target_name=names[target],
        task=task,
        features=_frozen(features),
        targets=_frozen(targets),
        labels=None if labels is None else _frozen(labels),
        class_names=classes,
        target_mean=mean,
        target_std=std,
    )


def _columns(header: list[str], shown: str, target_column: str) -> tuple[list[str], int]:
    """Check the header; return the column names and the target's index."""
    names = [cell.strip() or f"column {i + 1}" for i, cell in enumerate(header)]
    if len(names) < 2:
        hint = ""
        if any(sep in header[0] for sep in ";\t|"):
            hint = " (gradsim reads comma-separated files only; this one looks separated by "
            hint += "';', tabs or '|')"
        raise CsvDataError(
            f"{shown} has 1 column ({quoted(names[0])}): it needs at least one feature column "
            f"and a target column{hint}"
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise CsvDataError(
                f"{shown}: column name {quoted(name)} appears twice in the header (columns "
                f"{seen[name] + 1} and {i + 1}); column names must be unique"
            )
        seen[name] = i
    limit = int(FIELDS["input_dim"].high or 0)
    if len(names) - 1 > limit:
        raise CsvDataError(
            f"{shown} has {len(names) - 1} feature columns; gradsim takes at most {limit}"
        )
    if not target_column:
        return names, len(names) - 1
    if target_column not in seen:
        raise CsvDataError(
            f"{shown} has no column {quoted(target_column)} (target_column); its columns are: "
            f"{_listed(names)}"
        )
    return names, seen[target_column]


def _line_bound(path: Path, shown: str) -> int:
    """At least the number of records in the file: its line breaks (\\n or \\r), plus one."""
    newlines = returns = 0
    try:
        with open(path, "rb") as handle:
            read = 0
            while read <= MAX_CSV_BYTES and (block := handle.read(1 << 20)):
                read += len(block)
                newlines += block.count(b"\n")
                returns += block.count(b"\r")
    except OSError as exc:
        raise CsvDataError(f"cannot read data file {shown}: {_reason(exc)}") from exc
    return max(newlines, returns) + 1


class _Counter:
    """Characters read so far (about the bytes: the progress shown)."""

    chars = 0


def _limited(lines: Iterable[str], shown: str, counter: _Counter | None = None) -> Iterator[str]:
    """The file's lines, refusing more than ``MAX_CSV_BYTES`` characters in all (a file that
    grows while it is read, or a device posing as one)."""
    total = 0
    for line in lines:
        total += len(line)
        if total > MAX_CSV_BYTES:
            raise CsvDataError(
                f"cannot read data file {shown}: it is too large (gradsim reads at most "
                f"{MAX_CSV_BYTES} bytes)"
            )
        if counter is not None:
            counter.chars = total
        yield line


def _store(
    features: NDArray[np.float64],
    n: int,
    chunk: list[list[str]],
    lines: array[int],
    shown: str,
    names: tuple[str, ...],
) -> NDArray[np.float64]:
    """Parse ``chunk`` (rows n, n+1, ...) into ``features``, grown if the file grew."""
    if not chunk:
        return features
    end = n + len(chunk)
    if end > len(features):  # more rows than line breaks counted: the file grew meanwhile
        grown = np.empty((max(end, len(features) * 3 // 2), features.shape[1]))
        grown[:n] = features[:n]
        features = grown
    features[n:end] = _parse_features(chunk, shown, lines[n:end], names)
    return features


def _parse_features(
    raw: list[list[str]], shown: str, lines: Sequence[int], names: tuple[str, ...]
) -> NDArray[np.float64]:
    """Feature cells as float64; the first bad cell (in file order) is named in the error."""
    try:  # numpy converts the whole block at C speed; the slow scan only runs on failure
        features = np.array(raw, dtype=np.float64).reshape(len(raw), len(names))
        if np.isfinite(features).all():
            return features
    except ValueError:
        pass
    parsed = []
    for row, line in zip(raw, lines, strict=True):
        parsed.append(
            [
                _cell(text.strip(), f"{shown}: line {line}, column {quoted(name)}")
                for text, name in zip(row, names, strict=True)
            ]
        )
    return np.array(parsed, dtype=np.float64)


def _cell(text: str, where: str) -> float:
    if not text:
        raise CsvDataError(f"{where} is empty")
    try:
        number = float(text)
    except ValueError:
        raise CsvDataError(f"{where}: {quoted(text)} is not a number") from None
    if not math.isfinite(number):
        raise CsvDataError(
            f"{where}: {quoted(text)} is not a finite number (gradsim cannot train on missing or "
            "infinite values)"
        )
    return number


def _numbers(values: list[str]) -> list[float] | None:
    """Every target value as a number, or None when some value is not one."""
    try:
        return [float(value) for value in values]
    except ValueError:
        return None


def _looks_like_classes(numbers: list[float] | None, n_rows: int) -> bool:
    """The ``task = "auto"`` rule (see the module docstring)."""
    if numbers is None:
        return True
    if not all(math.isfinite(x) and x.is_integer() for x in numbers):
        return False
    distinct = len(set(numbers))
    return distinct <= MAX_AUTO_CLASSES and 2 * distinct <= n_rows


def _regression_target(
    values: list[str], numbers: list[float] | None, shown: str, lines: Sequence[int], name: str
) -> NDArray[np.float64]:
    if numbers is None:
        for value, line in zip(values, lines, strict=True):
            try:
                float(value)
            except ValueError:
                raise CsvDataError(
                    f"{shown}: line {line}, column {quoted(name)}: {quoted(value)} is not a "
                    "number (a regression target must be numeric; set task = 'classification' "
                    "for labels)"
                ) from None
    return np.array(
        [
            _cell(value, f"{shown}: line {line}, column {quoted(name)}")
            for value, line in zip(values, lines, strict=True)
        ],
        dtype=np.float64,
    )


def _classes(
    values: list[str], numbers: list[float] | None, shown: str, name: str
) -> tuple[tuple[str | int | float, ...], NDArray[np.int64]]:
    """Sorted distinct classes and each row's class index."""
    keys: list[str | int | float]
    if numbers is not None and all(math.isfinite(x) for x in numbers):
        whole = all(x.is_integer() for x in numbers)
        keys = [int(x) if whole else x for x in numbers]
    else:
        keys = list(values)
    classes = tuple(sorted(set(keys)))
    if len(classes) < 2:
        raise CsvDataError(
            f"{shown}: the target column {quoted(name)} has only one class ({quoted(classes[0])}); "
            "classification needs at least 2"
        )
    limit = int(FIELDS["output_dim"].high or 0)
    if len(classes) > limit:
        raise CsvDataError(
            f"{shown}: the target column {quoted(name)} has {len(classes)} distinct values, more "
            f"than the {limit} classes gradsim takes; is it the right column, or should task "
            "be 'regression'?"
        )
    index = {key: i for i, key in enumerate(classes)}
    return classes, np.array([index[key] for key in keys], dtype=np.int64)


def _standardise(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Zero mean, unit variance per column, in place (no full-size temporaries: the table
    may be most of the memory); constant columns become exactly 0."""
    high, low = x.max(axis=0), x.min(axis=0)
    constant = high == low
    # Dividing by the largest magnitude first keeps x² finite for values near 1e308.
    peak = np.maximum(np.abs(high), np.abs(low))
    x /= np.where(peak > 0, peak, 1.0)
    x -= x.mean(axis=0)
    squares = np.zeros(x.shape[1])
    for start in range(0, len(x), _CHUNK_ROWS):
        block = x[start : start + _CHUNK_ROWS]
        squares += np.einsum("ij,ij->j", block, block)
    std = np.sqrt(squares / len(x))
    x /= np.where(constant | (std == 0), 1.0, std)
    x[:, constant] = 0.0
    return x


_Array = TypeVar("_Array", bound=NDArray[np.generic])


def _frozen(array: _Array) -> _Array:
    array.setflags(write=False)
    return array


def _listed(names: list[str], limit: int = 10) -> str:
    """Column names for a message: the first ``limit`` of them, each cut short."""
    shown = ", ".join(name if len(name) <= 30 else name[:29] + "\u2026" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
