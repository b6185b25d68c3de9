"""Handwriting that is not MNIST, made here: digits written as pen strokes.

Each digit 0-9 has a few stroke skeletons (an open and a closed 4, a 7 with and without its bar,
...). A sample bends one of them (slant, rotation, width, a smooth wobble of every point) and
renders it three ways, the three kinds of picture students bring:

- `drawings`: white strokes on the Draw page's black 280x280 canvas, at any brush width, size
  and position the canvas allows;
- `pen_photos`: thin dark ink on light paper, lit unevenly, with sensor noise and mild blur;
- `marker_photos`: one digit in thick marker on grey or white paper, photographed: a shadow, a
  slight perspective, blur and JPEG compression.

`bold_five` is one such photo that an earlier pipeline split into four "digits".
Every set is a list of (image, label); the same seed gives the same set.
"""
from __future__ import annotations

import numpy as np

Stroke = np.ndarray         # (n, 2) points, x and y in a unit box (y down)


def _arc(cx, cy, rx, ry, start, end, n=24) -> Stroke:
    """Points of an elliptic arc; angles in degrees, counter-clockwise as seen (0 = right, 90 = top)."""
    t = np.radians(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(t), cy - ry * np.sin(t)], axis=1)


def _line(*points) -> Stroke:
    return np.array(points, dtype=float)


def _joined(*parts: Stroke) -> Stroke:
    return np.concatenate(parts)


SKELETONS: dict[int, list[list[Stroke]]] = {
    0: [[_arc(0.5, 0.5, 0.3, 0.48, 95, 455)],
        [_arc(0.5, 0.5, 0.24, 0.48, 80, 445)]],
    1: [[_line((0.5, 0.0), (0.5, 1.0))],
        [_line((0.3, 0.22), (0.55, 0.0), (0.55, 1.0))],
        [_line((0.35, 0.2), (0.55, 0.0), (0.55, 1.0)), _line((0.35, 1.0), (0.75, 1.0))]],
    2: [[_joined(_arc(0.5, 0.3, 0.28, 0.28, 160, -40), _line((0.2, 1.0), (0.82, 1.0)))],
        [_joined(_arc(0.5, 0.28, 0.26, 0.26, 170, -30), _line((0.25, 0.95)),
                 _arc(0.45, 0.93, 0.2, 0.1, 200, 340), _line((0.85, 1.0)))]],
    3: [[_arc(0.48, 0.27, 0.27, 0.24, 150, -90), _arc(0.48, 0.74, 0.3, 0.26, 90, -150)],
        [_joined(_line((0.2, 0.02), (0.75, 0.02), (0.45, 0.42)), _arc(0.48, 0.7, 0.3, 0.28, 100, -150))]],
    4: [[_line((0.65, 1.0), (0.65, 0.0), (0.12, 0.68), (0.88, 0.68))],
        [_line((0.25, 0.0), (0.18, 0.6), (0.85, 0.6)), _line((0.66, 0.15), (0.66, 1.0))]],
    5: [[_joined(_line((0.8, 0.0), (0.3, 0.0), (0.25, 0.45)), _arc(0.5, 0.68, 0.3, 0.3, 140, -150))],
        [_line((0.3, 0.02), (0.25, 0.45)), _arc(0.5, 0.68, 0.28, 0.3, 140, -150), _line((0.3, 0.02), (0.8, 0.0))]],
    6: [[_joined(_arc(0.75, 0.62, 0.5, 0.62, 95, 180), _arc(0.51, 0.73, 0.26, 0.26, 180, -180))],
        [_joined(_line((0.7, 0.0), (0.3, 0.55)), _arc(0.5, 0.72, 0.25, 0.27, 160, -200))]],
    7: [[_line((0.15, 0.0), (0.85, 0.0), (0.4, 1.0))],
        [_line((0.15, 0.05), (0.85, 0.0), (0.45, 1.0)), _line((0.38, 0.5), (0.78, 0.5))]],
    8: [[_arc(0.5, 0.25, 0.22, 0.24, 0, 360), _arc(0.5, 0.74, 0.27, 0.26, 0, 360)],
        [_joined(_arc(0.5, 0.25, 0.22, 0.24, -60, 240), _line((0.75, 0.62)), _arc(0.5, 0.74, 0.27, 0.26, 30, -210),
                 _line((0.61, 0.46)))]],
    9: [[_arc(0.48, 0.3, 0.26, 0.28, 0, 360), _line((0.74, 0.3), (0.7, 1.0))],
        [_joined(_arc(0.47, 0.3, 0.26, 0.28, -10, 370), _arc(0.25, 0.3, 0.48, 0.7, 0, -85))]],
}


