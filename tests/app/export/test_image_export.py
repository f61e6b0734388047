"""Pictures for slides: PNGs of the window and each plot at any size, SVG, the clipboard, and
``gradsim screenshot --plot / .svg``."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from qt_helpers import open_window, run_gradsim

from gradsim.app.export import image_export
from gradsim.app.export.image_export import (
    TARGETS,
    copy_image,
    export_image,
    render_image,
    scalable_strokes,
)
from gradsim.cli import main
from gradsim.engine.presets import get_preset

pytestmark = pytest.mark.slow  # the real window pictured at full size; the screenshot command

SVG = "{http://www.w3.org/2000/svg}"
SIZES = {
    "window": (3840, 2160),
    "heatmap": (1200, 800),
    "profile": (1600, 900),
    "loss": (1200, 800),
    "distributions": (1600, 1000),
    "function": (1200, 900),
    "map": (1200, 900),
}


def export(window, target, path, size=None):
    """What File → Export image does: the target's widget, to a file."""
    return export_image(window.export_widget(target), path, size, **window.files.describe(target))


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, preset=get_preset("seed-vanishing"))
    win.session.run_until(12)
    qtbot.waitUntil(lambda: (win.draw(), win.session.is_idle())[1], timeout=10_000)
    win.draw()
    yield win
    win.close()


