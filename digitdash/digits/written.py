"""Handwriting augmentation (RunConfig.written): training digits rewritten as other hands write them.

MNIST's digits are written by one population of writers with one kind of pen. A variant of a digit
here is the same digit by another hand: a thinner or thicker pen, a slant, a narrower or wider
letter, a smooth elastic wobble of the whole stroke, sometimes the blur of a low-resolution picture,
and for a 1 or a 7 now and then the strokes a European writer adds (a 1's long flag and base, a 7's
bar). Each variant is framed again as MNIST frames a digit (fit_mnist_box), so it looks like what
the Draw page makes of a drawing or a photo.

Variants are made once per run, before training, from the run's seed, and put before the training
images. The validation split stays the last part of the arrays and holds the same original images
as without variants, plus variants of those only: no variant of a validation image is trained on.
"""
from __future__ import annotations

import math

import numpy as np

SHARE = 1.0            # variants made: one for this share of the images (each image at most once)
SIDE = 56              # px: a digit is rewritten at twice MNIST's size, then framed back to 28x28
PAD = 14               # px around it, so a slant or a wider letter is not cut off
EUROPEAN = 0.5         # the share of 1s and 7s given a European flag or bar
LOW_RESOLUTION = 0.15  # the share of variants blurred as a small digit enlarged


def variant(image: np.ndarray, label: int, rng) -> np.ndarray:
    """One 28x28 uint8 digit (white on black) rewritten by another hand: a new 28x28 uint8 digit."""
    import cv2

    from digitdash.digits.preprocess import fit_mnist_box
    big = cv2.resize(np.asarray(image, np.uint8).reshape(28, 28), (SIDE, SIDE), interpolation=cv2.INTER_LINEAR)
    big = np.pad(big, PAD)
    if label in (1, 7) and rng.random() < EUROPEAN:
        big = european(big, label, rng)
    big = warped(big, slant=rng.uniform(-0.25, 0.45), aspect=rng.uniform(0.55, 1.15),
                 turn=rng.uniform(-8, 8), bend=rng.uniform(1.0, 3.5), rng=rng)
    big = pen(big, int(rng.choice([-1, 0, 1, 2], p=[0.35, 0.25, 0.3, 0.1])))
    if rng.random() < LOW_RESOLUTION:
        big = low_resolution(big, rng)
    ys, xs = np.nonzero(big > 40)
    if len(ys) == 0:                    # nothing left (never expected): the digit as it was
        return np.asarray(image, np.uint8).reshape(28, 28)
    crop = np.where(big > 40, big, 0)[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.uint8)
    return fit_mnist_box(crop)


def warped(img: np.ndarray, slant: float, aspect: float, turn: float, bend: float, rng) -> np.ndarray:
    """The digit slanted (`slant`: how far the top leans right per unit of height; a variant takes
    -0.25 to 0.45, most writers lean right), narrower or wider (`aspect`: its width times this),
    turned `turn` degrees and bent by a smooth random displacement of about `bend` px (Simard's
    elastic distortion: noise blurred to a few pixels' scale), all in one resampling."""
    import cv2
    h, w = img.shape
    turn = np.radians(turn)
    c, s = np.cos(turn), np.sin(turn)
    forward = np.array([[c, -s], [s, c]]) @ np.array([[1, -slant], [0, 1]]) @ np.diag([aspect, 1.0])
    back = np.linalg.inv(forward)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    u, v = xx - cx, yy - cy
    src_x = back[0, 0] * u + back[0, 1] * v + cx
    src_y = back[1, 0] * u + back[1, 1] * v + cy
    for field in (src_x, src_y) if bend else ():      # px at SIDE: 1-3.5 is 0.5-1.8 px at MNIST's size
        noise = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), 8)
        field += bend * noise / max(float(noise.std()), 1e-6)
    return cv2.remap(img, src_x.astype(np.float32), src_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def pen(img: np.ndarray, change: int) -> np.ndarray:
    """Another pen, `change` pixels of SIDE wider on each side (half that at MNIST's size): -1 a
    thinner pen, 1 or 2 a thicker one. A thinner pen that would wipe out most of the ink keeps the
    stroke as it was."""
    import cv2
    if change == 0:
        return img
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(int(change)) + 1,) * 2)
    if change > 0:
        return cv2.dilate(img, kernel)
    thinner = cv2.erode(img, kernel)
    return thinner if (thinner > 100).sum() >= 0.4 * (img > 100).sum() else img


def low_resolution(img: np.ndarray, rng) -> np.ndarray:
    """The digit as a picture a few pixels tall enlarged again: wide, blurred strokes."""
    import cv2
    h, w = img.shape
    small = int(rng.integers(12, 20)) * h // SIDE          # the digit ~9-15 px tall
    shrunk = cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA)
    big = cv2.resize(shrunk, (w, h), interpolation=cv2.INTER_LINEAR)
    big = cv2.GaussianBlur(big, (0, 0), rng.uniform(0.5, 2.0))
    return cv2.normalize(big, None, 0, 255, cv2.NORM_MINMAX)


