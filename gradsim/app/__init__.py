"""Desktop application: the Qt widgets around the engine."""
