"""Who a browser is: a student id signed with the server's secret, kept by the browser as a cookie.

The token is `<id>.<signature>`: anybody can read the id, nobody without the secret can make a
valid token for another id. The secret lives in $DIGITDASH_HOME/secret.key (created once, readable
by the server's user only), so a token stays valid across server restarts and is void on another
server or after the file is deleted (which logs every student out).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from digitdash import paths
from digitdash.i18n import Problem

COOKIE = "digitdash_student"
COOKIE_DAYS = 365
_ID = re.compile(r"s-[0-9a-f]{16}")


def _secret(home: Path | None = None) -> bytes:
    path = (home or paths.home()) / "secret.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_hex(32)
    tmp = path.with_name(f".secret.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        try:
            os.link(tmp, path)        # the first server to write it wins; the others read its key
        except FileExistsError:
            pass
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:     # a full disk: one message where the store's would be
        raise Problem("store.unavailable", reason=getattr(exc, "strerror", None) or type(exc).__name__) from None
    finally:
        tmp.unlink(missing_ok=True)


def _sign(student_id: str, home: Path | None = None) -> str:
    return hmac.new(_secret(home), student_id.encode(), hashlib.sha256).hexdigest()[:32]


def new_student(home: Path | None = None) -> tuple[str, str]:
    """A fresh (student id, token) pair."""
    student_id = "s-" + secrets.token_hex(8)
    return student_id, f"{student_id}.{_sign(student_id, home)}"


def student_of(token: str | None, home: Path | None = None) -> str | None:
    """The student id a token was issued for, or None when it is missing, malformed or forged."""
    student_id, _, signature = str(token or "").partition(".")
    if not _ID.fullmatch(student_id) or not re.fullmatch(r"[0-9a-f]{32}", signature):
        return None
    return student_id if hmac.compare_digest(signature, _sign(student_id, home)) else None


def cookie_script(token: str) -> str:
    """JavaScript that stores the token in the browser for COOKIE_DAYS (the page runs it once)."""
    if student_of(token) is None:
        raise ValueError("not a token issued here")
    age = COOKIE_DAYS * 24 * 3600
    return f"<script>document.cookie = '{COOKIE}={token}; path=/; max-age={age}; SameSite=Strict';</script>"
