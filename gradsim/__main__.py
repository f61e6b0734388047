"""``python -m gradsim``: the same entry point as the ``gradsim`` console script."""

import sys

from gradsim.cli import main

if __name__ == "__main__":
    sys.exit(main())
