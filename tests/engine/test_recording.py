"""Recorder: bounded memory for unbounded runs, recent rows intact, whole run represented."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gradsim.engine.recording import MIN_CAPACITY, Recorder
from gradsim.engine.stats import STAT_NAMES, StepStats


def make_stats(step: int, depth: int, *, diverged: bool = False, reason: str | None = None
               ) -> StepStats:
    """Stats whose every value encodes (step, layer, stat) so misplaced rows are caught."""
    layers = {
        name: step + np.arange(1, depth + 1) / 1000 + index / 1e6
        for index, name in enumerate(STAT_NAMES)
    }
    return StepStats(step=step, loss=float(step) * 0.5, accuracy=float(step) * 0.25,
                     layers=layers, diverged=diverged, divergence_reason=reason)


def check_rows(recorder: Recorder) -> None:
    """Every stored row still holds the values of the step it claims to be."""
    data = recorder.arrays()
    steps = data["step"]
    np.testing.assert_array_equal(data["loss"], steps * 0.5)
    np.testing.assert_array_equal(data["accuracy"], steps * 0.25)
    for index, name in enumerate(STAT_NAMES):
        expected = steps[:, None] + np.arange(1, recorder.depth + 1) / 1000 + index / 1e6
        np.testing.assert_array_equal(data[name], expected)


def test_capacity_follows_the_cell_budget() -> None:
    assert Recorder(10, cell_budget=7_000_000).capacity == 100_000
    assert Recorder(2000, cell_budget=1000).capacity == MIN_CAPACITY  # never fewer rows
    assert Recorder(1, cell_budget=7 * 1000).capacity == 1000


def test_append_and_read_back() -> None:
    recorder = Recorder(3)
    for step in range(5):
        recorder.append(make_stats(step, 3))
    assert len(recorder) == 5
    np.testing.assert_array_equal(recorder.steps, np.arange(5))
    assert recorder.steps.dtype == np.int64
    assert recorder.loss.dtype == np.float64
    for name in STAT_NAMES:
        assert recorder.stat(name).shape == (5, 3)
        assert recorder.stat(name).dtype == np.float64
    assert set(recorder.arrays()) == {"step", "loss", "accuracy", *STAT_NAMES}
    check_rows(recorder)
    assert recorder.diverged_at is None and recorder.divergence_reason is None


def test_reads_are_snapshots() -> None:
    recorder = Recorder(2)
    recorder.append(make_stats(0, 2))
    recorder.stat("weight_norm")[:] = -1.0
    recorder.loss[:] = -1.0
    recorder.arrays()["step"][:] = 99
    check_rows(recorder)


def test_unknown_stat_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="backprop_grad_rms"):
        Recorder(2).stat("gradient")


def test_steps_must_increase() -> None:
    recorder = Recorder(2)
    recorder.append(make_stats(3, 2))
    with pytest.raises(ValueError, match="strictly increasing"):
        recorder.append(make_stats(3, 2))
    assert len(recorder) == 1


def test_divergence_is_taken_from_the_first_diverged_step() -> None:
    recorder = Recorder(2)
    recorder.append(make_stats(0, 2))
    recorder.append(make_stats(1, 2, diverged=True, reason="gradients overflowed"))
    recorder.append(make_stats(2, 2, diverged=True, reason="later"))
    assert recorder.diverged_at == 1
    assert recorder.divergence_reason == "gradients overflowed"


def test_unbounded_appends_keep_memory_bounded() -> None:
    depth = 3
    recorder = Recorder(depth, cell_budget=0)  # the minimum capacity, 256 rows
    capacity, nbytes = recorder.capacity, recorder.nbytes
    total = 40 * capacity
    for step in range(total):
        recorder.append(make_stats(step, depth))
        assert len(recorder) <= capacity
    assert recorder.nbytes == nbytes

    steps = recorder.steps
    assert steps[0] == 0 and steps[-1] == total - 1  # first and last always present
    assert np.all(np.diff(steps) > 0)
    # The newest rows are every step, no gaps (at least recent_rows of them) ...
    gaps = np.flatnonzero(np.diff(steps) > 1)
    tail = len(steps) - (gaps[-1] + 1 if gaps.size else 0)
    assert tail >= recorder.recent_rows
    # ... and the part before them sits on a uniform grid: the run stays evenly represented.
    assert np.all(steps[:-tail] % recorder.stride == 0)
    assert np.max(np.diff(steps)) <= recorder.stride
    assert recorder.stride < 8 * total / capacity
    check_rows(recorder)


def test_compaction_is_amortised(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each compaction frees at least a quarter of the buffer, so appends stay O(depth)."""
    recorder = Recorder(2, cell_budget=0)
    calls = []
    original = Recorder._compact

    def counting(self: Recorder) -> None:
        calls.append(len(self))
        original(self)
        assert len(self) <= 3 * self.capacity // 4

    monkeypatch.setattr(Recorder, "_compact", counting)
    appends = 20 * recorder.capacity
    for step in range(appends):
        recorder.append(make_stats(step, 2))
    assert 0 < len(calls) <= appends // (recorder.capacity // 4)


