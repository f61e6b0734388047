"""The gradsim command: exports that re-load, one-line errors, untouched files, presets, demo."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradsim import __version__, cli, textplot
from gradsim.cli import common as cli_common
from gradsim.cli import main
from gradsim.engine import export
from gradsim.engine.config import Config
from gradsim.engine.export import read_run
from gradsim.engine.stats import STAT_NAMES
from gradsim.textplot import demo_layers, gradient_table

REPO = Path(__file__).resolve().parents[2]
SMALL = ["--set", "depth=3", "width=6", "batch_size=8", "input_dim=4", "output_dim=2"]
SMALL_CONFIG = Config(depth=3, width=6, batch_size=8, input_dim=4, output_dim=2)
EXPLODING = ["--set", "depth=30", "width=8", "activation=linear", "init=identity", "init_gain=2"]


def gradsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m gradsim`` the way a user would (not a terminal: no progress bar)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "gradsim", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def expected_run(config: Config, steps: int):  # -> Recorder
    from gradsim.engine.simulation import Simulation

    sim = Simulation(config)
    sim.run(steps)
    return sim.recorder


def assert_matches(loaded, expected) -> None:  # Recorder, Recorder
    np.testing.assert_array_equal(loaded.steps, expected.steps)
    for key in ("loss", "accuracy", *STAT_NAMES):
        np.testing.assert_array_equal(loaded.arrays()[key], expected.arrays()[key])
    assert loaded.diverged_at == expected.diverged_at


def assert_one_error_line(stderr: str) -> None:
    assert stderr.startswith("gradsim: error: "), stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr
    assert "Traceback" not in stderr


def has_preset(preset_id: str) -> bool:
    try:
        from gradsim.engine.presets import preset_ids
    except ImportError:
        return False
    return preset_id in preset_ids()


needs_presets = pytest.mark.skipif(not has_preset(cli.DEMO_PRESET), reason="no presets yet")


# -- run --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".csv", ".npz", ".json"])
def test_run_writes_a_file_that_reloads(tmp_path: Path, ext: str) -> None:
    result = gradsim("run", *SMALL, "--steps", "4", "--out", f"run{ext}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not a terminal: no progress bar
    assert result.stdout.startswith(
        "ran 4 steps of a custom config (depth 3, tanh, xavier_normal): loss "
    )
    wrote = "run.csv and run.meta.json" if ext == ".csv" else f"run{ext}"  # a CSV's sidecar
    assert result.stdout.endswith(f"; wrote {wrote}\n") and result.stdout.count("\n") == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(wrote.split(" and "))
    loaded = read_run(tmp_path / f"run{ext}")
    assert loaded.config == SMALL_CONFIG
    assert len(loaded.recorder) == 4
    assert loaded.recorder.stat("backprop_grad_rms").shape == (4, 3)
    assert_matches(loaded.recorder, expected_run(SMALL_CONFIG, 4))


@pytest.mark.parametrize("ext", [".npz", ".json"])
def test_run_also_writes_histograms_on_a_cadence(tmp_path: Path, ext: str) -> None:
    from gradsim.engine.distribution_export import read_histograms
    from gradsim.engine.simulation import Simulation

    result = gradsim(
        "run", *SMALL, "--steps", "9", "--out", "run.npz", "--histograms", f"h{ext}",
        "--histograms-every", "4", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"; wrote run.npz and h{ext}\n")
    loaded = read_histograms(tmp_path / f"h{ext}")
    assert loaded.config == SMALL_CONFIG and loaded.history.steps.tolist() == [0, 4, 8]
    sim = Simulation(SMALL_CONFIG, distributions=4)
    sim.run(9)
    assert sim.distribution_history is not None
    for got, want in zip(loaded.history.entries(), sim.distribution_history.entries(), strict=True):
        for kind, histogram in want.histograms.items():
            np.testing.assert_array_equal(got.histograms[kind].counts, histogram.counts)


def test_run_to_csv_with_histograms_names_all_three_files(tmp_path: Path) -> None:
    result = gradsim(
        "run", *SMALL, "--steps", "2", "--out", "run.csv", "--histograms", "h.npz", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("; wrote run.csv, run.meta.json and h.npz\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "h.npz", "run.csv", "run.meta.json"
    ]


def test_run_refuses_a_csv_whose_sidecar_it_cannot_write_before_training(tmp_path: Path) -> None:
    (tmp_path / "run.meta.json").mkdir()
    result = gradsim("run", *SMALL, "--steps", "3", "--out", "run.csv", cwd=tmp_path)
    assert result.returncode == 2 and "run.meta.json is a directory" in result.stderr
    assert result.stdout == "" and not (tmp_path / "run.csv").exists()


def test_run_refuses_a_histogram_file_it_cannot_write_before_training(tmp_path: Path) -> None:
    result = gradsim(
        "run", *SMALL, "--steps", "3", "--out", "run.npz", "--histograms", "h.txt", cwd=tmp_path
    )
    assert result.returncode == 2 and "histograms are written as .npz or .json" in result.stderr
    assert not (tmp_path / "run.npz").exists()


def test_run_from_a_config_file_then_set(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    SMALL_CONFIG.replace(activation="relu", seed=7).save(tmp_path / "lesson.toml")
    out = tmp_path / "run.npz"
    argv = ["run", "--config", str(tmp_path / "lesson.toml"), "--set", "seed=3",
            "--set", "width=5", "seed=4", "--steps", "2", "--out", str(out)]
    assert main(argv) == 0
    expected = SMALL_CONFIG.replace(activation="relu", seed=4, width=5)
    assert read_run(out).config == expected
    assert_matches(read_run(out).recorder, expected_run(expected, 2))
    summary = capsys.readouterr().out
    assert "ran 2 steps of lesson.toml, modified (depth 3, relu, xavier_normal)" in summary


def test_default_steps_is_100(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", *SMALL, "--out", str(tmp_path / "run.npz")]) == 0
    np.testing.assert_array_equal(read_run(tmp_path / "run.npz").recorder.steps, np.arange(100))


def test_diverged_run_succeeds_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run.csv"
    assert main(["run", *EXPLODING, "--steps", "50", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    recorder = read_run(out).recorder
    assert recorder.diverged_at is not None
    assert recorder.steps[-1] == recorder.diverged_at  # the step that diverged is kept
    assert "of 50 steps" in stdout and f"diverged at step {recorder.diverged_at}: " in stdout
    sidecar = tmp_path / "run.meta.json"
    assert "overflowed" in stdout and stdout.endswith(f"; wrote {out} and {sidecar}\n")


@needs_presets
def test_run_a_preset(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from gradsim.engine.presets import get_preset

    out = tmp_path / "run.json"
    argv = ["run", "--preset", cli.DEMO_PRESET, "--set", "width=8", "batch_size=8",
            "--steps", "2", "--out", str(out)]
    assert main(argv) == 0
    expected = get_preset(cli.DEMO_PRESET).config.replace(width=8, batch_size=8)
    assert read_run(out).config == expected
    assert f"of {cli.DEMO_PRESET}, modified (depth {expected.depth}" in capsys.readouterr().out


BAD_INPUTS = {
    "unknown preset": ["--preset", "no-such-preset"],
    "unknown key": ["--set", "depht=3"],
    "not KEY=VALUE": ["--set", "depth"],
    "out of range": ["--set", "learning_rate=-1"],
    "wrong type": ["--set", "depth=deep"],
    "bad combination": ["--set", "dataset=spirals", "output_dim=1"],
    "missing config": ["--config", "no-such-file.toml"],
    "steps zero": ["--steps", "0"],
    "steps negative": ["--steps", "-3"],
    "steps not a number": ["--steps", "many"],
    "preset and config": ["--preset", "a", "--config", "b.toml"],
}


@pytest.mark.parametrize("args", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str]
) -> None:
    out = tmp_path / "run.csv"
    out.write_text("precious")
    assert main(["run", *args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err)
    assert captured.out == ""
    assert out.read_text() == "precious"
    assert sorted(os.listdir(tmp_path)) == ["run.csv"]


def test_unreadable_config_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "bad.toml").write_text("depth = = 3\n")
    (tmp_path / "unknown.toml").write_text("colour = 'red'\n")
    for name in ("bad.toml", "unknown.toml"):
        argv = ["run", "--config", str(tmp_path / name), "--out", str(tmp_path / "x.csv")]
        assert main(argv) == 2
        assert_one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("out", "message"),
    [("run.txt", ".csv, .npz or .json"), ("run", ".csv, .npz or .json"),
     ("missing-dir/run.csv", "does not exist"), (".", "")],
)
def test_bad_output_path_is_rejected_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
    out: str, message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "train", lambda *a, **k: pytest.fail("ran before checking"))
    assert main(["run", *SMALL, "--out", out]) == 2
    err = capsys.readouterr().err
    assert_one_error_line(err)
    assert message in err


def test_usage_errors(capsys: pytest.CaptureFixture) -> None:
    for argv in (["run"], ["frobnicate"], ["--colour"], ["demo", "--steps", "0"]):
        assert main(argv) == 2
        assert_one_error_line(capsys.readouterr().err)


def test_bad_input_via_subprocess_has_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text("precious")
    for args in (["--set", "depth=0"], ["--steps", "zero"], ["--preset", "nope"]):
        result = gradsim("run", *args, "--out", "run.json", cwd=tmp_path)
        assert result.returncode == 2
        assert_one_error_line(result.stderr)
        assert result.stdout == ""
    assert (tmp_path / "run.json").read_text() == "precious"


def test_failed_write_keeps_the_old_file(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run.csv"
    out.write_text("precious")

    def disk_full(handle, *args: object) -> None:
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_write_csv", disk_full)
    assert main(["run", *SMALL, "--steps", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert_one_error_line(err)
    assert "No space left on device" in err and str(out) in err
    assert out.read_text() == "precious"
    assert os.listdir(tmp_path) == ["run.csv"]


@pytest.mark.parametrize("where", ["training", "writing"])
def test_ctrl_c_exits_130_and_leaves_the_output_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    from gradsim.engine.simulation import Simulation

    out = tmp_path / "run.npz"
    out.write_text("precious")

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    if where == "training":
        monkeypatch.setattr(Simulation, "run", interrupt)
    else:
        monkeypatch.setattr(export, "_write_npz", interrupt)
    assert main(["run", *SMALL, "--steps", "2", "--out", str(out)]) == 130
    captured = capsys.readouterr()
    assert captured.err.startswith("gradsim: interrupted") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert out.read_text() == "precious"
    assert os.listdir(tmp_path) == ["run.npz"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture) -> None:
    assert main(["run", *SMALL, "--steps", "3", "--out", str(tmp_path / "a.csv")]) == 0
    assert capsys.readouterr().err == ""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["run", *SMALL, "--steps", "3", "--out", str(tmp_path / "b.csv")]) == 0
    drawn = terminal.getvalue()
    assert "\r[" in drawn and "] 3/3" in drawn and "#" * cli_common.BAR_WIDTH in drawn
    assert drawn.endswith("\r")  # erased, so the summary on stdout stands alone


def test_cli_does_not_import_qt(tmp_path: Path) -> None:
    code = (
        "import sys; from gradsim.cli import main; "
        f"rc = main(['run', {', '.join(map(repr, SMALL))}, '--steps', '1', '--out', 'a.npz']); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')]; "
        "assert rc == 0 and not bad, bad"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


# -- version, presets, demo -------------------------------------------------------------------


def test_version(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    result = gradsim("--version", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, f"gradsim {__version__}\n")
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"gradsim {__version__}\n"


def test_help_exits_0(capsys: pytest.CaptureFixture) -> None:
    assert main(["--help"]) == 0
    assert "usage: gradsim" in capsys.readouterr().out
    assert main(["run", "--help"]) == 0
    assert "--out FILE" in capsys.readouterr().out


def test_help_says_the_command_is_optional_and_describes_every_command(
    capsys: pytest.CaptureFixture,
) -> None:
    assert main(["--help"]) == 0
    usage = capsys.readouterr().out.split("\n\n")[0]
    assert usage.rstrip().endswith("[COMMAND ...]")  # without one, the app opens
    for command in ("run", "screenshot", "record", "lessons", "presets", "demo"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        # Usage, then a description paragraph, then the options: not just the options.
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        assert not paragraphs[1].startswith(("options:", "positional")), command


def test_pictures_default_to_the_dark_theme_and_say_so_alike(
    capsys: pytest.CaptureFixture,
) -> None:
    helps = []
    for command in ("screenshot", "record"):
        assert main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        helps.append(text[text.index("--theme {dark,light} ") :].split(" --")[0])
    assert helps[0] == helps[1] and "default dark" in helps[0]
    parser = cli.build_parser()
    shot = parser.parse_args(["screenshot", "--out", "x.png"])
    record = parser.parse_args(["record", "--out", "x.gif"])
    assert (shot.theme or "dark") == record.theme == "dark"


@needs_presets
def test_presets_lists_ids_and_titles_aligned(capsys: pytest.CaptureFixture) -> None:
    from gradsim.engine.presets import list_presets

    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    presets = list_presets()
    assert len(lines) == len(presets)
    column = max(len(preset.id) for preset in presets) + 2
    for line, preset in zip(lines, presets, strict=True):
        assert line.startswith(preset.id)
        assert line[column:] == preset.title


@needs_presets
def test_demo_prints_a_gradient_table_and_the_outcome(capsys: pytest.CaptureFixture) -> None:
    assert main(["demo", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{cli.DEMO_PRESET}: ")
    assert "grad RMS" in out and "#" in out and "\noutcome: " in out


def test_no_command_opens_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradsim.app import launch

    calls = []
    monkeypatch.setattr(launch, "run_app", lambda **kw: calls.append(kw) or 0)
    assert main([]) == 0
    assert calls == [
        {"config": None, "preset": None, "lesson": None, "scene": 0, "present": False,
         "theme": None}
    ]
    assert main(["--preset", "seed-vanishing"]) == 0
    assert calls[-1]["preset"].id == "seed-vanishing"
    assert main(["--lesson", "vanishing-exploding", "--scene", "3", "--present"]) == 0
    assert calls[-1]["lesson"].id == "vanishing-exploding"
    assert calls[-1]["scene"] == 2 and calls[-1]["present"] is True


def test_app_with_a_bad_lesson_exits_2(tmp_path, capsys) -> None:
    assert main(["--lesson", "no-such-lesson"]) == 2
    err = capsys.readouterr().err
    assert_one_error_line(err)
    assert "vanishing-exploding" in err  # the known lessons are listed
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "Mine"\n[[scenes]]\ntitle = "One"\ncaption = "c"\npreset = "nope"\n')
    assert main(["--lesson", str(bad)]) == 2
    err = capsys.readouterr().err
    assert_one_error_line(err)
    assert "scene 1" in err and "preset" in err
    assert main(["--lesson", "vanishing-exploding", "--scene", "99"]) == 2
    assert "scenes" in capsys.readouterr().err


def test_lessons_lists_scenes(capsys: pytest.CaptureFixture) -> None:
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("vanishing-exploding  ")
    assert " 1. " in out and " vs " in out  # numbered scenes; comparison scenes name their runs


def test_app_without_a_display_says_so(monkeypatch, capsys) -> None:
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main([]) == 2
    assert "no display" in capsys.readouterr().err


def test_app_with_a_bad_preset_or_config_exits_2(tmp_path, capsys) -> None:
    assert main(["--preset", "no-such-preset"]) == 2
    assert_one_error_line(capsys.readouterr().err)
    assert main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert_one_error_line(capsys.readouterr().err)


def test_demo_with_unknown_preset(capsys: pytest.CaptureFixture) -> None:
    assert main(["demo", "--preset", "no-such-preset"]) == 2
    assert_one_error_line(capsys.readouterr().err)


def test_demo_layers() -> None:
    assert demo_layers(5) == [1, 2, 3, 4, 5]
    assert demo_layers(100) == [1, *range(10, 101, 10)]
    assert demo_layers(1000)[:3] == [1, 100, 200] and demo_layers(1000)[-1] == 1000
    assert demo_layers(37)[0] == 1 and demo_layers(37)[-1] == 37


def test_gradient_table_uses_a_log_scale() -> None:
    rows = gradient_table([1, 2, 3, 4, 5, 6], np.array([1e30, 1e15, 1.0, 0.0, np.inf, np.nan]))
    bars = [row.count("#") for row in rows[1:4]]
    assert bars[0] == textplot._DEMO_BAR_WIDTH and bars[2] == 1
    assert abs(bars[1] - (1 + textplot._DEMO_BAR_WIDTH) / 2) <= 1  # halfway in log10
    assert "zero" in rows[4] and "overflow" in rows[5] and "not a number" in rows[6]
    assert "each # is a factor of" in rows[-1]


def test_missing_x11_libraries_are_named(monkeypatch, capsys) -> None:
    import ctypes.util

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "libxcb-cursor0" in err and len(err.strip().splitlines()) == 1


def test_the_gui_script_runs_without_console_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """``gradsim-app`` on Windows has no stdout/stderr: printing must not fail."""
    from gradsim.engine import tomlio

    pyproject = tomlio.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["gui-scripts"]["gradsim-app"] == "gradsim.cli:gui_main"
    monkeypatch.setattr(sys, "argv", ["gradsim-app", "--version"])
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    assert cli.gui_main() == 0
    assert sys.stdout is not None and sys.stdout.name == os.devnull
    for stream in (sys.stdout, sys.stderr):  # the process would keep them; a test must not
        stream.close()
