"""Data → Load CSV parses in a thread behind a progress dialog: the window keeps painting and
ticking, Cancel leaves the run as it was, and a bad file still says what is wrong."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressDialog
from qt_helpers import config_of, error_text, open_window

from gradsim.app.export.csv_loader import DIALOG_NAME
from gradsim.engine.config import Config
from gradsim.engine.csv_data import clear_cache

pytestmark = pytest.mark.slow  # the real window and its worker

SMALL = Config(depth=4, width=8, input_dim=4, output_dim=2, batch_size=16, seed=3)


@pytest.fixture
def window(qtbot):
    clear_cache()
    win = open_window(qtbot, config=SMALL)
    yield win
    win.close()
    clear_cache()


def big_csv(folder: Path, rows: int, columns: int = 100) -> Path:
    """5-decimal features (about 9 bytes a cell) and a 3-class text label."""
    rng = np.random.default_rng(5)
    path = folder / "big.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(",".join(f"f{i}" for i in range(columns - 1)) + ",label\n")
        for start in range(0, rows, 2000):
            x = np.char.mod("%.5f", rng.normal(size=(min(2000, rows - start), columns - 1)))
            labels = np.asarray(["a", "b", "c"])[rng.integers(0, 3, len(x))]
            out.writelines(",".join(r) + f",{y}\n" for r, y in zip(x, labels, strict=True))
    return path


def test_the_window_keeps_ticking_while_a_file_loads(window, qtbot, tmp_path) -> None:
    path = big_csv(tmp_path, 20_000)
    assert path.stat().st_size > 15e6
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    qtbot.wait(100)
    started = time.perf_counter()
    assert window.files.load_csv(path)
    took = time.perf_counter() - started
    qtbot.wait(60)
    timer.stop()
    config = config_of(window)
    assert (config.dataset, config.input_dim, config.output_dim) == ("csv", 99, 3)
    during = [t for t in ticks if started - 0.05 <= t]
    gaps = np.diff(during)
    assert len(during) >= took / 0.05, (len(during), took)  # it ticked all along
    assert gaps.max() < 0.3, f"the UI thread stalled {gaps.max() * 1000:.0f} ms"


def test_cancel_leaves_the_run_as_it_was(window, qtbot, tmp_path) -> None:
    path = big_csv(tmp_path, 10_000)
    before = config_of(window)
    seen: list[QProgressDialog] = []

    def press_cancel() -> None:
        dialogs = [d for d in window.findChildren(QProgressDialog) if d.objectName() == DIALOG_NAME]
        seen.extend(dialogs)
        dialogs[-1].cancel()

    QTimer.singleShot(80, press_cancel)
    assert not window.files.load_csv(path)
    assert seen and config_of(window) == before
    assert error_text(window) == ""
    assert window.statusBar().currentMessage() == "Loading big.csv was cancelled"
    qtbot.waitUntil(lambda: not window.findChildren(QProgressDialog), timeout=2000)


def test_a_bad_file_still_shows_its_message(window, tmp_path) -> None:
    before = config_of(window)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,y\n1,2,x\n1,abc,y\n")
    assert not window.files.load_csv(bad)
    assert "bad.csv: line 3, column 'b': 'abc' is not a number" in error_text(window)
    assert config_of(window) == before
