"""Atomic writes: a failed write leaves the old file; a new file gets the usual permissions."""

from __future__ import annotations

import os
import stat

import pytest

from gradsim.engine.atomic import write_atomic, write_text_atomic


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
