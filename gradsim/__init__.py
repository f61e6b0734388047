"""gradsim: a simulator that makes vanishing and exploding gradients visible."""

__version__ = "0.1.0"
