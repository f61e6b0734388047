"""TOML reading (stdlib ``tomllib``, or ``tomli`` on Python 3.10) and a small writer.

The writer only needs flat tables of scalars (configs), so it is kept here rather than
adding a dependency.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib as _toml
else:  # pragma: no cover - exercised on Python 3.10 only
    # mypy checks as Python 3.10 (pyproject), so it reads this branch; tomli is only
    # installed on 3.10, and a newer environment has no tomli for it to find.
    import tomli as _toml  # type: ignore[import-not-found, unused-ignore]

TOMLDecodeError = _toml.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    """Parse a TOML document."""
    document: dict[str, Any] = _toml.loads(text)
    return document


def load_file(path: Path, error: Callable[[Path, str], Exception]) -> dict[str, Any]:
    """Parse the TOML file ``path``; an unreadable or invalid file raises ``error(path, why)``
    (each kind of file, presets or lessons, names its own error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        return loads(text)
    except TOMLDecodeError as exc:
        raise error(path, f"not valid TOML: {exc}") from exc


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # A JSON string literal is a valid TOML basic string.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dumps(data: Mapping[str, Any]) -> str:
    """Write a mapping of scalars, with at most one level of sub-tables."""
    lines = [
        f"{key} = {_value(value)}" for key, value in data.items() if not isinstance(value, Mapping)
    ]
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines.append(f"\n[{key}]")
            lines.extend(f"{k} = {_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"
