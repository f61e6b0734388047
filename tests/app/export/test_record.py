"""Animated GIFs of the heatmap filling in: frames, fixed axes and colours, cancelling, and
``gradsim record``."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from qt_helpers import run_gradsim

from gradsim.app.export.animation import frame_cuts, record_gif
from gradsim.app.views.themes import DARK
from gradsim.cli import main
from gradsim.engine.config import Config
from gradsim.engine.recording import ARRAY_NAMES, Recorder
from gradsim.engine.simulation import Simulation

SMALL = (480, 270)


@pytest.fixture
def growing() -> Recorder:
    """20 steps, 4 layers; the value grows 10x every 2 steps (a range auto levels would chase)."""
    steps = np.arange(20)
    values = np.repeat(10.0 ** (steps / 2)[:, None], 4, axis=1)
    arrays = {name: np.ones((20, 4)) for name in ARRAY_NAMES}
    arrays.update(step=steps, loss=np.ones(20), accuracy=np.full(20, np.nan))
    arrays["backprop_grad_rms"] = values
    return Recorder.from_arrays(4, arrays)


def frames_of(path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        out = []
        for k in range(gif.n_frames):
            gif.seek(k)
            out.append(np.asarray(gif.convert("RGB"), dtype=int))
        return out


def coloured(pixels: np.ndarray) -> np.ndarray:
    """Strongly coloured pixels (viridis data; text and backgrounds are grey)."""
    return pixels.max(-1) - pixels.min(-1) > 40


def data_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a 1-d mask."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2], strict=True))


def test_frame_cuts_are_evenly_spaced_and_end_at_the_last_step() -> None:
    assert frame_cuts(np.arange(40), 10).tolist() == [4, 8, 12, 16, 20, 24, 28, 32, 36, 40]
    assert frame_cuts(np.arange(2), 60).tolist() == [1, 2]  # a short run: one frame per row
    thinned = np.array([0, 8, 16, 24, 32, 33, 34, 35])  # decimated old history, recent rows
    assert frame_cuts(thinned, 5).tolist() == [1, 2, 3, 4, 8]
    assert frame_cuts(np.empty(0, dtype=np.int64), 5).size == 0


def test_gif_has_the_frames_size_and_loop_asked_for(qapp, tmp_path) -> None:
    sim = Simulation(Config(depth=6, width=8, input_dim=4, output_dim=2, batch_size=8))
    sim.run(30)
    out = tmp_path / "run.gif"
    assert record_gif(sim.recorder, "backprop_grad_rms", out, frames=8, fps=10, size=SMALL)
    with Image.open(out) as gif:
        assert gif.n_frames == 8 and gif.size == SMALL
        assert gif.info["loop"] == 0  # forever
        assert gif.info["duration"] == 100
    first, *_, last = frames_of(out)
    assert np.abs(first - last).sum() > 0


def test_columns_appear_left_to_right_in_fixed_colours(qapp, growing, tmp_path) -> None:
    out = tmp_path / "growing.gif"
    assert record_gif(growing, "backprop_grad_rms", out, frames=20, size=(960, 540), theme=DARK)
    frames = frames_of(out)
    assert len(frames) == 20

    middle = frames[-1].shape[0] // 2
    x0, x1 = max(data_runs(coloured(frames[-1][middle])), key=np.ptp)
    assert x1 - x0 > 400  # the plot, filled
    first = [run for run in data_runs(coloured(frames[0][middle])) if x0 <= run[0] < x1]
    assert first and first[0][0] <= x0 + 2  # step 0 at the left edge of the pinned axis...
    assert first[0][1] - first[0][0] < 0.1 * (x1 - x0)  # ...a column one step wide
    # One colour range, the whole run's, from the start: step 0 has the same colour in both
    # frames, near the dark end of viridis (levels fitted to step 0 alone put it mid-range).
    np.testing.assert_array_equal(frames[0][middle, x0 + 2], frames[-1][middle, x0 + 2])
    red, green, blue = frames[-1][middle, x0 + 2]
    assert green < 80 and blue > red


def test_drawn_steps_keep_their_pixels_while_a_long_run_fills_in(qapp, tmp_path) -> None:
    """Past the heatmap's usual 1500 columns, re-binning a growing span would shift every
    column each frame (shimmering noise, and frames that no longer compress as changes)."""
    rng = np.random.default_rng(0)
    steps = np.arange(4000)
    arrays = {name: np.ones((steps.size, 3)) for name in ARRAY_NAMES}
    arrays.update(step=steps, loss=np.ones(steps.size), accuracy=np.ones(steps.size))
    arrays["backprop_grad_rms"] = 10.0 ** rng.normal(0, 1, size=(steps.size, 3))
    out = tmp_path / "long.gif"
    assert record_gif(
        Recorder.from_arrays(3, arrays), "backprop_grad_rms", out, frames=4, size=SMALL
    )
    half, last = frames_of(out)[1:4:2]
    changed = np.flatnonzero(np.any(half != last, axis=(0, 2)))  # columns that differ
    x0, x1 = max(data_runs(np.any(coloured(last), axis=0)), key=np.ptp)
    middle = (x0 + x1) // 2  # step 2000: the half-way frame ends here
    assert x1 - x0 > 200
    assert not np.any((changed > x0 + 2) & (changed < middle - 2))


def test_cancelling_writes_nothing(qapp, growing, tmp_path) -> None:
    out = tmp_path / "run.gif"
    out.write_bytes(b"precious")
    calls = []

    def progress(done: int, total: int) -> bool:
        calls.append((done, total))
        return done < 3

    assert (
        record_gif(growing, "backprop_grad_rms", out, frames=10, size=SMALL, progress=progress)
        is False
    )
    assert calls == [(1, 10), (2, 10), (3, 10)]
    assert out.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["run.gif"]


def test_bad_requests_raise_clear_errors(qapp, growing, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"\.gif"):
        record_gif(growing, "backprop_grad_rms", tmp_path / "a.png")
    with pytest.raises(ValueError, match="unknown statistic"):
        record_gif(growing, "colour", tmp_path / "a.gif")
    with pytest.raises(ValueError, match="nothing recorded"):
        record_gif(Recorder(3), "backprop_grad_rms", tmp_path / "a.gif")
    with pytest.raises(ValueError, match="1920x1080"):
        record_gif(growing, "backprop_grad_rms", tmp_path / "a.gif", size=(3840, 2160))
    with pytest.raises(OSError, match="does not exist"):
        record_gif(growing, "backprop_grad_rms", tmp_path / "missing" / "a.gif")
    assert os.listdir(tmp_path) == []


# -- command line ----------------------------------------------------------------------------


def test_record_command_writes_the_gif(tmp_path) -> None:
    out = tmp_path / "vanishing.gif"
    result = run_gradsim(
        "record", "--preset", "seed-vanishing", "--steps", "40", "--frames", "10", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out} (10 frames, 960x540, 40 steps of seed-vanishing)\n"
    assert result.stderr == ""  # no progress bar off a terminal
    with Image.open(out) as gif:
        assert gif.n_frames == 10 and gif.size == (960, 540)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "run.png"], ".gif"),
        (["--size", "12x", "--out", "run.gif"], "WIDTHxHEIGHT"),
        (["--size", "3840x2160", "--out", "run.gif"], "at most 1920x1080"),
        (["--out", "missing/run.gif"], "does not exist"),
        (["--fps", "0", "--out", "run.gif"], "integer >= 1"),
        (["--preset", "nope", "--out", "run.gif"], "unknown preset"),
    ],
)
def test_record_bad_input_is_one_line_and_exit_2(
    tmp_path, monkeypatch, capsys, args, message
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["record", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradsim: error: ") and err.count("\n") == 1 and message in err
    assert os.listdir(tmp_path) == []


def test_record_ctrl_c_exits_130_and_leaves_the_file(tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "run.gif"
    out.write_bytes(b"precious")

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Simulation, "run", interrupt)
    assert main(["record", "--preset", "seed-vanishing", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.startswith("gradsim: interrupted") and err.count("\n") == 1
    assert out.read_bytes() == b"precious"


# -- streaming: the same pictures, bounded memory ---------------------------------------------


def ramp(rows: int) -> Recorder:
    """``rows`` steps, 4 layers, growing 10x every 8 steps."""
    steps = np.arange(rows)
    arrays = {name: np.ones((rows, 4)) for name in ARRAY_NAMES}
    arrays.update(step=steps, loss=np.ones(rows), accuracy=np.ones(rows))
    arrays["backprop_grad_rms"] = np.repeat(10.0 ** (steps / 8)[:, None], 4, axis=1)
    return Recorder.from_arrays(4, arrays)


def test_streamed_gif_shows_what_pillows_save_all_showed(qapp, growing, tmp_path) -> None:
    """Frames drawn directly and saved the old way (all in memory, ``save_all``) decode to the
    same pixels, durations and loop as the streamed file."""
    from gradsim.app.export import animation

    out = tmp_path / "streamed.gif"
    assert record_gif(growing, "backprop_grad_rms", out, frames=6, fps=10, size=SMALL)

    steps, values = growing.window("backprop_grad_rms", None)
    counts = frame_cuts(steps, 6)
    view = animation._heatmap(steps, values, "backprop_grad_rms", DARK, SMALL)
    try:
        rgb = [animation._frame(view, steps, values, int(c), SMALL, DARK) for c in counts]
    finally:
        view.close()
    flat = Image.Dither.NONE
    palette = rgb[-1].quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=flat)
    images = [frame.quantize(palette=palette, dither=flat) for frame in rgb]
    old = tmp_path / "old.gif"
    durations = [100] * (len(images) - 1) + [animation.HOLD_LAST_MS]
    images[0].save(old, save_all=True, append_images=images[1:], duration=durations, loop=0)

    with Image.open(out) as new_gif, Image.open(old) as old_gif:
        assert new_gif.n_frames == old_gif.n_frames == len(counts)
        assert new_gif.info["loop"] == 0
        for k in range(len(counts)):
            new_gif.seek(k)
            old_gif.seek(k)
            assert new_gif.info["duration"] == old_gif.info["duration"] == durations[k]
    new_frames, old_frames = frames_of(out), frames_of(old)
    for k in (0, -1):  # first and last: the same pixels
        np.testing.assert_array_equal(new_frames[k], old_frames[k])
        np.testing.assert_array_equal(new_frames[k], np.asarray(images[k].convert("RGB"), int))


def test_memory_stays_a_few_frames_whatever_the_frame_count(qapp, tmp_path) -> None:
    """60 frames at 640x360: Python-side allocations peak under 8 frames' worth and at most a
    handful of Pillow images are alive at any time (keeping every frame held 60)."""
    import tracemalloc

    from PIL import Image as PILImage

    history = ramp(80)
    size = (640, 360)
    record_gif(history, "backprop_grad_rms", tmp_path / "warm.gif", frames=2, size=size)
    alive: list[int] = []
    stats = PILImage.core.get_stats()
    before = stats["allocated_blocks"] - stats["freed_blocks"]  # images other tests left

    def progress(done: int, total: int) -> None:
        stats = PILImage.core.get_stats()
        alive.append(stats["allocated_blocks"] - stats["freed_blocks"])

    tracemalloc.start()
    try:
        out = tmp_path / "long.gif"
        assert record_gif(
            history, "backprop_grad_rms", out, frames=60, size=size, progress=progress
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(alive) == 60
    assert peak < 8 * size[0] * size[1] * 4
    assert max(alive) - before <= 5, alive
    with Image.open(out) as gif:
        assert gif.n_frames == 60
