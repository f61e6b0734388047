"""Shared test set-up: Qt runs offscreen, settings are isolated, and no thread may leak."""

from __future__ import annotations

import os

# Before anything imports Qt: the tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _isolated_qt_settings(tmp_path_factory, monkeypatch):
    """Point QSettings at a private folder so tests neither read nor write the user's."""
    folder = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    monkeypatch.setenv("GRADSIM_SETTINGS_DIR", str(folder))
    yield


@pytest.fixture(autouse=True)
def _no_dangling_threads():
    """Fail any test that leaves a worker process or reader thread running (closing must stop
    both)."""
    yield
    try:
        from gradsim.app.model.worker import running_threads
    except ImportError:  # the app is not importable in a Qt-free environment
        return
    leaked = running_threads()
    for worker in leaked:  # stop them so one leak does not cascade into later tests
        if hasattr(worker, "terminate"):  # a worker process
            worker.terminate()
            worker.join(2)
        else:  # a reader QThread
            worker.quit()
            worker.wait(2000)
    assert not leaked, f"worker thread(s) or process(es) still running after the test: {leaked}"
