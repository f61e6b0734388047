"""Locate bundled data files (presets, icons) however gradsim was installed.

The files live in the repository's top-level ``resources/`` directory, but they end up in a
different place in each way of running the program:

* a frozen PyInstaller app unpacks them to ``sys._MEIPASS/resources``;
* an installed wheel carries them as ``gradsim/_resources`` (hatchling ``force-include``);
* a source checkout or editable install reads ``<repo>/resources`` directly.

Every caller goes through :func:`resource_path` so that only this module knows the layouts.
It deliberately imports nothing beyond the standard library (no Qt), so the headless engine
and the command line can use it too.
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def candidate_roots() -> list[Path]:
    """The places resources may live, in the order they are tried.

    Frozen first, so a bundled app never picks up a stray checkout on the same machine;
    then the wheel layout; then the checkout, which is the fallback for development.
    """
    roots: list[Path] = []
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        roots.append(Path(meipass) / "resources")
    roots.append(_PACKAGE_DIR / "_resources")
    roots.append(_PACKAGE_DIR.parent / "resources")
    return roots


def resources_root() -> Path:
    """The first existing resources directory; ``FileNotFoundError`` naming all tried."""
    roots = candidate_roots()
    for root in roots:
        if root.is_dir():
            return root
    tried = "\n  ".join(str(root) for root in roots)
    raise FileNotFoundError(
        "gradsim cannot find its resources directory (is the installation complete?); "
        f"looked in:\n  {tried}"
    )


def resource_path(*parts: str) -> Path:
    """Path of a bundled file or directory, e.g. ``resource_path("presets", "x.toml")``.

    Raises ``FileNotFoundError`` if it does not exist, so a packaging mistake shows up as a
    message naming the missing file rather than as a confusing error further on.
    ``ValueError`` guards against parts that would escape the resources directory.
    """
    for part in parts:
        if Path(part).is_absolute() or ".." in Path(part).parts:
            raise ValueError(f"resource path parts must be relative and stay inside: {part!r}")
    root = resources_root()
    path = root.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"gradsim resource {'/'.join(parts)!r} not found in {root}")
    return path