def pixels(image: QImage) -> np.ndarray:
    """(h, w, 3) float RGB."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
    return rows[:, : image.width(), 2::-1].astype(float)  # BGRA in memory


def test_png_of_each_target_has_the_size_asked_for_and_shows_something(window, tmp_path):
    for target in TARGETS:
        path = export(window, target, tmp_path / f"{target}.png", SIZES[target])
        image = QImage(str(path))
        assert (image.width(), image.height()) == SIZES[target], target
        rgb = pixels(image)
        assert rgb.std() > 20, target  # not blank
        assert len(np.unique(rgb.reshape(-1, 3)[::37], axis=0)) > 50, target


def test_png_is_painted_at_full_resolution_not_enlarged(window) -> None:
    """A 2x picture has detail that no enlargement of the 1x picture has: nearest-neighbour
    enlargement leaves every 2x2 block flat, a smooth one halves the steepness of every edge."""
    for widget in (window.single.heatmap, window.single.profile_plot):
        small = render_image(widget)
        w, h = small.width(), small.height()
        large = pixels(render_image(widget, (2 * w, 2 * h)))
        blocks = large.reshape(h, 2, w, 2, 3)
        uneven = (blocks.max(axis=(1, 3)) - blocks.min(axis=(1, 3))).max(axis=-1) > 24
        assert uneven.mean() > 0.01  # text and line edges fall inside blocks
        smooth = pixels(small.scaled(2 * w, 2 * h, mode=Qt.TransformationMode.SmoothTransformation))

        def edge_energy(rgb: np.ndarray) -> float:
            grey = rgb.mean(axis=-1)
            return float((np.diff(grey, axis=0) ** 2).sum() + (np.diff(grey, axis=1) ** 2).sum())

        assert edge_energy(large) > 1.5 * edge_energy(smooth)
        # ... and it is the same picture.
        assert np.abs(blocks.mean(axis=(1, 3)) - pixels(small)).mean() < 12


def test_plots_are_laid_out_at_the_aspect_asked_for_and_put_back(window) -> None:
    heatmap = window.single.heatmap
    before = heatmap.size()
    rgb = pixels(render_image(heatmap, (1800, 600)))  # far wider than the plot on screen
    assert heatmap.size() == before
    background = np.array([0x15, 0x17, 0x1C], dtype=float)
    edge = max(1, rgb.shape[1] // 40)
    # The axis title on the left and the colour bar's on the right reach the picture's edges:
    # no letterbox bands.
    assert np.abs(rgb[:, :edge] - background).max() > 60
    assert np.abs(rgb[:, -edge:] - background).max() > 60


def test_the_window_is_letterboxed_on_its_own_background(window) -> None:
    rgb = pixels(render_image(window, (1600, 1200)))  # 1280x800 shown in 4:3: bands above and below
    band = rgb[:40]
    assert np.all(band == band[0, 0])
    colour = window.palette().color(window.backgroundRole())
    assert tuple(band[0, 0]) == (colour.red(), colour.green(), colour.blue())
    assert rgb[600].std() > 20


def test_big_pictures_thicken_the_data_lines_and_put_the_pens_back(window) -> None:
    import pyqtgraph as pg

    profile = window.single.profile_plot
    curves = [i for i in profile.scene().items() if isinstance(i, pg.PlotCurveItem)]
    widths = [c.opts["pen"].widthF() for c in curves]
    seen = []
    original = image_export._thicken

    def spy(item, scale):
        undo = original(item, scale)
        if isinstance(item, pg.PlotCurveItem):
            seen.append(item.opts["pen"].widthF())
        return undo

    image_export._thicken = spy
    try:
        render_image(
            window.single.profile_plot,
            (3 * window.single.profile_plot.width(), 3 * window.single.profile_plot.height()),
        )
    finally:
        image_export._thicken = original
    assert seen and max(seen) >= 3 * max(widths)
    assert [c.opts["pen"].widthF() for c in curves] == widths


def test_svg_has_vector_lines_and_text_and_the_heatmap_as_an_image(window, tmp_path) -> None:
    for target in ("heatmap", "window"):
        path = export(window, target, tmp_path / f"{target}.svg")
        text = path.read_text(encoding="utf-8")
        root = ET.fromstring(text)
        assert root.tag == f"{SVG}svg"
        widget = window.export_widget(target)
        assert root.get("viewBox") == f"0 0 {widget.width()} {widget.height()}"
        assert root.find(f"{SVG}title").text == window.windowTitle()
        count = {tag: len(root.findall(f".//{SVG}{tag}")) for tag in ("polyline", "path", "text")}
        assert count["polyline"] + count["path"] > 20 and count["text"] > 10, count
        assert root.findall(f".//{SVG}image")  # the heatmap stays a raster
        # Every clip path and gradient referred to exists (ids stay unique when widgets merge).
        ids = [e.get("id") for e in root.iter() if e.get("id")]
        assert len(ids) == len(set(ids))
        assert set(re.findall(r"url\(#([^)]+)\)", text)) <= set(ids)
        assert "non-scaling-stroke" not in text  # every stroke scales with the drawing
    heatmap_origin = window.single.heatmap.mapTo(window, window.single.heatmap.rect().topLeft())
    placed = f'transform="matrix(1,0,0,1,{heatmap_origin.x()},{heatmap_origin.y()})"'
    assert placed in text  # the heatmap is placed where it sits in the window


def test_scalable_strokes_bakes_plot_transforms_into_the_points() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><g transform="matrix(2,0,0,-3,10,20)">'
        '<polyline vector-effect="non-scaling-stroke" points="1,1 2,2 " />'
        '<path vector-effect="non-scaling-stroke" d="M0,0 L1,1 C1,2 2,2 3,1e+01 Z " /></g>'
        '<g transform="matrix(2,0,0,2,0,0)"><image width="1" height="1" />'
        '<polyline vector-effect="non-scaling-stroke" points="0,0 1,1" /></g></svg>'
    )
    root = ET.fromstring(svg)
    scalable_strokes(root)
    baked, kept = root.findall(f"{SVG}g")
    assert "transform" not in baked.attrib
    polyline, path = list(baked)
    assert polyline.get("points") == "12,17 14,14"
    assert path.get("d") == "M 10,20 L 12,17 C 12,14 14,14 16,-10 Z"
    assert polyline.get("vector-effect") is None and path.get("vector-effect") is None
    assert kept.get("transform") == "matrix(2,0,0,2,0,0)"  # an image inside: left alone
    assert kept.find(f"{SVG}polyline").get("vector-effect") == "non-scaling-stroke"


def test_copy_puts_the_window_on_the_clipboard(window) -> None:
    QApplication.clipboard().clear()
    copy_image(window.export_widget("window"))
    image = QApplication.clipboard().image()
    assert not image.isNull()
    assert (image.width(), image.height()) == (window.width(), window.height())


def test_bad_requests_say_what_is_wrong_and_write_nothing(window, tmp_path) -> None:
    kept = tmp_path / "kept.png"
    kept.write_bytes(b"precious")
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        export(window, "heatmap", tmp_path / "a.jpg")
    with pytest.raises(ValueError, match="unknown picture"):
        export(window, "histogram", tmp_path / "a.png")
    with pytest.raises(ValueError, match="7680x4320"):
        export(window, "window", kept, (100_000, 100_000))
    with pytest.raises(OSError, match="does not exist"):
        export(window, "loss", tmp_path / "missing" / "a.png")
    assert kept.read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["kept.png"]


def test_a_comparison_offers_its_heatmaps_loss_and_profile_not_a_map(qtbot, tmp_path) -> None:
    win = open_window(qtbot)
    try:
        runs = [(p.title, p.config) for p in map(get_preset, ("relu-he", "tanh-xavier"))]
        win.lecture.start_comparison(runs, "backprop_grad_rms")
        view = win.compare_view
        grid = win.export_widget("heatmap")
        assert all(grid.isAncestorOf(h) for h in view.heatmaps)
        assert grid.isAncestorOf(view.color_bar)
        assert win.export_widget("loss") is view.loss_plot
        assert win.export_widget("profile") is view.profile_plot
        with pytest.raises(ValueError, match="comparison"):
            export(win, "map", tmp_path / "a.png")
        assert (
            QImage(str(export(win, "heatmap", tmp_path / "c.png", (800, 450)))).width() == 800
        )
    finally:
        win.close()


# -- command line ----------------------------------------------------------------------------


def test_screenshot_of_one_plot_at_a_size(tmp_path) -> None:
    out = tmp_path / "heat.png"
    result = run_gradsim(
        "screenshot",
        "--preset",
        "seed-vanishing",
        "--steps",
        "5",
        "--plot",
        "heatmap",
        "--size",
        "1200x800",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out} (1200x800, heatmap of seed-vanishing)\n"
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    assert pixels(image).std() > 20


def test_screenshot_as_svg(tmp_path) -> None:
    out = tmp_path / "window.svg"
    result = run_gradsim(
        "screenshot",
        "--preset",
        "seed-vanishing",
        "--steps",
        "3",
        "--size",
        "1280x720",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 1280 720"
    assert root.findall(f".//{SVG}text") and root.findall(f".//{SVG}image")


def test_the_new_panels_export_as_svg_with_their_text_and_curves(window, tmp_path) -> None:
    for target in ("distributions", "function", "profile"):
        path = export(window, target, tmp_path / f"{target}.svg")
        text = path.read_text(encoding="utf-8")
        root = ET.fromstring(text)
        count = {tag: len(root.findall(f".//{SVG}{tag}")) for tag in ("polyline", "path", "text")}
        assert count["polyline"] + count["path"] > 5 and count["text"] > 5, (target, count)
        ids = [e.get("id") for e in root.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), target
        assert set(re.findall(r"url\(#([^)]+)\)", text)) <= set(ids), target
    texts = ET.parse(tmp_path / "distributions.svg").iter(f"{SVG}text")
    words = " ".join(t.text or "" for t in texts)
    assert "layer" in words and "step" in words


def test_screenshot_of_the_distributions(tmp_path) -> None:
    out = tmp_path / "dists.png"
    result = run_gradsim(
        "screenshot", "--preset", "sigmoid-naive", "--steps", "3", "--plot", "distributions",
        "--size", "1200x900", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out} (1200x900, distributions of sigmoid-naive)\n"
    assert pixels(QImage(str(out))).std() > 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "shot.jpg"], ".png or .svg"),
        (["--size", "12x", "--out", "shot.png"], "WIDTHxHEIGHT"),
        (["--out", "missing/shot.png"], "does not exist"),
        (["--plot", "chart", "--out", "shot.png"], "invalid choice"),
        (
            ["--compare", "relu-he", "--compare", "tanh-xavier", "--plot", "map", "--out", "a.svg"],
            "comparison",
        ),
    ],
)
def test_screenshot_bad_input_is_one_line_and_exit_2(
    tmp_path, monkeypatch, capsys, args, message
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["screenshot", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradsim: error: ") and err.count("\n") == 1 and message in err
    assert os.listdir(tmp_path) == []
