"""Where DigitDash keeps its runs and caches: $DIGITDASH_HOME, else a per-user folder."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent      # digitdash/: the code a Ray task needs
SOURCE = PACKAGE.parent                          # the checkout: assets/, tools/


def ensure_dir(path: Path) -> Path:
    """The folder, made (with its parents) only when missing: an existing one is left alone, so
    reading a store on a full disk or a read-only file system asks nothing of it."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
    return path


def home() -> Path:
    root = os.environ.get("DIGITDASH_HOME") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "digitdash")
    return ensure_dir(Path(root))


def cache_dir() -> Path:
    return ensure_dir(home() / "cache")
