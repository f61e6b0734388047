"""Colours of the heatmap: viridis LUT, special colours, log colouring and steady levels.

Pure numpy, no Qt: the colouring rules are the numbers the class sees, so they are tested
headless. The widgets (heatmap.py, plots.py) turn these arrays into Qt objects.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

# --- viridis ---------------------------------------------------------------------------------
# The 256 RGB entries of matplotlib's viridis (CC0; the same table pyqtgraph ships), as hex.
# Embedded so the colouring is testable without Qt. Viridis is perceptually uniform (equal steps
# in decades look equally different) and readable by colour-blind viewers and in greyscale.
_VIRIDIS_HEX = (
    "44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769"
    "48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a"
    "472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85"
    "4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b"
    "3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d"
    "33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e"
    "2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e"
    "26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d"
    "21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88"
    "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81"
    "28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74"
    "3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863"
    "5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d"
    "84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32"
    "addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a"
    "d8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725"
)


def _build_viridis() -> NDArray[np.uint8]:
    rgb = np.frombuffer(bytes.fromhex(_VIRIDIS_HEX), dtype=np.uint8).reshape(256, 3)
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, :3] = rgb
    lut[:, 3] = 255
    lut.setflags(write=False)
    return lut


VIRIDIS_LUT: NDArray[np.uint8] = _build_viridis()  # (256, 4) RGBA uint8, built once, read-only

# --- special colours -------------------------------------------------------------------------
# Underflow (exact 0) is white: brighter than any viridis entry (its lightest is yellow), it
# reads as "nothing left" and survives greyscale and every colour-vision deficiency. Overflow
# (inf/nan) is magenta: viridis has no saturated pink/red hue, so "the scale broke here" cannot
# be mistaken for a large finite value (bright yellow) or a small one (dark purple). Both stand
# out on the dark background; neither is transparent, so a blown-up column is never invisible.
ZERO_RGBA: tuple[int, int, int, int] = (255, 255, 255, 255)
NONFINITE_RGBA: tuple[int, int, int, int] = (255, 0, 255, 255)


def to_hex(rgba: tuple[int, ...]) -> str:
    """Hex colour (#rrggbb) for Qt rich text in legends and titles."""
    return "#{:02x}{:02x}{:02x}".format(*rgba[:3])


def special_key(underflow: tuple[int, ...] | None, n_a: bool = False) -> str:
    """HTML key of the special colours: exact zeros in the theme's ``underflow`` colour (None:
    zero is an ordinary value, as for fractions), inf/nan, and blank "n/a" cells if any."""
    gap = "&nbsp;&nbsp;&nbsp;"
    swatch = "<span style='color:{}'>■</span> "
    zero = swatch.format(to_hex(underflow)) + f"0 (underflow){gap}" if underflow else ""
    over = swatch.format(to_hex(NONFINITE_RGBA)) + "inf / nan (overflow)"
    return zero + over + (f"{gap}blank: n/a (no activation function)" if n_a else "")


# Fallback levels (decades) before any finite value has been seen.
DEFAULT_LEVELS: tuple[float, float] = (-3.0, 3.0)


def log_values(values: ArrayLike) -> NDArray[np.float64]:
    """log10 of the raw metric without warnings: 0 -> -inf, inf -> inf, nan/negative -> nan."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs: NDArray[np.float64] = np.log10(np.asarray(values, dtype=np.float64))
    return logs


def colorize_log(
    logv: ArrayLike, lo: float, hi: float, lut: NDArray[np.uint8]
) -> NDArray[np.uint8]:
    """RGBA uint8 (..., 4) for log10 values: [lo, hi] spread over the LUT, clipped outside.

    -inf (an exact zero) gets ZERO_RGBA; +inf and nan get NONFINITE_RGBA.
    """
    packed = colorize_log_packed(logv, lo, hi, lut)
    return packed.view(np.uint8).reshape((*packed.shape, 4))


def colorize_log_packed(
    logv: ArrayLike,
    lo: float,
    hi: float,
    lut: NDArray[np.uint8],
    underflow: tuple[int, int, int, int] = ZERO_RGBA,
) -> NDArray[np.uint32]:
    """Like colorize_log, but each RGBA pixel packed in one uint32 (same memory layout), and
    exact zeros (-inf) in the ``underflow`` colour (the theme's).

    Packed pixels transpose at a quarter of the cost of (..., 4) bytes. The LUT is extended
    by the two special colours and read as uint32, so the whole image is one gather.
    """
    n = len(lut)
    table = np.empty((n + 2, 4), dtype=np.uint8)
    table[:n] = lut
    table[n] = underflow
    table[n + 1] = NONFINITE_RGBA
    table32 = table.view(np.uint32).reshape(n + 2)
    if not hi > lo:  # degenerate levels: keep the mapping defined
        hi = lo + 1e-12
    logs = np.ascontiguousarray(logv, dtype=np.float64)
    # One float32 buffer worked in place: allocation and memory traffic cost more than the
    # arithmetic, and float32 resolves bins of 1/256 of the range with room to spare.
    scaled = np.subtract(logs, lo, dtype=np.float32)
    np.multiply(scaled, n / (hi - lo), out=scaled)  # bin i covers [lo + i*w, lo + (i+1)*w)
    np.clip(scaled, 0, n - 1, out=scaled)
    special = ~np.isfinite(logs)
    if special.any():
        np.copyto(scaled, n + 1, where=special)  # +inf and nan (and -inf, overwritten next)
        np.copyto(scaled, n, where=logs == -np.inf)
    pixels: NDArray[np.uint32] = np.take(table32, scaled.astype(np.intp))
    return pixels


def colorize(values: ArrayLike, lo: float, hi: float, lut: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Colour raw non-negative values by log10(value) in [lo, hi] decades; see colorize_log."""
    return colorize_log(log_values(values), lo, hi, lut)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(exponent: float) -> str:
    """Tick text like "10⁻³⁰" for -30: the style of pyqtgraph's own log axes."""
    if float(exponent).is_integer():
        return "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    return f"{10.0**exponent:.2g}"


def decade_ticks(lo: float, hi: float, max_ticks: int = 8) -> list[float]:
    """Whole decades in [lo, hi], thinned to a 1-2-5 step so at most ``max_ticks`` remain."""
    span = max(hi - lo, 1e-9)
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        step = candidate
        if span / candidate < max_ticks:
            break
    first = math.ceil(lo / step) * step
    return [float(v) for v in range(int(first), math.floor(hi) + 1, step)]


def format_value(value: float, fraction: bool = False) -> str:
    """Readout text: 3 significant digits (a fraction as a percentage), or the name of the
    special case."""
    if fraction and math.isfinite(value):
        return f"{value:.0%}"
    if value == 0.0:
        return "0 (underflow)"
    if math.isnan(value):
        return "nan (overflow)"
    if math.isinf(value):
        return f"{'-' if value < 0 else ''}inf (overflow)"
    return f"{value:.3g}"


class LevelTracker:
    """Automatic colour levels (in decades) that stay put unless the data really moves.

    Levels snap to multiples of ``step`` decades with ``margin`` decades of headroom. They widen
    at once when data leaves the range (an explosion must never be clipped silently), but
    narrow only after the data has spanned less than ``shrink_fraction`` of the range for
    ``patience`` consecutive updates; then they shrink to the snapped union of what was seen
    while waiting. Small oscillations therefore never change the picture.
    """

    def __init__(
        self,
        step: float = 1.0,
        margin: float = 0.5,
        patience: int = 15,
        shrink_fraction: float = 0.5,
        min_span: float = 2.0,
        default: tuple[float, float] = DEFAULT_LEVELS,
    ) -> None:
        self.step = step
        self.margin = margin
        self.patience = patience
        self.shrink_fraction = shrink_fraction
        self.min_span = min_span
        self.default = default
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new run): the next data sets the levels from scratch."""
        self._levels: tuple[float, float] | None = None
        self._calm = 0  # consecutive updates that used less than shrink_fraction of the range
        self._seen: tuple[float, float] | None = None  # data range while waiting to shrink

    @property
    def levels(self) -> tuple[float, float]:
        """Current levels, or the default before any finite data."""
        return self._levels if self._levels is not None else self.default

    def _snap(self, lo: float, hi: float) -> tuple[float, float]:
        lo = math.floor((lo - self.margin) / self.step) * self.step
        hi = math.ceil((hi + self.margin) / self.step) * self.step
        missing = self.min_span - (hi - lo)
        if missing > 0:  # constant data: centre a minimal range on it
            lo -= math.ceil(missing / 2 / self.step) * self.step
            hi = lo + max(hi - lo, math.ceil(self.min_span / self.step) * self.step)
        return float(lo), float(hi)

    def update(self, log_values_finite: ArrayLike) -> tuple[float, float]:
        """Feed this frame's finite log10 values; return the levels (lo, hi) to draw with.

        Non-finite entries are ignored; no finite value (empty, all zero, all overflow) keeps
        the current levels.
        """
        data = np.asarray(log_values_finite, dtype=np.float64)
        finite = np.isfinite(data)
        dmin = float(np.min(data, where=finite, initial=np.inf))  # no copy of the data
        dmax = float(np.max(data, where=finite, initial=-np.inf))
        return self.update_range(dmin, dmax)

    def update_range(self, dmin: float, dmax: float) -> tuple[float, float]:
        """``update`` for a caller that already knows the finite min and max (dmin > dmax:
        nothing finite)."""
        if not dmin <= dmax:
            return self.levels
        if self._levels is None:
            self._levels = self._snap(dmin, dmax)
            return self._levels
        lo, hi = self._levels
        if dmin < lo or dmax > hi:  # widen immediately, only on the side(s) that overflowed
            snap_lo, snap_hi = self._snap(dmin, dmax)
            self._levels = (min(lo, snap_lo), max(hi, snap_hi))
            self._calm, self._seen = 0, None
        elif dmax - dmin < self.shrink_fraction * (hi - lo):
            self._calm += 1
            seen = self._seen or (dmin, dmax)
            self._seen = (min(seen[0], dmin), max(seen[1], dmax))
            if self._calm >= self.patience:
                snap_lo, snap_hi = self._snap(*self._seen)
                self._levels = (max(lo, snap_lo), min(hi, snap_hi))
                self._calm, self._seen = 0, None
        else:
            self._calm, self._seen = 0, None
        return self._levels
