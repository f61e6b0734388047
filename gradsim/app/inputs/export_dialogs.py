"""Dialogs that choose what to export: an image (which view, how big) or an animation.

They only collect choices; the window's ``export_image_to`` / ``record_animation_to`` do the
work (the same functions as ``gradsim screenshot`` and ``gradsim record``).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

VIEWS = (  # (shown, the image_export target): as the size lists, label first
    ("Whole window", "window"),
    ("Heatmap with its colour bar", "heatmap"),
    ("Layer profile", "profile"),
    ("Loss", "loss"),
    ("Distributions (per-layer histograms at the step shown)", "distributions"),
    ("Learned function (decision regions, or prediction vs target)", "function"),
    ("Order-to-chaos map", "map"),
)
IMAGE_SIZES = (
    ("as on screen", None),
    ("1920 × 1080 (Full HD slide)", (1920, 1080)),
    ("2560 × 1440", (2560, 1440)),
    ("3840 × 2160 (4K)", (3840, 2160)),
    ("1200 × 800 (handout figure)", (1200, 800)),
)
GIF_SIZES = (
    ("960 × 540", (960, 540)),
    ("1280 × 720", (1280, 720)),
    ("1920 × 1080", (1920, 1080)),
)


def _combo(items: Sequence[tuple[str, object]], tip: str) -> QComboBox:
    """A combo box of (shown text, item data) pairs."""
    combo = QComboBox()
    for label, value in items:
        combo.addItem(label, value)
    combo.setToolTip(tip)
    return combo


def _ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    """OK (Enter) and Cancel (Esc) wired to the dialog."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class ImageDialog(QDialog):
    """Which view, at what size. PNG or SVG is chosen by the file name afterwards."""

    def __init__(self, comparing: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export image")
        views = VIEWS[:2] + VIEWS[3:4] if comparing else VIEWS  # a comparison has no profile
        self.view = _combo(views, "The part of the window to export")
        self.size_choice = _combo(
            IMAGE_SIZES,
            "PNG size in pixels: drawn at that resolution (sharp text and lines), not scaled"
            " up from the screen. SVG is vector and ignores this.",
        )
        self.size_choice.setCurrentIndex(1)
        form = QFormLayout(self)
        form.addRow("View", self.view)
        form.addRow("PNG size", self.size_choice)
        form.addRow(_ok_cancel(self))

    def choice(self) -> tuple[str, tuple[int, int] | None]:
        return self.view.currentData(), self.size_choice.currentData()


class RecordDialog(QDialog):
    """Frames, speed and size of an animated GIF of the heatmap filling in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record animation")
        self.frames = QSpinBox()
        self.frames.setRange(2, 600)
        self.frames.setValue(60)
        self.frames.setToolTip("Frames, evenly spaced over the run so far")
        self.fps = QSpinBox()
        self.fps.setRange(1, 50)
        self.fps.setValue(12)
        self.fps.setSuffix(" frames/s")
        self.size_choice = _combo(GIF_SIZES, "GIF size in pixels")
        form = QFormLayout(self)
        form.addRow("Frames", self.frames)
        form.addRow("Speed", self.fps)
        form.addRow("Size", self.size_choice)
        form.addRow(_ok_cancel(self))

    def choice(self) -> tuple[int, int, tuple[int, int]]:
        return self.frames.value(), self.fps.value(), self.size_choice.currentData()
