"""Write the sample pictures in assets/ (made here by digitdash.digits.synthetic, the same every time):
what a student without a camera sends to the models from the Draw page.

    python tools/make_assets.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from digitdash.digits import synthetic  # noqa: E402  (after the path is set)


def main() -> int:
    out = ROOT / "assets"
    out.mkdir(exist_ok=True)
    pictures = {
        "pen-photo-3.jpg": synthetic.pen_photos(1, np.random.default_rng(3))[3][0],
        "pen-photo-2026.jpg": synthetic.pen_page([2, 0, 2, 6], np.random.default_rng(2026)),
        "marker-photo-7-grey-paper.jpg": synthetic.marker_photo(7, np.random.default_rng(7), grey=True),
        "marker-photo-5-bold.jpg": synthetic.bold_five(),
        "drawing-4.png": synthetic.drawings(1, np.random.default_rng(4))[4][0][:, :, 0],
        "drawing-9.png": synthetic.drawings(1, np.random.default_rng(9))[9][0][:, :, 0],
    }
    for name, picture in pictures.items():
        params = [cv2.IMWRITE_JPEG_QUALITY, 85] if name.endswith(".jpg") else []
        cv2.imwrite(str(out / name), picture, params)
        print(out / name, picture.shape)
    return 0


if __name__ == "__main__":
    sys.exit(main())
