"""Simulation configuration: one frozen dataclass, validated on construction.

The field names are a file format (presets, ``--set KEY=VALUE``, saved configs), so they are
kept stable. Every field's type, range and meaning lives in ``FIELDS``, the single place the
command line and the GUI read their limits and tooltips from.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradsim.engine import tomlio

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu")
INITS = (
    "identity",
    "normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "orthogonal",
)
OPTIMIZERS = ("sgd", "momentum", "adam")
# Generated from the seed; "csv" (FILE_DATASETS) reads the user's own file, data_path.
DATASETS = ("teacher", "spirals", "circles", "blobs")
FILE_DATASETS = ("csv",)
CLASSIFICATION_DATASETS = ("spirals", "circles", "blobs")
LOSSES = ("mse", "cross_entropy")
DTYPES = ("float64", "float32")
TASKS = ("auto", "classification", "regression")

# Controls whose change needs no new network: they apply from the next step.
LIVE_FIELDS = ("learning_rate", "momentum", "grad_clip")


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class FieldSpec:
    """What one configuration field accepts, and what it does (shown as a tooltip)."""

    name: str
    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    help: str = ""

    def allowed(self) -> str:
        """Human-readable description of the accepted values."""
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "any text"
        kind = "an integer" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{kind} from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{kind} >= {self.low:g}"
        return kind


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec(
            "depth",
            int,
            1,
            2000,
            help="Number of weight layers L. Every layer multiplies "
            "the back-propagated gradient by one more factor: deep nets compound them.",
        ),
        FieldSpec(
            "width",
            int,
            1,
            4096,
            help="Hidden units per layer. Random-matrix effects "
            "average out in wide layers, so the theory fits them best.",
        ),
        FieldSpec("input_dim", int, 1, 4096, help="Number of input features."),
        FieldSpec(
            "output_dim", int, 1, 4096, help="Number of outputs (classes for classification)."
        ),
        FieldSpec(
            "activation",
            str,
            choices=ACTIVATIONS,
            help="Non-linearity of the hidden "
            "layers. Its derivative is one factor per layer in backprop: sigmoid's is at "
            "most 0.25 and vanishes when saturated; ReLU's is exactly 0 or 1.",
        ),
        FieldSpec("leaky_slope", float, 0.0, 1.0, help="Slope of leaky ReLU for negative inputs."),
        FieldSpec(
            "init",
            str,
            choices=INITS,
            help="How the weights start. Scales near the "
            "'edge of chaos' keep the per-layer gradient factor near 1 (Xavier for "
            "tanh, He for ReLU); identity gives every W = gain x I.",
        ),
        FieldSpec(
            "init_gain",
            float,
            0.0,
            1e6,
            help="Multiplies the scheme's standard "
            "deviation (for identity: W = gain x I). Above the critical value gradients "
            "explode, below it they vanish.",
        ),
        FieldSpec(
            "bias",
            bool,
            help="Whether each layer adds a bias vector, z = W h + b. Off gives pure matrix "
            "products, as in the W = c x I examples (BatchNorm keeps its own shift).",
        ),
        FieldSpec(
            "bias_init",
            float,
            -1e6,
            1e6,
            help="Constant every bias starts at (ignored when bias is off).",
        ),
        FieldSpec(
            "batchnorm",
            bool,
            help="Normalise each hidden pre-activation over the batch "
            "(learnable scale and shift): keeps activations in range whatever the "
            "weights' scale.",
        ),
        FieldSpec(
            "residual",
            bool,
            help="Skip connections h = h_prev + f(z): the identity path "
            "carries the gradient past every layer.",
        ),
        FieldSpec(
            "optimizer",
            str,
            choices=OPTIMIZERS,
            help="Update rule. Adam divides each "
            "step by the gradient's running size, so it moves even when gradients are "
            "tiny.",
        ),
        FieldSpec(
            "learning_rate",
            float,
            0.0,
            1e6,
            help="Step size. With exploding gradients even a small rate overshoots.",
        ),
        FieldSpec(
            "momentum",
            float,
            0.0,
            0.9999,
            help="Momentum coefficient (momentum optimizer) or Adam's beta1.",
        ),
        FieldSpec(
            "grad_clip",
            float,
            0.0,
            1e12,
            help="Rescale the whole gradient when its "
            "global norm exceeds this (0 = off): stops an exploding step from "
            "overshooting.",
        ),
        FieldSpec("batch_size", int, 1, 65536, help="Samples per training step."),
        FieldSpec(
            "dataset",
            str,
            choices=DATASETS + FILE_DATASETS,
            help="teacher: regression onto a fixed "
            "random network; spirals, circles, blobs: classification of 2-D points; csv: "
            "your own table from data_path (inputs, outputs and loss then come from the file).",
        ),
        FieldSpec(
            "data_path",
            str,
            help="The CSV file dataset = csv trains on: a header row of column names, then "
            "one comma-separated row per sample. A relative path is read from the working "
            "directory. Unused by the other datasets.",
        ),
        FieldSpec(
            "target_column",
            str,
            help="Name of the CSV column to predict; empty means the last column. Every "
            "other column is an input feature and must be numeric.",
        ),
        FieldSpec(
            "task",
            str,
            choices=TASKS,
            help="What the CSV target is. auto: classes when the target is text, or whole "
            "numbers with at most 20 distinct values that are at most half the row count; "
            "otherwise regression.",
        ),
        FieldSpec("loss", str, choices=LOSSES, help="Mean squared error or softmax cross-entropy."),
        FieldSpec(
            "dtype",
            str,
            choices=DTYPES,
            help="Floating-point precision. float32 "
            "overflows near 3e38 and underflows near 1e-38 (float64: 1e308 / 1e-308).",
        ),
        FieldSpec(
            "seed",
            int,
            0,
            2**32 - 1,
            help="Random seed: the same seed gives the same run, bit for bit.",
        ),
    )
}


@dataclass(frozen=True)
class Config:
    """Everything that defines a run. Invalid values raise ``ConfigError`` on construction."""

    depth: int = 20
    width: int = 64
    input_dim: int = 16
    output_dim: int = 4
    activation: str = "tanh"
    leaky_slope: float = 0.01
    init: str = "xavier_normal"
    init_gain: float = 1.0
    bias: bool = True
    bias_init: float = 0.0
    batchnorm: bool = False
    residual: bool = False
    optimizer: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.9
    grad_clip: float = 0.0
    batch_size: int = 64
    dataset: str = "teacher"
    data_path: str = ""
    target_column: str = ""
    task: str = "auto"
    loss: str = "mse"
    dtype: str = "float64"
    seed: int = 0

    def __post_init__(self) -> None:
        for spec in FIELDS.values():
            value = _coerce(spec, getattr(self, spec.name))
            object.__setattr__(self, spec.name, value)
        self._check_combination()

    def _check_combination(self) -> None:
        if self.dataset in FILE_DATASETS and not self.data_path.strip():
            raise ConfigError(
                f"dataset = {self.dataset!r} needs data_path, the CSV file to train on "
                "(--set data_path=FILE, or Data > Load CSV... in the app)"
            )
        needs_classes = self.loss == "cross_entropy" or self.dataset in CLASSIFICATION_DATASETS
        if needs_classes and self.output_dim < 2:
            raise ConfigError(
                f"output_dim = {self.output_dim} is not allowed with dataset = {self.dataset!r} "
                f"and loss = {self.loss!r}: classification needs output_dim >= 2 (one output per "
                "class)"
            )

    @property
    def is_classification(self) -> bool:
        """True when targets are class labels (accuracy is recorded)."""
        return self.loss == "cross_entropy" or self.dataset in CLASSIFICATION_DATASETS

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated like a new config)."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise ConfigError(_unknown_key_message(sorted(unknown)[0]))
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain ``{field: value}`` in declaration order."""
        return {name: getattr(self, name) for name in FIELDS}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], base: Config | None = None) -> Config:
        """Build from a mapping; keys not given keep ``base``'s (or the default) values."""
        unknown = [key for key in values if key not in FIELDS]
        if unknown:
            raise ConfigError(_unknown_key_message(unknown[0]))
        start = (base or cls()).to_dict()
        start.update(values)
        return cls(**start)

    def to_toml(self) -> str:
        """The config as a TOML document."""
        return tomlio.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, text: str, base: Config | None = None) -> Config:
        """Parse a TOML document (a flat table, or a ``[config]`` table)."""
        data = tomlio.loads(text)
        if isinstance(data.get("config"), dict):
            # A [config] table holds the settings; anything else at the top level would be
            # dropped silently (a misspelt key meant for the table), so it is refused.
            extra = sorted(key for key in data if key != "config" and key in FIELDS)
            extra += sorted(key for key in data if key != "config" and key not in FIELDS)
            if extra:
                names = ", ".join(quoted(key) for key in extra[:5])
                more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
                raise ConfigError(
                    f"unknown top-level key{'s' if len(extra) > 1 else ''} {names}{more} "
                    "next to the [config] table; put every setting inside [config]"
                )
            data = data["config"]
        return cls.from_dict(data, base)

    @classmethod
    def load(cls, path: str | Path) -> Config:
        """Read a TOML config file. Unreadable or malformed files raise ``ConfigError``."""
        try:
            text = tomlio.read_user_text(path)
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"cannot read config file {path}: it is not UTF-8 text (byte {exc.start})"
            ) from exc
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {_reason(exc)}") from exc
        try:
            return cls.from_toml(text)
        except tomlio.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc

    def save(self, path: str | Path) -> None:
        """Write the config as TOML, atomically."""
        from gradsim.engine.atomic import write_text_atomic

        write_text_atomic(Path(path), self.to_toml())


