"""Other hands: digits written in styles MNIST hardly holds, made here.

MNIST's writers were American census clerks and schoolchildren. A class in Spain or Latin America
writes otherwise: a 1 with a long flag (and sometimes a base), a 7 with a bar, an open-topped 4,
looped and cursive 2, 3 and 8, narrow zeros, slanted writing, a thin pen. Each set here is written
by WRITERS made-up writers: a writer keeps a slant, a width, a pen and one way of writing each digit
(now and then another), and every sample of theirs is bent a little (size, turn, a smooth wobble).

Two kinds of picture, the two the Draw page receives:

- `drawings`: white strokes on the Draw page's black 280x280 canvas (RGBA), at the brush widths
  its slider allows (5-40 px), a thin-pen writer at the thin end;
- `photos`: pen ink on unevenly lit paper, photographed (noise, blur, JPEG, a slight perspective);
  about a quarter are low-resolution pictures (a small digit enlarged: a blurred stroke, not a
  thin one).

Every set is a list of (image, label), per_class of each digit; the same seed gives the same set.
The skeletons share nothing with `synthetic`'s (which are MNIST-like), so a model trained with
`synthetic`'s digits is not being read on its own training set.
"""
from __future__ import annotations

import numpy as np

from digitdash.digits.synthetic import _arc, _joined, _line, _paper, _place, _render

WRITERS = 21                 # writers in each set


def _eight_cursive(top: float, bottom: float) -> np.ndarray:
    """An 8 in one stroke: a figure of eight, its crossing in the middle, the top loop `top` wide."""
    t = np.linspace(0.2, 2 * np.pi + 0.35, 64)
    y = 0.5 - 0.5 * np.cos(t)
    half = np.where(np.cos(t) > 0, top, bottom)        # top loop when y < 0.5
    return np.stack([0.5 + half * np.sin(2 * t), y], axis=1)


def _eight_loops() -> np.ndarray:
    """An 8 as a cursive S that comes back up: the bottom loop wider, the top closed by the return."""
    return _joined(_arc(0.52, 0.24, 0.2, 0.23, 30, 270), _line((0.7, 0.62)),
                   _arc(0.48, 0.76, 0.26, 0.24, 60, -240), _line((0.62, 0.02)))


