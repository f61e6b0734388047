"""``python -m gradsim``: the same entry point as the ``gradsim`` console script (and the
frozen app's)."""

import multiprocessing
import sys

from gradsim.cli import main, streams_for_a_windowed_app

if __name__ == "__main__":
    # The training process is started with "spawn"; a frozen app must hand it over here.
    multiprocessing.freeze_support()
    streams_for_a_windowed_app()
    sys.exit(main())
