"""Which form profiles exist, told by their files alone, without loading any.

``profile`` loads and checks a profile (with the model's field registry); the command line only needs the names — for
its help, ``--profile`` and its default — and asks here, so ``perfgoal --help`` does not load the model.
``profile`` re-exports these names: callers may keep importing them from there.
"""

from __future__ import annotations

import os
from functools import cache

DEFAULT_PROFILE = "shanghai-2020"
PROFILES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profiles")


@cache
def profile_names() -> list[str]:
    """Every profile shipped in ``converter/profiles``; adding a profile is adding a file there.

    The folder is listed as a plain directory — pip installs packages as files — not through
    ``importlib.resources``, whose import alone costs ~10 ms of every start (``perfgoal --help`` is ~45 ms)."""
    return sorted(name.removesuffix(".json") for name in os.listdir(PROFILES_DIR) if name.endswith(".json"))


def unknown_profile(*names: str) -> str:
    """The one message for profile names with no file behind them."""
    return f"未知的表式版本“{'、'.join(names)}”（可用：{'、'.join(profile_names())}）"
