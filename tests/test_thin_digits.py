"""Preprocessing that keeps what the writer drew (issue 30): a blurred, low-resolution digit keeps
its strokes, one thin-pen digit is never split into several, and a row of digits still is."""
import cv2
import numpy as np
import pytest

from digitdash.digits import preprocess, strokes, synthetic

from conftest import ROOT


def _page(shape=(360, 480), paper=(150.0, 235.0)) -> np.ndarray:
    """Paper lit from one side: `paper` is its light at the left and right edges."""
    return np.tile(np.linspace(*paper, shape[1], dtype=np.float32), (shape[0], 1))


def _photographed(page: np.ndarray, seed=0, blur=0.7, grain=3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    page = cv2.GaussianBlur(page.astype(np.float32), (0, 0), blur) + rng.normal(0, grain, page.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def _inked(page: np.ndarray, draw) -> np.ndarray:
    """Dark ink on `page`: `draw(ink)` draws the ink's strength (0-1) into a float image."""
    ink = np.zeros(page.shape, np.float32)
    draw(ink)
    return page * (1 - ink)


# ---- a blurred, low-resolution digit ----------------------------------------------------------

def _scan_photo(index: int, size=110, seed=0):
    """scikit-learn's 8x8 scan `index` enlarged to `size` px (a blurred stroke a fifth of the digit
    wide) on paper lit from one side, with the paper's grain: as `robustness.uci_photos` shows it.
    Also the clean enlarged ink, read straight into MNIST's box (what the picture holds)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    ink = cv2.resize((digits.images[index] / 16.0).astype(np.float32), (size, size),
                     interpolation=cv2.INTER_CUBIC).clip(0, 1)
    page = _page((240, 320), (160.0, 235.0))
    y, x = 60, 120
    page[y:y + size, x:x + size] *= 1 - 0.8 * ink
    ys, xs = np.nonzero(ink > 0.3)
    clean = (ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1] * 255).astype(np.uint8)
    return _photographed(page, seed, blur=0.5, grain=6.0), preprocess.fit_mnist_box(clean), int(digits.target[index])


def _likeness(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


@pytest.mark.parametrize("index", [3, 5, 6, 13, 18, 29])     # a 3, 5, 6, 3, 8 and 9
def test_a_blurred_low_resolution_digit_keeps_its_strokes(index):
    """The paper's light is taken away with a square sized to the strokes. Measured on the paper's
    grain, those were single pixels, and the blurred strokes of an enlarged scan were taken for
    paper: a 5's loop or a 9's stem was taken away (likeness to the scan 0.2-0.7; now above 0.9)."""
    photo, clean, label = _scan_photo(index)
    found = preprocess.prepare_all(photo, keep_steps=False)
    assert len(found) == 1
    assert _likeness(found[0].image, clean) > 0.85, label


@pytest.mark.parametrize("index", [3, 5, 6, 13, 18, 29])
def test_the_adaptive_threshold_keeps_a_large_blurred_digit_whole(index):
    """With "adaptive" ink, each pixel is held against the light around it. Around a blurred stroke
    wider than that neighbourhood only the stroke's edges stood out: a scan enlarged to 150 px was
    read as outlines (likeness 0.47-0.81). Blurred ink is now held against three stroke widths."""
    photo, clean, label = _scan_photo(index, size=150)
    found = preprocess.prepare_all(photo, keep_steps=False, threshold="adaptive")
    assert len(found) == 1
    assert _likeness(found[0].image, clean) > 0.84, label


def test_the_paper_under_a_blurred_digit_is_paper():
    """What flattening takes away under the digit is the paper's light, not the ink: the flattened
    digit keeps nearly all the ink that stands above the paper."""
    photo, _, _ = _scan_photo(5)
    inverted = 255 - photo
    wide = cv2.morphologyEx(inverted, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (121, 121)))
    ink_above_paper = cv2.subtract(inverted, wide).astype(float)
    kept = cv2.subtract(inverted, preprocess.paper(inverted)).astype(float)
    digit = ink_above_paper > 60
    assert kept[digit].sum() > 0.85 * ink_above_paper[digit].sum()


def test_a_blurred_digit_is_slimmed_not_redrawn():
    """Its strokes, thick only because they are blurred, are brought near MNIST's width by a gentle
    erosion: the prepared digit stays close to the one read with no stroke step at all, and keeps
    most of its ink, where centre lines redrawn would not."""
    photo, _, _ = _scan_photo(6)                                    # a 6, blurred thick
    gray, mask = preprocess._ink(photo, "otsu", lambda n, a: None)
    (box,) = preprocess.digit_boxes(mask, gray=gray)
    y0, y1, x0, x1 = box
    crop, ink = mask[y0:y1, x0:x1], gray[y0:y1, x0:x1]
    as_it_is = preprocess.fit_mnist_box(np.where(crop > 0, ink, 0).astype(np.uint8))
    slim = preprocess.fit_mnist_box(strokes.even_strokes(crop, ink))
    redrawn = preprocess.fit_mnist_box(strokes.even_strokes(crop))   # as if the picture were crisp
    assert _likeness(slim, as_it_is) > 0.93 and _likeness(redrawn, as_it_is) < 0.8
    assert slim.astype(float).sum() > 0.6 * as_it_is.astype(float).sum()
    assert (slim > 127).sum() < 0.9 * (as_it_is > 127).sum()             # thinner


# ---- one thin-pen digit is one digit ----------------------------------------------------------

def _thin_zero(ink, centre=(240, 180), turns=0.15, pen=2):
    """A narrow 0 in a thin pen that eased off at its turns: its sides dark, its top and bottom faint."""
    cv2.ellipse(ink, centre, (35, 110), 0, 0, 360, turns, pen, cv2.LINE_AA)
    for start, end in ((-60, 60), (120, 240)):
        cv2.ellipse(ink, centre, (35, 110), 0, start, end, 0.7, pen, cv2.LINE_AA)


def _thin_four(ink, left=190, bar=0.15, pen=2):
    """An open 4 in a thin pen, its bar written lightly."""
    cv2.line(ink, (left + 40, 70), (left, 210), 0.7, pen, cv2.LINE_AA)
    cv2.line(ink, (left, 210), (left + 110, 210), bar, pen, cv2.LINE_AA)
    cv2.line(ink, (left + 80, 90), (left + 78, 300), 0.7, pen, cv2.LINE_AA)


@pytest.mark.parametrize("draw", [_thin_zero, _thin_four], ids=["0", "4"])
def test_a_thin_pen_digit_written_lightly_in_places_is_one_digit(draw):
    """The threshold cuts the light parts away and leaves strokes side by side (a 0's two sides, a
    4's two halves), each read as a 1: one digit, "11". Fainter ink that joins them says they are one."""
    photo = _photographed(_inked(_page(paper=(200.0, 230.0)), draw))
    gray, mask = preprocess._ink(photo, "otsu", lambda n, a: None)
    assert cv2.connectedComponents(mask)[0] - 1 >= 2          # the threshold did cut it
    assert len(preprocess.digit_boxes(mask, gray=gray)) == 1
    assert len(preprocess.prepare_all(photo, keep_steps=False)) == 1


def test_a_faint_thin_pen_on_a_page_lit_from_one_side_is_dark_ink():
    """A thin pen's few dark pixels against a page far brighter on one side than at its border's
    middle: the ink is still dark, and the 4 is one digit (taken for light ink, the paper between
    its strokes was read as three wedges, each a 1)."""
    def four(ink):
        cv2.line(ink, (250, 60), (150, 230), 0.45, 1, cv2.LINE_AA)
        cv2.line(ink, (150, 230), (330, 235), 0.45, 1, cv2.LINE_AA)
        cv2.line(ink, (285, 110), (275, 330), 0.45, 1, cv2.LINE_AA)
    lamp = 160 + 80 * np.linspace(0, 1, 480, dtype=np.float32) ** 3      # a lamp near the right edge
    photo = _photographed(_inked(np.tile(lamp, (360, 1)), four), blur=0.8)
    assert preprocess.dark_ink(photo)
    assert len(preprocess.prepare_all(photo, keep_steps=False)) == 1


def _small_thin_pen_photo(label: int, seed: int, shape=(90, 120)) -> np.ndarray:
    """A small photo (too small to be flattened) of `label` in a thin-pen writer's hand, made with
    `other_hands`' writers and `synthetic`'s paper, lit unevenly."""
    from digitdash.digits import other_hands
    rng = np.random.default_rng(seed)
    writer = {**other_hands.writers(rng, 1)[0], "thin": True}
    height = rng.uniform(0.5, 0.85) * shape[0]
    ink = synthetic._render(other_hands.written(label, writer, rng), shape, height,
                            synthetic._place(rng, shape, height, 2), rng.uniform(1.0, 1.5))
    page = synthetic._paper(rng, shape, rng.uniform(175, 245)) * (1 - rng.uniform(0.5, 0.85) * ink)
    page = page + rng.normal(0, 3, shape)
    if rng.random() < 0.5:
        page = cv2.GaussianBlur(page.astype(np.float32), (0, 0), rng.uniform(0.3, 0.8))
    return np.clip(page, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("label", [0, 4])
def test_a_small_photo_of_a_thin_pen_digit_lit_from_one_side_is_one_digit(label):
    """A small photo was not flattened; the light across it was left in, and with so few ink pixels
    the threshold cut the page's brighter side with the ink: three "digits". Its light is now taken away."""
    photo = _small_thin_pen_photo(label, seed=73)
    assert min(photo.shape) < 200
    assert len(preprocess.prepare_all(photo, keep_steps=False)) == 1


# ---- a row of digits is still a row -----------------------------------------------------------

def test_thin_pen_digits_written_apart_stay_apart():
    """Fainter ink joins the pieces of one digit, never two digits with paper between them: "11"
    in a thin pen is two digits, and so is a light 0 beside a light 4."""
    def ones(ink):
        for x in (200, 260):
            cv2.line(ink, (x + 10, 80), (x, 290), 0.7, 2, cv2.LINE_AA)
    photo = _photographed(_inked(_page(paper=(200.0, 230.0)), ones))
    assert len(preprocess.prepare_all(photo, keep_steps=False)) == 2

    def zero_four(ink):
        _thin_zero(ink, centre=(120, 180))
        _thin_four(ink, left=250)
    photo = _photographed(_inked(_page(paper=(200.0, 230.0)), zero_four))
    assert len(preprocess.prepare_all(photo, keep_steps=False)) == 2


def test_2026_on_a_page_is_four_digits():
    from PIL import Image
    made = synthetic.pen_page([2, 0, 2, 6], np.random.default_rng(2026))
    shipped = np.asarray(Image.open(ROOT / "assets" / "pen-photo-2026.jpg").convert("L"))
    for page in (made, shipped):
        assert len(preprocess.prepare_all(page, keep_steps=False)) == 4


def test_a_small_blank_photo_lit_from_one_side_is_blank():
    """With the page's light taken away, a small photo of blank paper is only the paper's grain: blank,
    not five "digits" of noise."""
    rng = np.random.default_rng(3)
    photo = np.clip(_page((120, 150), (150.0, 235.0)) + rng.normal(0, 3, (120, 150)), 0, 255).astype(np.uint8)
    with pytest.raises(preprocess.ImageError) as refused:
        preprocess.prepare_all(photo, keep_steps=False)
    assert refused.value.message.key == "image.blank"


def test_a_picture_one_pixel_high_has_a_background():
    assert preprocess.border_light(np.full((1, 50), 200, np.uint8)).shape == (1, 50)
    assert preprocess.dark_ink(np.full((2, 50), 200, np.uint8)) is False



@pytest.mark.parametrize("shape", [(150, 150), (480, 640)])
def test_a_page_brighter_in_its_middle_is_still_empty(shape):
    """Blank paper whose light falls off towards the corners, with grain, is said to be empty."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((yy - h / 2) / h, (xx - w / 2) / w)
    page = 230 - 40 * (r / r.max()) ** 2 + np.random.default_rng(0).normal(0, 6, shape)
    with pytest.raises(preprocess.ImageError, match="No digit found"):
        preprocess.prepare_all(np.clip(page, 0, 255).astype(np.uint8), keep_steps=False)
