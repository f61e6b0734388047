"""Colour themes for the plots and the window: dark (the default, for dim halls) and light.

A theme is plain data; widgets take one through ``set_theme(theme)`` and restyle themselves.
Presentation mode uses ``theme.for_projector()``: pure black or white behind the data, brighter
text and thicker lines, because a projector washes out greys and thin strokes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Theme:
    """Everything a widget needs to draw itself in one look."""

    name: str  # "dark" or "light"
    background: str  # behind the plots
    foreground: str  # axes, tick text, titles
    window: str  # Qt widgets (caption bar, docks)
    window_text: str
    accent: str  # caption bar's title, highlights
    grid_alpha: float
    measured: RGB  # the measured layer profile, the loss
    theory: RGB  # the theory line
    series: tuple[RGB, ...]  # one colour per run in a comparison
    # Exact zeros (underflow): a colour viridis never uses, >= 3:1 against the background.
    underflow: tuple[int, int, int, int] = (255, 255, 255, 255)
    line_width: float = 2.0
    projector: bool = False

    def for_projector(self) -> Theme:
        """High-contrast variant for presentation mode."""
        if self.projector:
            return self
        dark = self.name == "dark"
        return dataclasses.replace(
            self,
            background="#000000" if dark else "#ffffff",
            foreground="#ffffff" if dark else "#000000",
            window="#000000" if dark else "#ffffff",
            window_text="#ffffff" if dark else "#000000",
            grid_alpha=self.grid_alpha * 1.4,
            line_width=self.line_width * 2.0,
            projector=True,
        )

    @property
    def is_dark(self) -> bool:
        return self.name == "dark"


# Okabe–Ito colours: distinguishable with every common colour-vision deficiency. The light
# theme uses the darker members so lines keep their contrast against white.
DARK = Theme(
    name="dark",
    background="#15171c",
    foreground="#e2e2e2",
    window="#202329",
    window_text="#e8e8e8",
    accent="#f0b44c",
    grid_alpha=0.25,
    measured=(86, 180, 233),  # sky blue
    theory=(230, 159, 0),  # orange
    series=((86, 180, 233), (230, 159, 0), (0, 158, 115), (204, 121, 167)),
)
LIGHT = Theme(
    name="light",
    background="#ffffff",
    foreground="#1b1b1b",
    window="#f3f3f3",
    window_text="#111111",
    accent="#8a4b00",
    grid_alpha=0.3,
    measured=(0, 114, 178),  # blue
    theory=(213, 94, 0),  # vermillion
    series=((0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167)),
    underflow=(112, 112, 112, 255),  # white would vanish on white: a mid grey (5:1)
)
THEMES: dict[str, Theme] = {DARK.name: DARK, LIGHT.name: LIGHT}
DEFAULT_THEME = DARK


class Styled(Protocol):
    """A view that takes a theme and a font scale (presentation mode enlarges every text)."""

    def set_theme(self, theme: Theme) -> None: ...

    def set_font_scale(self, scale: float) -> None: ...
