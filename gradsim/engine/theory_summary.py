"""One-sentence readout of a theory profile: the per-layer gradient factor, what it compounds
to over the depth, and whether that means vanishing, exploding or stable gradients.

Pure logic (no Qt) so the numbers the GUI shows are tested headless against ``theory``.

Verdict rule: only the part of the compounding that grows with depth counts, i.e. the product
of the hidden layers' factors, with the last layer's one-off width ratio (``last_layer_ratio``,
e.g. sqrt(4/64) for He with 4 outputs) taken out. Below ``VANISHING`` (0.1) that is
"vanishing", above ``EXPLODING`` (10) "exploding", else "stable": within a factor of ten over
the whole depth, plain SGD still moves every layer at a similar pace.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradsim.engine import theory
from gradsim.engine.config import Config
from gradsim.engine.theory import TheoryProfile

VANISHING = 0.1  # depth-compounded factor below this: "vanishing"
EXPLODING = 10.0  # above this: "exploding"
_SPREAD = 1e-6  # relative spread of the factors along depth below which they count as equal
_FLOAT_DECADES = {"float64": 308, "float32": 38}  # largest decade each dtype can hold
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")  # as gradsim.app.views.colors


@dataclass(frozen=True)
class GradientSummary:
    """What the theory says about backprop through ``depth`` layers, as numbers and text.

    ``factor`` is the per-layer gradient factor (``symbol`` "√χ" for random weights, "c" for
    the exact identity solution), the geometric mean over layers 1..L-1 when it varies along
    depth (then ``factor_range`` holds its (min, max)), with the last layer's width ratio
    taken out. ``compounded`` = ``theory.compounded_factor`` (gradient at layer 1 / layer L,
    may be 0 or inf in float64); ``log10_compounded`` is exact even then.
    """

    available: bool
    verdict: str  # "vanishing", "exploding", "stable", or "unknown" without a theory
    text: str  # one plain-text sentence (unicode superscripts, no markup)
    note: str  # details for a tooltip: the model, non-square layers, the verdict rule
    factor: float
    factor_range: tuple[float, float] | None
    symbol: str
    compounded: float
    log10_compounded: float
    depth_compounded: float  # product of the hidden layers' factors: what the verdict uses
    depth: int
    exact: bool = False


def summarize(config: Config, profile: TheoryProfile) -> GradientSummary:
    """Readout of ``profile`` (from ``theory.predict(config, ...)``)."""
    depth = config.depth
    symbol = "c" if profile.exact else "√χ"
    nan = math.nan
    if not profile.available:
        text = f"theory not available: {short_reason(config, profile.reason)}"
        note = f"{profile.reason}. The measured curves still show what happens."
        return GradientSummary(
            False, "unknown", text, note, nan, None, symbol, nan, nan, nan, depth
        )
    compounded = theory.compounded_factor(profile)
    if depth == 1:
        text = "a single layer: no per-layer factor to compound, the gradient is used directly"
        note = f"Theory: {profile.reason}."
        return GradientSummary(
            True, "stable", text, note, nan, None, symbol, compounded, 0.0, 1.0, 1
        )
    ratio = last_layer_ratio(config)
    factors = np.array(profile.grad_factor[:-1], dtype=np.float64)  # layers 1 .. L-1
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(factors)
        log_total = float(logs.sum())
        log_hidden = log_total - (math.log10(ratio) if ratio > 0.0 else 0.0)
        hidden = factors.copy()
        if ratio > 0.0:
            hidden[-1] /= ratio
        factor = float(10.0 ** np.mean(np.log10(hidden)))
    lo, hi = float(hidden.min()), float(hidden.max())
    spread = np.isfinite([lo, hi]).all() and hi > 0.0 and hi - lo > _SPREAD * hi
    factor_range = (lo, hi) if spread else None
    if math.isnan(log_hidden):
        verdict = "unknown"
    elif log_hidden < math.log10(VANISHING):
        verdict = "vanishing"
    elif log_hidden > math.log10(EXPLODING):
        verdict = "exploding"
    else:
        verdict = "stable"
    text = _sentence(config, symbol, profile.exact, factor, factor_range, log_total, ratio)
    note = _note(config, profile, ratio, log_hidden)
    return GradientSummary(
        True,
        verdict,
        f"{text}: {verdict}",
        note,
        factor,
        factor_range,
        symbol,
        compounded,
        log_total,
        _power(log_hidden),
        depth,
        profile.exact,
    )


def map_point(config: Config) -> tuple[float, float]:
    """(σ_w, σ_b) of ``config`` on the order-to-chaos map.

    σ_w = sqrt(sigma_w2) of a square hidden layer (for identity init that is exactly the
    gain, the exact per-layer factor of a linear net); σ_b = |bias_init|, or 0 when the layers
    have no bias. The map assumes a *random* bias N(0, σ_b²) while gradsim starts every bias at
    the constant ``bias_init``, so for a non-zero bias the point is an approximation (same
    size, different shape).
    """
    sigma_w = math.sqrt(theory.sigma_w2(config, config.width, config.width))
    return sigma_w, abs(theory.bias_value(config))


def last_layer_ratio(config: Config) -> float:
    """The one-off factor the last layer's width puts on the gradient, relative to a square
    hidden layer: sqrt(n_L Var(W_L) / (width Var(W_hidden))), e.g. sqrt(n_L / width) for He.

    The last entry of ``grad_factor`` is this times a hidden layer's factor: it is why ReLU +
    He compounds to sqrt(output_dim / width) rather than 1. (The backward scale
    fan_out Var(W) is sigma_w2 * fan_out / fan_in, for identity weights too.)
    """
    width, n_out = config.width, config.output_dim
    square = theory.sigma_w2(config, width, width)
    last = theory.sigma_w2(config, width, n_out) * n_out / width
    return math.sqrt(last / square) if square > 0.0 else 1.0


_NETWORK_FIELDS = (
    "depth", "width", "input_dim", "output_dim", "activation", "leaky_slope", "init",
    "init_gain", "bias", "bias_init", "batchnorm", "residual",
)  # fmt: skip


def predict_cached(config: Config, input_second_moment: float = 1.0) -> TheoryProfile:
    """``theory.predict``, remembered for the last 16 networks. Keyed on the fields that
    shape the network only, so e.g. a new learning rate reuses it. Worth it: at depth 2000
    and width 512, predict takes up to ~0.17 s (tanh + Xavier, whose variance never settles)."""
    network = Config(**{name: getattr(config, name) for name in _NETWORK_FIELDS})
    return _predict(network, float(input_second_moment))


@functools.lru_cache(maxsize=16)
def _predict(network: Config, input_second_moment: float) -> TheoryProfile:
    return theory.predict(network, input_second_moment)


# ---------------------------------------------------------------------------------------------
# Text


def power_of_ten(exponent: int) -> str:
    """ "10⁻³⁰" for -30 (the style of the GUI's log axes)."""
    return "10" + str(int(exponent)).translate(_SUPERSCRIPT)


def format_ratio(log10_value: float) -> str:
    """A positive number given by its log10 (so 10^400 works): "0.25", "1.5 × 10⁻⁵", "10³⁴⁵"."""
    if math.isnan(log10_value):
        return "?"
    if math.isinf(log10_value):
        return "0" if log10_value < 0 else "∞"
    if -3.0 <= log10_value < 4.0:
        return _sig2(10.0**log10_value)
    exponent = math.floor(log10_value)
    mantissa = round(10.0 ** (log10_value - exponent), 1)
    if mantissa >= 10.0:
        mantissa, exponent = 1.0, exponent + 1
    if mantissa == 1.0:
        return power_of_ten(exponent)
    return f"{mantissa:.1f} × {power_of_ten(exponent)}"


def measured_sentence(step: int, grad_rms: NDArray[np.float64]) -> str:
    """What was measured, beside what the theory predicts: "measured at step 40: at layer 1
    it is ≈ 0.52 × its size at layer 30" (``grad_rms``: RMS of ∂loss/∂z by layer)."""
    depth = grad_rms.size
    first, last = float(grad_rms[0]), float(grad_rms[-1])
    if depth < 2:
        return f"measured at step {step}: a single layer"
    if not (math.isfinite(first) and math.isfinite(last)):
        return f"measured at step {step}: the gradient overflowed (inf/nan)"
    if last == 0.0:
        return f"measured at step {step}: no gradient at layer {depth} (0)"
    if first == 0.0:
        return f"measured at step {step}: no gradient reaches layer 1 (0)"
    ratio = format_ratio(math.log10(first) - math.log10(last))
    return f"measured at step {step}: at layer 1 it is ≈ {ratio} × its size at layer {depth}"


def _sig2(x: float) -> str:
    """Two significant digits without an exponent: 0.077, 0.25, 1.5, 110, 6300."""
    return f"{float(f'{x:.2g}'):g}"


def _sig3(x: float) -> str:
    return f"{x:.3g}"


def _power(log10_value: float) -> float:
    with np.errstate(over="ignore"):
        return float(np.power(10.0, log10_value))


def _sentence(
    config: Config,
    symbol: str,
    exact: bool,
    factor: float,
    factor_range: tuple[float, float] | None,
    log_total: float,
    ratio: float,
) -> str:
    """Words first, symbols after: "each layer multiplies the gradient by about 0.707 (√χ)
    → at layer 1 it is ≈ 1.5 × 10⁻⁵ × its size at layer 30"."""
    how = "exactly" if exact else "about"
    # The exact case is W = c·I: naming the matrix says where the factor comes from.
    detail = f"W = {_sig3(factor)}·I" if exact else symbol
    if factor_range is not None:
        detail += f"; {_sig2(factor_range[0])}–{_sig2(factor_range[1])} by layer"
    depth = config.depth
    if log_total == -math.inf:
        outcome = f"no gradient reaches layer 1 (0 × its size at layer {depth})"
    else:
        outcome = f"at layer 1 it is ≈ {format_ratio(log_total)} × its size at layer {depth}"
        limit = _FLOAT_DECADES.get(config.dtype, 308)
        if abs(log_total) > limit:
            outcome += f", beyond {config.dtype}'s range"
    if ratio > 0.0 and abs(math.log10(ratio)) > math.log10(1.1):  # visible in 2 digits
        outcome += f" (incl. ×{_sig2(ratio)} from the {config.output_dim}-unit last layer)"
    return f"each layer multiplies the gradient by {how} {_sig3(factor)} ({detail}) → {outcome}"


def _note(config: Config, profile: TheoryProfile, ratio: float, log_hidden: float) -> str:
    """Tooltip: the model used, layers whose width changes the numbers, the verdict rule."""
    lines = [f"Theory: {profile.reason}."]
    width, n_in, n_out = config.width, config.input_dim, config.output_dim
    if n_out != width and ratio > 0.0 and abs(ratio - 1.0) > 1e-9:
        lines.append(
            f"The last layer ({width} → {n_out} units) multiplies the gradient once by "
            f"{_sig3(ratio)} relative to a square layer; the factor shown leaves it out."
        )
    scale_free = config.activation == "linear" or (
        config.activation in ("relu", "leaky_relu") and theory.bias_value(config) == 0.0
    )
    first = theory.sigma_w2(config, n_in, width)
    hidden = theory.sigma_w2(config, width, width)
    if n_in != width and not scale_free and abs(first - hidden) > 1e-9 * max(hidden, 1e-300):
        lines.append(
            f"Layer 1 ({n_in} → {width} units) has σ_w² = {_sig3(first)} where hidden layers "
            f"have {_sig3(hidden)}: the signal enters at another size, which shifts the "
            f"{config.activation} factors of the first layers."
        )
    lines.append(
        f"Verdict: the hidden layers compound to {format_ratio(log_hidden)}; below "
        f"{VANISHING:g} counts as vanishing, above {EXPLODING:g} as exploding."
    )
    return "\n".join(lines)


def short_reason(config: Config, reason: str) -> str:
    """A few words of ``reason`` (``profile.reason`` or ``theory.limitation``) for a readout:
    "no theory for BatchNorm"; the full reason belongs in a tooltip."""
    if config.init == "identity" and "identity" in reason:
        return f"no theory for identity init with {config.activation}"
    return reason.split(" (")[0].split(";")[0]
