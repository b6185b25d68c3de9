"""The class's handwriting in a real browser: draw, say what was meant, see Compare score it."""
import csv
import io

import pytest
from test_browser_draw import STROKES, draw, prediction_text

from browser import app_with, page, trained_stores  # noqa: F401  (fixtures)
from conftest import wait_for

pytestmark = pytest.mark.browser


def compare_row(pg, server_url: str, name: str) -> dict:
    pg.goto(server_url + "/compare")
    pg.wait_for_selector(".st-key-runs-table")
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download table as CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path()).read())))
    return next(r for r in rows if r["name"] == name)


def test_a_drawing_confirmed_on_draw_is_scored_in_compare(app_with, page):  # noqa: F811
    server = app_with("reader")       # cnn-basic, 3 epochs
    pg = page
    assert compare_row(pg, server, "reader")["our handwriting read"] == "0/0"

    pg.goto(server + "/draw")
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    pg.wait_for_timeout(500)
    draw(pg, STROKES["1"])
    wait_for(lambda: "Prediction:" in prediction_text(pg), timeout=90)
    pg.locator(".st-key-right-0 button:visible").click()                           # the tick
    wait_for(lambda: "Kept as a" in pg.locator(".st-key-feedback-0").inner_text(), timeout=30)
    kept_as = pg.locator(".st-key-feedback-0").inner_text()

    pg.locator(".st-key-clear button:visible").click()
    wait_for(lambda: "Prediction:" not in prediction_text(pg), timeout=30)
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    pg.wait_for_timeout(500)
    draw(pg, STROKES["7"])
    text = wait_for(lambda: "Prediction:" in prediction_text(pg) and prediction_text(pg), timeout=90)
    wrong = "3" if "Prediction: 3" not in text else "4"          # a label the model did not give
    pg.locator("[class*='st-key-meant-0-'] button:visible", has_text=wrong).click()   # "No, I meant: 3"
    wait_for(lambda: f"Kept as a {wrong}" in pg.locator(".st-key-feedback-0").inner_text(), timeout=30)
    assert "Traceback" not in pg.inner_text("body")

    row = compare_row(pg, server, "reader")
    right = 1 if "Kept as a 1" in kept_as else 0
    assert row["our handwriting read"] == f"{right}/2", (row, kept_as)
    assert float(row["our handwriting"]) == right / 2
    assert 0 < float(row["made-here drawings"]) <= 1                      # made-here drawings, every run

    pg.goto(server + "/data")
    wait_for(lambda: "Drawings kept" in pg.inner_text("body"), timeout=60)
    assert "Your drawings (2)" in pg.inner_text("body")
