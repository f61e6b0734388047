"""What the settings panel decides and says by itself: its rules and its words.

The rules (natural gains, dataset defaults, the weight scale) are pure functions over the
engine's definitions (``Config``'s defaults, ``weight_std``) rather than numbers copied into
the widgets, so a change in the engine reaches the panel and each rule is testable without
a panel. The words (labels, tooltips, the notes saying what the panel changed, the reasons a
typed value was not applied) live here too, so ``controls`` is only the widgets' plumbing.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from gradsim.app.inputs.spinboxes import format_number
from gradsim.engine.config import CLASSIFICATION_DATASETS, FIELDS, INITS, Config
from gradsim.engine.init import weight_std

LABELS: dict[str, str] = {
    "depth": "Depth (layers)", "width": "Width (units)", "input_dim": "Inputs",
    "output_dim": "Outputs (classes)", "activation": "Activation", "leaky_slope": "Leaky slope",
    "init": "Scheme", "init_gain": "Init gain", "bias": "Biases", "bias_init": "Bias init",
    "batchnorm": "BatchNorm", "residual": "Residual", "optimizer": "Optimizer",
    "learning_rate": "Learning rate", "momentum": "Momentum", "grad_clip": "Gradient clip",
    "batch_size": "Batch size", "dataset": "Dataset", "data_path": "Data file",
    "target_column": "Target column", "task": "Task", "loss": "Loss", "dtype": "Precision",
    "seed": "Seed",
}  # fmt: skip

# How combo entries read; the item data stays the config value.
CHOICE_TEXT: dict[str, str] = {
    "relu": "ReLU", "leaky_relu": "leaky ReLU", "elu": "ELU", "selu": "SELU", "gelu": "GELU",
    "xavier_normal": "Xavier normal", "xavier_uniform": "Xavier uniform",
    "he_normal": "He normal", "he_uniform": "He uniform", "lecun_normal": "LeCun normal",
    "sgd": "SGD", "adam": "Adam", "mse": "MSE", "cross_entropy": "cross-entropy",
    "csv": "CSV file",
}  # fmt: skip

# init_gain multiplies each scheme's own standard deviation (gradsim.engine.init), so 1.0 is
# the scheme as defined for every one of them: Xavier, He and LeCun are already scaled by the
# fan, identity at 1 is W = I (exactly neutral for a linear net), orthogonal at 1 preserves
# norms, and normal / uniform at 1 are N(0, 1) / U(-1, 1), the textbook "naive" start the
# lesson presets use. A scheme with another natural gain would get its own entry here.
NATURAL_GAIN: dict[str, float] = dict.fromkeys(INITS, 1.0)

# spirals, circles and blobs are 2-D points (gradsim.engine.data), projected to input_dim
# features: 2 inputs show the points as they are.
POINT_DIM = 2
_DEFAULT = Config()
_NORMAL_SCHEMES = ("normal", "xavier_normal", "he_normal", "lecun_normal")


def label(name: str) -> str:
    """A field's label (its key for a field the panel has no words for yet)."""
    return LABELS.get(name, name)


def shown(value: Any) -> str:
    """A value as the controls show it: a combo's text, compact numbers."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return CHOICE_TEXT.get(value, value)
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def field_tooltip(name: str, note: str = "", rejection: str = "", kept: str = "") -> str:
    """A field's help and allowed values as rich text; a rejected typed value comes first."""
    spec = FIELDS[name]
    parts = []
    if rejection:
        parts.append(
            f"<p><b>Not applied:</b> {escape(rejection, quote=False)}. "
            f"The run keeps {escape(kept, quote=False)}.</p>"
        )
    parts.append(f"<p>{escape(spec.help, quote=False)}</p>")
    parts.append(f"<p>Allowed: {escape(spec.allowed(), quote=False)}.</p>")
    if note:
        parts.append(f"<p>{escape(note, quote=False)}</p>")
    return "".join(parts)


def rejection_line(name: str, reason: str, kept: str) -> str:
    """One line of the red label for a typed value that was not applied."""
    return f"{label(name)}: {reason}; not applied (the run keeps {kept})."


def change_note(cause: str, changed: dict[str, tuple[Any, Any]], kept: dict[str, Any]) -> str:
    """'For spirals: Loss set to cross-entropy (was MSE). Kept Inputs = 3, which you set.'"""
    parts = [
        f"{label(n)} set to {shown(new)} (was {shown(old)})" for n, (old, new) in changed.items()
    ]
    sentence = f"{cause}: {', '.join(parts)}." if parts else ""
    if kept:
        which = ", ".join(f"{label(n)} = {shown(v)}" for n, v in kept.items())
        sentence += f" Kept {which}, which you set."
    return sentence.strip()


def natural_gain(init: str) -> float:
    """The gain that gives ``init`` as its scheme defines it."""
    return NATURAL_GAIN.get(init, 1.0)


def dataset_defaults(dataset: str) -> dict[str, Any]:
    """Loss, inputs and outputs that suit a dataset ({} when something else decides them).

    The classification sets make ``output_dim`` classes; a default config makes
    ``Config().output_dim`` of them, so that is their natural class count. The teacher gets
    the default config's regression settings back. A CSV file sets all three itself
    (``resolve_data``), so nothing is suggested for it.
    """
    if dataset in CLASSIFICATION_DATASETS:
        return {"loss": "cross_entropy", "input_dim": POINT_DIM, "output_dim": _DEFAULT.output_dim}
    if dataset == "teacher":
        return {
            "loss": _DEFAULT.loss,
            "input_dim": _DEFAULT.input_dim,
            "output_dim": _DEFAULT.output_dim,
        }
    return {}


def _short(value: float) -> str:
    """Three significant digits: enough to compare scales, short enough for a narrow dock."""
    return f"{value:.3g}"


def weight_scale(config: Config) -> tuple[str, str]:
    """The weights a config starts from: a short label and a tooltip saying which layers.

    The hidden layers (width × width) show the scheme's effect best; with one layer, that
    layer. The entry standard deviation is the engine's own ``weight_std``.
    """
    hidden = config.depth > 1
    fan_in, fan_out = (
        (config.width, config.width) if hidden else (config.input_dim, config.output_dim)
    )
    layers = "the hidden layers" if hidden else "the only layer"
    gain = _short(config.init_gain)
    if config.init == "identity":
        text = f"W = {gain}·I"
        tip = f"Every weight matrix starts as {gain} × the identity (ones on the diagonal)."
        return text, tip
    std = weight_std(config.init, config.init_gain, fan_in, fan_out)
    if config.init == "orthogonal":
        text = f"W = {gain}·Q, Q orthogonal (entry std {_short(std)})"
    elif config.init in _NORMAL_SCHEMES:
        text = f"weights ~ N(0, {_short(std)}²)"
    else:  # the uniform schemes: std = bound / √3
        bound = _short(std * math.sqrt(3.0))
        text = f"weights ~ U(−{bound}, {bound})"
    tip = (
        f"Weights of {layers} ({fan_out}×{fan_in}) at the start: entry standard deviation "
        f"{_short(std)}, init gain {gain} × the scheme's own scale. The first and last layers "
        "use their own fan-in and fan-out."
    )
    return text, tip
