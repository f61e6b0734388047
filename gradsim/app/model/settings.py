"""What the app remembers between sessions: window geometry, last configuration, view choices.

Stored with QSettings (the platform's usual place). ``GRADSIM_SETTINGS_DIR`` redirects it to an
INI file in that folder, which the tests use so they never touch a user's settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from gradsim.engine.config import Config, ConfigError

SETTINGS_VERSION = 1


class AppSettings:
    """Typed access to the few values gradsim keeps."""

    def __init__(self) -> None:
        folder = os.environ.get("GRADSIM_SETTINGS_DIR")
        if folder:
            self._qs = QSettings(str(Path(folder) / "gradsim.ini"), QSettings.Format.IniFormat)
        else:
            self._qs = QSettings("gradsim", "gradsim")
        if self._qs.value("version", SETTINGS_VERSION, int) != SETTINGS_VERSION:
            self._qs.clear()  # an older layout: start afresh rather than misread it
        self._qs.setValue("version", SETTINGS_VERSION)

    def last_config(self) -> Config | None:
        """The configuration of the last session, or None (missing or no longer valid)."""
        text = self._qs.value("config/toml", "", str)
        if not text:
            return None
        try:
            return Config.from_toml(text)
        except (ConfigError, ValueError):
            return None

    def save_config(self, config: Config) -> None:
        self._qs.setValue("config/toml", config.to_toml())

    def value(self, key: str, default: str) -> str:
        return str(self._qs.value(key, default, str))

    def set_value(self, key: str, value: str) -> None:
        self._qs.setValue(key, value)

    def recent_files(self) -> list[str]:
        """Config files opened or saved lately, newest first."""
        value = self._qs.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a lone entry as a plain string
            value = [value]
        return [str(item) for item in value or []]

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
