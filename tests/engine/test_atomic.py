"""Atomic writes: a failed write leaves the old file; a new file gets the usual permissions."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gradsim.engine.atomic import pending_temporaries, reason, write_atomic, write_text_atomic

REPO = Path(__file__).resolve().parents[2]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path) -> None:
    target = tmp_path / "data.csv"
    target.write_text("old contents\n")

    def explode(handle) -> None:
        handle.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, explode)
    assert target.read_text() == "old contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_new_file_gets_umask_permissions_and_existing_mode_is_kept(tmp_path) -> None:
    umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.toml"
        write_text_atomic(fresh, "a = 1\n")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    finally:
        os.umask(umask)
    shared = tmp_path / "shared.toml"
    shared.write_text("x")
    shared.chmod(0o640)
    write_text_atomic(shared, "a = 2\n")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert shared.read_text() == "a = 2\n"


def test_writing_to_a_symlink_writes_through_and_keeps_the_link(tmp_path) -> None:
    real = tmp_path / "data" / "run.toml"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "run.toml"
    link.symlink_to(real)
    write_text_atomic(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "run.toml"]
    assert [p.name for p in real.parent.iterdir()] == ["run.toml"]


def test_a_name_too_long_is_one_clear_oserror_and_leaves_nothing(tmp_path) -> None:
    target = tmp_path / ("a" * 300 + ".csv")
    with pytest.raises(OSError) as caught:
        write_text_atomic(target, "x\n")
    assert caught.value.errno == errno.ENAMETOOLONG
    assert reason(caught.value) == os.strerror(errno.ENAMETOOLONG)
    assert list(tmp_path.iterdir()) == []


def test_a_long_name_the_file_system_takes_is_written(tmp_path) -> None:
    # 250 characters are allowed; ".NAME.XXXXXXXX.tmp" around all of them would not be.
    target = tmp_path / ("b" * 246 + ".csv")
    write_text_atomic(target, "x\n")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_run_file_name_too_long_is_a_one_line_export_error(tmp_path) -> None:
    from gradsim.engine.export import ExportError, check_output_path

    with pytest.raises(ExportError, match="File name too long") as caught:
        check_output_path(tmp_path / ("c" * 300 + ".csv"))
    assert "\n" not in str(caught.value)


def test_the_signal_handlers_are_put_back_after_a_write(tmp_path) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    seen = []
    write_atomic(tmp_path / "x.bin", lambda handle: seen.append(signal.getsignal(signal.SIGTERM)))
    assert seen and seen[0] is not before[0]  # ours, while the write was in progress
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert pending_temporaries() == []


KILLED_MID_WRITE = """
import os, signal, sys, time
from gradsim.engine.atomic import write_atomic

def slow(handle):
    handle.write(b"x" * 1_000_000)
    handle.flush()
    print("writing", flush=True)
    os.kill(os.getpid(), signal.SIG{name})
    time.sleep(30)  # never reached: the signal ends the process

write_atomic(sys.argv[1], slow)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
@pytest.mark.parametrize("name", ["TERM", "INT"])
def test_a_write_stopped_by_a_signal_leaves_no_temporary_file(tmp_path, name) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "run.npz").write_bytes(b"previous")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", KILLED_MID_WRITE.format(name=name), str(folder / "run.npz")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.stdout == "writing\n"
    if name == "TERM":
        assert result.returncode == -signal.SIGTERM  # still ended by the signal, as before
    else:
        assert "KeyboardInterrupt" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["run.npz"]  # no .run.npz.XXXX.tmp
    assert (folder / "run.npz").read_bytes() == b"previous"
