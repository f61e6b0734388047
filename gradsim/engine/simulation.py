"""A training run: the object the CLI, the tests and the GUI's worker thread step through."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from gradsim.engine import losses
from gradsim.engine.config import LIVE_FIELDS, Config, ConfigError
from gradsim.engine.data import BatchSampler, make_dataset
from gradsim.engine.distributions import DistributionHistory, Meter
from gradsim.engine.footprint import check_fits
from gradsim.engine.network import Network
from gradsim.engine.optim import Optimizer
from gradsim.engine.recording import Recorder
from gradsim.engine.stats import StepStats, safe_norm, segment_norm

# Called with (steps done, steps asked for) after each step; returning False (only False:
# None or anything else carries on) stops the run.
Progress = Callable[[int, int], object]

_FLOAT_LIMITS = {"float64": "1.8e308", "float32": "3.4e38"}


class Simulation:
    """Builds network, data and optimizer from a config and trains step by step.

    Same config (seed included) gives bit-identical results. Overflow and underflow are the
    lesson, not an error: values are recorded as they are, and the first step whose loss or
    gradients are not finite marks the run as diverged; that step's statistics are kept, its
    update is not applied, and the run takes no more steps.

    Per-layer histograms (``gradsim.engine.distributions``) cost a few passes over every
    buffer, about as long as a step's own arithmetic, so they are measured on a cadence:
    ``distributions`` None (the default) measures only on ``step(distributions=True)``; k >= 1
    measures on step 0, every k-th step and the step that diverges (its numbers are the
    lesson); 0 measures only when asked, plus the diverging step (for a caller that asks by
    time, as the app's worker does). A measurement only reads the buffers: results are
    bit-identical with or without it. It is attached to ``StepStats.distributions`` and, when
    recording, appended to ``distribution_history`` (None until there is something to hold:
    present from the start with a cadence, else from the first measurement).
    """

    def __init__(
        self, config: Config, *, record: bool = True, distributions: int | None = None
    ) -> None:
        if distributions is not None and (
            isinstance(distributions, bool)
            or not isinstance(distributions, int)
            or distributions < 0
        ):
            raise ValueError(f"distributions must be None or an int >= 0, got {distributions!r}")
        # Refuse a network the machine cannot hold before allocating any of it (ConfigError).
        check_fits(config, record=record)
        self.config = config
        self.depth = config.depth
        # Separate streams so that e.g. changing batch_size does not change the weights.
        data_rng, init_rng, batch_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(3)
        )
        self.data = make_dataset(config, data_rng)
        with np.errstate(all="ignore"):
            self.network = Network(config, init_rng)
        self._sampler = BatchSampler(len(self.data.inputs), config.batch_size, batch_rng)
        self._optimizer = Optimizer(config.optimizer, self.network.params.size, self.network.dtype)
        self.step_count = 0
        self.diverged = False
        self.last: StepStats | None = None
        self.recorder = Recorder(config.depth) if record else None
        self.distributions_every = distributions
        # Present from the start when recording on a cadence, else from the first measurement.
        self.distribution_history: DistributionHistory | None = (
            DistributionHistory() if record and distributions is not None else None
        )
        self._meter: Meter | None = None

    @property
    def input_second_moment(self) -> float:
        """E[x²] of the training inputs (the theory's starting point)."""
        return self.data.input_second_moment

    def set_live(self, **changes: float) -> None:
        """Change training-only settings (learning rate, momentum, clipping) from the next step."""
        bad = [key for key in changes if key not in LIVE_FIELDS]
        if bad:
            raise ConfigError(
                f"{bad[0]} cannot change during a run; live settings: {', '.join(LIVE_FIELDS)}"
            )
        self.config = self.config.replace(**changes)

    def step(self, distributions: bool | None = None) -> StepStats:
        """One forward pass, loss, backward pass, statistics and update.

        ``distributions``: True measures the per-layer histograms on this step, False does not,
        None follows the cadence given to the constructor.
        """
        if self.diverged:
            raise RuntimeError("the run has diverged; start a new Simulation to train again")
        with np.errstate(all="ignore"):
            stats = self._step()
            if self._measures(distributions, stats.diverged):
                if self._meter is None:
                    self._meter = Meter(self.network)
                # The update changed the weights only: the buffers still hold this step's pass.
                measured = self._meter.measure(stats.step)
                stats = dataclasses.replace(stats, distributions=measured)
        self.last = stats
        if self.recorder is not None:
            self.recorder.append(stats)
            if stats.distributions is not None:
                if self.distribution_history is None:
                    self.distribution_history = DistributionHistory()
                self.distribution_history.append(stats.distributions)
        self.step_count += 1
        self.diverged = stats.diverged
        return stats

    def _measures(self, asked: bool | None, diverged: bool) -> bool:
        if asked is not None:
            return asked
        every = self.distributions_every
        if every is None:
            return False
        return diverged or (every > 0 and self.step_count % every == 0)

    def run(self, steps: int, progress: Progress | None = None) -> int:
        """Take up to ``steps`` steps, stopping at divergence or when ``progress`` returns False."""
        done = 0
        while done < steps and not self.diverged:
            self.step()
            done += 1
            if progress is not None and progress(done, steps) is False:
                break
        return done

    def _step(self) -> StepStats:
        cfg, net = self.config, self.network
        indices = self._sampler.next()
        x = self.data.inputs[indices]
        prediction = net.forward(x)
        labels: NDArray[np.int64] | None
        if self.data.labels is not None and cfg.loss == "cross_entropy":
            labels = self.data.labels[indices]
            loss, grad_output = losses.cross_entropy(prediction, labels)
        else:
            labels = None if self.data.labels is None else self.data.labels[indices]
            loss, grad_output = losses.mse(prediction, self.data.targets[indices])
        accuracy = math.nan if labels is None else losses.accuracy(prediction, labels)
        net.backward_signals(grad_output)
        layers = net.activation_stats()
        fused = (
            net.fused_updates
            and cfg.optimizer == "sgd"
            and cfg.grad_clip == 0
            and not net.batchnorm
            and math.isfinite(loss)
            and net.gradients_are_bounded(x, layers)
        )
        net.weight_gradients(x, sgd_lr=cfg.learning_rate if fused else None)
        weight_norm = net.weight_norms()
        grad_norm = net.weight_grad_norms()
        layers["weight_norm"] = weight_norm
        layers["weight_grad_norm"] = grad_norm

        total_grad_norm = self._total_grad_norm(grad_norm)
        reason = self._divergence_reason(loss, layers, total_grad_norm)
        if reason is None:
            scale = 1.0
            if cfg.grad_clip > 0 and total_grad_norm > cfg.grad_clip:
                scale = cfg.grad_clip / total_grad_norm
            # A fused step has updated the weights already; the biases (if any) remain.
            first = net.n_weights if fused else 0
            delta = self._optimizer.step(
                net.params[first:], net.grad[first:], cfg.learning_rate, cfg.momentum, scale
            )
            if cfg.optimizer == "sgd":
                # The step is lr·scale·g: its norm is known already, no pass over the weights.
                update = (cfg.learning_rate * scale) * grad_norm
            else:
                update = segment_norm(delta[: net.n_weights], net.w_offsets)
            # Relative to ||W||: undefined (NaN) where ||W|| is 0, or so small that the ratio is
            # beyond the float range. Never inf: an inf statistic means an overflow, and the
            # training did not overflow (the divergence check ran on this step already).
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                ratio = update / weight_norm
            nothing_moved = (update == 0) & np.isfinite(weight_norm)
            layers["update_ratio"] = np.where(
                nothing_moved, 0.0, np.where(np.isfinite(ratio), ratio, np.nan)
            )
        else:
            layers["update_ratio"] = np.full(self.depth, np.nan)
        return StepStats(
            step=self.step_count,
            loss=loss,
            accuracy=accuracy,
            layers=layers,
            diverged=reason is not None,
            divergence_reason=reason,
        )

    def _total_grad_norm(self, weight_grad_norms: NDArray[np.float64]) -> float:
        """Global gradient norm over every parameter (for clipping and the divergence check)."""
        net = self.network
        rest = safe_norm(net.grad[net.n_weights :]) if net.grad.size > net.n_weights else 0.0
        peak = max(float(np.max(weight_grad_norms)), float(rest))
        if not math.isfinite(peak) or peak == 0.0:
            return peak
        return peak * math.sqrt(float(np.sum((weight_grad_norms / peak) ** 2)) + (rest / peak) ** 2)

    def _divergence_reason(
        self, loss: float, layers: dict[str, NDArray[np.float64]], grad_norm: float
    ) -> str | None:
        """Why this step diverged, or None: any overflow in the pass ends the run.

        An overflow can hide downstream (ReLU turns -inf into 0), so every recorded statistic
        is checked, not only the loss and the gradients.
        """
        finite = {name: np.isfinite(values) for name, values in layers.items()}
        if (
            math.isfinite(loss)
            and math.isfinite(grad_norm)
            and all(f.all() for f in finite.values())
        ):
            return None
        beyond = (
            f"(beyond {self.config.dtype}'s largest number, {_FLOAT_LIMITS[self.config.dtype]})"
        )
        forward = ~(finite["preactivation_rms"] & finite["activation_rms"])
        if forward.any():
            return f"activations overflowed at layer {int(np.argmax(forward)) + 1} {beyond}"
        if not math.isfinite(loss):
            return f"the loss overflowed {beyond}"
        backward = ~(finite["backprop_grad_rms"] & finite["weight_grad_norm"])
        if backward.any():
            # The gradient flows from the output down: name the first layer it reached.
            layer = len(backward) - int(np.argmax(backward[::-1]))
            return f"gradients overflowed at layer {layer} {beyond}"
        if not math.isfinite(grad_norm):
            return f"gradients overflowed {beyond}"
        return f"weights overflowed at layer {int(np.argmax(~finite['weight_norm'])) + 1} {beyond}"
