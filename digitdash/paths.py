"""Where DigitDash keeps its runs and caches: $DIGITDASH_HOME, else a per-user folder."""
from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    root = os.environ.get("DIGITDASH_HOME") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "digitdash")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    path = home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
