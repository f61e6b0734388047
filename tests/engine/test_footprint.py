"""The memory estimate against what the engine really allocates, and the refusal it drives."""

from __future__ import annotations

import tracemalloc

import pytest

from gradsim.engine import footprint
from gradsim.engine.config import Config, ConfigError
from gradsim.engine.footprint import check_fits, estimate, format_bytes
from gradsim.engine.presets import list_presets
from gradsim.engine.protocol import Reset
from gradsim.engine.runner import TrainingLoop
from gradsim.engine.simulation import Simulation

GB = 10**9
HUGE = Config(depth=2000, width=1024)


def _peak(config: Config, record: bool) -> int:
    """Peak traced bytes of building a simulation and taking one (measured) step."""
    tracemalloc.start()
    try:
        sim = Simulation(config, record=record)
        sim.step(distributions=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "config",
    [
        Config(),
        Config(depth=10, width=256, optimizer="adam"),
        Config(depth=6, width=128, batchnorm=True, optimizer="momentum"),
        Config(depth=8, width=200, batchnorm=True, optimizer="adam", grad_clip=1.0),
        Config(depth=30, width=300, dtype="float32", batch_size=256),
        Config(depth=4, width=700, dataset="spirals", output_dim=3, loss="cross_entropy"),
    ],
    ids=["default", "adam", "batchnorm-momentum", "batchnorm-adam", "float32", "spirals"],
)
@pytest.mark.parametrize("record", [True, False])
def test_estimate_is_within_a_factor_of_two_of_the_allocation(config: Config, record: bool) -> None:
    measured = _peak(config, record)
    estimated = estimate(config, record=record).bytes
    assert 0.5 * measured <= estimated <= 2 * measured, (estimated, measured)


def test_parts_add_up_and_name_the_big_buffers() -> None:
    sgd = estimate(HUGE)
    assert sgd.bytes >= sum(sgd.parts.values())
    assert sgd.parts["parameters"] == sgd.parts["gradients"] > 16 * GB
    assert 40 * GB < sgd.bytes < 80 * GB
    assert sgd.step_seconds > 1.0
    adam = estimate(HUGE.replace(optimizer="adam"))
    assert adam.parts["optimizer"] > 2 * sgd.parts["optimizer"] * 0.9
    assert estimate(HUGE.replace(dtype="float32")).bytes < 0.6 * sgd.bytes


def test_check_fits_refuses_with_the_estimate_and_the_free_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(footprint, "available_bytes", lambda: 8 * GB)
    with pytest.raises(ConfigError) as caught:
        check_fits(HUGE)
    message = str(caught.value)
    assert "\n" not in message
    assert f"needs about {format_bytes(estimate(HUGE).bytes)} of memory" in message
    assert "parameters 17 GB" in message and "only 8.0 GB are free" in message
    assert "shallower or narrower" in message
    with pytest.raises(ConfigError, match=r"8\.0 GB are free"):
        Simulation(HUGE)  # refused before any allocation


def test_check_fits_accepts_the_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(footprint, "available_bytes", lambda: 8 * GB)
    for preset in list_presets():
        check_fits(preset.config)


def test_unknown_free_memory_never_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(footprint, "available_bytes", lambda: None)
    assert check_fits(HUGE).bytes > 40 * GB


def test_available_bytes_reads_the_system() -> None:
    free = footprint.available_bytes()
    assert free is None or free > 0


def test_the_worker_reports_the_refusal_as_the_runs_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(footprint, "available_bytes", lambda: 8 * GB)
    sent: list[object] = []
    loop = TrainingLoop(send=sent.append)
    loop.handle(Reset((HUGE,), generation=1))
    (report,) = sent[-1]  # type: ignore[misc]
    assert report.error is not None
    assert report.error.startswith("cannot start this run: this network needs about")
    assert "8.0 GB are free" in report.error


def test_format_bytes() -> None:
    assert format_bytes(54.4 * GB) == "54 GB"
    assert format_bytes(1.23 * GB) == "1.2 GB"
    assert format_bytes(350e6) == "350 MB"
