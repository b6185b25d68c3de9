"""How well a model trained on MNIST reads handwriting that is not MNIST.

Sources, none from MNIST: the three kinds of picture made in `synthetic` (canvas drawings, pen
photos, marker photos), the two made in `other_hands` (writers' styles MNIST hardly holds: European
1 and 7, open 4, cursive 2, 3 and 8, narrow zeros, slant, thin pens, low resolution; as canvas
drawings and as photos), scikit-learn's bundled UCI digits (8x8 scans by other writers) shown as
large, off-center photos, and digits in OpenCV's stroke fonts. Each picture is read the way the
Draw page reads it (a drawing through `from_canvas`, a photo through `prepare_all`, where a photo
counts as read right only when exactly one digit is found and it is the right one), and again
through the notebook's plain grayscale-and-resize.
"""
from __future__ import annotations

import contextlib
import hashlib
import sys
from functools import cache
from pathlib import Path

import numpy as np

from digitdash import paths
from digitdash.digits import other_hands, preprocess, strokes, synthetic

FONTS = ("FONT_HERSHEY_SIMPLEX", "FONT_HERSHEY_DUPLEX", "FONT_HERSHEY_SCRIPT_SIMPLEX", "FONT_HERSHEY_COMPLEX")


def _paper(rng, h=240, w=320) -> np.ndarray:
    """Light paper lit unevenly: brighter on one side."""
    ramp = np.linspace(rng.uniform(0.65, 0.8), 1.0, w)[None, :] * np.linspace(0.9, 1.0, h)[:, None]
    return 235.0 * ramp


def _finish(paper: np.ndarray, rng) -> np.ndarray:
    return np.clip(paper + rng.normal(0, 6, paper.shape), 0, 255).astype(np.uint8)


def uci_photos(per_class: int, rng) -> list[tuple[np.ndarray, int]]:
    import cv2
    from sklearn.datasets import load_digits
    digits = load_digits()
    out = []
    for label in range(10):
        for idx in rng.choice(np.flatnonzero(digits.target == label), per_class, replace=False):
            size = int(rng.integers(70, 150))
            ink = cv2.resize((digits.images[idx] / 16.0).astype(np.float32), (size, size),
                             interpolation=cv2.INTER_CUBIC).clip(0, 1)
            paper = _paper(rng)
            y, x = int(rng.integers(5, paper.shape[0] - size - 5)), int(rng.integers(5, paper.shape[1] - size - 5))
            region = paper[y:y + size, x:x + size]
            paper[y:y + size, x:x + size] = region * (1 - 0.8 * ink)
            out.append((_finish(paper, rng), label))
    return out


