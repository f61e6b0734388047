"""Run files: CSV, NPZ and JSON round trips, non-finite values, atomic writes, clear errors."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradsim import __version__
from gradsim.engine import export
from gradsim.engine.config import Config
from gradsim.engine.export import (
    CSV_COLUMNS,
    ExportError,
    check_output_path,
    read_run,
    write_run,
)
from gradsim.engine.recording import Recorder
from gradsim.engine.stats import STAT_NAMES

FORMATS = (".csv", ".npz", ".json")
# Values that break naive writers: non-finite, signed zero, subnormal, extremes, long reprs.
SPECIAL = [np.inf, -np.inf, np.nan, -0.0, 5e-324, 1.7976931348623157e308, 0.1, 1 / 3, 1e16]


def make_run(steps: int = 6, depth: int = 3, *, diverged: bool = True) -> tuple[Config, Recorder]:
    rng = np.random.default_rng(42)
    arrays = {
        "step": np.arange(steps) * 2,
        "loss": rng.standard_normal(steps),
        "accuracy": np.full(steps, np.nan),
    }
    for name in STAT_NAMES:
        arrays[name] = rng.standard_normal((steps, depth)) * 10.0 ** rng.integers(-300, 300)
    flat = arrays["backprop_grad_rms"].reshape(-1)
    flat[: len(SPECIAL)] = SPECIAL[: flat.size]
    arrays["loss"][-1] = np.inf
    recorder = Recorder.from_arrays(
        depth, arrays,
        diverged_at=int(arrays["step"][-1]) if diverged else None,
        divergence_reason="gradients overflowed at layer 2 (beyond float64's largest number)"
        if diverged else None,
    )
    config = Config(depth=depth, width=5, activation="relu", init_gain=1.5, learning_rate=0.125)
    return config, recorder


def assert_same_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal to the last bit (signed zeros included); NaN matches NaN."""
    assert actual.shape == expected.shape
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(actual), nan)
    a, e = actual.astype(np.float64)[~nan], expected.astype(np.float64)[~nan]
    np.testing.assert_array_equal(a.view(np.int64), e.view(np.int64))


def assert_same_run(loaded: Recorder, original: Recorder) -> None:
    np.testing.assert_array_equal(loaded.steps, original.steps)
    assert loaded.steps.dtype == np.int64
    for key in ("loss", "accuracy", *STAT_NAMES):
        assert_same_bits(loaded.arrays()[key], original.arrays()[key])
    assert loaded.diverged_at == original.diverged_at
    assert loaded.divergence_reason == original.divergence_reason


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("diverged", [True, False])
def test_round_trip(tmp_path: Path, ext: str, diverged: bool) -> None:
    config, recorder = make_run(diverged=diverged)
    path = tmp_path / f"run{ext}"
    write_run(path, config, recorder)
    loaded = read_run(path)
    assert loaded.config == config
    assert_same_run(loaded.recorder, recorder)


@pytest.mark.parametrize("ext", FORMATS)
def test_round_trip_of_an_empty_run(tmp_path: Path, ext: str) -> None:
    config = Config(depth=4)
    write_run(tmp_path / f"run{ext}", config, Recorder(4))
    loaded = read_run(tmp_path / f"run{ext}")
    assert loaded.config == config and len(loaded.recorder) == 0
    assert loaded.recorder.stat("weight_norm").shape == (0, 4)


@pytest.mark.parametrize("ext", [".CSV", ".Json", ".NPZ"])
def test_extension_case_does_not_matter(tmp_path: Path, ext: str) -> None:
    config, recorder = make_run()
    write_run(tmp_path / f"run{ext}", config, recorder)
    assert_same_run(read_run(tmp_path / f"run{ext}").recorder, recorder)


@settings(max_examples=25, deadline=None)
@given(
    values=hnp.arrays(np.float64, st.tuples(st.integers(0, 4), st.integers(1, 3)),
                      elements=st.floats(allow_nan=True, allow_infinity=True)),
)
def test_any_float_survives_every_format(values: np.ndarray) -> None:
    steps, depth = values.shape
    arrays = {"step": np.arange(steps), "loss": values[:, 0], "accuracy": values[:, -1]}
    arrays |= {name: values for name in STAT_NAMES}
    recorder = Recorder.from_arrays(depth, arrays)
    with tempfile.TemporaryDirectory() as tmp:
        for ext in FORMATS:
            path = Path(tmp) / f"run{ext}"
            write_run(path, Config(depth=depth), recorder)
            assert_same_run(read_run(path).recorder, recorder)


