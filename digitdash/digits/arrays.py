"""What every run kind does with the decoded arrays: the validation split Keras makes, pixels as
flat floats, and the cross-entropy of predicted probabilities."""
from __future__ import annotations

import math

import numpy as np

PROBABILITY_FLOOR = 1e-7     # as Keras clips: a confident wrong answer costs -ln(1e-7), not infinity


def split_validation(x, y, fraction: float):
    """The last `fraction` of the training arrays is validation, as Keras' validation_split does."""
    if fraction <= 0:
        return (x, y), (x[:0], y[:0])
    at = int(math.ceil(len(x) * (1.0 - fraction)))
    return (x[:at], y[:at]), (x[at:], y[at:])


def flat(x: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W, C) -> float32 rows of pixels / 255, as the non-Keras kinds see them."""
    return x.reshape(len(x), -1).astype(np.float32) / 255.0


def cross_entropy(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean -ln(probability given to the true class)."""
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], PROBABILITY_FLOOR, 1.0))))
