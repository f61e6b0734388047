"""The main window's File and Data commands: configs, run data, images, animations, own data.

A mixin of ``MainWindow``. Every command reports failure in a message box that does not
block (training goes on, nothing recorded is lost) and writes atomically, so an existing file
is never left half-written. The file dialogs only pick paths; the ``save_*`` / ``open_*`` /
``export_*`` methods do the work, so tests and the menus share one code path.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMenu, QProgressDialog

from gradsim.app.inputs.export_dialogs import ImageDialog, RecordDialog
from gradsim.engine.config import Config, ConfigError

CONFIG_FILTER = "gradsim configs (*.toml);;All files (*)"
DATA_FILTER = "CSV, one row per step and layer (*.csv);;NumPy (*.npz);;JSON (*.json)"
CSV_FILTER = "CSV with a header row (*.csv);;All files (*)"
IMAGE_FILTER = "PNG image (*.png);;SVG vector image (*.svg)"
GIF_FILTER = "Animated GIF (*.gif)"
MAX_RECENT = 8


class FileCommands:
    """Save/open configs, recent files, export data, images and animations, load a CSV
    (MainWindow mixin)."""

    progress_dialog: QProgressDialog | None = None

    # -- configs -------------------------------------------------------------------------------
    def save_config(self, path: str | Path) -> bool:
        """Write the current config as TOML; opening it reproduces the run bit for bit."""
        try:
            self._config.save(path)
        except OSError as exc:
            self.show_error("The config was not saved", f"{path}: {exc.strerror or exc}")
            return False
        self._remember_file(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def open_config(self, path: str | Path) -> bool:
        """Show the config in ``path`` at step 0 (same seed: the same numbers as before)."""
        try:
            config = self._resolve_data(Config.load(path))
        except (ConfigError, OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.show_error("This config cannot be opened", f"{path}: {reason}")
            return False
        if self.compare.active:
            self.stop_comparison()
        self.load_config(config)
        self._remember_file(path)
        return True

    def _remember_file(self, path: str | Path) -> None:
        if self._settings is not None:
            self._settings.add_recent_file(str(Path(path).resolve()), MAX_RECENT)

    def recent_files(self) -> list[str]:
        return self._settings.recent_files() if self._settings is not None else []

    # -- run data ------------------------------------------------------------------------------
    def export_data(self, path: str | Path) -> bool:
        """Write the run shown as .csv/.npz/.json: the code path of ``gradsim run``."""
        from gradsim.engine.export import ExportError, check_output_path, write_run

        if self.compare.active:
            self.show_error(
                "Export data saves one run",
                "Leave the comparison (Compare → Back to a single run) to export a run.",
            )
            return False
        snapshot = self._snapshot
        config = snapshot.config if snapshot is not None else self._config
        try:
            check_output_path(path)  # as `gradsim run` does: a clear reason before writing
            write_run(path, config, self._history)
        except ExportError as exc:
            self.show_error("The data was not exported", str(exc))
            return False
        self.statusBar().showMessage(f"Exported {len(self._history)} steps to {path}", 5000)
        return True

    # -- images and animations ---------------------------------------------------------------
    def export_image_to(
        self, target: str, path: str | Path, size: tuple[int, int] | None = None
    ) -> bool:
        """PNG (at ``size``, drawn sharp) or SVG of a view: the code of ``gradsim screenshot``."""
        from gradsim.app.export.image_export import export_image

        try:
            export_image(self, target, path, size)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.show_error("The image was not exported", f"{path}: {reason}")
            return False
        self.statusBar().showMessage(f"Exported {path}", 5000)
        return True

    def copy_image(self) -> None:
        """The whole window as an image on the clipboard (Ctrl+Shift+C), for slides."""
        from gradsim.app.export.image_export import copy_image

        copy_image(self, "window")
        self.statusBar().showMessage("Copied the window to the clipboard", 5000)

    def record_animation_to(
        self, path: str | Path, frames: int = 60, fps: int = 12, size=(960, 540)
    ) -> bool:
        """A GIF of the heatmap filling in over the run so far, with progress and Cancel."""
        from gradsim.app.export.animation import record_gif

        if self.compare.active or not len(self._history):
            self.show_error(
                "Nothing to record",
                "Record animation shows a single run's heatmap: train a few steps first"
                + (" (and leave the comparison)." if self.compare.active else "."),
            )
            return False
        dialog = QProgressDialog("Recording the animation…", "Cancel", 0, frames, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)  # quick ones finish before it would show
        self.progress_dialog = dialog

        def progress(done: int, total: int) -> bool:
            dialog.setMaximum(total)
            dialog.setValue(done)
            QApplication.processEvents()  # drawing and the Cancel button keep working
            return not dialog.wasCanceled()

        try:
            finished = record_gif(
                self._history, self._metric, path, frames=frames, fps=fps, size=size,
                theme=self.theme, progress=progress,
            )  # fmt: skip
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.show_error("The animation was not recorded", f"{path}: {reason}")
            return False
        finally:
            dialog.close()
        if finished:
            self.statusBar().showMessage(f"Recorded {path}", 5000)
        return finished

    def _choose_export_image(self) -> None:
        dialog = ImageDialog(self.compare.active, self)
        if dialog.exec() != ImageDialog.DialogCode.Accepted:
            return
        target, size = dialog.choice()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export image", f"gradsim-{target}.png", IMAGE_FILTER
        )
        if path:
            self.export_image_to(target, path if Path(path).suffix else path + ".png", size)

    def _choose_record(self) -> None:
        dialog = RecordDialog(self)
        if dialog.exec() != RecordDialog.DialogCode.Accepted:
            return
        frames, fps, size = dialog.choice()
        path, _ = QFileDialog.getSaveFileName(self, "Record animation", "gradsim.gif", GIF_FILTER)
        if path:
            path = path if Path(path).suffix else path + ".gif"
            self.record_animation_to(path, frames, fps, size)

    # -- own data ------------------------------------------------------------------------------
    def load_csv(self, path: str | Path) -> bool:
        """Train on a CSV file: its columns set the inputs, outputs and loss."""
        try:
            config = self._resolve_data(
                self._config.replace(dataset="csv", data_path=str(Path(path).resolve()))
            )
        except (ConfigError, OSError, ValueError) as exc:
            self.show_error("This CSV file cannot be used", str(exc))
            return False
        if self.compare.active:
            self.stop_comparison()
        self.load_config(config)
        return True

    @staticmethod
    def _resolve_data(config: Config) -> Config:
        from gradsim.engine.csv_data import resolve_data

        return resolve_data(config)

    # -- dialogs -------------------------------------------------------------------------------
    def _choose_save_config(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save config", "gradsim.toml", CONFIG_FILTER)
        if path:
            self.save_config(path if Path(path).suffix else path + ".toml")

    def _choose_open_config(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open config", "", CONFIG_FILTER)
        if path:
            self.open_config(path)

    def _choose_export_data(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(self, "Export data", "run.csv", DATA_FILTER)
        if path:
            if not Path(path).suffix:  # the filter's extension
                path += chosen[chosen.index("*") + 1 : chosen.index(")")]
            self.export_data(path)

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load CSV data", "", CSV_FILTER)
        if path:
            self.load_csv(path)

    def _fill_recent(self, menu: QMenu) -> None:
        menu.clear()
        files = self.recent_files()
        for path in files:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_config(p))
        if not files:
            menu.addAction("(none yet)").setEnabled(False)


def build_file_menus(window: QMainWindow) -> dict[str, QAction]:
    """File and Data menus (first in the menu bar); returns their actions by name."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.setToolTipsVisible(True)
    actions: dict[str, QAction] = {}

    def add(menu: QMenu, name: str, text: str, slot, key: str = "", tip: str = "") -> None:
        action = menu.addAction(text)
        if key:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)  # keys work with the menu bar hidden
        action.setToolTip(tip)
        action.triggered.connect(lambda _=False: slot())
        actions[name] = action

    add(file_menu, "open", "Open config…", window._choose_open_config, "Ctrl+O",
        "Open a saved configuration (TOML): the same seed gives the same numbers")  # fmt: skip
    recent = file_menu.addMenu("Open recent")
    recent.aboutToShow.connect(lambda: window._fill_recent(recent))
    add(file_menu, "save", "Save config…", window._choose_save_config, "Ctrl+S",
        "Save this configuration as TOML")  # fmt: skip
    file_menu.addSeparator()
    add(file_menu, "export_data", "Export data…", window._choose_export_data, "Ctrl+E",
        "Every recorded step and layer as CSV, NPZ or JSON (like `gradsim run`)")  # fmt: skip
    add(file_menu, "export_image", "Export image…", window._choose_export_image, "Ctrl+Shift+E",
        "PNG up to 4K, drawn sharp, or SVG for slides: the window or one view")  # fmt: skip
    add(file_menu, "copy_image", "Copy image", window.copy_image, "Ctrl+Shift+C",
        "The window as an image on the clipboard")  # fmt: skip
    add(file_menu, "record", "Record animation…", window._choose_record, "",
        "An animated GIF of the heatmap filling in over the run so far")  # fmt: skip
    file_menu.addSeparator()
    add(file_menu, "quit", "Quit", window.close, "Ctrl+Q")
    data_menu = bar.addMenu("&Data")
    add(data_menu, "load_csv", "Load CSV…", window._choose_csv, "",
        "Train on your own data: a CSV with a header; the last column (or target_column) is "
        "the target")  # fmt: skip
    actions["file_menu"] = file_menu.menuAction()
    return actions