# Each digit's ways of writing it, by name; points in a unit box, y down. A writer picks one.
FORMS: dict[int, dict[str, list[np.ndarray]]] = {
    0: {"narrow": [_arc(0.5, 0.5, 0.2, 0.5, 100, 470)],
        "open-top": [_arc(0.5, 0.52, 0.24, 0.48, 75, 430)],
        "tilted-oval": [_arc(0.5, 0.5, 0.18, 0.5, 90, 455)]},
    1: {"flag": [_line((0.25, 0.35), (0.62, 0.0), (0.6, 1.0))],
        "flag-base": [_line((0.28, 0.3), (0.58, 0.0), (0.58, 1.0)), _line((0.3, 1.0), (0.86, 1.0))],
        "long-flag": [_line((0.2, 0.42), (0.62, 0.0), (0.6, 1.0))]},
    2: {"looped": [_joined(_arc(0.5, 0.28, 0.3, 0.28, 165, -35), _line((0.22, 0.86)),
                           _arc(0.3, 0.86, 0.12, 0.1, 160, 390), _line((0.9, 0.92)))],
        "curly": [_joined(_arc(0.3, 0.16, 0.1, 0.1, 300, 90), _arc(0.52, 0.3, 0.28, 0.3, 150, -40),
                          _line((0.15, 1.0), (0.88, 0.98)))],
        "z-like": [_joined(_line((0.12, 0.12), (0.3, 0.02), (0.7, 0.02)), _arc(0.6, 0.22, 0.22, 0.2, 90, -40),
                           _line((0.12, 1.0), (0.9, 1.0)))]},
    3: {"cursive": [_joined(_arc(0.48, 0.26, 0.28, 0.24, 160, -70), _line((0.38, 0.5)),
                            _arc(0.4, 0.47, 0.06, 0.05, 180, 360), _arc(0.48, 0.74, 0.3, 0.26, 85, -160))],
        "flat-top": [_joined(_line((0.15, 0.0), (0.85, 0.0), (0.42, 0.4)), _arc(0.5, 0.7, 0.33, 0.3, 110, -160))],
        "two-humps": [_joined(_arc(0.45, 0.25, 0.3, 0.25, 150, -90), _arc(0.45, 0.75, 0.34, 0.25, 90, -150))]},
    4: {"open": [_line((0.32, 0.0), (0.1, 0.64), (0.92, 0.64)), _line((0.7, 0.08), (0.66, 1.0))],
        "open-tall": [_line((0.22, 0.12), (0.18, 0.55), (0.88, 0.55)), _line((0.68, 0.0), (0.68, 1.0))],
        "crossed": [_line((0.4, 0.0), (0.05, 0.7), (0.95, 0.68)), _line((0.72, 0.3), (0.72, 1.0))]},
    5: {"flag-last": [_joined(_line((0.3, 0.0), (0.25, 0.42)), _arc(0.5, 0.68, 0.32, 0.3, 150, -160)),
                      _line((0.3, 0.0), (0.85, -0.02))],
        "one-stroke": [_joined(_line((0.88, 0.1), (0.85, 0.0), (0.32, 0.02), (0.25, 0.4)),
                               _arc(0.52, 0.66, 0.3, 0.32, 145, -175))],
        "round": [_joined(_line((0.75, 0.02), (0.35, 0.05), (0.3, 0.45)), _arc(0.5, 0.7, 0.3, 0.3, 130, -190))]},
    6: {"curved": [_joined(_arc(0.8, 0.6, 0.6, 0.6, 100, 185), _arc(0.5, 0.75, 0.27, 0.25, 180, -180))],
        "straight": [_joined(_line((0.62, 0.0), (0.28, 0.6)), _arc(0.5, 0.76, 0.24, 0.24, 160, -200))],
        "small-loop": [_joined(_arc(0.85, 0.75, 0.65, 0.75, 100, 180), _arc(0.45, 0.82, 0.22, 0.18, 180, -180))]},
    7: {"bar": [_line((0.12, 0.12), (0.18, 0.0), (0.88, 0.0), (0.4, 1.0)), _line((0.3, 0.5), (0.82, 0.48))],
        "bar-long": [_line((0.1, 0.02), (0.9, 0.0), (0.5, 1.0)), _line((0.35, 0.52), (0.95, 0.5))],
        "hooked": [_joined(_line((0.1, 0.15), (0.14, 0.02), (0.88, 0.0)), _arc(-0.1, 0.05, 0.95, 0.95, 0, -60))]},
    8: {"cursive": [_eight_cursive(0.22, 0.3)],
        "loops": [_eight_loops()],
        "snowman": [_arc(0.5, 0.24, 0.18, 0.22, 270, -90), _arc(0.5, 0.72, 0.3, 0.28, 90, 450)]},
    9: {"tail": [_joined(_arc(0.48, 0.28, 0.26, 0.26, 10, 370), _arc(0.2, 0.28, 0.54, 0.72, 0, -95))],
        "straight": [_joined(_arc(0.5, 0.28, 0.28, 0.27, 0, 360), _line((0.78, 0.28), (0.74, 1.0)))],
        "g-like": [_joined(_arc(0.45, 0.28, 0.27, 0.26, 20, 375), _line((0.72, 0.85)),
                           _arc(0.5, 0.85, 0.22, 0.15, 0, -160))]},
}


def writers(rng, n: int = WRITERS) -> list[dict]:
    """`n` made-up writers: each with a slant, a width, a thin or a common pen, and a form of each digit."""
    out = []
    for _ in range(n):
        out.append({"slant": float(rng.choice([rng.uniform(-0.15, 0.05), rng.uniform(0.1, 0.5)], p=[0.3, 0.7])),
                    "aspect": float(rng.uniform(0.6, 1.05)), "thin": bool(rng.random() < 0.4),
                    "forms": {d: str(rng.choice(sorted(FORMS[d]))) for d in FORMS}})
    return out


def written(label: int, writer: dict, rng) -> list[np.ndarray]:
    """One sample of `label` in `writer`'s hand (strokes centred on 0, about one unit tall): their
    form (one time in five another), aspect and slant, bent a little as every sample is."""
    forms = FORMS[label]
    name = writer["forms"][label] if rng.random() >= 0.2 else str(rng.choice(sorted(forms)))
    aspect = writer["aspect"] * rng.uniform(0.9, 1.1) * (0.75 if label == 0 and name == "narrow" else 1.0)
    slant = writer["slant"] + rng.normal(0, 0.05)
    turn = np.radians(rng.uniform(-6, 6))
    phase, amp = rng.uniform(0, 2 * np.pi, 2), rng.uniform(0.0, 0.03, 2)
    c, s = np.cos(turn), np.sin(turn)
    out = []
    for stroke in forms[name]:
        x, y = (stroke[:, 0] - 0.5) * aspect, stroke[:, 1] - 0.5
        x = x + amp[0] * np.sin(2 * np.pi * y + phase[0]) - slant * y
        y = y + amp[1] * np.sin(2 * np.pi * x + phase[1])
        out.append(np.stack([c * x - s * y, s * x + c * y], axis=1))
    return out


