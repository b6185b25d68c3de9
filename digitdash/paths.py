"""Where DigitDash keeps its runs and caches: $DIGITDASH_HOME, else a per-user folder.

Every file the app replaces (a run's model and arrays, a dataset's cache, the teacher's limits and
key, a run's life file) is written whole or not at all, by write_atomic."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
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


def write_atomic(path: Path | str, data: bytes | str | Callable[[Path], object], mode: int = 0o666) -> Path:
    """Write the file whole or not at all, so that it is never seen half-written. `data` (bytes, or
    text written as UTF-8) goes to a temporary file in the same folder, made with permissions `mode`
    (less the umask); a callable is given the temporary's path to write itself (numpy, a model's
    save), which keeps the file's suffix. The temporary is then renamed over `path`. On any failure
    the temporary is removed and the error raised again: `path` keeps what it held. Returns `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp{path.suffix}")
    try:
        if callable(data):
            data(tmp)
        else:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    return path


def home() -> Path:
    root = os.environ.get("DIGITDASH_HOME") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "digitdash")
    return ensure_dir(Path(root))


def cache_dir() -> Path:
    return ensure_dir(home() / "cache")