def test_sparse_and_offset_steps_are_decimated_too() -> None:
    recorder = Recorder(1, cell_budget=0)
    steps = 1000 + 7 * np.arange(5000)
    for step in steps.tolist():
        recorder.append(make_stats(step, 1))
    kept = recorder.steps
    assert len(recorder) <= recorder.capacity
    assert kept[0] == steps[0] and kept[-1] == steps[-1]
    assert np.all(np.diff(kept) > 0)
    assert np.isin(kept, steps).all()
    check_rows(recorder)


def test_latest_returns_the_last_rows() -> None:
    recorder = Recorder(4, cell_budget=0)
    for step in range(1000):
        recorder.append(make_stats(step, 4))
    window = recorder.latest(50)
    np.testing.assert_array_equal(window["step"], np.arange(950, 1000))
    assert window["saturation"].shape == (50, 4)
    np.testing.assert_array_equal(window["backprop_grad_rms"],
                                  recorder.stat("backprop_grad_rms")[-50:])
    assert len(recorder.latest(10_000)["step"]) == len(recorder)
    empty = recorder.latest(0)
    assert empty["step"].shape == (0,) and empty["weight_norm"].shape == (0, 4)


def test_empty_recorder() -> None:
    recorder = Recorder(5)
    assert len(recorder) == 0
    assert recorder.stat("weight_norm").shape == (0, 5)
    assert recorder.latest(10)["loss"].shape == (0,)


def test_from_arrays_round_trip() -> None:
    recorder = Recorder(3)
    for step in range(0, 40, 2):
        recorder.append(make_stats(step, 3))
    copy = Recorder.from_arrays(3, recorder.arrays(), 38, "the loss overflowed")
    for key, value in recorder.arrays().items():
        np.testing.assert_array_equal(copy.arrays()[key], value)
    assert copy.diverged_at == 38 and copy.divergence_reason == "the loss overflowed"
    copy.append(make_stats(40, 3))  # a loaded run can be extended
    assert copy.steps[-1] == 40


def test_from_arrays_keeps_every_row_of_a_long_file() -> None:
    n = 3 * MIN_CAPACITY
    arrays = {"step": np.arange(n), "loss": np.zeros(n), "accuracy": np.zeros(n)}
    arrays |= {name: np.zeros((n, 2)) for name in STAT_NAMES}
    recorder = Recorder.from_arrays(2, arrays)
    assert len(recorder) == n
    recorder.append(make_stats(n, 2))
    assert len(recorder) <= recorder.capacity
    assert recorder.steps[0] == 0 and recorder.steps[-1] == n


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"loss": np.zeros(3)}, "'loss' has shape"),
        ({"weight_norm": np.zeros((4, 3))}, "'weight_norm' has shape"),
        ({"step": np.array([0, 2, 1, 3])}, "strictly increasing"),
        ({"step": np.array([0.0, 0.5, 1.0, 2.0])}, "integers"),
        ({"step": np.zeros((4, 1))}, "one-dimensional"),
        ({"saturation": np.full((4, 2), "x")}, "numbers"),
    ],
)
def test_from_arrays_rejects_malformed_data(change: dict, message: str) -> None:
    arrays = {"step": np.arange(4), "loss": np.zeros(4), "accuracy": np.zeros(4)}
    arrays |= {name: np.zeros((4, 2)) for name in STAT_NAMES}
    arrays |= change
    with pytest.raises(ValueError, match=message):
        Recorder.from_arrays(2, arrays)


def test_from_arrays_names_missing_arrays() -> None:
    with pytest.raises(ValueError, match="missing arrays: step"):
        Recorder.from_arrays(2, {})


def test_reads_while_another_thread_appends_are_consistent() -> None:
    """The GUI reads while the worker trains: a read never mixes rows of different steps."""
    recorder = Recorder(8, cell_budget=0)
    stop = threading.Event()

    def train() -> None:
        step = 0
        while not stop.is_set() and step < 20_000:
            recorder.append(make_stats(step, 8))
            step += 1

    worker = threading.Thread(target=train)
    worker.start()
    try:
        for _ in range(200):
            window = recorder.latest(64)
            steps = window["step"]
            expected = steps[:, None] + np.arange(1, 9) / 1000
            np.testing.assert_array_equal(window["activation_rms"], expected)
            np.testing.assert_array_equal(window["loss"], steps * 0.5)
    finally:
        stop.set()
        worker.join()


def test_window_returns_one_statistic_over_the_last_span() -> None:
    from gradsim.engine.stats import STAT_NAMES as names

    recorder = Recorder(depth=3)
    for step in range(50):
        layers = {name: np.full(3, float(step)) for name in names}
        recorder.append(StepStats(step=step, loss=1.0, accuracy=np.nan, layers=layers))
    steps, values = recorder.window("weight_norm", 10)
    assert steps.tolist() == list(range(40, 50))
    np.testing.assert_array_equal(values[:, 0], np.arange(40, 50))
    gappy = Recorder(depth=1)
    for step in (0, 10, 20, 30):
        layers = {name: np.zeros(1) for name in names}
        gappy.append(StepStats(step=step, loss=1.0, accuracy=np.nan, layers=layers))
    assert gappy.window("weight_norm", 15)[0].tolist() == [10, 20, 30]  # 10 covers step 16
    all_steps, _ = recorder.window("weight_norm")
    assert all_steps.size == 50
    with pytest.raises(KeyError):
        recorder.window("nope", 5)
