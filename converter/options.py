"""Defaults and bounds of the options a run takes (``--jobs``, ``--timeout``, ``--executor``), in a module that
imports nothing.

The command line states them in its help and checks them before anything heavy is loaded; ``pool`` and
``reading``, which apply them, re-export them.
"""

from __future__ import annotations

MAX_JOBS = 64  # reading processes at most: past this a machine thrashes, and more than its cores gain nothing
DEFAULT_TIMEOUT = 60.0  # seconds for one file
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 86_400.0  # seconds a file may take: a reader needs some; a day is plenty
EXECUTORS = ("local", "dask")  # where a bulk run reads its files: this machine's processes, or a Dask cluster