def test_csv_is_tidy_and_readable_by_the_csv_module(tmp_path: Path) -> None:
    config, recorder = make_run(steps=4, depth=3)
    path = tmp_path / "run.csv"
    write_run(path, config, recorder)
    text = path.read_text()
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)  # the header row on line 1
    assert "#" not in text and len(text.splitlines()) == 1 + 4 * 3  # nothing else
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)  # the csv module's defaults
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    assert len(rows) == 4 * 3 and all(len(row) == len(CSV_COLUMNS) for row in rows)
    assert [row["layer"] for row in rows[:4]] == ["1", "2", "3", "1"]
    assert [row["step"] for row in rows[:4]] == ["0", "0", "0", "2"]
    grads = recorder.stat("backprop_grad_rms").ravel()
    assert [row["backprop_grad_rms"] for row in rows] == [repr(float(v)) for v in grads]
    assert {"inf", "-inf", "nan"} <= {row["backprop_grad_rms"] for row in rows}
    assert rows[-1]["loss"] == "inf"


def test_csv_loads_in_pandas_with_its_defaults(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    steps, depth = 4, 3
    config, recorder = make_run(steps=steps, depth=depth)
    write_run(tmp_path / "run.csv", config, recorder)
    frame = pandas.read_csv(tmp_path / "run.csv")  # no arguments
    assert list(frame.columns) == list(CSV_COLUMNS)
    assert len(frame) == steps * depth
    for column in CSV_COLUMNS:
        assert pandas.api.types.is_numeric_dtype(frame[column]), (column, frame[column].dtype)
    assert frame["step"].dtype == np.int64 and frame["layer"].dtype == np.int64
    np.testing.assert_array_equal(frame["step"], np.repeat(recorder.steps, depth))
    np.testing.assert_array_equal(frame["layer"], np.tile(np.arange(1, depth + 1), steps))
    for key in ("loss", "accuracy"):
        assert_same_bits(frame[key].to_numpy(), np.repeat(recorder.arrays()[key], depth))
    for name in STAT_NAMES:
        assert_same_bits(frame[name].to_numpy(), recorder.stat(name).ravel())
    # The "inf", "-inf" and "nan" cells are floats, not text: pandas' defaults parse them.
    grads = frame["backprop_grad_rms"].to_numpy()
    assert np.isposinf(grads).any() and np.isneginf(grads).any() and np.isnan(grads).any()
    assert np.isposinf(frame["loss"].iloc[-1]) and frame["accuracy"].isna().all()


def test_csv_metadata_is_in_a_sidecar_json(tmp_path: Path) -> None:
    config, recorder = make_run(steps=4, depth=3)
    path = tmp_path / "run.csv"
    write_run(path, config, recorder)
    assert export.sidecar_path(path) == tmp_path / "run.meta.json"
    assert export.written_files(path) == (path, tmp_path / "run.meta.json")
    assert sorted(os.listdir(tmp_path)) == ["run.csv", "run.meta.json"]
    meta = json.loads((tmp_path / "run.meta.json").read_text())
    assert meta == {
        "gradsim_version": __version__,
        "config": config.to_dict(),
        "diverged_at": recorder.diverged_at,
        "divergence_reason": recorder.divergence_reason,
        "rows": 4 * 3,
    }


def test_csv_sidecar_does_not_collide_with_the_json_export(tmp_path: Path) -> None:
    config, recorder = make_run(steps=3, depth=2)
    other = Config(depth=2, activation="tanh")
    write_run(tmp_path / "run.csv", config, recorder)
    write_run(tmp_path / "run.json", other, recorder)
    assert sorted(os.listdir(tmp_path)) == ["run.csv", "run.json", "run.meta.json"]
    assert read_run(tmp_path / "run.csv").config == config
    assert read_run(tmp_path / "run.json").config == other
    assert export.written_files(tmp_path / "run.json") == (tmp_path / "run.json",)
    assert export.written_files(tmp_path / "run.npz") == (tmp_path / "run.npz",)


def test_csv_without_its_sidecar_is_refused_naming_it(tmp_path: Path) -> None:
    config, recorder = make_run()
    path = tmp_path / "run.csv"
    write_run(path, config, recorder)
    (tmp_path / "run.meta.json").unlink()
    with pytest.raises(ExportError) as info:
        read_run(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"cannot read {path}: ")
    assert f"{tmp_path / 'run.meta.json'} is missing" in message


def test_csv_cut_at_a_step_boundary_is_noticed(tmp_path: Path) -> None:
    config, recorder = make_run(steps=6, depth=3)
    path = tmp_path / "run.csv"
    write_run(path, config, recorder)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: 1 + 4 * 3]))  # the last 2 steps lost, every row whole
    with pytest.raises(ExportError, match=r"12 data rows, but run\.meta\.json says 18"):
        read_run(path)


