"""Uploads bounded (issue 26): any picture is read in bounded memory and time, once per process.

Speed is measured by `python -m digitdash bench` (upload_s_max, upload_cpu_s_max), not here; these
tests assert what bounds the cost: the size of what is decoded and held, how many digits are read,
and that a picture already read is not read again.
"""
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitdash.digits import preprocess, uploads
from digitdash.digits.preprocess import ImageError
from digitdash.i18n import say

ROOT = Path(__file__).resolve().parent.parent


def encoded(img, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    if fmt == "TIFF":
        options.setdefault("compression", "tiff_adobe_deflate")
    img.save(out, fmt, **options)
    return out.getvalue()


def five(side: int, paper, ink, dtype, height: int | None = None) -> np.ndarray:
    """A big 5 on paper: `paper` and `ink` in the pixel type asked for."""
    import cv2
    mask = np.zeros((height or side, side), np.uint8)
    cv2.putText(mask, "5", (side // 4, 3 * (height or side) // 4), cv2.FONT_HERSHEY_SIMPLEX,
                (height or side) / 60, (255,), max(2, (height or side) // 25))
    if np.ndim(ink):                                # colour: one value a channel
        mask = mask[..., None]
    return np.where(mask > 0, np.asarray(ink, dtype), np.asarray(paper, dtype))


def with_holes(array: np.ndarray, rows: int) -> np.ndarray:
    """NaN, +inf and -inf pixels scattered over a float picture (one in 2000 of each), and its
    first `rows` rows NaN."""
    rng = np.random.default_rng(0)
    count = array.size // 2000
    for value in (np.nan, np.inf, -np.inf):
        array[rng.integers(rows, array.shape[0], count), rng.integers(0, array.shape[1], count)] = value
    array[:rows] = np.nan
    return array


def digits_in_a_row(count: int) -> bytes:
    import cv2
    page = np.full((200, count * 90 + 60), 235, np.uint8)
    for k in range(count):
        cv2.putText(page, str(k % 10), (30 + k * 90, 150), cv2.FONT_HERSHEY_SIMPLEX, 3, (20,), 14)
    return encoded(Image.fromarray(page))


@pytest.fixture(autouse=True)
def nothing_kept():
    uploads.clear()
    yield
    uploads.clear()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """Small files that decode to many wide pixels, as a probe sent them (16-bit 6000x6000 is
    126 KB), each at most preprocess.MAX_BYTES once decoded."""
    folder = tmp_path_factory.mktemp("hostile")
    rgba = np.zeros((4400, 4400, 4), np.uint8)
    rgba[800:3600, 2000:2400] = 255
    files = {
        "16-bit 6000": encoded(Image.fromarray(five(6000, 50000, 3000, np.uint16)), "TIFF"),
        "float nan inf 4400": encoded(Image.fromarray(with_holes(five(4400, 0.9, 0.1, np.float32), 60), "F"), "TIFF"),
        "int32 4400": encoded(Image.fromarray(five(4400, 2_000_000_000, 5, np.int32), "I"), "TIFF"),  # near 2**31
        "palette 6000": encoded(Image.fromarray(five(6000, 230, 20, np.uint8)).convert(
            "P", palette=Image.Palette.ADAPTIVE, colors=4)),
        "transparent strokes 4400": encoded(Image.fromarray(rgba)),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / (name.replace(" ", "-") + ".bin")
        paths[name].write_bytes(data)
    return paths


@pytest.mark.slow
def test_a_huge_16_bit_tiff_is_read_small_in_8_bits_and_its_digit_found(hostile):
    data = hostile["16-bit 6000"].read_bytes()
    assert len(data) < 200_000                      # a small file ...
    gray = preprocess.decode(data)                  # ... of 36 megapixels of 16 bits
    assert gray.dtype == np.uint8 and max(gray.shape) == preprocess.MAX_SIDE
    assert gray.min() < 20 and gray.max() > 200     # the scan's own range, stretched
    assert len(preprocess.prepare_all(gray, keep_steps=False)) == 1


@pytest.mark.parametrize("side", [300, 4400])      # 4400: shrunk, a band at a time
def test_nan_and_inf_in_a_float_picture_are_paper(hostile, side):
    if side == 4400:
        data = hostile["float nan inf 4400"].read_bytes()
        rows = 60 * preprocess.MAX_SIDE // side     # the NaN rows, once shrunk
    else:
        data = encoded(Image.fromarray(with_holes(five(side, 0.9, 0.1, np.float32), 20), "F"), "TIFF")
        rows = 20
    gray = preprocess.decode(data)
    assert gray.dtype == np.uint8 and max(gray.shape) <= preprocess.MAX_SIDE
    paper = np.median(gray[rows + 2:])
    assert paper > 200
    assert np.abs(gray[:rows - 1].astype(int) - paper).max() <= 2     # missing rows read as the paper
    digits = preprocess.prepare_all(gray, keep_steps=False)
    assert len(digits) == 1                         # the 5, not the band of NaN nor the specks
    clean = preprocess.decode(encoded(Image.fromarray(five(side, 0.9, 0.1, np.float32), "F"), "TIFF"))
    assert np.abs(digits[0].image.astype(int) - preprocess.prepare_all(clean)[0].image).mean() < 3


def test_nan_pixels_alone_read_as_paper_and_leave_the_rest_as_it_was():
    clean = five(300, 0.9, 0.1, np.float32)
    holes = clean.copy()
    rng = np.random.default_rng(5)
    ys, xs = rng.integers(1, 300, 400), rng.integers(1, 300, 400)
    holes[ys, xs] = np.nan
    expected = preprocess.decode(encoded(Image.fromarray(clean, "F"), "TIFF"))
    gray = preprocess.decode(encoded(Image.fromarray(holes, "F"), "TIFF"))
    others = np.isfinite(holes)
    assert np.array_equal(gray[others], expected[others])
    assert np.all(gray[~others] == np.median(expected))


def test_an_all_nan_picture_is_blank_not_a_crash():
    data = encoded(Image.fromarray(np.full((2000, 2000), np.nan, np.float32), "F"), "TIFF")
    with pytest.raises(ImageError) as err:
        preprocess.prepare_all(preprocess.decode(data))
    assert err.value.message.key == "image.blank"


def _reference(img) -> np.ndarray:
    """What DigitDash always did: the whole picture in 8 bits (RGB, RGBA, or stretched from its
    range), then Pillow's thumbnail, then gray."""
    if img.mode in preprocess.WIDE_MODES:
        arr = np.asarray(img, np.float64)
        low, high = arr.min(), arr.max()
        low = min(low, 0.0) if high > 1 else low
        img = Image.fromarray(np.clip((arr - low) / (high - low) * 255, 0, 255).astype(np.uint8))
    elif img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.mode or "transparency" in img.info else "RGB")
    img.thumbnail((preprocess.MAX_SIDE, preprocess.MAX_SIDE), Image.Resampling.BOX)
    return preprocess.to_gray(img)


@pytest.mark.parametrize("mode", ["P", "P+transparency", "PA", "LA", "RGBA", "CMYK", "YCbCr", "I;16", "I", "F"])
def test_every_pixel_format_shrinks_as_its_8_bit_picture_did(monkeypatch, mode):
    """Small copies of the limits, so that bands and whole-factor reductions are all exercised."""
    monkeypatch.setattr(preprocess, "MAX_SIDE", 96)
    monkeypatch.setattr(preprocess, "BAND_PIXELS", 9000)
    rng = np.random.default_rng(3)
    rgb = five(1000, (225, 215, 205), (30, 40, 60), np.uint8, height=700)
    rgb = np.clip(rgb.astype(int) + rng.integers(-25, 25, rgb.shape), 0, 255).astype(np.uint8)
    gray = rgb.mean(axis=2)
    if mode == "I;16":
        img = Image.fromarray((gray * 200).astype(np.uint16))
    elif mode == "I":
        img = Image.fromarray((gray * 1000 - 5000).astype(np.int32), "I")
    elif mode == "F":
        img = Image.fromarray((gray / 255).astype(np.float32), "F")
    elif mode.startswith("P"):
        img = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
        if mode == "P+transparency":
            img.info["transparency"] = 0
        elif mode == "PA":
            img = img.convert("PA")
    elif mode in ("LA", "RGBA"):
        alpha = np.where(gray < 128, 255, rng.integers(0, 80, gray.shape)).astype(np.uint8)
        img = Image.fromarray(np.dstack([rgb, alpha])).convert(mode)
    else:
        img = Image.fromarray(rgb).convert(mode)
    expected = _reference(img.copy())
    got = preprocess.to_gray(preprocess.shrunk(img.copy()))
    assert got.shape == expected.shape == (67, 96)
    diff = np.abs(got.astype(int) - expected)
    # Gray is made before averaging, and 32-bit pixels are averaged before they become 8 bits:
    # a level of difference at most, here and there (a transparent picture's gray is rounded, not
    # truncated, so its levels are a little higher).
    assert diff.max() <= 2 and diff.mean() < (1 if "A" in mode else 0.5), (diff.max(), diff.mean())


def test_a_lab_tiff_is_read_not_called_damaged():
    lab = Image.fromarray(five(200, 230, 20, np.uint8)).convert("RGB").convert("LAB")
    gray = preprocess.decode(encoded(lab, "TIFF"))
    assert len(preprocess.prepare_all(gray, keep_steps=False)) == 1


def test_a_picture_too_heavy_once_decoded_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(preprocess, "MAX_BYTES", 1_000_000)
    data = encoded(Image.fromarray(np.ones((600, 600), np.float32), "F"), "TIFF")   # 1.44 MB of floats
    with pytest.raises(ImageError) as err:
        preprocess.decode(data)
    assert err.value.message.key == "image.too_heavy"
    assert "600x600" in str(err.value) and "float32" in str(err.value) and "at most 1 MB" in str(err.value)
    assert "1 MB" in say(err.value.message, "es")
    gray = np.full((600, 600), 200, np.uint8)            # 0.36 MB in 8 bits: read
    assert preprocess.decode(encoded(Image.fromarray(gray))).shape == (600, 600)


def test_a_picture_of_many_digits_names_the_limit():
    assert len(preprocess.prepare_all(preprocess.decode(digits_in_a_row(12)))) == 12
    with pytest.raises(ImageError) as err:
        preprocess.prepare_all(preprocess.decode(digits_in_a_row(60)))
    assert err.value.message.key == "image.too_many"
    assert "60 digits" in str(err.value) and "at most 12" in str(err.value)
    assert "como mucho 12" in say(err.value.message, "es")


# The child's peak resident memory: VmHWM belongs to the process's own memory map, new at exec
# (ru_maxrss is not: it keeps the forking parent's, pytest's, peak).
PEAK = """
def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
"""


def test_reading_five_hostile_uploads_at_once_holds_little_memory(hostile):
    """A server process reading five such uploads at once, one per session: its resident memory
    grows by less than 200 MB (it was 2-3 GB): one picture is decoded at a time, a band at a time."""
    script = PEAK + """
import io, json, sys, threading
import numpy as np, psutil
from PIL import Image
from digitdash.digits import preprocess, uploads
warm = io.BytesIO(); Image.fromarray(np.full((300, 300), 200, np.uint8)).save(warm, "PNG")
try:
    uploads.read(warm.getvalue())
except preprocess.ImageError:
    pass
files = [open(p, "rb").read() for p in sys.argv[1:]]
base = psutil.Process().memory_info().rss
read = {}
def one(i):
    try:
        read[i] = len(uploads.read(files[i])[0])
    except preprocess.ImageError as exc:
        read[i] = exc.message.key
threads = [threading.Thread(target=one, args=(i,)) for i in range(len(files))]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"grew_mb": (peak() - base) / 2**20, "read": read}))
"""
    out = subprocess.run([sys.executable, "-c", script, *map(str, hostile.values())], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert list(result["read"].values()) == [1] * len(hostile), result
    assert result["grew_mb"] < 200, result


def test_decoding_one_hostile_upload_holds_little_beside_its_pixels(hostile):
    """The decoded pixels (at most MAX_BYTES) and a few megabytes: never copies of the whole
    picture in 64-bit floats (1.5 GB for a 16-bit 6000x6000 before)."""
    script = PEAK + """
import json, sys
import psutil
from digitdash.digits import preprocess
preprocess.prepare_all(preprocess.decode(open(sys.argv[2], "rb").read()))   # imports, warm
data = open(sys.argv[1], "rb").read()
base = psutil.Process().memory_info().rss
digits = preprocess.prepare_all(preprocess.decode(data))
print(json.dumps({"grew_mb": (peak() - base) / 2**20, "digits": len(digits)}))
"""
    small = hostile["16-bit 6000"].parent / "small.png"
    small.write_bytes(encoded(Image.fromarray(five(300, 230, 20, np.uint8))))
    for name in ("16-bit 6000", "float nan inf 4400"):
        out = subprocess.run([sys.executable, "-c", script, str(hostile[name]), str(small)], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["digits"] == 1
        assert result["grew_mb"] < 160, (name, result)      # the pixels (69 and 74 MB) and a little


class Counted:
    def __init__(self, monkeypatch):
        self.decoded = self.prepared = 0
        decode, prepare_all = preprocess.decode, preprocess.prepare_all

        def counted_decode(data):
            self.decoded += 1
            return decode(data)

        def counted_prepare_all(*args, **kwargs):
            self.prepared += 1
            return prepare_all(*args, **kwargs)
        monkeypatch.setattr(preprocess, "decode", counted_decode)
        monkeypatch.setattr(preprocess, "prepare_all", counted_prepare_all)


def test_the_same_picture_is_decoded_and_preprocessed_once(monkeypatch):
    count = Counted(monkeypatch)
    data = encoded(Image.fromarray(five(400, 230, 20, np.uint8)))
    digits, picture = uploads.read(data)
    again, picture_again = uploads.read(bytes(data))           # the same content, another bytes object
    assert (count.decoded, count.prepared) == (1, 1)
    assert again is digits and picture_again is picture and len(digits) == 1
    assert not picture.flags.writeable and not digits[0].image.flags.writeable     # shared: read-only
    with pytest.raises(ValueError):
        digits[0].image[0, 0] = 1
    adaptive, _ = uploads.read(data, threshold="adaptive", deskew=True)  # other options: not decoded again
    assert (count.decoded, count.prepared) == (1, 2) and adaptive is not digits
    assert uploads.read(data, threshold="adaptive", deskew=True)[0] is adaptive
    assert (count.decoded, count.prepared) == (1, 2)
    digits_elsewhere, _ = uploads.read(encoded(Image.fromarray(five(400, 230, 20, np.uint8)), "BMP"))
    assert count.decoded == 2 and np.array_equal(digits_elsewhere[0].image, digits[0].image)


def test_a_bad_picture_is_read_once_and_says_the_same_each_time(monkeypatch):
    count = Counted(monkeypatch)
    for data, key in ((b"not a picture at all", "image.unreadable"), (digits_in_a_row(60), "image.too_many"),
                      (encoded(Image.fromarray(np.full((300, 300), 255, np.uint8))), "image.blank")):
        before = count.decoded
        for _ in range(3):
            with pytest.raises(ImageError) as err:
                uploads.read(data)
            assert err.value.message.key == key
        assert count.decoded == before + 1


def test_sessions_sending_one_picture_at_once_decode_it_once(monkeypatch):
    count = Counted(monkeypatch)
    data = encoded(Image.fromarray(five(1500, 230, 20, np.uint8)))
    results = []
    threads = [threading.Thread(target=lambda: results.append(uploads.read(data)[0])) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count.decoded == 1 and len(results) == 5 and all(r is results[0] for r in results)


def test_what_is_kept_is_bounded_and_the_least_recent_goes_first(monkeypatch):
    count = Counted(monkeypatch)
    monkeypatch.setattr(uploads, "MAX_ENTRIES", 6)
    pictures = [encoded(Image.fromarray(five(100 + 10 * i, 230, 20, np.uint8))) for i in range(8)]
    for data in pictures:
        uploads.read(data)                      # two entries each: the picture, and its digits
    entries, held = uploads.held()
    assert entries <= 6 and count.decoded == 8
    uploads.read(pictures[-1])                  # recent: kept
    assert count.decoded == 8
    uploads.read(pictures[0])                   # the first: dropped, read again
    assert count.decoded == 9
    monkeypatch.setattr(uploads, "MAX_BYTES", 200_000)
    uploads.read(encoded(Image.fromarray(five(600, 230, 20, np.uint8))))
    assert uploads.held()[1] <= 200_000


def test_the_draw_page_reads_uploads_through_the_engine_cache():
    source = (ROOT / "app_pages" / "draw.py").read_text()
    assert "uploads.read(" in source and "preprocess.decode(" not in source
