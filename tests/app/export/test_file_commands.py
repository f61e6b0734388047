"""File and Data commands in the real window: configs, recent files, data export, errors."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from qt_helpers import config_of, error_box, error_text, history, latest, open_window, state

from gradsim.engine import export
from gradsim.engine.config import Config
from gradsim.engine.export import read_run
from gradsim.engine.presets import get_preset
from gradsim.engine.stats import STAT_NAMES

pytestmark = pytest.mark.slow  # the real window's File commands, saving and reopening runs

SMALL = Config(activation="tanh", init="xavier_normal", depth=6, width=16, input_dim=4,
               output_dim=2, batch_size=16, seed=11)  # fmt: skip


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, config=SMALL, remember=True)  # recent files need settings
    yield win
    win.close()


def _train(qtbot, win, steps: int) -> None:
    win.session.run_until(steps)
    qtbot.waitUntil(win.session.is_idle, timeout=15_000)  # at the step count, or diverged


def test_save_then_open_reproduces_the_run_bit_for_bit(window, qtbot, tmp_path) -> None:
    _train(qtbot, window, 15)
    first = {name: history(window).stat(name) for name in STAT_NAMES}
    path = tmp_path / "run.toml"
    assert window.files.save_config(path)
    window.show_preset(get_preset("relu-he"))  # something else in between
    assert window.files.open_config(path)
    assert config_of(window) == SMALL
    qtbot.waitUntil(
        lambda: latest(window) is not None and latest(window).config == SMALL, timeout=5000
    )
    _train(qtbot, window, 15)
    for name in STAT_NAMES:
        np.testing.assert_array_equal(history(window).stat(name), first[name])
    assert window.files.recent_files()[0] == str(path.resolve())


def test_export_data_is_the_run_as_recorded_with_overflows(window, qtbot, tmp_path) -> None:
    window.show_preset(get_preset("seed-exploding"))
    qtbot.waitUntil(
        lambda: latest(window) is not None and latest(window).config.depth == 100, timeout=5000
    )
    _train(qtbot, window, 5)  # diverges at step 1
    for suffix in (".csv", ".npz", ".json"):
        path = tmp_path / f"run{suffix}"
        assert window.files.export_data(path)
        wrote = f"{path} and {tmp_path / 'run.meta.json'}" if suffix == ".csv" else f"{path}"
        steps = len(history(window))
        assert window.statusBar().currentMessage() == f"Exported {steps} steps to {wrote}"
        data = read_run(path)
        assert data.config == config_of(window) and data.recorder.diverged_at == 1
        for name in STAT_NAMES:
            np.testing.assert_array_equal(data.recorder.stat(name), history(window).stat(name))
        assert not np.isfinite(data.recorder.stat("activation_rms")[-1]).all()


def test_export_distributions_writes_what_the_window_measured(window, qtbot, tmp_path) -> None:
    from gradsim.engine.distribution_export import read_histograms

    assert not window.files.export_distributions(tmp_path / "early.npz")  # nothing yet
    assert "Train a step or more first" in error_text(window)
    error_box(window).close()
    _train(qtbot, window, 6)
    held = window.session.distributions[0]
    assert len(held) >= 1 and held.steps[-1] == 5  # the pause's step is always measured
    for suffix in (".npz", ".json"):
        path = tmp_path / f"h{suffix}"
        assert window.files.export_distributions(path)
        loaded = read_histograms(path)
        assert loaded.config == SMALL and loaded.history.steps.tolist() == held.steps.tolist()
        for got, want in zip(loaded.history.entries(), held.entries(), strict=True):
            for kind, histogram in want.histograms.items():
                np.testing.assert_array_equal(got.histograms[kind].counts, histogram.counts)
    assert not window.files.export_distributions(tmp_path / "h.csv")
    assert ".npz or .json" in error_text(window)


def test_unwritable_paths_explain_and_training_goes_on(window, qtbot, tmp_path) -> None:
    window.view_state.set_speed(200.0)
    window.session.toggle_play()
    qtbot.waitUntil(lambda: state(window) == "running", timeout=5000)
    missing = tmp_path / "no-such-folder" / "run.csv"
    assert not window.files.export_data(missing)
    assert error_box(window).isVisible() and "does not exist" in error_text(window)
    error_box(window).close()
    assert not window.files.save_config(tmp_path / "no-such-folder" / "x.toml")
    assert "no-such-folder" in error_text(window)
    before = len(history(window))
    qtbot.waitUntil(lambda: len(history(window)) > before + 5, timeout=10_000)
    assert state(window) == "running"  # nothing stopped, nothing lost
    window.session.toggle_play()


def test_a_failed_write_leaves_the_existing_file_whole(window, qtbot, tmp_path, monkeypatch):
    _train(qtbot, window, 3)
    path = tmp_path / "run.csv"
    path.write_text("precious\n")

    def disk_full(handle, *args):
        handle.write(b"half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "_write_csv", disk_full)
    assert not window.files.export_data(path)
    assert "No space left on device" in error_text(window)
    assert path.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.csv"]  # no temporary file left


def test_malformed_config_file_is_explained_and_nothing_changes(window, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("depth = 0\n")
    assert not window.files.open_config(bad)
    assert "depth" in error_text(window) and config_of(window) == SMALL
    broken = tmp_path / "broken.toml"
    broken.write_text("depth = = 3\n")
    assert not window.files.open_config(broken)
    assert "broken.toml" in error_text(window)
    assert not window.files.open_config(tmp_path / "missing.toml")
    assert config_of(window) == SMALL


def test_a_hostile_config_file_is_one_message_that_names_it_once(window, tmp_path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 500 + "]" * 500 + "\n")  # RecursionError in the parser
    assert not window.files.open_config(deep)
    text = error_text(window)
    assert "nested too deeply" in text and text.count("deep.toml") == 1
    assert config_of(window) == SMALL


def test_file_menu_keys_and_recent_menu(window, tmp_path) -> None:
    actions = window.file_actions
    assert actions["save"].shortcut().toString() == "Ctrl+S"
    assert actions["open"].shortcut().toString() == "Ctrl+O"
    assert window.menuBar().actions()[0].text() == "&File"
    paths = [tmp_path / f"c{i}.toml" for i in range(3)]
    for path in paths:
        assert window.files.save_config(path)
    assert window.files.recent_files() == [str(p.resolve()) for p in reversed(paths)]
    from PySide6.QtWidgets import QMenu

    menu = QMenu()
    window.files.fill_recent(menu)
    assert [a.text() for a in menu.actions()] == ["c2.toml", "c1.toml", "c0.toml"]


def test_load_csv_trains_on_the_users_data(window, qtbot, tmp_path) -> None:
    path = tmp_path / "iris-ish.csv"
    rng = np.random.default_rng(0)
    rows = ["a,b,c,species"] + [
        f"{x:.3f},{y:.3f},{z:.3f},{['setosa', 'versicolor', 'virginica'][i % 3]}"
        for i, (x, y, z) in enumerate(rng.normal(size=(60, 3)))
    ]
    path.write_text("\n".join(rows) + "\n")
    assert window.files.load_csv(path)
    config = config_of(window)
    assert (config.dataset, config.input_dim, config.output_dim) == ("csv", 3, 3)
    assert config.loss == "cross_entropy" and config.data_path == str(path.resolve())
    qtbot.waitUntil(
        lambda: latest(window) is not None and latest(window).config == config, timeout=5000
    )
    _train(qtbot, window, 5)
    assert len(history(window)) == 5 and np.isfinite(history(window).loss).all()

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,y\n1,2,0\n1,2\n")
    assert not window.files.load_csv(ragged)
    assert "line 3 has 2 values" in error_text(window)
    assert config_of(window) == config  # nothing changed


def test_export_image_png_and_svg_from_the_window(window, qtbot, tmp_path) -> None:
    import xml.etree.ElementTree as ET

    from PySide6.QtGui import QImage

    _train(qtbot, window, 5)
    png = tmp_path / "heatmap.png"
    assert window.files.export_image_to("heatmap", png, (1600, 900))
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1600, 900)
    svg = tmp_path / "window.svg"
    assert window.files.export_image_to("window", svg)
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert not window.files.export_image_to("window", tmp_path / "x.bmp")
    assert ".bmp" in error_text(window) or "png" in error_text(window).lower()


def test_copy_image_puts_the_window_on_the_clipboard(window) -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.clipboard().clear()
    window.file_actions["copy_image"].trigger()
    assert window.file_actions["copy_image"].shortcut().toString() == "Ctrl+Shift+C"
    image = QApplication.clipboard().image()
    assert not image.isNull() and image.width() >= window.width()


def test_record_animation_writes_a_gif_and_can_be_cancelled(window, qtbot, tmp_path) -> None:
    from PIL import Image
    from PySide6.QtCore import QTimer

    _train(qtbot, window, 20)
    gif = tmp_path / "run.gif"
    assert window.files.record_animation_to(gif, frames=8, fps=10, size=(480, 270))
    with Image.open(gif) as image:
        assert image.n_frames == 8 and image.size == (480, 270)

    gif.write_bytes(b"keep me")
    QTimer.singleShot(0, lambda: window.files.progress_dialog.cancel())  # while it renders
    assert not window.files.record_animation_to(gif, frames=20, size=(480, 270))
    assert gif.read_bytes() == b"keep me"  # cancelled: the old file is untouched


def test_export_dialogs_offer_what_the_view_has(qtbot) -> None:
    from gradsim.app.inputs.export_dialogs import ImageDialog, RecordDialog

    single, comparing, record = ImageDialog(False), ImageDialog(True), RecordDialog()
    for dialog in (single, comparing, record):
        qtbot.addWidget(dialog)
    assert single.choice() == ("window", (1920, 1080))  # a Full HD slide by default
    views = [comparing.view.itemData(i) for i in range(comparing.view.count())]
    assert views == ["window", "heatmap", "loss"]  # a comparison has no profile or map
    assert record.choice() == (60, 12, (960, 540))


def test_menu_commands_through_their_dialogs(window, qtbot, tmp_path, monkeypatch) -> None:
    """The File and Data menu entries, with the file dialogs answered: each writes its file."""
    from PIL import Image
    from PySide6.QtWidgets import QDialog, QFileDialog

    from gradsim.app.inputs.export_dialogs import ImageDialog, RecordDialog

    _train(qtbot, window, 6)
    answers: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (answers.pop(0), ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (answers.pop(0), ""))
    monkeypatch.setattr(ImageDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(RecordDialog, "exec", lambda self: QDialog.DialogCode.Accepted)

    answers.append(str(tmp_path / "conf"))  # no suffix: .toml is added
    window.file_actions["save"].trigger()
    answers.append(str(tmp_path / "data.json"))
    window.file_actions["export_data"].trigger()
    answers.append(str(tmp_path / "window.png"))
    window.file_actions["export_image"].trigger()
    answers.append(str(tmp_path / "run.gif"))
    window.file_actions["record"].trigger()
    with Image.open(tmp_path / "window.png") as png, Image.open(tmp_path / "run.gif") as gif:
        assert png.size == (1920, 1080)
        assert gif.n_frames == 6  # 6 steps recorded, 60 frames asked
    assert read_run(tmp_path / "data.json").config == config_of(window)
    answers.append(str(tmp_path / "conf.toml"))
    window.file_actions["open"].trigger()
    assert config_of(window) == SMALL

    csv = tmp_path / "mine.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    answers.append(str(csv))
    window.file_actions["load_csv"].trigger()
    assert config_of(window).dataset == "csv" and config_of(window).input_dim == 2
    lesson = tmp_path / "talk.toml"
    lesson.write_text('title = "Talk"\n[[scenes]]\ntitle = "One"\ncaption = "c"\n'
                      'preset = "relu-he"\n')  # fmt: skip
    answers.append(str(lesson))
    window.menus.open_lesson.trigger()
    assert window.lessons.lesson.title == "Talk" and not answers
