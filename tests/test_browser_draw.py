"""The Draw page in a real browser: a CNN trained on mnist-5k reads digits drawn with the mouse."""
import math
import os
import re
import subprocess
import sys

import pytest

from browser import app_server, page, server  # noqa: F401  (fixtures)
from conftest import ROOT, wait_for

pytestmark = pytest.mark.browser

STROKES = {   # digit -> strokes, each a list of points on the 280x280 canvas
    "1": [[(140, 40), (140, 240)]],
    "7": [[(70, 50), (210, 50), (120, 240)]],
    "0": [[(140 + 60 * math.sin(t / 20 * 2 * math.pi), 140 - 95 * math.cos(t / 20 * 2 * math.pi))
           for t in range(21)]],
}


def draw(pg, strokes):
    box = pg.locator(".st-key-canvas canvas.upper-canvas").bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        pg.mouse.move(box["x"] + x, box["y"] + y)
        pg.mouse.down()
        for x, y in stroke[1:]:
            pg.mouse.move(box["x"] + x, box["y"] + y, steps=8)
        pg.mouse.up()


def prediction_text(pg) -> str:
    el = pg.query_selector(".st-key-prediction")
    return el.inner_text() if el else ""


def test_draw_digits_and_read_the_cnn_prediction(server, page, tmp_path):  # noqa: F811
    env = {**os.environ, "DIGITDASH_HOME": str(tmp_path / "server-home")}
    trained = subprocess.run([sys.executable, "-m", "digitdash", "train", "--dataset", "mnist-5k", "--preset",
                              "cnn-basic", "--set", "epochs=4", "--name", "cnn for drawing", "--json"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-2000:]

    pg = page
    pg.goto(server + "/draw")
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    assert "cnn for drawing" in pg.inner_text("body")   # the best run is preselected
    for digit, strokes in STROKES.items():
        pg.locator(".st-key-clear button:visible").click()
        wait_for(lambda: "Prediction:" not in prediction_text(pg), timeout=30)
        pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
        pg.wait_for_timeout(500)
        draw(pg, strokes)
        text = wait_for(lambda: "Prediction:" in prediction_text(pg) and prediction_text(pg), timeout=90)
        assert f"Prediction: {digit}" in text, (digit, text)

    # No camera: one click sends a sample photo made by the project; it is read, never kept. Its
    # second 2 has a curled foot that many models read as an 8: the page says so under the answer.
    pg.get_by_role("tab", name="Samples").click()
    send = pg.locator(".st-key-sample-pen-photo-2026 button:visible")
    wait_for(lambda: send.count() == 1, timeout=30)          # the rerun after the tab switch has settled
    send.click()
    text = wait_for(lambda: "Sample: 2026" in prediction_text(pg) and "Prediction:" in prediction_text(pg)
                    and prediction_text(pg), timeout=90)
    assert re.search(r"Prediction: 20[28]6 ", text), text
    assert "curled foot" in text and "cnn-basic" in text
    assert pg.locator(".st-key-steps-3 img").count() >= 5          # the fourth digit's steps, below
    assert pg.locator("[class*='st-key-feedback-']").count() == 0       # not offered to the class's handwriting


def test_bad_uploads_get_a_clear_message(server, page, tmp_path):  # noqa: F811
    env = {**os.environ, "DIGITDASH_HOME": str(tmp_path / "server-home")}
    subprocess.run([sys.executable, "-m", "digitdash", "train", "--set", "layers=16", "--set", "epochs=1"],
                   cwd=ROOT, env=env, capture_output=True, timeout=600, check=True)
    junk = tmp_path / "notes.png"
    junk.write_text("not a picture at all")
    pg = page
    pg.goto(server + "/draw")
    pg.get_by_role("tab", name="Upload photos").click()
    pg.wait_for_selector(".st-key-upload")
    pg.locator(".st-key-upload input[type=file]").set_input_files(str(junk))
    wait_for(lambda: "notes.png: This file is not an image DigitDash can read" in pg.inner_text("body"), timeout=60)
    assert "Traceback" not in pg.inner_text("body")


def trained_then_drawn(server, pg, tmp_path, digit: str, *train_args: str) -> None:
    """A run trained through the CLI into the server's store, then `digit` drawn on Draw and read."""
    env = {**os.environ, "DIGITDASH_HOME": str(tmp_path / "server-home")}
    trained = subprocess.run([sys.executable, "-m", "digitdash", "train", *train_args],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-2000:]
    pg.goto(server + "/draw")
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    pg.wait_for_timeout(500)
    draw(pg, STROKES[digit])
    wait_for(lambda: "Prediction:" in prediction_text(pg), timeout=90)


def test_look_inside_the_network_for_a_drawn_digit(server, page, tmp_path):  # noqa: F811
    pg = page
    trained_then_drawn(server, pg, tmp_path, "7", "--preset", "mlp-512", "--set", "epochs=2", "--name", "mlp to look into")
    pg.locator(".st-key-inside-0 button:visible").click()
    pg.get_by_role("heading", name="Inside the network").wait_for()
    assert "your drawing" in pg.locator(".st-key-inside-source").inner_text()
    pg.get_by_role("tab", name="This digit").click()
    pg.wait_for_selector(".st-key-saliency .js-plotly-plot")
    # three panels: the drawing, the answer's saliency, the runner-up's
    assert pg.locator(".st-key-saliency .heatmaplayer").count() == 3
    assert pg.locator(".st-key-activations .js-plotly-plot").count() == 2   # hidden layer + output
    pg.get_by_role("tab", name="Map of the test set").click()
    pg.wait_for_selector(".st-key-map .js-plotly-plot", timeout=120_000)
    legend = pg.locator(".st-key-map").inner_text()
    assert "this digit" in legend and "mistakes" in legend


def test_a_drawing_is_offered_on_inside_opened_from_the_sidebar(server, page, tmp_path):  # noqa: F811
    pg = page
    trained_then_drawn(server, pg, tmp_path, "1", "--set", "layers=32", "--set", "epochs=1")
    # every step of a tall thin "1" sits in a cell of one size: nothing hundreds of pixels tall
    def step_heights():
        heights = [h for h in pg.evaluate(
            "() => [...document.querySelectorAll('.st-key-steps-0 img')].map(i => i.height)") if h]
        return heights if len(heights) >= 5 else None
    heights = wait_for(step_heights, timeout=30)
    assert max(heights) <= 160, heights
    pg.locator("[data-testid=stSidebarNav] a", has_text="Inside").click()     # not the Look inside button
    pg.get_by_role("heading", name="Inside the network").wait_for()
    pg.wait_for_selector(".st-key-inside-source")
    assert "your drawing" in pg.locator(".st-key-inside-source").inner_text()