def _bent(label: int, rng) -> list[Stroke]:
    """One skeleton of `label`, written by a new hand: aspect, slant, rotation and a smooth wobble."""
    strokes = SKELETONS[label][int(rng.integers(len(SKELETONS[label])))]
    aspect, slant, turn = rng.uniform(0.75, 1.15), rng.uniform(-0.3, 0.3), np.radians(rng.uniform(-10, 10))
    phase, amp = rng.uniform(0, 2 * np.pi, 4), rng.uniform(0.0, 0.04, 2)
    out = []
    for s in strokes:
        x, y = (s[:, 0] - 0.5) * aspect, s[:, 1] - 0.5
        x = x + amp[0] * np.sin(2 * np.pi * y + phase[0]) + slant * -y
        y = y + amp[1] * np.sin(2 * np.pi * x + phase[1])
        c, si = np.cos(turn), np.sin(turn)
        out.append(np.stack([c * x - si * y, si * x + c * y], axis=1))
    return out


def _render(strokes: list[Stroke], shape, height: float, centre, width: float) -> np.ndarray:
    """Strokes as ink in [0, 1] on a float image of `shape`, the digit `height` px tall at `centre`."""
    import cv2
    ink = np.zeros(shape, np.uint8)
    pts = [np.round((s * height + centre) * 16).astype(np.int32) for s in strokes]   # 4 fractional bits
    cv2.polylines(ink, pts, False, 255, max(1, int(round(width))), cv2.LINE_AA, shift=4)
    return ink.astype(np.float32) / 255.0


def _place(rng, shape, height: float, margin: float) -> np.ndarray:
    """A centre that keeps a digit of `height` (and a margin) inside the picture."""
    h, w = shape
    half = 0.62 * height + margin             # a bent skeleton reaches past its unit box
    return np.array([rng.uniform(half, max(half + 1, w - half)), rng.uniform(half, max(half + 1, h - half))])


def drawings(per_class: int, rng) -> list[tuple[np.ndarray, int]]:
    """Canvas drawings: RGBA 280x280, white strokes of any brush width (5-40 px) on black."""
    out = []
    for label in range(10):
        for _ in range(per_class):
            height = rng.uniform(70, 210)
            brush = rng.uniform(5, min(40, height / 4))
            ink = _render(_bent(label, rng), (280, 280), height, _place(rng, (280, 280), height, brush / 2), brush)
            gray = (ink * 255).astype(np.uint8)
            out.append((np.dstack([gray, gray, gray, np.full_like(gray, 255)]), label))
    return out


