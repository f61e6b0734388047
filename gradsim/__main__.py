"""``python -m gradsim``: the same entry point as the ``gradsim`` console script (and the
frozen app's)."""

import multiprocessing
import os
import sys

from gradsim.cli import main

if __name__ == "__main__":
    # The training process is started with "spawn"; a frozen app must hand it over here.
    multiprocessing.freeze_support()
    # A windowed Windows app has no console: give print-outs somewhere harmless to go.
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    sys.exit(main())
