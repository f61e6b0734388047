"""``python -m gradsim``: the same entry point as the ``gradsim`` console script."""

import multiprocessing
import sys

from gradsim.cli import main

if __name__ == "__main__":
    # The training process is started with "spawn"; a frozen app must hand it over here.
    multiprocessing.freeze_support()
    sys.exit(main())
