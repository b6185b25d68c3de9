"""Sample pictures of handwritten digits made by the project (`assets/`, written by
tools/make_assets.py from synthetic): a student without a camera sends one to the models from the
Draw page. Only these files are ever read: a name is looked up, never joined to a path."""
from __future__ import annotations

from pathlib import Path

from digitdash import paths

FOLDER = paths.SOURCE / "assets"
SUFFIXES = (".png", ".jpg", ".jpeg")


def names() -> list[str]:
    """The samples' file names, drawings first, then photos."""
    if not FOLDER.is_dir():
        return []
    found = [p.name for p in FOLDER.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES]
    return sorted(found, key=lambda n: (not n.startswith("drawing"), n))


def read(name: str) -> bytes:
    """A sample's bytes; KeyError for a name that is not one of them."""
    if name not in names():
        raise KeyError(name)
    return (FOLDER / name).read_bytes()


def digits_in(name: str) -> str:
    """The digits a sample shows, from its name: 'pen-photo-2026.jpg' -> '2026'."""
    return next((part for part in Path(name).stem.split("-") if part.isdigit()), "")


CAVEATS = {          # sample -> what the page says under its answer (a catalogue key)
    "pen-photo-2026.jpg": "draw.sample_caveat_2026",
}


def caveat(name: str) -> str | None:
    """Why a model may misread this sample, as a catalogue key (None for a sample most models read)."""
    return CAVEATS.get(name)
