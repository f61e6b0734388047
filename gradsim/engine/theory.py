"""Mean-field predictions of signal and gradient size at initialisation.

In the infinite-width limit every pre-activation of a randomly initialised net is Gaussian,
so one number per layer (its variance) predicts the whole forward profile, and one more
(E[phi'(z)^2]) the per-layer gradient factor. The GUI overlays these curves on the measured
statistics so a student can see that vanishing/exploding gradients are predictable, not luck.

All Gaussian expectations are computed by composite Gauss-Legendre quadrature split at the
activation's kink (z = 0) with panels graded towards it. Gauss-Hermite alone converges slowly
on kinks (ReLU) and on the steep steps tanh/sigmoid become when the variance is huge.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gradsim.engine.activations import evaluate
from gradsim.engine.config import Config
from gradsim.engine.init import weight_std

_LEG_X, _LEG_W = np.polynomial.legendre.leggauss(20)  # nodes per panel
_RATIO = 4.0  # width ratio of neighbouring panels, away from the kink
_CAP = 3.0  # widest panel (standard units): 20 nodes integrate e^(-x^2/2) on it exactly
_REACH = math.sqrt(2.0 * 40.0)  # truncate where the Gaussian weight has fallen by e^-40
_MAX_PANELS = 400
_BIG = 1e300  # stands in for +-infinity when the variance is infinite
_TINY = 1e-300  # variance used for the q -> 0+ limit
_TOL = 1e-10  # relative size of F(q) = map(q) - q below which q counts as fixed
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class TheoryProfile:
    """Predicted per-layer statistics (index 0 = layer 1), comparable with ``StepStats``.

    ``backprop_grad_rms_relative`` is 1 at the last layer: the loss sets the absolute scale,
    so multiply by a measured value to overlay. ``grad_factor[l]`` is the predicted
    rms(delta_l) / rms(delta_{l+1}); the last entry is NaN. When ``available`` is False the
    arrays are NaN and ``reason`` says why; otherwise it names the model used.
    """

    available: bool
    reason: str
    preactivation_rms: NDArray[np.float64]
    activation_rms: NDArray[np.float64]
    backprop_grad_rms_relative: NDArray[np.float64]
    grad_factor: NDArray[np.float64]
    exact: bool = False


# ---------------------------------------------------------------------------------------------
# Gaussian expectations


def _rule(
    mean: ArrayLike, var: ArrayLike, kink: float = 0.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes z and weights w, shape (G, N), with sum(w * f(z)) ~ E_{z~N(mean, var)}[f(z)].

    Works in standard units x = (z - mean) / std. Each side of the kink x0 is truncated where
    the density has dropped by e^-40 relative to its largest value on that side, then cut
    into panels that grow geometrically away from x0, starting from the smallest relevant
    scale: the activation's (1/std in x), or the Gaussian tail's (1/|x0|) for a far kink.
    Variance 0 gives the single node z = mean; infinite variance two nodes at +-1e300.
    """
    mean, var = np.broadcast_arrays(np.asarray(mean, float).ravel(), np.asarray(var, float).ravel())
    zero, inf = var == 0.0, np.isinf(var)
    std = np.sqrt(np.where(zero | inf, 1.0, var))
    y0 = np.stack([kink - mean, mean - kink]) / std  # the kink, seen from each side: (2, G)
    near = np.maximum(y0, -_REACH)  # end of each piece closest to the kink
    length = np.hypot(np.maximum(y0, 0.0), _REACH) - near
    tail = np.where(near > 1.0, 1.0 / np.maximum(near, 1.0), np.inf)
    w_min = np.clip(np.minimum(0.5 / std + (near - y0), tail), 1e-300, _CAP)
    graded = np.ceil(np.log(_CAP / w_min) * (1.0 / math.log(_RATIO)))
    n_panels = int(min((graded + np.ceil(length / _CAP)).max(), _MAX_PANELS))
    steps = np.arange(1.0, n_panels + 1.0) - graded[:, :, None]
    edges = _CAP * np.where(steps <= 0.0, _RATIO ** np.minimum(steps, 0.0), steps + 1.0)
    edges = np.minimum(edges, length[:, :, None])
    start = np.concatenate([np.zeros((*edges.shape[:2], 1)), edges[:, :, :-1]], axis=2)
    half = (0.5 * (edges - start))[..., None]  # (2, G, P, 1)
    x = (near[:, :, None, None] + start[..., None]) + half * (1.0 + _LEG_X)
    x[1] *= -1.0  # mirror the second piece back to x < x0
    x = x.transpose(1, 0, 2, 3).reshape(len(var), -1)
    w = (half * _LEG_W).transpose(1, 0, 2, 3).reshape(len(var), -1)
    w *= np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    z = mean[:, None] + std[:, None] * x
    special = zero | inf
    if special.any():
        z[special], w[special] = mean[special, None], 0.0
        w[zero, 0] = 1.0
        z[inf, 0], z[inf, 1], w[inf, 0], w[inf, 1] = _BIG, -_BIG, 0.5, 0.5
    return z, w