def european(img: np.ndarray, label: int, rng) -> np.ndarray:
    """A 1 given a flag from its top down to the left (a third of them a base too), or a 7 given a
    bar across its stem, drawn with the digit's own stroke width."""
    import cv2

    from digitdash.digits.strokes import stroke_width
    mask = img > 100
    ys, xs = np.nonzero(mask)
    if len(ys) < 10:
        return img
    width = max(2, int(round(stroke_width(mask))))
    top_y, bottom_y = ys.min(), ys.max()
    height = bottom_y - top_y
    out = img.copy()
    if label == 1:
        # Stood upright first (a flag on a slanted 1 would read as a 7's top, a base as a 2's):
        # `warped` slants the whole digit afterwards.
        top_x, bottom_x = xs[ys <= top_y + 2].mean(), xs[ys >= bottom_y - 2].mean()
        lean = (top_x - bottom_x) / max(height, 1)
        out = cv2.warpAffine(img, np.float32([[1, -lean, lean * bottom_y], [0, 1, 0]]), img.shape[::-1],
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        top, bottom = np.array([bottom_x, top_y], float), np.array([bottom_x, bottom_y], float)
        angle = np.radians(rng.uniform(30, 60))                   # below the horizontal, toward the left
        end = top + np.array([-np.cos(angle), np.sin(angle)]) * rng.uniform(0.25, 0.5) * height
        cv2.line(out, _point(top), _point(end), 255, width, cv2.LINE_AA)
        if rng.random() < 1 / 3:
            half = rng.uniform(0.2, 0.35) * height
            cv2.line(out, _point(bottom - [half, 0]), _point(bottom + [half, 0]), 255, width, cv2.LINE_AA)
    else:
        y = int(top_y + rng.uniform(0.45, 0.62) * height)
        row = np.flatnonzero(mask[y])
        if not len(row):
            return img
        x = row.mean()
        tilt = rng.uniform(-0.05, 0.05) * height
        left, right = rng.uniform(0.12, 0.3) * height, rng.uniform(0.12, 0.28) * height
        cv2.line(out, _point((x - left, y + tilt)), _point((x + right, y - tilt)), 255, width, cv2.LINE_AA)
    return out


def _point(p) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def sizes(n: int, validation_split: float, share: float = SHARE) -> tuple[int, int, int]:
    """(training images, variants of them, variants of the validation images) for `n` images: the
    last `validation_split` of n + variants is then the validation images and their variants only
    (arrays.split_validation's rule, a ceiling)."""
    trained = math.ceil(n * (1.0 - validation_split)) if validation_split > 0 else n
    held = n - trained
    before = int(round(share * trained))
    if held == 0:
        return trained, before, 0
    after = int(round(share * held))
    for _ in range(n + 1):              # a step changes the split by at most one image: it settles
        total = n + before + after
        last = total - math.ceil(total * (1.0 - validation_split))
        if last == held + after:
            break
        after += 1 if last > held + after else -1
        if after < 0:                   # cannot be met with variants of the held images: none of them
            after = 0
            before -= 1
    return trained, before, after


def added_to(data, seed: int, validation_split: float):
    """(the dataset with handwriting-like variants added, how many were added). The variants of the
    training images come first; those of the validation images just before the validation images, so
    the validation split (the last part) holds the same images as without them. Only 28x28 gray
    digit datasets can take them."""
    from dataclasses import replace

    from digitdash.digits import datasets
    from digitdash.plan.config import ConfigError
    if not datasets.digit_shaped(data.image_shape, data.class_names):
        from digitdash.i18n import Message
        from digitdash.plan import limits
        raise ConfigError("written", True, Message("config.allowed.written_digits", dataset=limits.display(data.name)))
    rng = np.random.default_rng([seed, 2718])
    n = len(data.x_train)
    trained, before, after = sizes(n, validation_split)
    first = rng.choice(trained, before, replace=False) if before else np.zeros(0, int)
    last = trained + rng.choice(n - trained, after, replace=after > n - trained) if after else np.zeros(0, int)
    made = lambda picks: np.stack([variant(data.x_train[i], int(data.y_train[i]), rng)  # noqa: E731
                                   for i in picks]).reshape(-1, *data.image_shape) if len(picks) else \
        data.x_train[:0]
    x = np.concatenate([made(first), data.x_train[:trained], made(last), data.x_train[trained:]])
    y = np.concatenate([data.y_train[first], data.y_train[:trained], data.y_train[last], data.y_train[trained:]])
    return replace(data, x_train=x.astype(data.x_train.dtype), y_train=y), before + after