@pytest.mark.parametrize(
    "sidecar",
    ['{"config": ', "[1, 2]", '{"config": "depth=3"}', "\udc80"],
    ids=["truncated", "not-an-object", "config-not-an-object", "not-utf8"],
)
def test_malformed_sidecar_is_an_export_error_naming_it(tmp_path: Path, sidecar: str) -> None:
    config, recorder = make_run()
    path = tmp_path / "run.csv"
    write_run(path, config, recorder)
    (tmp_path / "run.meta.json").write_bytes(sidecar.encode("utf-8", "surrogateescape"))
    with pytest.raises(ExportError, match=re.escape(str(tmp_path / "run.meta.json"))) as info:
        read_run(path)
    assert "\n" not in str(info.value)


# An older gradsim's CSV, as users have them: the metadata in leading '#' lines, no sidecar.
OLD_FORMAT_CSV = """\
# gradsim 0.1.0
# config: {"depth": 2, "width": 4, "activation": "sigmoid"}
# diverged_at: 3
# divergence_reason: "loss became nan"
# one row per (step, layer); layer 1 is the input side. Skip these lines: \
pandas.read_csv(path, comment='#')
step,layer,loss,accuracy,activation_rms,preactivation_rms,backprop_grad_rms,\
weight_grad_norm,weight_norm,update_ratio,saturation
0,1,0.5,nan,1.0,2.0,3.0,4.0,5.0,6.0,0.0
0,2,0.5,nan,1.5,2.5,-0.0,4.5,5.5,6.5,0.25
3,1,inf,nan,inf,-inf,nan,1e-300,5e-324,1.7976931348623157e+308,1.0
3,2,inf,nan,0.1,0.3333333333333333,1e+16,2.0,3.0,4.0,0.5
"""


def test_old_format_csv_with_comment_lines_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(OLD_FORMAT_CSV)
    loaded = read_run(path)
    assert loaded.config == Config(depth=2, width=4, activation="sigmoid")
    run = loaded.recorder
    assert run.diverged_at == 3 and run.divergence_reason == "loss became nan"
    np.testing.assert_array_equal(run.steps, [0, 3])
    assert_same_bits(run.loss, np.array([0.5, np.inf]))
    assert np.isnan(run.arrays()["accuracy"]).all()
    assert_same_bits(run.stat("backprop_grad_rms"), np.array([[3.0, -0.0], [np.nan, 1e16]]))
    assert_same_bits(run.stat("weight_norm"), np.array([[5.0, 5.5], [5e-324, 3.0]]))
    assert_same_bits(run.stat("preactivation_rms"), np.array([[2.0, 2.5], [-np.inf, 1 / 3]]))
    # Its '#' lines are its metadata: a stray sidecar beside it is not consulted.
    (tmp_path / "old.meta.json").write_text("not json")
    assert read_run(path).config == loaded.config