def _paper(rng, shape, level: float) -> np.ndarray:
    """Paper of brightness `level`, lit unevenly: a ramp in a random direction."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    return level * (1 - rng.uniform(0.1, 0.35) * ramp)


def pen_photos(per_class: int, rng) -> list[tuple[np.ndarray, int]]:
    """Photos of pen handwriting: 480x360 gray, dark ink 2-6 px wide on light, unevenly lit paper."""
    import cv2
    out = []
    for label in range(10):
        for _ in range(per_class):
            shape, height = (360, 480), rng.uniform(70, 260)
            ink = _render(_bent(label, rng), shape, height, _place(rng, shape, height, 10), rng.uniform(2, 6))
            paper = _paper(rng, shape, rng.uniform(185, 245))
            photo = paper * (1 - rng.uniform(0.6, 0.85) * ink) + rng.normal(0, rng.uniform(2, 7), shape)
            photo = cv2.GaussianBlur(np.clip(photo, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.5, 1.2))
            out.append((photo, label))
    return out


def pen_page(labels: list[int], rng) -> np.ndarray:
    """Several digits written in a row with a pen on one page, photographed: 360 px tall, gray."""
    import cv2
    height, gap = 150.0, 120
    shape = (360, gap * (len(labels) + 1))
    ink = np.zeros(shape, np.float32)
    for i, label in enumerate(labels):
        centre = np.array([gap * (i + 1) + rng.uniform(-8, 8), 180 + rng.uniform(-15, 15)])
        ink = np.maximum(ink, _render(_bent(label, rng), shape, height * rng.uniform(0.9, 1.1), centre, rng.uniform(3, 5)))
    photo = _paper(rng, shape, rng.uniform(200, 240)) * (1 - 0.8 * ink) + rng.normal(0, 3, shape)
    return cv2.GaussianBlur(np.clip(photo, 0, 255).astype(np.uint8), (0, 0), 0.8)


def _photographed(page: np.ndarray, rng, quality: int) -> np.ndarray:
    """A page as a phone sees it: a soft shadow, a slight perspective, blur, JPEG."""
    import cv2
    h, w = page.shape
    shadow = np.zeros((h, w), np.float32)
    corner = rng.uniform([0, 0], [w, h])
    poly = np.array([corner, corner + rng.uniform([w * 0.4, -h * 0.2], [w * 0.9, h * 0.2]),
                     corner + rng.uniform([w * 0.3, h * 0.5], [w, h]), corner + rng.uniform([-w * 0.2, h * 0.4], [0, h])])
    cv2.fillPoly(shadow, [poly.astype(np.int32)], 1.0)
    shadow = cv2.GaussianBlur(shadow, (0, 0), rng.uniform(6, 25))
    page = page * (1 - rng.uniform(0.2, 0.45) * shadow)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = (src + rng.uniform(-0.06, 0.06, (4, 2)) * [w, h]).astype(np.float32)
    page = cv2.warpPerspective(page.astype(np.float32), cv2.getPerspectiveTransform(src, dst), (w, h),
                               borderMode=cv2.BORDER_REPLICATE)
    page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.8, 2.2)) + rng.normal(0, 3, page.shape)
    ok, jpeg = cv2.imencode(".jpg", np.clip(page, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)


def marker_photo(label: int, rng, grey: bool, bold: float | None = None) -> np.ndarray:
    """One digit in thick marker (10-16% of its height, or `bold`) on grey or white paper, photographed."""
    shape, height = (480, 640), rng.uniform(150, 380)
    width = height * (bold if bold is not None else rng.uniform(0.10, 0.16))
    ink = _render(_bent(label, rng), shape, height, _place(rng, shape, height, width), width)
    level = rng.uniform(115, 170) if grey else rng.uniform(200, 245)
    page = _paper(rng, shape, level) * (1 - rng.uniform(0.7, 0.9) * ink)
    return _photographed(page, rng, int(rng.integers(40, 86)))


def marker_photos(per_class: int, rng) -> list[tuple[np.ndarray, int]]:
    return [(marker_photo(label, rng, grey=bool(i % 2)), label) for label in range(10) for i in range(per_class)]


def bold_five(seed: int = 5) -> np.ndarray:
    """A clear photo of a bold 5 on grey paper (stroke 20% of its height)."""
    return marker_photo(5, np.random.default_rng(seed), grey=True, bold=0.2)


SETS = {"drawings": drawings, "pen_photos": pen_photos, "marker_photos": marker_photos}
