"""What the app remembers between sessions: window geometry, last configuration, view choices.

Stored with QSettings (the platform's usual place). ``GRADSIM_SETTINGS_DIR`` redirects it to an
INI file in that folder, which the tests use so they never touch a user's settings.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from gradsim.engine import tomlio
from gradsim.engine.config import Config, ConfigError

SETTINGS_VERSION = 1


@dataclass(frozen=True)
class Origin:
    """Where the shown run came from, so that the next start can say so (and go back)."""

    preset_id: str | None = None
    lesson: str | None = None  # a bundled lesson's id, or a lesson file's path
    scene: int = 0  # 0-based, in ``lesson``


class AppSettings:
    """Typed access to the few values gradsim keeps."""

    def __init__(self) -> None:
        folder = os.environ.get("GRADSIM_SETTINGS_DIR")
        self._qs = self._open(folder)
        if self._qs.status() != QSettings.Status.NoError:
            # A settings file Qt cannot parse must not stop gradsim from starting: set it
            # aside (nothing is lost) and start afresh.
            set_aside(Path(self._qs.fileName()), "the settings file")
            self._qs = self._open(folder)
        if self._qs.value("version", SETTINGS_VERSION, int) != SETTINGS_VERSION:
            self._qs.clear()  # an older layout: start afresh rather than misread it
        self._qs.setValue("version", SETTINGS_VERSION)

    @staticmethod
    def _open(folder: str | None) -> QSettings:
        if folder:
            qs = QSettings(str(Path(folder) / "gradsim.ini"), QSettings.Format.IniFormat)
        else:
            qs = QSettings("gradsim", "gradsim")
        qs.value("version")  # reads the file, so that status() tells whether it could
        return qs

    def last_config(self) -> Config | None:
        """The configuration of the last session, or None (missing or no longer valid).

        A stored config that cannot be read at all (not TOML gradsim can parse) is written
        to a file beside the settings (``gradsim-config.unreadable-<time>.toml``) with a
        warning on stderr, and forgotten, so that the app starts on its default preset."""
        text = self._qs.value("config/toml", "", str)
        if not isinstance(text, str) or not text:
            return None
        try:
            return Config.from_toml(text)
        except tomlio.TOMLDecodeError as exc:
            self._set_config_aside(text, str(exc))
            return None
        except (ConfigError, ValueError, RecursionError):
            return None  # valid TOML an older or newer gradsim wrote: quietly not restored

    def _set_config_aside(self, text: str, why: str) -> None:
        folder = Path(self._qs.fileName()).parent
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = folder / f"gradsim-config.unreadable-{stamp}.toml"
        try:
            target.write_text(text, encoding="utf-8")
        except OSError:
            self._qs.setValue("config/unreadable", text)  # keep it somewhere
            where = "kept in the settings as config/unreadable"
        else:
            where = f"saved as {target}"
        self._qs.remove("config/toml")
        warn(f"the last session's config cannot be read ({why}); {where}; starting afresh")

    def last_origin(self) -> Origin:
        """Where the last session's run came from (a preset, a lesson scene, or neither)."""
        preset = str(self._qs.value("source/preset", "", str) or "")
        lesson = str(self._qs.value("source/lesson", "", str) or "")
        scene = self._qs.value("source/scene", 0, int)
        return Origin(preset or None, lesson or None, scene if isinstance(scene, int) else 0)

    def last_view(self) -> dict[str, object]:
        """The view choices of the last session (metric, speed, theme...), as stored."""
        text = self._qs.value("view/state", "", str)
        try:
            saved = json.loads(text) if isinstance(text, str) and text else {}
        except ValueError:
            saved = {}
        return saved if isinstance(saved, dict) else {}

    def save_session(self, config: Config, origin: Origin, view: Mapping[str, object]) -> None:
        """What the next start shows: the run's config, where it came from, the view."""
        self._qs.setValue("config/toml", config.to_toml())
        self._qs.setValue("source/preset", origin.preset_id or "")
        self._qs.setValue("source/lesson", origin.lesson or "")
        self._qs.setValue("source/scene", int(origin.scene))
        self._qs.setValue("view/state", json.dumps(dict(view)))

    def recent_files(self) -> list[str]:
        """Config files opened or saved lately, newest first."""
        value = self._qs.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a lone entry as a plain string
            return [value]
        return [str(item) for item in value] if isinstance(value, list) else []

    def add_recent_file(self, path: str, keep: int) -> None:
        files = [path, *(item for item in self.recent_files() if item != path)]
        self._qs.setValue("files/recent", files[:keep])

    def geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self._qs.value("window/geometry")
        state = self._qs.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)

    def sync(self) -> None:
        self._qs.sync()


def warn(message: str) -> None:
    """One line on stderr (a windowed app may have none: then nothing)."""
    stream = sys.stderr
    if stream is not None:
        try:
            stream.write(f"gradsim: warning: {message}\n")
            stream.flush()
        except (OSError, ValueError):
            pass


def set_aside(path: Path, what: str) -> Path | None:
    """Rename an unreadable file to ``<name>.unreadable-<time>`` (with a warning); the new
    path, or None when it could not be moved (then it stays, and is ignored)."""
    if not path.is_file():
        return None
    target = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        os.replace(path, target)
    except OSError as exc:
        warn(f"{what} {path} cannot be read, nor set aside ({exc.strerror or exc})")
        return None
    warn(f"{what} {path} cannot be read; it was set aside as {target.name}")
    return target
