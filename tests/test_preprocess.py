"""Each preprocessing step and each bad input, on pictures made here."""
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from digitdash.bench import synthetic_drawing
from digitdash.digits import preprocess
from digitdash.digits.preprocess import ImageError


def png(img: Image.Image, fmt="PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def paper_digit(h=300, w=240, dark_on_light=True, thickness=14, offset=(0, 0)) -> np.ndarray:
    ink = np.zeros((h, w), np.uint8)
    cx, cy = w // 2 + offset[0], h // 2 + offset[1]
    cv2.line(ink, (cx, cy - 80), (cx, cy + 80), 255, thickness)   # a "1"
    return 255 - (ink * 0.8).astype(np.uint8) if dark_on_light else ink


def test_output_is_mnist_like_white_on_black_20px_box_centered_by_mass():
    out = preprocess.prepare(paper_digit())
    img = out.image
    assert img.shape == (28, 28) and img.dtype == np.uint8
    assert img[0].max() == 0 and img[:, 0].max() == 0 and img.max() == 255   # black border, white ink
    ys, xs = np.nonzero(img > 30)
    assert ys.max() - ys.min() + 1 <= 21 and ys.max() - ys.min() + 1 >= 18   # tall side ~20 px
    m = cv2.moments(img)
    assert abs(m["m10"] / m["m00"] - 14) < 0.6 and abs(m["m01"] / m["m00"] - 14) < 0.6
    names = [n for n, _ in out.steps]
    assert names[:2] == ["grayscale", "inverted (dark ink on light paper)"]
    assert "threshold (otsu)" in names and names[-1] == "centered by center of mass"


def test_polarity_light_on_dark_is_not_inverted_and_gives_the_same_digit():
    a = preprocess.prepare(paper_digit(dark_on_light=True)).image
    b = preprocess.prepare(paper_digit(dark_on_light=False))
    assert not any(n.startswith("inverted") for n, _ in b.steps)
    assert np.abs(a.astype(int) - b.image.astype(int)).mean() < 8


def test_small_off_center_digit_is_found_and_centered():
    img = np.full((400, 400), 230, np.uint8)
    cv2.putText(img, "3", (300, 380), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 20, 3)
    out = preprocess.prepare(img).image
    m = cv2.moments(out)
    assert abs(m["m10"] / m["m00"] - 14) < 0.6 and out.max() == 255


def test_specks_are_dropped_from_the_bounding_box():
    img = paper_digit(dark_on_light=False)
    img[5:7, 5:7] = 255  # a speck in the corner
    gray, mask = preprocess._ink(img, "otsu", lambda n, a: None)
    y0, y1, x0, x1 = preprocess.bounding_box(mask)
    assert y0 > 50 and x0 > 50


def test_uneven_lighting_and_noise_are_flattened():
    rng = np.random.default_rng(0)
    img = paper_digit().astype(float) * np.linspace(0.55, 1.0, 240)[None, :]
    img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
    out = preprocess.prepare(img)
    assert "lighting flattened, denoised" in [n for n, _ in out.steps]
    ys, xs = np.nonzero(out.image > 60)
    assert xs.max() - xs.min() < 12  # still a thin "1", not a smear of shadow


def test_adaptive_threshold_and_deskew():
    slanted = np.zeros((280, 280), np.uint8)
    cv2.line(slanted, (100, 240), (180, 40), 255, 18)
    out = preprocess.prepare(slanted, threshold="adaptive", deskew=True)
    names = [n for n, _ in out.steps]
    assert "threshold (adaptive)" in names and names[-1] == "deskewed"
    straight = out.image
    m = cv2.moments(straight)
    assert abs(m["mu11"] / m["mu02"]) < 0.1  # the slant is gone
    assert abs(cv2.moments(preprocess.prepare(slanted).image)["mu11"]) > abs(m["mu11"])


def test_several_digits_are_segmented_left_to_right():
    img = np.full((200, 500), 235, np.uint8)
    for i, d in enumerate("407"):
        cv2.putText(img, d, (40 + 150 * i, 150), cv2.FONT_HERSHEY_SIMPLEX, 4, 30, 12)
    digits = preprocess.prepare_all(img)
    assert len(digits) == 3
    widths = [np.ptp(np.nonzero(d.image.max(axis=0))[0]) for d in digits]
    assert all(w > 5 for w in widths)


def test_canvas_rgba_is_read_as_light_strokes_on_dark():
    out = preprocess.from_canvas(synthetic_drawing())
    assert out.image.max() == 255 and out.image[0].max() == 0


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "CMYK", "I;16", "RGB"])
def test_decode_every_mode(mode):
    base = Image.fromarray(paper_digit(dark_on_light=True))
    if mode == "I;16":
        img = Image.fromarray(np.asarray(base).astype(np.uint16) * 257)
        assert img.mode == "I;16"
    else:
        img = base.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    gray = preprocess.decode(png(img, fmt))
    assert gray.dtype == np.uint8 and gray.shape == (300, 240)
    assert preprocess.prepare(gray).image.max() == 255


