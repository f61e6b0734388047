"""A network too big for the machine is refused up front: exit 2, one line with the estimate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradsim.engine.config import Config
from gradsim.engine.footprint import FIT_FRACTION, available_bytes, estimate
from tests.cli.test_cli import REPO, assert_one_error_line

try:
    import resource
except ImportError:  # not Unix
    resource = None  # type: ignore[assignment]

ADDRESS_LIMIT = 8 * 2**30  # far below the tens of GB these nets need: no way to allocate them


def _limited() -> None:
    if resource is not None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))


@pytest.mark.parametrize("width", [1024, 4096])
def test_a_network_that_cannot_fit_is_refused_before_allocating(tmp_path: Path, width: int) -> None:
    free = available_bytes()
    needed = estimate(Config(depth=2000, width=width)).bytes
    if free is None or needed <= FIT_FRACTION * free:
        pytest.skip("this machine reports no free memory figure, or has room for this net")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "gradsim", "run", "--set", "depth=2000", "--set",
         f"width={width}", "--out", str(tmp_path / "x.npz")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        preexec_fn=_limited,  # an attempt to allocate would fail with MemoryError instead
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert "this network needs about" in result.stderr and "GB" in result.stderr
    assert "are free" in result.stderr
    assert not (tmp_path / "x.npz").exists()
    assert elapsed < 30  # no 50 GB of page faults first
