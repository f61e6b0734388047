"""Can this machine open a window? Checked before Qt is imported: without a display, or
without the X11 libraries Qt's plugin loads at run time, Qt aborts with a long message (or
a core dump) instead of one clear line."""

from __future__ import annotations

import os
import sys

# Libraries Qt's X11 plugin loads at run time, and the Debian packages that bring them.
_XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4"}


def has_display() -> bool:
    """False on a Linux box with no X11/Wayland display and no explicit Qt platform."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def missing_x11_libraries() -> list[str]:
    """Debian package names of X11 libraries Qt needs but cannot find (Linux/X11 only)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    on_x11 = platform.startswith("xcb") or (not platform and not os.environ.get("WAYLAND_DISPLAY"))
    if not sys.platform.startswith("linux") or not on_x11:
        return []
    import ctypes.util

    return [pkg for lib, pkg in _XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]


def window_problem() -> str | None:
    """Why no window can open here (one line), or None."""
    if not has_display():
        return (
            "no display found (DISPLAY is not set); run it on a desktop, or use "
            "'gradsim demo' / 'gradsim screenshot' headless"
        )
    missing = missing_x11_libraries()
    if missing:
        return (
            f"Qt needs the system libraries {', '.join(missing)} to open a window on X11; "
            f"install them (Debian/Ubuntu: sudo apt-get install {' '.join(missing)})"
        )
    return None