def stroke_digits(per_class: int, rng) -> list[tuple[np.ndarray, int]]:
    import cv2
    out = []
    for label in range(10):
        for i in range(per_class):
            paper = _paper(rng)
            font = getattr(cv2, FONTS[i % len(FONTS)])
            thickness = (2, 5, 9, 14)[(i // len(FONTS)) % 4]
            scale = float(rng.uniform(2.0, 5.0))
            (tw, th), _ = cv2.getTextSize(str(label), font, scale, thickness)
            x = int(rng.integers(0, max(1, paper.shape[1] - tw)))
            y = int(rng.integers(th + 2, max(th + 3, paper.shape[0] - 5)))
            ink = np.zeros(paper.shape, np.uint8)
            cv2.putText(ink, str(label), (x, y), font, scale, 255, thickness, cv2.LINE_AA)
            out.append((_finish(paper * (1 - 0.8 * ink / 255.0), rng), label))
    return out


DRAWN_PER_CLASS, DRAWN_SEED = 20, 2026      # the drawings every run of a digit dataset is read on


@cache
def drawn_digits() -> tuple[np.ndarray, np.ndarray]:
    """(28x28 inputs, labels) of 200 made-here canvas drawings, read as the Draw page reads them:
    every run's `drawings_accuracy`. Made once per process, and kept in the store's cache folder for
    the next process (a second of preprocessing each run saves), under a name that changes with the
    code that draws and reads them."""
    code = hashlib.sha256(f"{DRAWN_PER_CLASS} {DRAWN_SEED}".encode())
    for module in (synthetic, preprocess, strokes, sys.modules[__name__]):
        code.update(Path(module.__file__).read_bytes())
    name = f"drawn-digits-{code.hexdigest()[:16]}.npz"
    try:
        with np.load(paths.cache_dir() / name, allow_pickle=False) as f:
            return f["x"], f["y"]
    except (OSError, ValueError, KeyError):
        pass                                    # not made yet, unreadable, or no cache folder: made now
    items = synthetic.drawings(DRAWN_PER_CLASS, np.random.default_rng(DRAWN_SEED))
    x, y = np.stack([read(image)[0] for image, _ in items]), np.array([label for _, label in items])
    with contextlib.suppress(OSError):          # a full disk, a read-only store: made again next time
        paths.write_atomic(paths.cache_dir() / name, lambda tmp: np.savez(tmp, x=x, y=y))
    return x, y


def drawings_accuracy(store, run_id: str) -> float:
    """How many of the made-here drawings a stored run reads right."""
    from digitdash.reading.predict import run_probabilities
    x, y = drawn_digits()
    return round(float((run_probabilities(store, run_id, x).argmax(1) == y).mean()), 4)


HANDS_PER_CLASS, HANDS_SEED = 20, 2031     # the other hands every run of a digit dataset is read on


@cache
def other_hands_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(28x28 inputs, labels, whether exactly one digit was found) of 400 other-hands pictures
    (`other_hands`: 200 canvas drawings and 200 photos, read as the Draw page reads them): every
    run's `other_hands_accuracy`. Kept in the cache folder like `drawn_digits`."""
    code = hashlib.sha256(f"{HANDS_PER_CLASS} {HANDS_SEED}".encode())
    for module in (other_hands, synthetic, preprocess, strokes, sys.modules[__name__]):
        code.update(Path(module.__file__).read_bytes())
    name = f"other-hands-{code.hexdigest()[:16]}.npz"
    try:
        with np.load(paths.cache_dir() / name, allow_pickle=False) as f:
            return f["x"], f["y"], f["one"]
    except (OSError, ValueError, KeyError):
        pass                                    # not made yet, unreadable, or no cache folder: made now
    items = [item for kind, make in enumerate(other_hands.SETS.values())
             for item in make(HANDS_PER_CLASS, np.random.default_rng([HANDS_SEED, kind]))]
    read_back = [read(image) for image, _ in items]
    x, one = np.stack([r[0] for r in read_back]), np.array([r[1] == 1 for r in read_back])
    y = np.array([label for _, label in items])
    with contextlib.suppress(OSError):
        paths.write_atomic(paths.cache_dir() / name, lambda tmp: np.savez(tmp, x=x, y=y, one=one))
    return x, y, one


def other_hands_accuracy(store, run_id: str) -> float:
    """How many of the other-hands pictures a stored run reads right (a photo split into several
    digits, or with none found, counts as wrong)."""
    from digitdash.reading.predict import run_probabilities
    x, y, one = other_hands_digits()
    return round(float(((run_probabilities(store, run_id, x).argmax(1) == y) & one).mean()), 4)


SOURCES = {**synthetic.SETS, **other_hands.SETS, "uci_photos": uci_photos, "stroke_digits": stroke_digits}
BLANK = np.zeros((28, 28), np.uint8)


def read(image: np.ndarray) -> tuple[np.ndarray, int]:
    """One picture as the Draw page reads it: (the 28x28 input, how many digits were found).
    A canvas drawing (RGBA) is one digit; a photo may hold several. Nothing found is (blank, 0)."""
    try:
        if image.ndim == 3:
            return preprocess.from_canvas(image, keep_steps=False).image, 1
        found = preprocess.prepare_all(image, keep_steps=False)
        return found[0].image, len(found)
    except preprocess.ImageError:
        return BLANK, 0


def source_figures(model_path, items: list[tuple[np.ndarray, int]]) -> dict:
    from digitdash.reading import predict
    labels = np.array([label for _, label in items])
    read_back = [read(image) for image, _ in items]
    inputs = np.stack([x for x, _ in read_back])
    found = np.array([n for _, n in read_back])
    plain = np.stack([preprocess.plain_resize(preprocess.canvas_gray(image) if image.ndim == 3 else image)
                      for image, _ in items])
    right = predict.probabilities(model_path, inputs).argmax(1) == labels
    plain_right = predict.probabilities(model_path, plain).argmax(1) == labels
    return {"images": len(items), "pipeline_accuracy": round(float((right & (found == 1)).mean()), 4),
            "split": int((found > 1).sum()), "nothing_found": int((found == 0).sum()),
            "plain_resize_accuracy": round(float(plain_right.mean()), 4)}


def evaluate(model_path, per_class: int = 30, seed: int = 0, sources=tuple(SOURCES)) -> dict:
    """Accuracy on each source with DigitDash's pipeline and with a plain 28x28 resize, and how
    the bold-5 photo is read (how many digits it was split into, and what they read as)."""
    from digitdash.reading import predict
    figures = {}
    for source in sources:
        figures[source] = source_figures(model_path, SOURCES[source](per_class, np.random.default_rng([seed, len(source)])))
    try:
        found = np.stack([p.image for p in preprocess.prepare_all(synthetic.bold_five(), keep_steps=False)])
    except preprocess.ImageError:
        found = np.zeros((0, 28, 28), np.uint8)
    answers = predict.probabilities(model_path, found).argmax(1) if len(found) else []
    figures["bold_five"] = {"digits_found": len(found), "read_as": [int(a) for a in answers]}
    return figures
