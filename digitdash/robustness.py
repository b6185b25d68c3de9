"""Handwriting that is not MNIST, to check that a model trained on MNIST still reads it.

Two sources, neither from MNIST: scikit-learn's bundled UCI handwritten digits (8x8 scans by other
writers) rendered as large, off-center, dark-on-light photos with uneven light and noise; and
digits drawn with OpenCV's stroke fonts at several stroke widths, sizes and positions.
Each is read twice: through DigitDash's pipeline, and through the notebook's plain
grayscale-and-resize.
"""
from __future__ import annotations

import numpy as np

from . import preprocess

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


def evaluate(model_path, per_class: int = 30, seed: int = 0) -> dict:
    """Accuracy on each source with DigitDash's pipeline and with a plain 28x28 resize."""
    from . import predict
    rng = np.random.default_rng(seed)
    figures = {}
    for source, items in (("uci_photos", uci_photos(per_class, rng)), ("stroke_digits", stroke_digits(per_class, rng))):
        labels = np.array([label for _, label in items])
        pipeline = []
        for gray, _ in items:
            try:
                pipeline.append(preprocess.prepare(gray, keep_steps=False).image)
            except preprocess.ImageError:
                pipeline.append(np.zeros((28, 28), np.uint8))  # counted as a miss
        plain = np.stack([preprocess.plain_resize(gray) for gray, _ in items])
        acc = lambda images: float((predict.probabilities(model_path, np.stack(images)).argmax(1) == labels).mean())  # noqa: E731
        figures[source] = {"images": len(items), "pipeline_accuracy": round(acc(pipeline), 4),
                           "plain_resize_accuracy": round(acc(list(plain)), 4)}
    return figures
