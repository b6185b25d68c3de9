"""Any picture of a digit -> the 28x28 white-on-black input MNIST models were trained on.

MNIST digits are white on black, size-normalized into a 20x20 box (aspect kept) and centered
by center of mass in 28x28. Every step is kept so a page can show it.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from digitdash.digits.strokes import blurred, even_strokes, stroke_width
from digitdash.i18n import Message, Problem

MAX_PIXELS = 40_000_000          # larger images are refused before decoding
MAX_SIDE = 1024                  # larger images are shrunk to this before any other step (bounded cost)
MIN_SIDE = 8
MAX_BYTES = 80_000_000           # decoded pixels as Pillow holds them (40 megapixels of 16-bit gray, 20 of
                                 # colour or 32-bit): more are refused before decoding
# The pictures read: their file endings (what the Draw page's upload box offers) and their names
# (what the box and the messages say). Pillow decodes each; an animated or multi-page one is refused.
EXTENSIONS = ("png", "jpg", "jpeg", "bmp", "webp", "gif", "tif", "tiff")
FORMATS = "PNG, JPEG, BMP, WebP, GIF, TIFF"
MAX_DIGITS = 12                  # digits read from one picture: "0123456789" or a date fits, a page of them does not
BAND_PIXELS = 250_000           # a large picture is converted this many pixels at a time (bounded memory)


class ImageError(Problem):
    """An input that cannot become a digit; the message says why and what is accepted."""


@dataclass
class Prepared:
    image: np.ndarray                               # 28x28 uint8, white digit on black
    steps: list[tuple[Message, np.ndarray]] = field(default_factory=list)


def decode(data: bytes) -> np.ndarray:
    """Bytes of a PNG, JPEG, BMP, WebP, TIFF, ... -> 8-bit grayscale array (transparent pixels are
    background), EXIF-rotated, at most MAX_SIDE on its longer side.

    Its cost is bounded whatever the file holds: the size is checked before decoding, a large JPEG
    is decoded at a reduced scale, and a large picture of any other pixel format is brought to 8
    bits and shrunk one band of rows at a time, so beside the decoded pixels only a few megabytes
    are held. 16-bit, 32-bit and float pixels are stretched from their own finite range; a pixel
    with no finite value (NaN, +inf, -inf: no reading) is the paper, the median of the others."""
    from PIL import Image, UnidentifiedImageError
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    size = "?"
    try:
        img = Image.open(io.BytesIO(data))
        size = f"{img.width}x{img.height}"
        if img.width * img.height > MAX_PIXELS:
            raise ImageError("image.too_big", size=size, limit=MAX_PIXELS // 1_000_000)
        if min(img.size) < MIN_SIDE:
            raise ImageError("image.too_small", size=size, side=MIN_SIDE)
        if getattr(img, "n_frames", 1) > 1:
            raise ImageError("image.animated", formats=FORMATS)
        if max(img.size) > MAX_SIDE:
            img.draft(None, (2 * MAX_SIDE, 2 * MAX_SIDE))    # a JPEG decodes at 1/2, 1/4 or 1/8 scale
        heavy = decoded_bytes(img)
        if heavy > MAX_BYTES:
            per_pixel = heavy / (img.width * img.height)
            raise ImageError("image.too_heavy", size=f"{img.width}x{img.height}", mode=_KINDS.get(img.mode, img.mode),
                             mb=heavy // 1_000_000, limit=MAX_BYTES // 1_000_000,
                             most=round(MAX_BYTES / per_pixel / 1_000_000))
        img.load()
        turn = _orientation(img)                            # read once decoded: a PNG's EXIF may follow its pixels
        if turn is not None and heavy <= 48_000_000:        # a photo of up to 12 megapixels is turned
            img, turn = img.transpose(turn), None           # before it is shrunk, as it always was
        img = shrunk(img)
        if turn is not None:
            img = img.transpose(turn)                       # a very large picture once it is small
        if min(img.size) < MIN_SIDE:
            raise ImageError("image.too_small", size=f"{img.width}x{img.height}", side=MIN_SIDE)
        return to_gray(img)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError("image.bomb", reason=str(exc), formats=FORMATS) from None
    except UnidentifiedImageError:
        raise ImageError("image.unreadable", formats=FORMATS) from None
    except MemoryError:
        raise ImageError("image.too_big", size=size, limit=MAX_PIXELS // 1_000_000) from None
    except Exception as exc:        # noqa: BLE001 - a damaged file can fail anywhere in a decoder
        raise ImageError("image.damaged", reason=str(exc) or type(exc).__name__) from None


def decoded_bytes(img) -> int:
    """Bytes the decoded picture takes in Pillow: 1 a pixel for gray, bitmap and palette, 2 for
    16-bit gray, 4 for everything else (RGB is held as 4 bytes, like RGBA, 32-bit and float)."""
    mode = img.mode
    per_pixel = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    return img.width * img.height * per_pixel


_KINDS = {"F": "float32", "I": "int32", "I;16": "uint16", "I;16B": "uint16", "I;16L": "uint16", "I;16N": "uint16"}


def _orientation(img):
    """The transpose that the EXIF (or XMP) orientation asks for, read as ImageOps.exif_transpose
    reads it; None when the picture is upright or its EXIF cannot be read."""
    from PIL import Image
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:               # noqa: BLE001 - a damaged EXIF block: the picture as stored
        return None
    return {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}.get(orientation)


WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")     # more than 8 bits a pixel
PLAIN_MODES = ("1", "L", "RGB")                                 # shrunk as they are, in place


def shrunk(img):
    """A PIL image no larger than MAX_SIDE on its longer side (aspect kept): a photo's digit keeps
    far more pixels than the 20x20 it becomes, and every later step costs a bounded time.

    Gray, RGB and bitmap pictures are shrunk in place (Pillow's thumbnail, BOX). Any other pixel
    format is brought to 8-bit gray (L), or gray premultiplied by its transparency (La), one band
    of rows at a time, each band reduced as it is made, so no full-size copy is ever held: 32-bit
    and float pixels are first averaged in place by whole factors, then stretched to 8 bits."""
    from PIL import Image
    if max(img.size) <= MAX_SIDE:
        return img
    if img.mode in PLAIN_MODES:
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
        return img
    w, h = img.size
    size, factor = _thumbnail_plan(img.size)
    box = (0, 0, w / factor[0], h / factor[1])              # where Pillow's thumbnail resizes from
    if img.mode in WIDE_MODES:      # 16-bit and float pixels: scaled to 8 bits first, never clipped
        stretch = _stretcher(*_levels(img))                 # the whole picture's range
        if img.mode in ("I", "F") and factor != (1, 1):
            # Averaged as floats first (Pillow's reduce of 32-bit integers overflows); a NaN or an
            # inf spreads over its block, which is then paper.
            img, factor = _banded(img, factor, "F", lambda band: _converted(band, "F")), (1, 1)
        small = _banded(img, factor, "L", lambda band: Image.fromarray(stretch(np.asarray(band))))
    elif "A" in img.mode or "a" in img.mode or "transparency" in img.info:
        small = _banded(img, factor, "La", _premultiplied)
    else:                           # palette, CMYK, YCbCr, ...: gray is all that is read of them
        small = _banded(img, factor, "L", lambda band: _converted(band, "L"))
    small = small.resize(size, Image.Resampling.BOX, box=box)
    return small.convert("LA") if small.mode == "La" else small


def _banded(img, factor: tuple[int, int], mode: str, to_mode):
    """`img` made `mode` by `to_mode` and reduced by `factor`, one band of rows at a time."""
    from PIL import Image
    w, h = img.size
    out = Image.new(mode, (-(-w // factor[0]), -(-h // factor[1])))
    rows = max(1, BAND_PIXELS // w // factor[1]) * factor[1]
    for top in range(0, h, rows):
        band = to_mode(img.crop((0, top, w, min(h, top + rows))))
        out.paste(band.reduce(factor) if factor != (1, 1) else band, (0, top // factor[1]))
    return out


def _premultiplied(band):
    """A band with transparency as gray premultiplied by its alpha (La): what averages right."""
    from PIL import Image, ImageChops
    if band.mode == "La":
        return band
    if band.mode == "LA":
        gray, alpha = band.split()
    else:
        rgba = _converted(band, "RGBA")
        gray, alpha = rgba.convert("L"), rgba.getchannel("A")
    return Image.merge("La", (ImageChops.multiply(gray, alpha), alpha))


def _converted(img, mode: str):
    """`img` in `mode`, through RGB or LA where Pillow has no direct way (LAB to gray, La to RGBA);
    a pixel format with no way at all is ImageError(image.mode)."""
    if img.mode == mode:
        return img
    for via in (None, "RGB", "LA"):
        try:
            return img.convert(mode) if via is None else img.convert(via).convert(mode)
        except ValueError:
            continue
    raise ImageError("image.mode", mode=img.mode)


def _thumbnail_plan(size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """What Pillow's thumbnail((MAX_SIDE, MAX_SIDE), BOX) does to a picture of `size`: the size it
    ends at, and the whole factors it first reduces by (its reducing_gap of 2)."""
    import math
    w, h = size
    x = y = MAX_SIDE
    aspect = w / h

    def round_aspect(number: float, key) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)
    if x / y >= aspect:
        x = round_aspect(y * aspect, key=lambda n: abs(aspect - n / y))
    else:
        y = round_aspect(x / aspect, key=lambda n: 0 if n == 0 else abs(aspect - x / n))
    return (x, y), (int(w / x / 2.0) or 1, int(h / y / 2.0) or 1)


def _levels(img) -> tuple[float, float, float]:
    """(low, high, fill) of a 16-bit, 32-bit or float picture: its finite range (an integer scan
    keeps 0 as black), and the value a pixel with no finite value takes: the median of a sample of
    the finite ones, the paper of a picture of a digit. The range is Pillow's extrema when they are
    finite, else read one band of rows at a time; the sample is every few pixels."""
    from PIL import Image
    w, h = img.size
    low, high = (float(v) for v in img.getextrema())
    if not (np.isfinite(low) and np.isfinite(high)):       # inf, or NaN where Pillow started
        low, high = np.inf, -np.inf
        rows = max(1, BAND_PIXELS // w)
        for top in range(0, h, rows):
            band = np.asarray(img.crop((0, top, w, min(h, top + rows))))
            band = band[np.isfinite(band)]
            if band.size:
                low, high = min(low, float(band.min())), max(high, float(band.max()))
        if not np.isfinite(low):                            # nothing finite at all: a blank picture
            return 0.0, 0.0, 0.0
    low = min(low, 0.0) if high > 1.0 else low
    step = max(1.0, (w * h / 250_000) ** 0.5)               # about 250,000 pixels for the median
    sample = np.asarray(img.resize((max(1, round(w / step)), max(1, round(h / step))), Image.Resampling.NEAREST))
    sample = sample[np.isfinite(sample)] if sample.dtype.kind == "f" else sample
    return low, high, float(np.median(sample)) if sample.size else low


def _stretcher(low: float, high: float, fill: float):
    """Wide pixels -> uint8: low..high stretched to 0..255; NaN, +inf and -inf are `fill`.
    16-bit pixels go through a table of their 65,536 values (one lookup a pixel)."""
    def stretch(arr: np.ndarray) -> np.ndarray:
        if high - low <= 0:
            return np.zeros(arr.shape, np.uint8)
        arr = np.asarray(arr, dtype=np.float64)
        if not np.isfinite(arr).all():
            arr = np.nan_to_num(arr, nan=fill, posinf=fill, neginf=fill)
        return np.clip((arr - low) / (high - low) * 255, 0, 255).astype(np.uint8)
    table = stretch(np.arange(65536))

    def stretched(arr: np.ndarray) -> np.ndarray:
        return table[arr] if arr.dtype.kind == "u" and arr.dtype.itemsize == 2 else stretch(arr)
    return stretched


def _eight_bit(img) -> np.ndarray:
    """A 16-bit, 32-bit or float image as uint8 gray: its own range stretched to 0-255 (a 12-bit
    scan and a float image in 0-1 both keep their contrast)."""
    return _stretcher(*_levels(img))(np.asarray(img))


def to_gray(img) -> np.ndarray:
    """PIL image of any mode -> uint8 grayscale; transparent pixels become the background."""
    if img.mode in WIDE_MODES:
        return _eight_bit(img)
    if img.mode in ("P", "PA", "LA", "RGBA", "La") or "transparency" in img.info:
        rgba = np.asarray(_converted(img, "RGBA"), dtype=np.float64)
        gray = rgba[..., :3] @ [0.299, 0.587, 0.114]
        alpha = rgba[..., 3] / 255.0
        if alpha.min() < 1.0:
            # Strokes on a transparent layer: what is opaque is ink, the rest is background.
            ink_dark = (gray * alpha).sum() / max(alpha.sum(), 1) < 128
            background = 255.0 if ink_dark else 0.0
            gray = gray * alpha + background * (1 - alpha)
        return gray.astype(np.uint8)
    return np.asarray(_converted(img, "L"), dtype=np.uint8)


def _ink(gray: np.ndarray, threshold: str, keep, flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Grayscale -> (white-on-black gray, binary ink mask), keeping each step."""
    import cv2
    gray = np.asarray(gray, dtype=np.uint8)
    keep(Message("step.grayscale"), gray)
    if dark_ink(gray):
        gray = 255 - gray
        keep(Message("step.inverted"), gray)
    # Photos: flatten uneven light and shadows by subtracting the paper, then smooth noise.
    if flatten and gray.shape[0] * gray.shape[1] > 200 * 200:
        gray = cv2.GaussianBlur(cv2.subtract(gray, paper(gray)), (5, 5), 0)
        keep(Message("step.flattened"), gray)
        if _faint(gray):
            raise ImageError("image.blank")
    elif int(gray.max()) - int(gray.min()) < 30 or gray.max() < 60:
        raise ImageError("image.blank")
    elif flatten:
        # A small photo: the light across it taken away, or a thin pen's few pixels are outweighed by
        # the page's brighter side and the threshold cuts the page instead of the ink.
        gray = np.clip(gray - border_light(gray), 0, 255).astype(np.uint8)
        keep(Message("step.flattened"), gray)
        if _faint(gray):                 # only the page's light was there: nothing stands out of its grain
            raise ImageError("image.blank")
    if threshold == "adaptive":
        # Each pixel is held against the light around it. Around a blurred stroke wider than that
        # neighbourhood, only its edges stand out (a large blurred scan became outlines, then specks):
        # there it spans three stroke widths. Crisp strokes keep the small one, which follows a
        # shadow's edge closely instead of joining it to the digit.
        block = max(11, (min(gray.shape) // 10) | 1)
        _, rough = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        if blurred(gray, rough):
            block = max(block, min(int(3 * _rough_stroke_width(gray)), min(gray.shape)) | 1)
        # A Gaussian's cost grows with its width; past WIDE_BLOCK the plain mean (a box, the same
        # cost at any width) holds a large picture's read to a fraction of a second.
        weights = cv2.ADAPTIVE_THRESH_GAUSSIAN_C if block <= WIDE_BLOCK else cv2.ADAPTIVE_THRESH_MEAN_C
        mask = cv2.adaptiveThreshold(gray, 255, weights, cv2.THRESH_BINARY, block, -10)
    else:
        _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    keep(Message("step.threshold", method=Message(f"draw.threshold_{threshold}")), mask)
    return gray, mask


def _faint(flat: np.ndarray) -> bool:
    """A flattened photo with nothing that stands out of the paper's noise."""
    level = float(np.median(flat))
    noise = float(np.median(np.abs(flat - level))) * 1.5 + 1
    return float(flat.max()) - level < max(20.0, 8 * noise)


def dark_ink(gray: np.ndarray) -> bool:
    """Whether the ink is darker than the background. The border is background; the ink is what
    stands far from it, and there is more of it on one side (darker or lighter) than the other.
    Grey paper, a shadow, or light brighter on one side do not fool it, as a fixed 127 would be:
    the background is the light along the border, followed across the page (`border_light`), so a
    page brighter on one side is not taken for light ink beside a thin pen's few dark pixels."""
    diff = np.asarray(gray, np.float32) - border_light(gray)
    return float(np.clip(-diff - 40, 0, None).sum()) > float(np.clip(diff - 40, 0, None).sum())


def border_light(gray: np.ndarray) -> np.ndarray:
    """The background's light across the picture: a plane (light brighter on one side, darker on
    the other) fitted to the border's pixels, fitted again without those far from it (ink or a
    shadow that reaches the edge)."""
    gray = np.asarray(gray, np.float32)
    h, w = gray.shape
    if min(h, w) < 3:                    # no border around anything: the picture's middle light
        return np.full(gray.shape, float(np.median(gray)), np.float32)
    top, bottom, left, right = gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]
    light = np.concatenate([top, bottom, left, right])
    xs = np.concatenate([np.arange(w), np.arange(w), np.zeros(h - 2), np.full(h - 2, w - 1)]) / w
    ys = np.concatenate([np.zeros(w), np.full(w, h - 1), np.arange(1, h - 1), np.arange(1, h - 1)]) / h
    terms = np.stack([np.ones(light.size), xs, ys], axis=1)
    near = np.ones(light.size, bool)
    for _ in range(2):
        plane, *_ = np.linalg.lstsq(terms[near], light[near], rcond=None)
        off = np.abs(light - terms @ plane)
        near = off <= 3 * 1.4826 * float(np.median(off[near])) + 1
    across = plane[1] * np.arange(w, dtype=np.float32) / w
    down = plane[2] * np.arange(h, dtype=np.float32)[:, None] / h
    return (plane[0] + across + down).astype(np.float32)


def paper(gray: np.ndarray) -> np.ndarray:
    """The light of the paper under light-on-dark ink: a grey-level opening that removes anything
    narrower than its square. The square is sized to the strokes (three stroke widths, measured on a
    first pass with a square of half the picture), so a bold marker stroke is never taken for paper,
    while a shadow's edge, larger than any stroke, is followed. A square opening costs the same per
    pixel at any size, and the picture is at most MAX_SIDE: bounded cost."""
    import cv2
    opened = lambda k: cv2.morphologyEx(gray, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))  # noqa: E731
    wide = (min(gray.shape) // 2) | 1
    background = opened(wide)
    fitted = max(int(3 * _rough_stroke_width(cv2.subtract(gray, background))) | 1, (min(gray.shape) // 8) | 1, 5)
    return opened(fitted) if fitted < wide else background


WIDE_BLOCK = 101   # px: the widest neighbourhood the adaptive threshold weighs as a Gaussian
GRAIN = 4          # px: strokes measured narrower than this may be the paper's grain, thresholded


def _rough_stroke_width(ink: np.ndarray) -> float:
    """The strokes' width in a first look at the ink (light on dark, the paper roughly taken away).
    Where the paper's grain stands out of it, the threshold keeps specks a pixel or two wide that
    outnumber the strokes, and a square sized to them takes the blurred strokes of an enlarged
    scan for paper: a width under GRAIN is measured again with the grain smoothed away (a thin
    pen's line stays thin, and its square is the floor in any case)."""
    import cv2
    _, rough = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    width = stroke_width(rough)
    if width < GRAIN:
        _, rough = cv2.threshold(cv2.GaussianBlur(ink, (5, 5), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        inside = _off_the_edge(rough)
        if inside.any():
            width = stroke_width(inside)
    return width


def _off_the_edge(mask: np.ndarray) -> np.ndarray:
    """The mask without the pieces that reach the picture's edge (a shadow, the light of one side)."""
    import cv2
    _, labels = cv2.connectedComponents((mask > 0).astype(np.uint8), connectivity=8)
    return (labels > 0) & ~np.isin(labels, _edge_labels(labels))


def _edge_labels(labels: np.ndarray) -> np.ndarray:
    """The labels of the connected pieces that touch the picture's edge."""
    return np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))


def _digit(gray, mask, box, deskew: bool, keep) -> np.ndarray:
    import cv2
    y0, y1, x0, x1 = box
    digit = np.where(mask[y0:y1, x0:x1] > 0, gray[y0:y1, x0:x1], 0)
    digit = cv2.normalize(digit, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    keep(Message("step.cropped"), digit)
    even = even_strokes(mask[y0:y1, x0:x1], gray[y0:y1, x0:x1])
    if even is not None:
        digit = even
        keep(Message("step.strokes"), digit)
    out = fit_mnist_box(digit, keep)
    if deskew:
        out = deskewed(out)
        keep(Message("step.deskewed"), out)
    return out


def prepare(gray: np.ndarray, keep_steps: bool = True, threshold: str = "otsu", deskew: bool = False,
            flatten: bool = True) -> Prepared:
    """Grayscale array holding one digit -> Prepared (28x28, white on black, centered by mass).
    `flatten=False` for a picture on an even background (the canvas): no paper to take away."""
    steps = []
    keep = (lambda name, a: steps.append((name, a))) if keep_steps else (lambda name, a: None)
    gray, mask = _ink(gray, threshold, keep, flatten)
    box = bounding_box(mask)
    if box is None:
        raise ImageError("image.specks")
    return Prepared(_digit(gray, mask, box, deskew, keep), steps)


def prepare_all(gray: np.ndarray, keep_steps: bool = True, threshold: str = "otsu",
                deskew: bool = False) -> list[Prepared]:
    """Every digit in the picture, left to right (a photo of '42' gives two)."""
    shared = []
    keep = (lambda name, a: shared.append((name, a))) if keep_steps else (lambda name, a: None)
    gray, mask = _ink(gray, threshold, keep)
    boxes = digit_boxes(mask, gray=gray)
    if not boxes:
        raise ImageError("image.specks")
    if len(boxes) > MAX_DIGITS:         # each digit costs its own steps: a bounded number of them
        raise ImageError("image.too_many", count=len(boxes), limit=MAX_DIGITS)
    out = []
    for box in boxes:
        steps = list(shared)
        own = (lambda name, a: steps.append((name, a))) if keep_steps else keep
        out.append(Prepared(_digit(gray, mask, box, deskew, own), steps))
    return out


def deskewed(img: np.ndarray) -> np.ndarray:
    """Straighten a slanted digit using its second-order image moments."""
    import cv2
    m = cv2.moments(img)
    if abs(m["mu02"]) < 1e-2:
        return img
    skew = m["mu11"] / m["mu02"]
    shear = np.float32([[1, skew, -0.5 * img.shape[0] * skew], [0, 1, 0]])
    return cv2.warpAffine(img, shear, img.shape[::-1], flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)


def digit_boxes(mask: np.ndarray, min_fraction: float = 0.05, gray: np.ndarray | None = None
                ) -> list[tuple[int, int, int, int]]:
    """Boxes (y0, y1, x0, x1) of the digits, left to right. Ink that reaches the picture's edge (a
    shadow's edge, the page's) is left out when there is other ink, and so is ink much fainter in
    `gray` than the boldest (what is left of a shadow's corner); pieces that fainter ink in `gray`
    joins are one (a thin pen's 0 broken at its turns); specks are dropped; blobs that overlap
    horizontally (the two strokes of a 5) are one digit, and so is a piece that is small beside its
    neighbour and close to it for the digit's height (a 5's flag written apart)."""
    import cv2
    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    if n <= 1:
        return []
    blobs, ids = stats[1:], np.arange(1, n)
    x, y, w, h = (blobs[:, i] for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    keep = (x > 0) & (y > 0) & (x + w < mask.shape[1]) & (y + h < mask.shape[0])
    if gray is not None:
        peak = np.zeros(n, np.float64)
        np.maximum.at(peak, labels.ravel(), np.asarray(gray, np.float64).ravel())
        bold = peak[1:] >= 0.6 * peak[1:].max()
        keep = keep & bold if (keep & bold).any() else bold
    if keep.any():
        blobs, ids = blobs[keep], ids[keep]
    if gray is not None:
        blobs = _joined_by_faint_ink(blobs, ids, labels, gray)
    area = blobs[:, cv2.CC_STAT_AREA]
    big = blobs[area >= max(area.max() * min_fraction, 2)]
    if not len(big):                 # single-pixel specks only: no digit
        return []
    spans = sorted((int(x), int(x + w), int(y), int(y + h)) for x, y, w, h, _ in big)
    groups: list[list[int]] = []
    for x0, x1, y0, y1 in spans:
        if groups and x0 < groups[-1][1] - 0.2 * min(x1 - x0, groups[-1][1] - groups[-1][0]):
            g = groups[-1]
            g[1], g[2], g[3] = max(g[1], x1), min(g[2], y0), max(g[3], y1)
        else:
            groups.append([x0, x1, y0, y1])
    merged: list[list[int]] = []
    for g in groups:
        if merged and _one_digit(merged[-1], g):
            m = merged[-1]
            m[:] = [m[0], max(m[1], g[1]), min(m[2], g[2]), max(m[3], g[3])]
        else:
            merged.append(g)
    tallest = max(g[3] - g[2] for g in merged)
    return [(y0, y1, x0, x1) for x0, x1, y0, y1 in merged if y1 - y0 >= 0.25 * tallest]


def _joined_by_faint_ink(blobs: np.ndarray, ids: np.ndarray, labels: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """The pieces' stats rows (x, y, w, h, area), those joined by fainter ink merged into one.
    A thin pen's line, lighter where the pen eased off (a 0's turns, a 4's bar), is cut by the
    threshold into pieces that are each a stroke and side by side: a 0 read as "11". What is
    fainter ink: what stands clearly out of the paper's grain, at least 15% of the ink's strength.
    Faint light that reaches the picture's edge (a shadow, the page's edge) joins nothing."""
    import cv2
    if len(blobs) < 2:
        return blobs
    gray = np.asarray(gray, np.float32)
    inked = labels > 0
    paper = gray[~inked]
    if not paper.size:
        return blobs
    level = float(np.median(paper))
    grain = 1.4826 * float(np.median(np.abs(paper - level)))          # the paper's noise as a deviation
    strength = float(np.median(gray[inked])) - level
    faint = inked | (gray > level + max(4 * grain, 0.15 * strength))
    _, reach = cv2.connectedComponents(faint.astype(np.uint8), connectivity=8)
    edge = _edge_labels(reach)
    joined_in = np.zeros(labels.max() + 1, np.int64)
    joined_in[labels[inked]] = reach[inked]         # every pixel of a piece lies in the same faint region
    group = joined_in[ids]
    group = np.where(np.isin(group, edge), -np.arange(1, len(ids) + 1), group)     # alone
    _, one = np.unique(group, return_inverse=True)          # each piece's merged piece, 0..k-1
    k = one.max() + 1
    x0, y0 = np.full(k, np.iinfo(np.int64).max), np.full(k, np.iinfo(np.int64).max)
    x1, y1, area = np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64)
    np.minimum.at(x0, one, blobs[:, 0])
    np.minimum.at(y0, one, blobs[:, 1])
    np.maximum.at(x1, one, blobs[:, 0] + blobs[:, 2])
    np.maximum.at(y1, one, blobs[:, 1] + blobs[:, 3])
    np.add.at(area, one, blobs[:, 4])
    return np.stack([x0, y0, x1 - x0, y1 - y0, area], axis=1).astype(blobs.dtype)


def _one_digit(left: list[int], right: list[int]) -> bool:
    """Two side-by-side pieces are one digit when one is much shorter than the other and the gap
    between them is small for the taller one's height."""
    hl, hr = left[3] - left[2], right[3] - right[2]
    return min(hl, hr) < 0.6 * max(hl, hr) and right[0] - left[1] < 0.2 * max(hl, hr)


def bounding_box(mask: np.ndarray, min_fraction: float = 0.02):
    """(y0, y1, x0, x1) around the ink, dropping connected specks smaller than min_fraction of it."""
    import cv2
    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= max(areas.max() * min_fraction, 2)) + 1
    ys, xs = np.nonzero(np.isin(labels, keep))
    if len(ys) == 0:
        return None
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


def fit_mnist_box(digit: np.ndarray, keep=lambda name, a: None) -> np.ndarray:
    """Scale into 20x20 keeping the aspect ratio, pad to 28x28, shift the center of mass to 14,14,
    and stretch the ink to peak at 255 as MNIST's does."""
    import cv2
    h, w = digit.shape
    scale = 20.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = cv2.resize(digit, (nw, nh), interpolation=cv2.INTER_AREA)
    keep(Message("step.scaled"), small)
    canvas = np.zeros((28, 28), np.uint8)
    top, left = (28 - nh) // 2, (28 - nw) // 2
    canvas[top:top + nh, left:left + nw] = small
    keep(Message("step.padded"), canvas)
    m = cv2.moments(canvas)
    if m["m00"] > 0:
        dx, dy = 14 - m["m10"] / m["m00"], 14 - m["m01"] / m["m00"]
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        canvas = cv2.warpAffine(canvas, shift, (28, 28), flags=cv2.INTER_LINEAR, borderValue=0)
        canvas = cv2.normalize(canvas, None, 0, 255, cv2.NORM_MINMAX)  # MNIST ink peaks at 255
    keep(Message("step.centered"), canvas)
    return canvas


CELL = 112          # px: the side of the square cell each step is shown in
FRAME = 48          # the cell's background: darker than paper, lighter than MNIST's black


def framed(img: np.ndarray, side: int = CELL) -> np.ndarray:
    """A step image in a square cell of `side` px, its true shape kept: scaled so its longer side
    fills the cell (whole-pixel blocks when it is small, so a 20x20 step shows its 400 pixels),
    centred on a frame that shows where the image ends."""
    import cv2
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    scale = side / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = scale >= 1
    resized = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_NEAREST if small else cv2.INTER_AREA)
    cell = np.full((side, side) + img.shape[2:], FRAME, np.uint8)
    top, left = (side - nh) // 2, (side - nw) // 2
    cell[top:top + nh, left:left + nw] = resized
    return cell


def plain_resize(gray: np.ndarray) -> np.ndarray:
    """What the notebook did to photos: grayscale and resize to 28x28, nothing else."""
    import cv2
    return cv2.resize(np.asarray(gray, np.uint8), (28, 28), interpolation=cv2.INTER_AREA)


def canvas_gray(rgba: np.ndarray) -> np.ndarray:
    """The drawable canvas' RGBA uint8 array (light strokes on a dark background)."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] < 3:
        raise ImageError("image.no_canvas")
    return (rgba[..., :3].astype(np.float64) @ [0.299, 0.587, 0.114]).astype(np.uint8)


CANVAS_INK = 60          # a canvas whose brightest pixel is darker than this has nothing drawn on it


def from_canvas(rgba: np.ndarray, keep_steps: bool = True, threshold: str = "otsu", deskew: bool = False) -> Prepared:
    """A drawing on the canvas -> the model's input; an untouched canvas is ImageError(empty_canvas)."""
    gray = canvas_gray(rgba)
    if gray.max() < CANVAS_INK:
        raise ImageError("image.empty_canvas")
    return prepare(gray, keep_steps, threshold=threshold, deskew=deskew, flatten=False)
