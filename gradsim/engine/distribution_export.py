"""Save recorded per-layer histograms (a ``DistributionHistory``) as NPZ or JSON, and load them.

The histograms of a run are data in their own right (a notebook can redraw or compare them),
so both layouts carry everything ``Histogram`` holds, plus the config. Layer index 0 is
layer 1 (the input side), as everywhere in the engine.

NPZ
    0-d strings ``gradsim_version``, ``config`` (JSON) and ``format`` ("gradsim histograms 1");
    ``step`` (n,) int64; then per kind K in ``KINDS`` (log kinds span a different number of
    bins each step, so the steps are concatenated): ``K_bins`` (n,) int64 bins per step;
    ``K_edges`` and ``K_output_edges`` (Σ(bins + 1),) float64, the edges of the hidden and of
    the last layer, step after step (the top log2 edge may be inf); ``K_counts``
    (depth, Σ bins) int64; ``K_below``, ``K_above``, ``K_nonfinite`` (n, depth) int64.
    Needs no pickle: ``numpy.load(path, allow_pickle=False)``.
JSON
    ``{"gradsim_version", "format", "config", "steps": [step, ...], "histograms": {kind:
    [{"scale", "edges", "output_edges", "counts" (per layer), "below", "above",
    "nonfinite"} per step]}}``. Strict JSON: a non-finite edge is the string "inf".
    ``output_edges`` is null where the last layer uses ``edges``.

Writes are atomic; every failure is an ``ExportError`` naming the path.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from gradsim import __version__
from gradsim.engine.atomic import check_writable, reason, write_atomic
from gradsim.engine.config import Config, ConfigError
from gradsim.engine.distributions import (
    DEFAULT_BUDGET_BYTES,
    KINDS,
    VALUE_KINDS,
    DistributionHistory,
    Histogram,
    StepDistributions,
)
from gradsim.engine.export import NONFINITE, ExportError, read_npz_arrays

FORMAT = "gradsim histograms 1"
HISTOGRAM_FORMATS: tuple[str, ...] = (".npz", ".json")
_COUNTS = ("below", "above", "nonfinite")


@dataclass(frozen=True)
class HistogramFile:
    """A loaded histogram file."""

    config: Config
    history: DistributionHistory


def write_histograms(history: DistributionHistory, path: str | Path, config: Config) -> None:
    """Write ``history`` in the format chosen by the extension; atomic; raises ExportError."""
    path = Path(path)
    fmt = _format(path)
    entries = history.entries()
    for entry in entries:
        depths = {h.depth for h in entry.histograms.values()}
        if depths != {config.depth}:
            raise ValueError(f"step {entry.step} has depth {depths}, config depth {config.depth}")
    writer = _write_npz if fmt == ".npz" else _write_json
    meta = {"gradsim_version": __version__, "format": FORMAT, "config": config.to_dict()}
    try:
        write_atomic(path, lambda handle: writer(handle, meta, entries))
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {reason(exc)}") from exc


def read_histograms(path: str | Path) -> HistogramFile:
    """Load a file written by ``write_histograms``; anything else raises ExportError.

    Every step in the file is kept (the budget grows to hold them): it is shown as saved.
    """
    path = Path(path)
    fmt = _format(path)
    try:
        if fmt == ".npz":
            config_dict, entries = _read_npz(path)
        else:
            config_dict, entries = _read_json(path)
        config = Config.from_dict(config_dict)
        for entry in entries:
            if any(h.depth != config.depth for h in entry.histograms.values()):
                raise ValueError(f"step {entry.step} does not have {config.depth} layers")
        budget = max(DEFAULT_BUDGET_BYTES, 2 * sum(e.nbytes for e in entries))
        history = DistributionHistory(budget)
        for entry in entries:
            history.append(entry)
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ConfigError as exc:
        raise ExportError(f"cannot read {path}: bad config: {exc}") from exc
    except (ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise ExportError(f"cannot read {path}: not a gradsim {fmt} histogram file: {exc}") from exc
    return HistogramFile(config=config, history=history)


def check_histogram_path(path: str | Path) -> None:
    """Refuse, before training, a histogram file that could not be written (an unknown
    extension, a missing folder): ExportError naming it."""
    target = Path(path)
    _format(target)
    if not target.parent.exists():
        raise ExportError(f"cannot write {target}: the folder {target.parent} does not exist")
    try:
        check_writable(target)  # a name too long, a read-only folder: refused before training
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {reason(exc)}") from exc


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in HISTOGRAM_FORMATS:
        raise ExportError(f"cannot use {path}: histograms are written as .npz or .json")
    return suffix


def _edges_of_last(h: Histogram) -> NDArray[np.float64]:
    return h.edges if h.output_edges is None else h.output_edges


# -- NPZ ------------------------------------------------------------------------------------


def _write_npz(handle: IO[bytes], meta: dict[str, Any], entries: list[StepDistributions]) -> None:
    arrays: dict[str, NDArray[Any]] = {
        "gradsim_version": np.array(meta["gradsim_version"]),
        "format": np.array(meta["format"]),
        "config": np.array(json.dumps(meta["config"])),
        "step": np.array([e.step for e in entries], dtype=np.int64),
    }
    depth = int(meta["config"]["depth"])
    for kind in KINDS:
        hs = [e.histograms[kind] for e in entries]
        arrays[f"{kind}_bins"] = np.array([h.counts.shape[1] for h in hs], dtype=np.int64)
        arrays[f"{kind}_edges"] = _concat([h.edges for h in hs], np.float64)
        arrays[f"{kind}_output_edges"] = _concat([_edges_of_last(h) for h in hs], np.float64)
        arrays[f"{kind}_counts"] = (
            np.concatenate([h.counts for h in hs], axis=1).astype(np.int64)
            if hs
            else np.zeros((depth, 0), np.int64)
        )
        for name in _COUNTS:
            arrays[f"{kind}_{name}"] = np.array(
                [getattr(h, name) for h in hs], dtype=np.int64
            ).reshape(len(hs), depth)
    np.savez(handle, **arrays)  # type: ignore[arg-type]  # (no key is "allow_pickle")


def _concat(parts: list[NDArray[Any]], dtype: type[np.generic]) -> NDArray[Any]:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _read_npz(path: Path) -> tuple[dict[str, Any], list[StepDistributions]]:
    data = read_npz_arrays(path)
    _check_format(str(data.get("format", np.array(""))))
    config = json.loads(str(data["config"]))
    steps = data["step"]
    if steps.ndim != 1 or steps.dtype.kind not in "iu":
        raise ValueError("'step' must be a vector of integers")
    per_kind: dict[str, list[Histogram]] = {}
    for kind in KINDS:
        bins = data[f"{kind}_bins"].astype(np.int64)
        if bins.shape != steps.shape or np.any(bins < 1):
            raise ValueError(f"'{kind}_bins' must hold one positive count per step")
        edge_ends = np.cumsum(bins + 1)
        bin_ends = np.cumsum(bins)
        edges = np.split(data[f"{kind}_edges"].astype(np.float64), edge_ends[:-1])
        last = np.split(data[f"{kind}_output_edges"].astype(np.float64), edge_ends[:-1])
        counts = np.split(data[f"{kind}_counts"].astype(np.int64), bin_ends[:-1], axis=1)
        rest = {name: data[f"{kind}_{name}"].astype(np.int64) for name in _COUNTS}
        per_kind[kind] = [
            _histogram(kind, edges[i], last[i], counts[i], *(rest[n][i] for n in _COUNTS))
            for i in range(steps.size)
        ]
    entries = [
        StepDistributions(int(step), {kind: per_kind[kind][i] for kind in KINDS})
        for i, step in enumerate(steps.tolist())
    ]
    return config, entries


def _histogram(
    kind: str,
    edges: NDArray[np.float64],
    last_edges: NDArray[np.float64],
    counts: NDArray[np.int64],
    below: NDArray[np.int64],
    above: NDArray[np.int64],
    nonfinite: NDArray[np.int64],
) -> Histogram:
    same = last_edges.shape == edges.shape and np.array_equal(last_edges, edges)
    return Histogram(
        kind=kind,
        scale="value" if kind in VALUE_KINDS else "log2",
        edges=edges,
        counts=counts,
        below=below,
        above=above,
        nonfinite=nonfinite,
        output_edges=None if same else last_edges,
    )


def _check_format(value: str) -> None:
    if value != FORMAT:
        raise ValueError(f"format is {value!r}, expected {FORMAT!r}")


# -- JSON -----------------------------------------------------------------------------------


def _floats(values: NDArray[np.float64]) -> list[float | str]:
    """Floats, with inf, -inf and nan as strings (strict JSON has no such literals)."""
    return [_float(v) for v in values.tolist()]


def _float(value: float) -> float | str:
    if np.isfinite(value):
        return value
    return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")


def _from_floats(values: object, what: str) -> NDArray[np.float64]:
    if not isinstance(values, list) or not all(
        (isinstance(v, (int, float)) and not isinstance(v, bool)) or v in NONFINITE for v in values
    ):
        raise ValueError(f"{what} must be a list of numbers")
    return np.array([NONFINITE[v] if isinstance(v, str) else v for v in values], np.float64)


def _ints(values: object, what: str) -> NDArray[np.int64]:
    array = np.array(values)
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"{what} must hold integers")
    return array.astype(np.int64)


def _write_json(handle: IO[bytes], meta: dict[str, Any], entries: list[StepDistributions]) -> None:
    document = dict(meta)
    document["steps"] = [e.step for e in entries]
    document["histograms"] = {
        kind: [
            {
                "scale": h.scale,
                "edges": _floats(h.edges),
                "output_edges": None if h.output_edges is None else _floats(h.output_edges),
                "counts": h.counts.tolist(),
                "below": h.below.tolist(),
                "above": h.above.tolist(),
                "nonfinite": h.nonfinite.tolist(),
            }
            for h in (e.histograms[kind] for e in entries)
        ]
        for kind in KINDS
    }
    handle.write(json.dumps(document, allow_nan=False, separators=(",", ":")).encode("utf-8"))


def _read_json(path: Path) -> tuple[dict[str, Any], list[StepDistributions]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError("the document must be an object")
    _check_format(str(document.get("format")))
    config = document.get("config")
    steps = document.get("steps")
    histograms = document.get("histograms")
    if not isinstance(config, dict) or not isinstance(steps, list):
        raise ValueError("'config' must be an object and 'steps' a list")
    if not isinstance(histograms, Mapping):
        raise ValueError("'histograms' must be an object")
    step_values = _ints(steps, "steps")
    per_kind: dict[str, list[Histogram]] = {}
    for kind in KINDS:
        items = histograms.get(kind)
        if not isinstance(items, list) or len(items) != step_values.size:
            raise ValueError(f"'{kind}' must list one histogram per step")
        per_kind[kind] = []
        for item in items:
            if not isinstance(item, dict):
                raise ValueError(f"each '{kind}' histogram must be an object")
            edges = _from_floats(item.get("edges"), f"{kind} edges")
            last = item.get("output_edges")
            counts = _ints(item.get("counts"), f"{kind} counts")
            per_kind[kind].append(
                _histogram(
                    kind,
                    edges,
                    edges if last is None else _from_floats(last, f"{kind} output_edges"),
                    counts,
                    *(_ints(item.get(name), f"{kind} {name}") for name in _COUNTS),
                )
            )
    entries = [
        StepDistributions(int(step), {kind: per_kind[kind][i] for kind in KINDS})
        for i, step in enumerate(step_values.tolist())
    ]
    return config, entries