def _integrate(w: NDArray[np.float64], values: NDArray[np.floating]) -> NDArray[np.float64]:
    """Weighted row sums that ignore the (possibly infinite) values at zero weight."""
    sums: NDArray[np.float64] = np.where(w > 0.0, w * values, 0.0).sum(axis=-1)
    return sums


def gaussian_expectation(
    f: Callable[[NDArray[np.float64]], NDArray[np.floating]],
    mean: ArrayLike,
    var: ArrayLike,
    kink: float = 0.0,
) -> float | NDArray[np.float64]:
    """E[f(z)] for z ~ N(mean, var); f is vectorised and may have a kink or step at ``kink``.

    ``mean`` and ``var`` broadcast; scalars give a float. var = 0 gives f(mean), var = inf the
    average of f(+-1e300). Accurate to ~1e-12 relative for the engine's activations.
    """
    m, v = np.broadcast_arrays(np.asarray(mean, float), np.asarray(var, float))
    if np.any(np.isnan(v) | (v < 0.0)):
        raise ValueError(f"variance must be >= 0, got {var!r}")
    with np.errstate(all="ignore"):
        z, w = _rule(m, v, kink)
        result = _integrate(w, f(z)).reshape(m.shape)
    return float(result) if result.ndim == 0 else result


def _moments(
    activation: str, slope: float, mean: ArrayLike, var: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """E[phi(z)^2] and E[phi'(z)^2] for z ~ N(mean, var), from one evaluation of phi."""
    with np.errstate(all="ignore"):
        z, w = _rule(mean, var)
        h, d = evaluate(activation, z, slope)
        return _integrate(w, h * h), _integrate(w, d * d)


# ---------------------------------------------------------------------------------------------
# Weight scales


def _entry_variance(init: str, gain: float, fan_in: int, fan_out: int) -> float:
    """Variance of one entry of W, from the engine's own table (orthogonal: 1/max(fans))."""
    return float(weight_std(init, gain, fan_in, fan_out)) ** 2


def sigma_w2(config: Config, fan_in: int, fan_out: int) -> float:
    """Forward weight scale sigma_w^2 = fan_in * Var(W entry): E[z^2] = sigma_w^2 E[h^2] + b^2.

    For identity init (deterministic) it is the same ratio for an isotropic input:
    gain^2 * min(fan_in, fan_out) / fan_out, since only min(fan_in, fan_out) units are copied.
    """
    gain = config.init_gain
    if config.init == "identity":
        return gain * gain * min(fan_in, fan_out) / fan_out
    return fan_in * _entry_variance(config.init, gain, fan_in, fan_out)


def _backward_scale(config: Config, fan_in: int, fan_out: int) -> float:
    """fan_out * Var(W entry): W^T delta sums over the layer's fan_out output units."""
    gain = config.init_gain
    if config.init == "identity":
        return gain * gain * min(fan_in, fan_out) / fan_in
    return fan_out * _entry_variance(config.init, gain, fan_in, fan_out)


def bias_value(config: Config) -> float:
    """The constant every bias starts at: ``bias_init``, or 0 when the layers have no bias."""
    return config.bias_init if config.bias else 0.0


def _layer_sizes(config: Config) -> list[int]:
    """n_0 (inputs), n_1 .. n_{L-1} (width), n_L (outputs)."""
    return [config.input_dim] + [config.width] * (config.depth - 1) + [config.output_dim]


# ---------------------------------------------------------------------------------------------
# Profiles


def predict(config: Config, input_second_moment: float = 1.0) -> TheoryProfile:
    """Predicted per-layer RMS profile of ``config``'s network at initialisation.

    ``input_second_moment`` is E[x^2] of the inputs (``Simulation.input_second_moment``).
    Identity init with a linear network is solved exactly; random inits use mean-field
    theory; identity with a non-linearity, BatchNorm and residual nets have no prediction.
    """
    m0 = float(input_second_moment)
    if not (math.isfinite(m0) and m0 >= 0.0):
        raise ValueError(f"input_second_moment must be finite and >= 0, got {m0!r}")
    reason = limitation(config)
    if reason is not None:
        return _unavailable(config.depth, reason)
    if config.init == "identity":
        return _identity_linear(config, m0)
    return _mean_field(config, m0)


def limitation(config: Config) -> str | None:
    """Why ``predict`` has no prediction for ``config``, or None when it has one.

    Cheap (no integrals), so the GUI can ask on every config change.
    """
    depth, sizes = config.depth, _layer_sizes(config)
    # The engine applies BatchNorm to hidden layers only, and skips only where shapes match.
    if config.batchnorm and depth > 1:
        return "no theory for BatchNorm (it renormalises every layer)"
    if config.residual and any(sizes[i] == sizes[i + 1] for i in range(depth - 1)):
        return "no theory for residual connections in this tool"
    linear = config.activation == "linear" or depth == 1
    if config.init == "identity" and not linear:
        why = "mean-field theory assumes random weights; identity init with a non-linearity"
        return f"{why} has no exact solution either"
    return None


def _unavailable(depth: int, reason: str) -> TheoryProfile:
    nan = np.full(depth, np.nan)
    return TheoryProfile(False, reason, nan, nan.copy(), nan.copy(), nan.copy(), False)


def _relative_from_factors(grad_factor: NDArray[np.float64]) -> NDArray[np.float64]:
    """Backprop RMS relative to the last layer: products of factors, in logs to avoid overflow."""
    with np.errstate(divide="ignore"):
        logs = np.log(grad_factor[:-1])
    tail = np.cumsum(logs[::-1])[::-1]
    with np.errstate(over="ignore"):
        return np.append(np.exp(tail), 1.0)


def _mean_field(config: Config, m0: float) -> TheoryProfile:
    """Large-width recursion: z_l ~ N(b, v_l), v_l = sigma_w^2(l) E[h_{l-1}^2].

    Backward, mean(delta_l^2) = E[phi'(z_l)^2] * fan_out(l+1) Var(W_{l+1}) * mean(delta_{l+1}^2),
    treating the backward weights as independent of the forward pass (exact in the limit).
    Orthogonal weights are treated as i.i.d. with their true entry variance: a good
    approximation for the forward variance, though it misses their exact norm preservation.
    """
    depth, sizes, b = config.depth, _layer_sizes(config), bias_value(config)
    fwd = [sigma_w2(config, sizes[i], sizes[i + 1]) for i in range(depth)]
    back = [_backward_scale(config, sizes[i], sizes[i + 1]) for i in range(depth)]
    pre, act, dphi2 = np.empty(depth), np.empty(depth), np.empty(depth)
    ms_h, last = m0, None
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(depth):
            v = fwd[i] * ms_h if fwd[i] > 0.0 else 0.0
            pre[i] = math.sqrt(v + b * b)
            if i == depth - 1:
                act[i] = pre[i]
                break
            if last is None or last[0] != v:  # converged layers repeat the same variance
                e_phi2, e_dphi2 = _moments(config.activation, config.leaky_slope, b, v)
                last = (v, float(e_phi2[0]), float(e_dphi2[0]))
            ms_h, dphi2[i] = last[1], last[2]
            act[i] = math.sqrt(ms_h)
        factor = np.append(np.sqrt(dphi2[:-1] * np.array(back[1:])), np.nan)
    orthogonal = config.init == "orthogonal"
    scheme = "orthogonal weights treated as i.i.d." if orthogonal else "i.i.d. weights"
    reason = f"mean-field (infinite-width) theory, {scheme}, z ~ N(bias, sigma_w^2 E[h^2])"
    return TheoryProfile(True, reason, pre, act, _relative_from_factors(factor), factor, False)


def _identity_linear(config: Config, m0: float) -> TheoryProfile:
    """Exact solution for W_l = gain * I (top-left block) and no non-linearity.

    Unit k of layer l carries gain^l * x_k when k < min(n_0, ..., n_l) and only accumulated
    biases otherwise; the gradient reaches unit k only when k < min(n_l, ..., n_L). Exact in
    expectation over zero-mean inputs with per-feature second moment m0 and isotropic delta_L.
    """
    depth, sizes, gain, b = config.depth, _layer_sizes(config), config.init_gain, bias_value(config)
    pre = np.empty(depth)
    var, mean = np.full(sizes[0], m0), np.zeros(sizes[0])
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(depth):
            n, keep = sizes[i + 1], min(sizes[i], sizes[i + 1])
            new_var, new_mean = np.zeros(n), np.full(n, b)
            new_var[:keep] = gain * gain * var[:keep]
            new_mean[:keep] += gain * mean[:keep]
            var, mean = new_var, new_mean
            pre[i] = math.sqrt(float(np.mean(var + mean * mean)))
    reach = np.minimum.accumulate(np.array(sizes[1:])[::-1])[::-1]  # min(n_l, ..., n_L)
    fraction = np.sqrt(reach / np.array(sizes[1:], dtype=float))
    factor = np.append(gain * fraction[:-1] / fraction[1:], np.nan)
    return TheoryProfile(
        True,
        "exact: identity weights, linear network (zero-mean inputs, isotropic output gradient)",
        pre,
        pre.copy(),
        _relative_from_factors(factor),
        factor,
        True,
    )


def compounded_factor(profile: TheoryProfile) -> float:
    """Predicted backprop_grad_rms at layer 1 divided by that at layer L (NaN if unavailable)."""
    rel = profile.backprop_grad_rms_relative
    with np.errstate(all="ignore"):
        return float(rel[0] / rel[-1])


# ---------------------------------------------------------------------------------------------
# Order-to-chaos: random bias N(0, sigma_b^2), z ~ N(0, q)


def _limit_slope2(activation: str, slope: float) -> float:
    """lim_{q->inf} E[phi'(z)^2] = lim E[phi(z)^2] / q: mean of phi'(+-inf)^2."""
    with np.errstate(all="ignore"):
        _, d = evaluate(activation, np.array([_BIG, -_BIG]), slope)
    return float(np.mean(d * d))


def fixed_point_q(
    activation: str, sigma_w2: float, sigma_b2: float, slope: float = 0.01, q0: float = 1.0
) -> float:
    """Limit q* of q_{l+1} = sigma_w2 E_{z~N(0,q_l)}[phi(z)^2] + sigma_b2, started at q0.

    The map is increasing, so the iterates move monotonically to the first fixed point in
    the direction they start in; it is found by marching and bisection (the iteration itself
    converges only like 1/l at criticality). Returns 0.0 or inf when the iterates go there.
    """

    def excess(q: float) -> float:
        return sigma_w2 * float(_moments(activation, slope, 0.0, q)[0][0]) + sigma_b2 - q

    f0 = excess(q0)
    if abs(f0) <= _TOL * q0:
        return q0
    up = f0 > 0.0

    def crossed(q: float, tol: float = _TOL) -> bool:  # on the far side of a fixed point
        return excess(q) < -tol * q if up else excess(q) > tol * q

    inside, q = q0, q0
    while True:
        step = 2.0 if 1e-16 < q / q0 < 1e16 else 1e8  # coarse steps far out: no structure
        q = q * step if up else q / step
        if q > 1e300:
            return math.inf
        if q < 1e-300:
            return 0.0
        if crossed(q):
            break
        inside = q
    outside = q
    while abs(outside / inside - 1.0) > 1e-13:
        middle = math.sqrt(inside) * math.sqrt(outside)
        if crossed(middle, 0.0):
            outside = middle
        else:
            inside = middle
    return math.sqrt(inside) * math.sqrt(outside)


def chi(
    activation: str,
    sigma_w2: float,
    q: float | None,
    sigma_b2: float = 0.0,
    slope: float = 0.01,
) -> float:
    """Mean-field chi = sigma_w2 E_{z~N(0,q)}[phi'(z)^2]: the per-layer factor on mean(delta^2).

    chi > 1 means exploding gradients (chaos), chi < 1 vanishing (order). q = None uses the
    fixed point q* of the random-bias recursion (the only use of ``sigma_b2``); q = 0 means
    the limit q -> 0+ (e.g. 1/2 for relu), q = inf the limit q -> inf.
    """
    if q is None:
        q = fixed_point_q(activation, sigma_w2, sigma_b2, slope)
    if math.isinf(q):
        return sigma_w2 * _limit_slope2(activation, slope)
    return sigma_w2 * float(_moments(activation, slope, 0.0, max(q, _TINY))[1][0])


def chi_map(
    activation: str, sigma_w: ArrayLike, sigma_b: ArrayLike, slope: float = 0.01
) -> NDArray[np.float64]:
    """chi at the fixed point q* over a grid, shape (len(sigma_b), len(sigma_w)).

    The classic Poole et al. / Schoenholz et al. setting: weights N(0, sigma_w^2 / fan_in) and
    a *random* bias N(0, sigma_b^2), so q_{l+1} = sigma_w^2 E[phi(z)^2] + sigma_b^2 with
    z ~ N(0, q_l), started at q = 1. chi = 1 is the edge of chaos. E[phi^2] and E[phi'^2]
    depend on q alone, so they are tabulated once (32 points per octave, 1e-12 <= q <= 1e12)
    and every cell's fixed point is bracketed and interpolated from the table (~1e-5).
    """
    sw2 = np.asarray(sigma_w, float).ravel() ** 2
    sb2 = np.asarray(sigma_b, float).ravel() ** 2
    shape = (len(sb2), len(sw2))
    a = np.broadcast_to(sw2[None, :], shape).ravel()
    c = np.broadcast_to(sb2[:, None], shape).ravel()
    per_octave, octaves = 32, 40
    log_q = np.arange(-octaves * per_octave, octaves * per_octave + 1) * (math.log(2) / per_octave)
    q_tab = np.exp(log_q)
    v_tab, w_tab = _moments(activation, slope, 0.0, q_tab)
    coarse = slice(None, None, 8)
    q_c, v_c = q_tab[coarse], v_tab[coarse]
    f_c = a[:, None] * v_c + c[:, None] - q_c
    start = octaves * per_octave // 8  # q = 1
    f0 = f_c[:, start]
    up, down = f0 > _TOL, f0 < -_TOL
    idx = np.arange(len(q_c))
    neg = (f_c < -_TOL * q_c) & (idx > start)
    pos = (f_c > _TOL * q_c) & (idx < start)
    hit_up = np.where(neg.any(axis=1), neg.argmax(axis=1), -1)  # first clearly negative
    hit_down = np.where(pos.any(axis=1), len(q_c) - 1 - pos[:, ::-1].argmax(axis=1), -1)
    log_star = np.zeros(a.size)  # q* = 1 where q = 1 is already fixed
    result = np.empty(a.size)
    for going_up, mask, hit in ((True, up, hit_up), (False, down, hit_down)):
        ok = mask & (hit >= 0)
        lo = 8 * (hit[ok] - going_up)  # fine-table index of the bracket's lower end
        j = lo[:, None] + np.arange(9)
        f = a[ok, None] * v_tab[j] + c[ok, None] - q_tab[j]
        if going_up:  # root before the first clearly negative fine point
            k = np.argmax(f < -_TOL * q_tab[j], axis=1)
        else:  # root after the last clearly positive fine point
            k = 8 - np.argmax((f > _TOL * q_tab[j])[:, ::-1], axis=1) + 1
        rows = np.arange(len(k))
        f1, f2 = f[rows, k - 1], f[rows, k]
        t = np.clip(f1 / np.where(f1 != f2, f1 - f2, 1.0), 0.0, 1.0)
        log_star[ok] = log_q[j[rows, k - 1]] + t * (log_q[1] - log_q[0])
    inside = ~((up & (hit_up < 0)) | (down & (hit_down < 0)))
    result[inside] = a[inside] * np.interp(log_star[inside], log_q, w_tab)
    result[down & (hit_down < 0)] = a[down & (hit_down < 0)] * w_tab[0]  # q* -> 0
    limit = _limit_slope2(activation, slope)
    for i in np.flatnonzero(up & (hit_up < 0)):  # q* beyond 1e12: rare, solve directly
        grows = a[i] * limit >= 1.0 - _TOL
        result[i] = a[i] * limit if grows else chi(activation, a[i], None, c[i], slope)
    return result.reshape(shape)