@pytest.mark.parametrize("ending", preprocess.EXTENSIONS)
def test_every_file_ending_the_draw_page_takes_is_read_and_named(ending):
    """The upload box offers these endings: each is a picture that is read, and its format is named
    in the box's label (it named four of six formats)."""
    fmt = Image.registered_extensions()[f".{ending}"]
    gray = preprocess.decode(png(Image.fromarray(paper_digit(dark_on_light=True)), fmt))
    assert preprocess.prepare(gray).image.max() == 255
    assert fmt.lower() in preprocess.FORMATS.lower().split(", ")


def test_transparent_background_strokes():
    rgba = np.zeros((200, 200, 4), np.uint8)
    cv2.line(rgba, (100, 30), (100, 170), (0, 0, 0, 255), 12)  # black ink, transparent elsewhere
    gray = preprocess.decode(png(Image.fromarray(rgba, "RGBA")))
    assert gray[5, 5] == 255 and gray[100, 100] == 0


def test_exif_orientation_is_applied():
    img = Image.fromarray(paper_digit(h=120, w=300))
    exif = Image.Exif()
    exif[0x0112] = 6   # rotate 90 degrees when shown
    gray = preprocess.decode(png(img, "JPEG", exif=exif))
    assert gray.shape == (300, 120)


@pytest.mark.parametrize("data,needle", [
    (b"this is a text file", r"not an image DigitDash can read \(PNG, JPEG, BMP, WebP, GIF, TIFF\)"),
    (None, "damaged or truncated"),
    ("gif", r"Animated .*\(PNG, JPEG, BMP, WebP, GIF, TIFF\)"),    # the formats the upload box takes
    ("tiny", "at least 8x8"),
    ("huge", "megapixels"),
])
def test_bad_inputs_get_one_clear_message(data, needle):
    if data is None:
        whole = png(Image.fromarray(paper_digit()))
        data = whole[:len(whole) // 2]
    elif data == "gif":
        frames = [Image.fromarray(paper_digit()), Image.fromarray(paper_digit(dark_on_light=False))]
        buf = io.BytesIO()
        frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
        data = buf.getvalue()
    elif data == "tiny":
        data = png(Image.new("L", (1, 1)))
    elif data == "huge":
        data = png(Image.new("1", (10000, 5000)))   # 50 megapixels, a small file
    with pytest.raises(ImageError, match=needle):
        preprocess.decode(data)


@pytest.mark.parametrize("value", [0, 255, 128])
def test_a_blank_picture_is_reported_not_predicted(value):
    with pytest.raises(ImageError, match="No digit found"):
        preprocess.prepare(np.full((280, 280), value, np.uint8))


def test_plain_resize_is_the_notebooks_way():
    out = preprocess.plain_resize(paper_digit())
    assert out.shape == (28, 28) and out.mean() > 150   # still dark-on-light: what MNIST never shows


def test_an_untouched_canvas_is_one_message_and_a_drawing_is_read():
    blank = np.zeros((280, 280, 4), np.uint8)
    blank[..., 3] = 255
    with pytest.raises(preprocess.ImageError, match="canvas is empty"):
        preprocess.from_canvas(blank)
    faint = blank.copy()
    faint[100:180, 130:150, :3] = preprocess.CANVAS_INK - 1      # darker than any stroke: still empty
    with pytest.raises(preprocess.ImageError):
        preprocess.from_canvas(faint)
    assert preprocess.from_canvas(synthetic_drawing(), threshold="adaptive").image.shape == (28, 28)


def test_a_step_keeps_its_shape_in_a_cell_of_fixed_size():
    tall = np.full((300, 12), 255, np.uint8)                   # a thin "1", cropped to the digit
    cell = preprocess.framed(tall)
    assert cell.shape == (preprocess.CELL, preprocess.CELL)
    ink = np.argwhere(cell == 255)
    assert np.ptp(ink[:, 0]) + 1 == preprocess.CELL and np.ptp(ink[:, 1]) + 1 <= 6     # tall and thin, as drawn
    small = np.zeros((20, 20), np.uint8)
    small[2:18, 9:11] = 255                                    # the 20x20 step: every pixel a sharp block
    cell = preprocess.framed(small)
    assert set(np.unique(cell)) <= {0, 255, preprocess.FRAME} and (cell == 255).sum() > 0
    assert preprocess.framed(np.zeros((28, 28, 3), np.uint8)).shape == (preprocess.CELL, preprocess.CELL, 3)


@pytest.mark.parametrize("side", [300, 1500])      # 1500: shrunk before the heavy steps
@pytest.mark.parametrize("kind", ["16-bit TIFF", "12-bit PNG", "float TIFF"])
def test_wide_pixels_read_as_the_same_digit_as_8_bit(kind, side):
    from PIL import Image
    seven = np.zeros((28, 28), np.uint8)
    seven[6:9, 7:21] = 255
    for i in range(9, 23):
        seven[i, 19 - (i - 9) // 2:22 - (i - 9) // 2] = 255
    paper = np.array(Image.fromarray(255 - seven).resize((side, side), Image.BICUBIC))
    wide = {"16-bit TIFF": (Image.fromarray(paper.astype(np.uint16) * 257), "TIFF"),
            "12-bit PNG": (Image.fromarray(paper.astype(np.uint16) * 16), "PNG"),
            "float TIFF": (Image.fromarray(paper.astype(np.float32) / 255, "F"), "TIFF")}[kind]
    def encoded(img, fmt):
        out = io.BytesIO()
        img.save(out, format=fmt)
        return out.getvalue()
    eight = preprocess.prepare_all(preprocess.decode(encoded(Image.fromarray(paper), "PNG")), keep_steps=False)
    read = preprocess.prepare_all(preprocess.decode(encoded(*wide)), keep_steps=False)
    assert len(eight) == len(read) == 1
    assert np.abs(read[0].image.astype(int) - eight[0].image.astype(int)).mean() < 3


def _enlarged_scan_and_thick_drawing():
    """A scanned 8x8 digit enlarged to 120 px (blurred, its strokes look thick), and the same
    digit's mask drawn crisp (thick, hard edges): as (gray ink, mask) pairs, ink bright."""
    from sklearn.datasets import load_digits
    eight_by_eight = load_digits().images[0] / 16.0                     # a 0
    scan = (cv2.resize(eight_by_eight.astype(np.float32), (120, 120), interpolation=cv2.INTER_CUBIC).clip(0, 1) * 255)
    _, mask = cv2.threshold(scan.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return (scan.astype(np.uint8), mask), (mask.copy(), mask)


def test_a_blurred_stroke_is_not_taken_for_a_thick_pen():
    """An enlarged low-resolution scan has strokes as wide as a thick marker's, but blurred: it is
    not thinned to centre lines and redrawn, as the same shape drawn crisp is, but slimmed: the
    scan itself, its strokes brought near MNIST's width."""
    from digitdash.digits.strokes import STROKE, WORK_SIDE, blurred, even_strokes, stroke_width
    (scan, scan_mask), (crisp, crisp_mask) = _enlarged_scan_and_thick_drawing()
    assert even_strokes(scan_mask) is not None            # by its mask alone it is a thick pen
    assert blurred(scan, scan_mask) and not blurred(crisp, crisp_mask)
    slim = even_strokes(scan_mask, scan)
    as_scanned = cv2.resize(np.where(scan_mask > 0, scan, 0).astype(np.float32), slim.shape[::-1],
                            interpolation=cv2.INTER_AREA)
    assert slim.shape == (WORK_SIDE, WORK_SIDE)           # the whole scan, not a crop of redrawn lines
    assert np.corrcoef(slim.ravel(), as_scanned.ravel())[0, 1] > 0.95
    assert stroke_width(as_scanned > 127) > 1.1 * STROKE * WORK_SIDE >= stroke_width(slim > 127)
    assert even_strokes(crisp_mask, crisp) is not None


def test_crisp_strokes_on_grey_paper_are_not_taken_for_blurred():
    """A small photo is not flattened: its paper stays grey after inversion. Grey paper is not ink,
    so a crisp thick stroke on it is still crisp (and still redrawn at MNIST's width)."""
    from digitdash.digits.strokes import blurred, even_strokes
    _, (crisp, mask) = _enlarged_scan_and_thick_drawing()
    on_grey = np.where(mask > 0, 230, 80).astype(np.uint8)            # paper at 80, ink at 230
    edges = cv2.GaussianBlur(on_grey, (3, 3), 0)                        # anti-aliased edges, 1 px
    assert not blurred(edges, mask)
    assert even_strokes(mask, edges) is not None


def test_a_picture_of_single_pixel_specks_has_no_digit():
    """Found by the fuzz test: a mask of lone pixels (the largest blob one pixel) is no digit, not a crash."""
    mask = np.zeros((60, 50), np.uint8)
    mask[10, 10] = mask[30, 20] = mask[40, 35] = 255
    assert preprocess.digit_boxes(mask, gray=mask) == []