def test_old_format_csv_then_rewritten_has_the_new_layout(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(OLD_FORMAT_CSV)
    loaded = read_run(path)
    write_run(path, loaded.config, loaded.recorder)
    assert path.read_text().startswith("step,layer,")
    again = read_run(path)
    assert again.config == loaded.config
    assert_same_run(again.recorder, loaded.recorder)


def test_npz_layout_needs_no_pickle(tmp_path: Path) -> None:
    config, recorder = make_run(steps=5, depth=3, diverged=False)
    write_run(tmp_path / "run.npz", config, recorder)
    with np.load(tmp_path / "run.npz", allow_pickle=False) as data:
        assert data["weight_norm"].shape == (5, 3)
        assert data["step"].shape == data["loss"].shape == data["accuracy"].shape == (5,)
        assert data["config"].shape == () and json.loads(data["config"].item()) == (
            config.to_dict()
        )
        assert int(data["diverged_at"]) == -1
        assert str(data["gradsim_version"]) == __version__


def test_json_is_strict_and_spells_non_finite_values(tmp_path: Path) -> None:
    config, recorder = make_run(steps=4, depth=3)
    write_run(tmp_path / "run.json", config, recorder)

    def reject(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    document = json.loads((tmp_path / "run.json").read_text(), parse_constant=reject)
    assert document["gradsim_version"] == __version__
    assert document["config"] == config.to_dict()
    assert document["diverged_at"] == recorder.diverged_at
    assert document["step"] == recorder.steps.tolist()
    assert document["loss"][-1] == "inf"
    assert document["accuracy"] == ["nan"] * 4
    grads = document["stats"]["backprop_grad_rms"]
    assert len(grads) == 4 and len(grads[0]) == 3
    assert grads[0][:3] == ["inf", "-inf", "nan"]
    assert set(document["stats"]) == set(STAT_NAMES)


@pytest.mark.parametrize("name", ["run.txt", "run", "run.csv.gz"])
def test_unknown_extension_names_the_allowed_ones(tmp_path: Path, name: str) -> None:
    config, recorder = make_run()
    with pytest.raises(ExportError, match=r"\.csv, \.npz or \.json") as info:
        write_run(tmp_path / name, config, recorder)
    assert "\n" not in str(info.value)
    assert not (tmp_path / name).exists()
    with pytest.raises(ExportError, match=r"\.csv, \.npz or \.json"):
        read_run(tmp_path / name)


@pytest.mark.parametrize("sidecar_problem", ["disk-full", "is-a-directory"])
def test_failed_sidecar_write_leaves_an_existing_csv_untouched(
    tmp_path: Path, sidecar_problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, recorder = make_run()
    path = tmp_path / "run.csv"
    sidecar = tmp_path / "run.meta.json"
    path.write_bytes(b"precious table")
    if sidecar_problem == "is-a-directory":
        sidecar.mkdir()  # os.replace cannot put a file there: a real failure, no mocking
        reason = "Is a directory"
    else:
        sidecar.write_bytes(b"precious metadata")
        reason = "No space left on device"
        write_synced = export._write_synced

        def disk_full_on_the_sidecar(target: Path, write) -> None:
            if target.name.startswith(".run.meta.json."):
                target.write_bytes(b"half a sidecar")
                raise OSError(28, "No space left on device")
            write_synced(target, write)

        monkeypatch.setattr(export, "_write_synced", disk_full_on_the_sidecar)
    with pytest.raises(ExportError) as info:
        write_run(path, config, recorder)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"cannot write {path}: ")
    assert str(sidecar) in message and reason in message
    assert path.read_bytes() == b"precious table"
    if sidecar_problem == "disk-full":
        assert sidecar.read_bytes() == b"precious metadata"
    assert sorted(os.listdir(tmp_path)) == ["run.csv", "run.meta.json"]  # no temporary files


def test_failed_sidecar_write_leaves_no_new_csv(tmp_path: Path) -> None:
    config, recorder = make_run()
    (tmp_path / "run.meta.json").mkdir()
    with pytest.raises(ExportError, match=r"run\.meta\.json"):
        write_run(tmp_path / "run.csv", config, recorder)
    assert os.listdir(tmp_path) == ["run.meta.json"]


def test_missing_directory_is_an_export_error(tmp_path: Path) -> None:
    config, recorder = make_run()
    path = tmp_path / "missing" / "run.csv"
    with pytest.raises(ExportError, match=r"cannot write .*run\.csv: ") as info:
        write_run(path, config, recorder)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("ext", FORMATS)
def test_failed_write_leaves_the_old_file_untouched(
    tmp_path: Path, ext: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, recorder = make_run()
    path = tmp_path / f"run{ext}"
    path.write_bytes(b"precious")
    writer = {".csv": "_write_csv", ".npz": "_write_npz", ".json": "_write_json"}[ext]

    def disk_full(handle, *args: object) -> None:
        handle.write(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, writer, disk_full)
    with pytest.raises(ExportError, match="No space left on device"):
        write_run(path, config, recorder)
    assert path.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == [path.name]  # the temporary file is gone too


def test_overwrites_an_existing_file(tmp_path: Path) -> None:
    config, recorder = make_run()
    path = tmp_path / "run.json"
    path.write_text("old")
    write_run(path, config, recorder)
    assert read_run(path).config == config


def test_check_output_path(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "ok.npz") == tmp_path / "ok.npz"
    assert not (tmp_path / "ok.npz").exists()
    assert os.listdir(tmp_path) == []
    with pytest.raises(ExportError, match="does not exist"):
        check_output_path(tmp_path / "nope" / "run.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ExportError, match="is a directory"):
        check_output_path(tmp_path / "dir.csv")
    with pytest.raises(ExportError, match="extension"):
        check_output_path(tmp_path / "run.xlsx")
    (tmp_path / "taken.meta.json").mkdir()
    with pytest.raises(ExportError, match=r"taken\.meta\.json is a directory"):
        check_output_path(tmp_path / "taken.csv")
    assert check_output_path(tmp_path / "taken.json") == tmp_path / "taken.json"


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"cannot read .*nope\.csv: No such file"):
        read_run(tmp_path / "nope.csv")


def _corrupt(path: Path, config: Config, recorder: Recorder, how: str) -> None:
    """Write a valid file, then break it in one way."""
    write_run(path, config, recorder)
    if how == "garbage":
        path.write_bytes(b"\x00\x01 this is not a run file \xff")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "bad-config" and path.suffix == ".json":
        document = json.loads(path.read_text())
        document["config"]["depth"] = -3
        path.write_text(json.dumps(document))
    elif how == "bad-config" and path.suffix == ".csv":
        sidecar = path.with_suffix(".meta.json")
        meta = json.loads(sidecar.read_text())
        meta["config"] = {"activation": "swish"}
        sidecar.write_text(json.dumps(meta))
    elif how == "bad-config":
        with np.load(path) as data:
            arrays = dict(data)
        arrays["config"] = np.array('{"colour": "red"}')
        np.savez(path, **arrays)
    elif how == "wrong-shape" and path.suffix == ".json":
        document = json.loads(path.read_text())
        document["stats"]["weight_norm"] = [[1.0, 2.0]] * len(recorder)
        path.write_text(json.dumps(document))
    elif how == "wrong-shape" and path.suffix == ".csv":
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:-1]))  # one layer row short
    elif how == "wrong-shape":
        with np.load(path) as data:
            arrays = dict(data)
        arrays["weight_norm"] = np.zeros((2, 2))
        np.savez(path, **arrays)
    elif how == "wrong-type" and path.suffix == ".json":
        document = json.loads(path.read_text())
        document["loss"][0] = "lots"
        path.write_text(json.dumps(document))
    elif how == "wrong-type" and path.suffix == ".csv":
        path.write_text(path.read_text().replace("\n0,2,", "\n0,two,", 1))
    elif how == "wrong-type":
        with np.load(path) as data:
            arrays = dict(data)
        arrays["step"] = np.array([object()] * len(recorder), dtype=object)
        np.savez(path, **arrays)


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize(
    "how", ["garbage", "truncated", "empty", "bad-config", "wrong-shape", "wrong-type"]
)
def test_malformed_files_raise_export_error(tmp_path: Path, ext: str, how: str) -> None:
    config, recorder = make_run()
    path = tmp_path / f"run{ext}"
    _corrupt(path, config, recorder, how)
    with pytest.raises(ExportError, match=f"cannot read {re.escape(str(path))}") as info:
        read_run(path)
    assert "\n" not in str(info.value)


def test_csv_from_another_program_is_rejected_clearly(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ExportError, match="expected the columns step,layer,loss,"):
        read_run(path)


def test_large_csv_round_trip(tmp_path: Path) -> None:
    """A 100-layer, 1,000-step CSV (100,000 rows): every row written, and it loads back.

    (How fast it writes is measured by benchmarks, not asserted here.)
    """
    steps, depth = 1000, 100
    rng = np.random.default_rng(0)
    arrays = {"step": np.arange(steps), "loss": rng.random(steps), "accuracy": rng.random(steps)}
    arrays |= {name: rng.random((steps, depth)) for name in STAT_NAMES}
    recorder = Recorder.from_arrays(depth, arrays)
    write_run(tmp_path / "big.csv", Config(depth=depth), recorder)
    with open(tmp_path / "big.csv") as handle:
        assert sum(1 for line in handle) == steps * depth + 1
    assert math.isfinite(read_run(tmp_path / "big.csv").recorder.loss.sum())
