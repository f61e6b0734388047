"""The gradsim engine: a deep network in pure numpy with per-layer gradient statistics.

This package never imports Qt or pyqtgraph (a test enforces it), so it runs headless, in
notebooks and in the GUI's worker thread alike.
"""
