"""Runtime hook of the frozen app: with GRADSIM_LOG_FILE set, its output goes to that file.

A windowed Windows exe has no console: what it prints (``--self-test``'s "ok" line, a
traceback) is lost. packaging/smoke_test.py sets GRADSIM_LOG_FILE and reads the file instead;
users can do the same to see why the app does not start. Runs before gradsim's own code, in
the app and in its training worker (which appends to the same file). Without the variable it
does nothing.
"""

import os
import sys

_path = os.environ.get("GRADSIM_LOG_FILE")
if _path:
    try:
        _log = open(_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives with the app
    except OSError:  # a bad path must not stop the app from starting
        pass
    else:
        sys.stdout = sys.stderr = _log
