"""Faults while exporting from the app: a full disk or a name too long is a message box naming
the real reason, never a traceback, and the existing file stays whole."""

from __future__ import annotations

import errno
import os

import pytest
from PySide6.QtWidgets import QLabel
from qt_helpers import error_box, error_text, open_window

from gradsim.app.export.image_export import export_image
from gradsim.engine import atomic
from gradsim.engine.config import Config

NO_SPACE = os.strerror(errno.ENOSPC)
TOO_LONG = os.strerror(errno.ENAMETOOLONG)
SMALL = Config(depth=3, width=6, batch_size=8, input_dim=4, output_dim=2, seed=3)


class _FullDisk:
    """A file whose writes fail as on a full device (what ``open`` in atomic returns)."""

    def __init__(self, path, mode="r", *args, **kwargs) -> None:
        self._file = open(path, mode, *args, **kwargs)  # noqa: SIM115

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, NO_SPACE)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


@pytest.fixture
def full_disk(monkeypatch):
    monkeypatch.setattr(atomic, "open", _FullDisk, raising=False)


@pytest.mark.usefixtures("full_disk")
def test_a_png_on_a_full_disk_says_no_space_left(qtbot, tmp_path) -> None:
    label = QLabel("gradsim")
    qtbot.addWidget(label)
    label.resize(120, 40)
    target = tmp_path / "shot.png"
    target.write_bytes(b"previous picture")
    with pytest.raises(OSError) as caught:
        export_image(label, target)
    message = str(caught.value)
    assert message == f"cannot write {target}: {NO_SPACE}"
    assert "Qt could not encode" not in message
    assert target.read_bytes() == b"previous picture"
    assert [p.name for p in tmp_path.iterdir()] == ["shot.png"]


def test_a_png_with_a_name_too_long_says_so(qtbot, tmp_path) -> None:
    label = QLabel("gradsim")
    qtbot.addWidget(label)
    target = tmp_path / ("a" * 300 + ".png")
    with pytest.raises(OSError, match=f": {TOO_LONG}$"):
        export_image(label, target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_window_exports_with_faults_show_a_message_box(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, config=SMALL)
    try:
        long_name = tmp_path / ("a" * 300 + ".csv")
        assert not window.files.export_data(long_name)  # was an uncaught OSError
        assert error_box(window).isVisible() and TOO_LONG in error_text(window)
        error_box(window).close()
        assert not window.files.export_image_to("window", tmp_path / ("b" * 300 + ".png"))
        assert TOO_LONG in error_text(window)
        error_box(window).close()
        monkeypatch.setattr(atomic, "open", _FullDisk, raising=False)
        assert not window.files.export_image_to("loss", tmp_path / "loss.png", (400, 300))
        assert NO_SPACE in error_text(window) and "Qt could not" not in error_text(window)
        error_box(window).close()
        assert list(tmp_path.iterdir()) == []
    finally:
        window.close()
