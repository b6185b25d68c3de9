"""Text that people type (display names, run names, family titles): one rule for what is stored,
how two names are told apart, and how a cell is written to a spreadsheet.

Stored clean: runs of spaces become one, and control characters, zero-width characters and
bidirectional marks are refused with one message (they hide or reorder what others read). Shown as
typed: pages never render it as Markdown or HTML (see app_pages/parts/language.plain and charts.style.label).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata

from digitdash.i18n import Message, Problem

NAME_MAX = 40            # a student's display name
RUN_NAME_MAX = 80        # a run's name, a family's title
# Unicode categories refused: controls (Cc, NUL and newlines included), format characters (Cf:
# zero-width spaces and joiners, left-to-right and right-to-left marks and overrides), surrogates,
# private use, unassigned, and line or paragraph separators.
_REFUSED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Characters a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


# Markdown's punctuation, escaped with a backslash so it is shown, not obeyed (& too: no entities).
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")
# GitHub-flavoured Markdown turns bare addresses into links after escapes are read ("http://...",
# "www.x", "a@b.c"): an invisible WORD JOINER (U+2060) inside each keeps them plain text.
_AUTOLINK = re.compile(r"(?i)(?<=h)(?=ttps?:)|(?<=w)(?=ww\.)|(?=@)|(?<=m)(?=ailto:)|(?<=x)(?=mpp:)")
WORD_JOINER = "\u2060"


class TextError(Problem):
    """Typed text that cannot be stored; the message names what is wrong and what is allowed."""


def clean(value, what: str, limit: int) -> str:
    """`value` as it is stored: spaces collapsed, at least one visible character, at most `limit`
    characters; control, zero-width and direction characters refused. `what` names the field in
    the message (the catalogue's text.what_<what>: "name", "run_name", "family", "archive")."""
    text = str(value)
    field = Message(f"text.what_{what}")      # the field's name, said in the reader's language
    bad = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in _REFUSED and c not in " \t"})
    if bad:
        raise TextError("text.invisible", what=field, chars=", ".join(bad[:5]))
    text = " ".join(text.split())
    if not text:
        raise TextError("text.empty", what=field, limit=limit)
    if len(text) > limit:
        raise TextError("text.too_long", what=field, limit=limit, length=len(text))
    return text


def same_key(name: str) -> str:
    """What two names must differ in to be told apart: case, spacing and look-alike forms
    (full-width letters, ligatures) ignored."""
    return "".join(unicodedata.normalize("NFKC", str(name)).casefold().split())


def told_apart(labels: dict[str, str]) -> dict[str, str]:
    """Labels by id, those that read the same as another also saying their id ("cnn · 1202-…"), so
    that two runs a class named alike are told apart by more than a colour."""
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {i: f"{label} · {i}" if seen[label] > 1 else label for i, label in labels.items()}


def csv_cell(value):
    """A table cell as a spreadsheet program should read it: text that would begin a formula is
    prefixed with an apostrophe, which spreadsheets show as text and do not evaluate."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def to_csv(rows: list[dict]) -> str:
    """Rows (dicts with the same keys) as CSV text, every cell through csv_cell."""
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def markdown_literal(value) -> str:
    """People's text for a place that reads Markdown (a label, a caption, a notice, a tab): shown as
    typed, never obeyed: no emphasis, link, picture, heading, colour, icon, formula or HTML, and no
    bare address made a link."""
    return _MARKUP.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, str(value)))
