"""TOML reading (stdlib ``tomllib``, or ``tomli`` on Python 3.10) and a small writer.

The writer only needs flat tables of scalars (configs), so it is kept here rather than
adding a dependency.
"""

from __future__ import annotations

import json
import math
import os
import stat
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

MAX_TOML_BYTES = 1_000_000  # configs, presets and lessons are a few KB; more is a mistake


class TOMLDecodeError(ValueError):
    """The text is not TOML gradsim can read: the parser's own error (its one-line message),
    nesting too deep for the parser, or any other parser failure. Every caller catches this
    one class, so no input reaches the user as a traceback."""


class TOMLNestingError(TOMLDecodeError):
    """Arrays or tables nested deeper than the parser can follow."""


def loads(text: str) -> dict[str, Any]:
    """Parse a TOML document; anything the parser cannot take raises ``TOMLDecodeError``."""
    try:
        document: dict[str, Any] = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise TOMLDecodeError(str(exc).splitlines()[0] if str(exc) else "invalid TOML") from None
    except RecursionError:
        raise TOMLNestingError("arrays or tables nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - a parser bug must not become a traceback
        raise TOMLDecodeError(f"cannot be parsed ({type(exc).__name__})") from None
    return document


def read_user_text(path: str | Path, limit: int = MAX_TOML_BYTES) -> str:
    """The UTF-8 text of a user's file, refusing what would block or never end: a FIFO, a
    device or a folder (not a regular file), or a file above ``limit`` bytes. Refusals are
    ``OSError`` with a one-line message, so callers' usual ``OSError`` path reports them."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise OSError("it is not a regular file")
    if info.st_size > limit:
        raise OSError(f"it is too large ({info.st_size} bytes; at most {limit} are read)")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"it is too large (more than {limit} bytes)")
    return data.decode("utf-8")


def load_file(path: Path, error: Callable[[Path, str], Exception]) -> dict[str, Any]:
    """Parse the TOML file ``path``; an unreadable or invalid file raises ``error(path, why)``
    (each kind of file, presets or lessons, names its own error)."""
    try:
        text = read_user_text(path)
    except UnicodeDecodeError as exc:
        raise error(path, f"cannot read: it is not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
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