def _samples(per_class: int, rng):
    """(label, writer) for each picture of a set: the writers made first, then per_class of each digit."""
    hands = writers(rng)
    for label in range(10):
        for _ in range(per_class):
            yield label, hands[int(rng.integers(len(hands)))]


def drawings(per_class: int, rng) -> list[tuple[np.ndarray, int]]:
    """Canvas drawings: RGBA 280x280, white strokes on black; a thin-pen writer draws with the
    slider's thinnest brushes (5-8 px), the others with any (5-40 px)."""
    out = []
    for label, writer in _samples(per_class, rng):
        height = rng.uniform(70, 220)
        brush = rng.uniform(5, 8) if writer["thin"] else rng.uniform(5, min(40, height / 5))
        strokes = written(label, writer, rng)
        ink = _render(strokes, (280, 280), height, _place(rng, (280, 280), height, brush / 2), brush)
        gray = (ink * 255).astype(np.uint8)
        out.append((np.dstack([gray, gray, gray, np.full_like(gray, 255)]), label))
    return out


LOW_RESOLUTION = 0.25        # the share of photos that are a small digit enlarged


def photos(per_class: int, rng) -> list[tuple[np.ndarray, int]]:
    """Photos of pen handwriting on paper, 360x480 gray: dark ink 1-2 px wide (a thin pen) or
    2-5 px, unevenly lit, with noise, blur, a slight perspective and JPEG; LOW_RESOLUTION of them
    a digit 16-24 px tall enlarged to fill the picture."""
    out = []
    for label, writer in _samples(per_class, rng):
        strokes = written(label, writer, rng)
        if rng.random() < LOW_RESOLUTION:
            out.append((_low_resolution(strokes, writer, rng), label))
        else:
            out.append((_photo(strokes, writer, rng), label))
    return out


def _photo(strokes, writer, rng) -> np.ndarray:
    shape, height = (360, 480), rng.uniform(80, 260)
    pen = rng.uniform(1.2, 2.2) if writer["thin"] else rng.uniform(2.2, 5.0)
    ink = _render(strokes, shape, height, _place(rng, shape, height, 10), pen)
    page = _paper(rng, shape, rng.uniform(175, 245)) * (1 - rng.uniform(0.55, 0.85) * ink)
    return _camera(page, rng, blur=rng.uniform(0.4, 1.0))


def _low_resolution(strokes, writer, rng) -> np.ndarray:
    """A digit a few pixels tall (a scan or a far photo), enlarged to the photo's size: its strokes
    are wide blurs, not thin lines."""
    import cv2
    small_shape, height = (36, 48), rng.uniform(16, 24)
    pen = rng.uniform(1.0, max(1.1, height / 12))       # a pen a twelfth of the digit at most: holes stay open
    ink = _render(strokes, small_shape, height, _place(rng, small_shape, height, 1), pen)
    page = _paper(rng, small_shape, rng.uniform(185, 240)) * (1 - rng.uniform(0.6, 0.85) * ink)
    how = rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC])
    page = cv2.resize(page.astype(np.float32), (480, 360), interpolation=int(how))
    return _camera(page, rng, blur=rng.uniform(0.8, 2.0))


def _camera(page: np.ndarray, rng, blur: float) -> np.ndarray:
    """A page as a phone keeps it: a slight perspective, blur, sensor noise, JPEG."""
    import cv2
    h, w = page.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = (src + rng.uniform(-0.04, 0.04, (4, 2)) * [w, h]).astype(np.float32)
    page = cv2.warpPerspective(page.astype(np.float32), cv2.getPerspectiveTransform(src, dst), (w, h),
                               borderMode=cv2.BORDER_REPLICATE)
    page = cv2.GaussianBlur(page, (0, 0), blur) + rng.normal(0, rng.uniform(2, 6), page.shape)
    ok, jpeg = cv2.imencode(".jpg", np.clip(page, 0, 255).astype(np.uint8),
                            [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 92))])
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)


SETS = {"other_hands_drawings": drawings, "other_hands_photos": photos}
