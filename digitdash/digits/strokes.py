"""Pen strokes: how wide they are, and a digit redrawn with MNIST's pen.

MNIST's strokes are about 2.6 px wide in its 20x20 box; a drawing made with a 40 px brush, or a
photo of a fine pen, is far from that once scaled, and a network trained on MNIST reads it worse.
"""
from __future__ import annotations

import numpy as np


def stroke_width(mask: np.ndarray) -> float:
    """The typical width of the strokes in a binary mask, in pixels: twice the median distance
    from the middle of a stroke (its ridge) to its edge. 0 when there is no ink."""
    import cv2
    ink = (np.asarray(mask) > 0).astype(np.uint8)
    if not ink.any():
        return 0.0
    dist = cv2.distanceTransform(np.pad(ink, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ridge = (dist > 0) & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    return float(2 * np.median(dist[ridge]))


STROKE = 0.13           # MNIST's stroke width over the longer side of its digit (2.6 px of the 20x20 box)
WORK_SIDE = 80          # px: strokes are evened on the digit scaled to this longer side


BLURRED = 0.4           # share of a thick digit's ink that is only partly inked: above it, the ink is blurred


def blurred(ink: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the ink fades over much of its strokes' width (a blurred or low-resolution picture,
    such as a scan of a few pixels enlarged), rather than having crisp edges (a drawing, a marker,
    a pen). Measured on and around the mask, from the background's level (grey paper is not ink):
    the share of pixels between 15% and 80% of the ink's strength. Crisp thick strokes: about
    0.1-0.3 (the edges only); an enlarged 8x8 scan: 0.5-0.65."""
    import cv2
    inked = mask > 0
    if not inked.any():
        return False
    around = cv2.dilate(inked.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    ink = np.asarray(ink, np.float32)
    background = float(np.median(ink[~around])) if (~around).any() else 0.0
    strength = float(np.percentile(ink[inked], 90)) - background
    if strength <= 0:
        return False
    values = ink[around] - background
    return float(((values > 0.15 * strength) & (values < 0.8 * strength)).mean()) > BLURRED


def even_strokes(mask: np.ndarray, ink: np.ndarray | None = None) -> np.ndarray | None:
    """A digit whose strokes are much thicker or thinner than MNIST's, brought to MNIST's width.
    Crisp strokes are thinned to their centre lines, then drawn over them with a round pen of that
    width. Strokes that look thick only because the picture is blurred (`ink`, the gray digit, says
    so) are not: a blurred stroke is not a thick pen, and its centre lines lose the shape that the
    blur still holds; it is slimmed instead (`slimmed`). None when the strokes are already near
    MNIST's: the digit is kept as it is."""
    import cv2
    h, w = mask.shape
    scale = WORK_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    work = (cv2.resize((mask > 0).astype(np.float32), size, interpolation=cv2.INTER_AREA) >= 0.5).astype(np.uint8)
    pen = STROKE * WORK_SIDE
    width = stroke_width(work)
    if width == 0 or 0.7 * pen <= width <= 1.4 * pen:
        return None
    if width > 1.4 * pen and ink is not None and blurred(
            cv2.resize(np.asarray(ink, np.float32), size, interpolation=cv2.INTER_AREA), work):
        inked = np.where(mask > 0, np.asarray(ink, np.float32), 0)
        return slimmed(cv2.resize(inked, size, interpolation=cv2.INTER_AREA), width - pen)
    work = np.pad(work, int(pen))
    lines = thinned(work)
    drawn = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(round(pen)) | 1,) * 2))
    drawn = cv2.GaussianBlur(drawn.astype(np.float32) * 255, (0, 0), 1.2)
    ys, xs = np.nonzero(drawn > 8)
    return np.clip(drawn[ys.min():ys.max() + 1, xs.min():xs.max() + 1], 0, 255).astype(np.uint8)


def slimmed(ink: np.ndarray, excess: float) -> np.ndarray:
    """A blurred digit (gray, ink bright) whose strokes are `excess` px wider than MNIST's, made
    thinner by a grey-level erosion that takes half the excess off: every stroke keeps its course,
    its ends and its blur, and no line is drawn anew. Half, because a blurred stroke's mask spreads
    past the stroke into the blur around it (half read the scanned digits best)."""
    import cv2
    side = int(round(excess / 2)) + 1
    if side > 1:
        ink = cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    return np.clip(ink, 0, 255).astype(np.uint8)


def thinned(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: a binary mask reduced to lines one pixel wide that keep its shape."""
    img = np.pad((np.asarray(mask) > 0).astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            p = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],          # N, NE, E, SE
                 img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]]         # S, SW, W, NW
            count = sum(q.astype(np.int8) for q in p)
            turns = sum(((p[i] == 0) & (p[(i + 1) % 8] == 1)).astype(np.int8) for i in range(8))
            n, e, s, w = p[0], p[2], p[4], p[6]
            if step == 0:
                side = ((n & e & s) == 0) & ((e & s & w) == 0)
            else:
                side = ((n & e & w) == 0) & ((n & s & w) == 0)
            gone = (c == 1) & (count >= 2) & (count <= 6) & (turns == 1) & side
            if gone.any():
                c[gone] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1]