def parse_assignment(item: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from the command line.

    VALUE is read as a TOML value where it is one (numbers, ``true``/``false``, quoted strings),
    otherwise taken as a bare string, so ``--set activation=relu`` works without quotes.
    """
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set expects KEY=VALUE, got {quoted(item)}")
    if key not in FIELDS:
        raise ConfigError(_unknown_key_message(key))
    raw = raw.strip()
    try:
        value = tomlio.loads(f"v = {raw}")["v"]
    except tomlio.TOMLNestingError:
        raise ConfigError(f"--set {key}: the value is nested too deeply") from None
    except tomlio.TOMLDecodeError:
        value = raw
    return key, value


def apply_assignments(config: Config, items: list[str]) -> Config:
    """Apply ``KEY=VALUE`` strings to a config, validating the result."""
    changes = dict(parse_assignment(item) for item in items)
    return config.from_dict(changes, base=config)


def _coerce(spec: FieldSpec, value: Any) -> Any:
    """Check one value against its spec; return it in its canonical type. What a Python user
    naturally passes is taken: numpy scalars (``np.int64(8)``, ``np.float32``, ``np.bool_``)
    as the Python number they hold, a ``pathlib.Path`` as its text."""
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        # A numpy scalar or 0-d array (numpy itself is not imported here). np.float32(0.1)
        # means 0.1: its shortest text, not the double 0.10000000149011612 it widens to.
        short_float = value.dtype.kind == "f" and value.dtype.itemsize < 8
        value = float(str(value)) if short_float else value.item()
    if isinstance(value, os.PathLike) and spec.kind is str:
        value = os.fspath(value)
    if spec.kind is bool:
        if isinstance(value, bool):
            return value
        raise _bad(spec, value)
    if spec.kind is str:
        if isinstance(value, str) and (spec.choices is None or value in spec.choices):
            return value
        raise _bad(spec, value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(spec, value)
    if spec.kind is int:
        if isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(
                    f"{spec.name} = {quoted(value)} is not allowed: expected {spec.allowed()}"
                )
            value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise _bad(spec, value)
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise _bad(spec, value, "is out of range")
    return value


def _bad(spec: FieldSpec, value: Any, why: str = "is not allowed") -> ConfigError:
    return ConfigError(f"{spec.name} = {quoted(value)} {why}: expected {spec.allowed()}")


def _unknown_key_message(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(FIELDS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown config key {quoted(key)}{hint}; known keys: {', '.join(FIELDS)}"


QUOTE_LIMIT = 60


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters (with an
    ellipsis): a message quotes the user's input, it does not echo a whole file back."""
    try:
        text = repr(value)
    except RecursionError:  # pragma: no cover - parsed values are not this deep
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
