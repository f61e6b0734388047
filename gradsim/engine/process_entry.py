"""Entry point of the training process, kept tiny so the app can name it without importing it.

The window refers to ``serve`` when it starts the process; importing the whole simulation
stack there (network, data, theory) would only slow the window's start-up, since the training
itself happens in the child.
"""

from __future__ import annotations

from multiprocessing.connection import Connection


def serve(commands: Connection, reports: Connection, blas_threads: int = 1) -> None:
    """Run ``gradsim.engine.runner.serve`` in this (child) process."""
    from gradsim.engine.runner import serve as run

    run(commands, reports, blas_threads)
