"""The File and Data commands: configs, run data, images, animations, own data.

A plain object given the window (``Host``), the run session, the view state and the settings.
Every command reports failure in a message box that does not block (training goes on,
nothing recorded is lost) and writes atomically, so an existing file is never left
half-written. The file dialogs only pick paths; the ``save_*`` / ``open_*`` /
``export_*`` methods do the work, so tests and the menus share one code path.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QProgressDialog

from gradsim.app.host import Host
from gradsim.app.inputs.export_dialogs import ImageDialog, RecordDialog
from gradsim.app.messages import show_error
from gradsim.app.model.session import RunSession, RunSpec
from gradsim.app.model.settings import AppSettings
from gradsim.app.model.view_state import ViewState
from gradsim.engine.atomic import reason
from gradsim.engine.config import Config, ConfigError

CONFIG_FILTER = "gradsim configs (*.toml);;All files (*)"
DATA_FILTER = "CSV, one row per step and layer (*.csv);;NumPy (*.npz);;JSON (*.json)"
CSV_FILTER = "CSV with a header row (*.csv);;All files (*)"
HISTOGRAM_FILTER = "NumPy (*.npz);;JSON (*.json)"
IMAGE_FILTER = "PNG image (*.png);;SVG vector image (*.svg)"
GIF_FILTER = "Animated GIF (*.gif)"
MAX_RECENT = 8


class FileCommands:
    """Save/open configs, recent files, export data, images and animations, load a CSV."""

    def __init__(
        self,
        host: Host,
        session: RunSession,
        state: ViewState,
        settings: AppSettings | None,
    ) -> None:
        self._host = host
        self._session = session
        self._state = state
        self._settings = settings
        self.progress_dialog: QProgressDialog | None = None  # tests reach it

    def _error(self, title: str, text: str) -> None:
        show_error(self._host.dialog_parent(), title, text)

    def _single_run(self, what: str) -> bool:
        """Whether one run is shown; if not, say that ``what`` works on a single run."""
        if self._session.count == 1:
            return True
        self._error(
            f"{what} works on a single run",
            "Leave the comparison (Compare → Back to a single run) first.",
        )
        return False

    # -- configs -------------------------------------------------------------------------------
    def save_config(self, path: str | Path) -> bool:
        """Write the run's config as TOML; opening it reproduces the run bit for bit."""
        if not self._single_run("Save config"):
            return False
        try:
            self._session.configs[0].save(path)
        except OSError as exc:
            self._error("The config was not saved", f"{path}: {exc.strerror or exc}")
            return False
        self._remember_file(path)
        self._host.show_status(f"Saved {path}")
        return True

    def open_config(self, path: str | Path) -> bool:
        """Show the config in ``path`` at step 0 (same seed: the same numbers as before)."""
        try:
            config = _resolve_data(Config.load(path))
        except (ConfigError, OSError, ValueError) as exc:
            reason = str(exc.strerror if isinstance(exc, OSError) and exc.strerror else exc)
            # Named once: the config's own messages name the file already.
            named = Path(path).name in reason
            self._error("This config cannot be opened", reason if named else f"{path}: {reason}")
            return False
        self._host.show_runs([RunSpec(Path(path).name, config)])
        self._remember_file(path)
        return True

    def _remember_file(self, path: str | Path) -> None:
        if self._settings is not None:
            self._settings.add_recent_file(str(Path(path).resolve()), MAX_RECENT)

    def recent_files(self) -> list[str]:
        return self._settings.recent_files() if self._settings is not None else []

    # -- run data ------------------------------------------------------------------------------
    def export_data(self, path: str | Path) -> bool:
        """Write the run shown as .csv/.npz/.json: the code path of ``gradsim run`` (a .csv's
        config goes to the NAME.meta.json beside it)."""
        from gradsim.engine.export import ExportError, check_output_path, write_run, written_files

        if not self._single_run("Export data"):
            return False
        history = self._session.histories[0]
        try:
            check_output_path(path)  # as `gradsim run` does: a clear reason before writing
            write_run(path, self._session.configs[0], history)
        except ExportError as exc:
            self._error("The data was not exported", str(exc))
            return False
        except OSError as exc:  # not worded by the exporter: still a message, not a traceback
            self._error("The data was not exported", f"{path}: {reason(exc)}")
            return False
        wrote = " and ".join(map(str, written_files(path)))  # a CSV's .meta.json too
        self._host.show_status(f"Exported {len(history)} steps to {wrote}")
        return True

    def export_distributions(self, path: str | Path) -> bool:
        """Write the histograms the window holds (as measured live, a few a second, thinned
        like the statistics) as .npz/.json: the format of ``gradsim run --histograms``."""
        from gradsim.engine.distribution_export import check_histogram_path, write_histograms
        from gradsim.engine.export import ExportError

        if not self._single_run("Export distributions"):
            return False
        history = self._session.distributions[0]
        if not len(history):
            self._error("No distributions yet", "Train a step or more first (Space or →).")
            return False
        try:
            check_histogram_path(path)
            write_histograms(history, path, self._session.configs[0])
        except ExportError as exc:
            self._error("The distributions were not exported", str(exc))
            return False
        except OSError as exc:
            self._error("The distributions were not exported", f"{path}: {reason(exc)}")
            return False
        self._host.show_status(f"Exported the histograms of {len(history)} steps to {path}")
        return True

    # -- images and animations ---------------------------------------------------------------
    def export_image_to(
        self, target: str, path: str | Path, size: tuple[int, int] | None = None
    ) -> bool:
        """PNG (at ``size``, drawn sharp) or SVG of a view: the code of ``gradsim screenshot``."""
        from gradsim.app.export.image_export import export_image

        try:
            widget = self._host.export_widget(target)
            export_image(widget, path, size, **self.describe(target))
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self._error("The image was not exported", f"{path}: {reason}")
            return False
        self._host.show_status(f"Exported {path}")
        return True

    def describe(self, target: str) -> dict[str, str]:
        """An SVG's title and description: what it shows, after which step."""
        from gradsim.app.export.image_export import TARGET_NAMES

        step = self._session.newest_step(0)
        at = f" after step {step}" if step is not None else ""
        about = f"gradsim {TARGET_NAMES.get(target, target)}: {self._state.view.metric}{at}"
        return {"title": self._host.dialog_parent().windowTitle(), "description": about}

    def copy_image(self) -> None:
        """The whole window as an image on the clipboard (Ctrl+Shift+C), for slides."""
        from gradsim.app.export.image_export import copy_image

        copy_image(self._host.export_widget("window"))
        self._host.show_status("Copied the window to the clipboard")

    def record_animation_to(
        self,
        path: str | Path,
        frames: int = 60,
        fps: int = 12,
        size: tuple[int, int] = (960, 540),
    ) -> bool:
        """A GIF of the heatmap filling in over the run so far, with progress and Cancel."""
        from gradsim.app.export.animation import record_gif

        if not self._single_run("Record animation"):
            return False
        history = self._session.histories[0]
        if not len(history):
            self._error("Nothing to record", "Train a few steps first (Space or →).")
            return False
        parent = self._host.dialog_parent()
        dialog = QProgressDialog("Recording the animation…", "Cancel", 0, frames, parent)
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
                history, self._state.view.metric, path, frames=frames, fps=fps, size=size,
                theme=self._host.look(), progress=progress,
            )  # fmt: skip
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self._error("The animation was not recorded", f"{path}: {reason}")
            return False
        finally:
            dialog.close()
        if finished:
            self._host.show_status(f"Recorded {path}")
        return finished

    # -- own data ------------------------------------------------------------------------------
    def load_csv(self, path: str | Path) -> bool:
        """Train on a CSV file: its columns set the inputs, outputs and loss. The file is
        parsed in a thread behind a progress dialog (the window stays responsive); Cancel
        leaves the run shown as it was. Returns whether the new run is shown."""
        from gradsim.app.export.csv_loader import load_with_progress

        base = self._host.single_config()
        try:
            unresolved = base.replace(dataset="csv", data_path=str(Path(path).resolve()))
        except (ConfigError, OSError, ValueError) as exc:
            self._error("This CSV file cannot be used", str(exc))
            return False
        outcome = load_with_progress(self._host.dialog_parent(), unresolved)
        if outcome.cancelled:
            self._host.show_status(f"Loading {Path(path).name} was cancelled")
            return False
        if outcome.config is None:
            self._error("This CSV file cannot be used", outcome.error)
            return False
        self._host.show_runs([RunSpec(Path(path).name, outcome.config)])
        return True

    # -- dialogs: they only pick a path; the methods above do the work ----------------------
    def _ask(self, title: str, name: str, filters: str, save: bool = True) -> str:
        """A path from a file dialog ("" if cancelled). A name typed without an extension
        gets the chosen filter's (else the suggested name's)."""
        ask = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, chosen = ask(self._host.dialog_parent(), title, name, filters)
        if path and save and not Path(path).suffix:
            start = chosen.find("*.")
            ext = chosen[start + 1 : chosen.index(")", start)] if start >= 0 else ""
            path += ext or Path(name).suffix
        return path

    def choose_save_config(self) -> None:
        if path := self._ask("Save config", "gradsim.toml", CONFIG_FILTER):
            self.save_config(path)

    def choose_open_config(self) -> None:
        if path := self._ask("Open config", "", CONFIG_FILTER, save=False):
            self.open_config(path)

    def choose_export_data(self) -> None:
        if path := self._ask("Export data", "run.csv", DATA_FILTER):
            self.export_data(path)

    def choose_export_distributions(self) -> None:
        if path := self._ask("Export distributions", "histograms.npz", HISTOGRAM_FILTER):
            self.export_distributions(path)

    def choose_export_image(self) -> None:
        dialog = ImageDialog(self._session.count > 1, self._host.dialog_parent())
        if dialog.exec() == ImageDialog.DialogCode.Accepted:
            target, size = dialog.choice()
            if path := self._ask("Export image", f"gradsim-{target}.png", IMAGE_FILTER):
                self.export_image_to(target, path, size)

    def choose_record(self) -> None:
        dialog = RecordDialog(self._host.dialog_parent())
        if dialog.exec() == RecordDialog.DialogCode.Accepted:
            frames, fps, size = dialog.choice()
            if path := self._ask("Record animation", "gradsim.gif", GIF_FILTER):
                self.record_animation_to(path, frames, fps, size)

    def choose_csv(self) -> None:
        if path := self._ask("Load CSV data", "", CSV_FILTER, save=False):
            self.load_csv(path)

    def fill_recent(self, menu: QMenu) -> None:
        menu.clear()
        files = self.recent_files()
        for path in files:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_config(p))
        if not files:
            menu.addAction("(none yet)").setEnabled(False)


def _resolve_data(config: Config) -> Config:
    """The config with a CSV dataset's sizes and loss filled in from the file."""
    from gradsim.engine.csv_data import resolve_data

    return resolve_data(config)
