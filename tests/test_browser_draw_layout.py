"""The Draw page as a class uses it: on a 1280x720 projector the answer shows beside the canvas with
nothing wider than the page, an upload's answer is not shown under a stale drawing's, the models a
student chose stay chosen across pages and reloads, and a finger draws on a phone. One server and two
tiny MLPs for the whole file."""
import os

import pytest
from test_browser_draw import STROKES, draw, prediction_text

from browser import CHROMIUM, CHROMIUM_ARGS, start_app, trained_stores  # noqa: F401  (a fixture)
from conftest import ROOT, wait_for

pytestmark = pytest.mark.browser
PROJECTOR = {"width": 1280, "height": 720}
MODELS = {"first mlp": "layers=32", "second mlp": "layers=16"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist5k_cached, trained_stores):  # noqa: F811
    """The server's URL, its store holding two finished Keras MLPs (first mlp, second mlp)."""
    srv = start_app(tmp_path_factory.mktemp("draw-layout"), mnist5k_cached, "first and second mlp", trained_stores)
    yield srv.url
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: scripts/test.sh installs it")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (viewport, touch), closed after the test."""
    contexts = []

    def opened(**context):
        contexts.append(browser.new_context(**context))
        pg = contexts[-1].new_page()
        pg.set_default_timeout(60_000)
        return pg
    yield opened
    for context in contexts:
        context.close()


def boxes(pg, selector: str) -> list[dict]:
    """The boxes (x, y, right, bottom, text) of the visible elements matching `selector`."""
    return pg.evaluate("""sel => [...document.querySelectorAll(sel)].map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden')
        .map(([e, r]) => ({x: r.left, y: r.top, right: r.right, bottom: r.bottom, text: e.innerText || ''}))""",
                       selector)


def overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["right"] - 1 and b["x"] < a["right"] - 1 and a["y"] < b["bottom"] - 1 and b["y"] < a["bottom"] - 1


def wider_than_the_column(pg) -> list[str]:
    """The main column's elements that reach past its content box (its padding excluded); inside a
    chart's SVG only the SVG itself counts (Plotly's transparent drag handles reach past it)."""
    return pg.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMainBlockContainer]');
        const r = main.getBoundingClientRect(), style = getComputedStyle(main);
        const left = r.left + parseFloat(style.paddingLeft), right = r.right - parseFloat(style.paddingRight);
        const boxes = [...main.querySelectorAll('*')].filter(e => e instanceof HTMLElement || e.tagName === 'svg')
            .map(e => [e, e.getBoundingClientRect()]);
        return boxes.filter(([e, b]) => b.width > 0 && (b.right > right + 1 || b.left < left - 1)).slice(0, 5)
            .map(([e, b]) => `${e.tagName} ${e.getAttribute('data-testid') || ''} ${b.right}`);
    }""")


def fits_the_column(pg) -> None:
    """Nothing wider than the page's column (waited for: charts settle their size once drawn), and each
    step's caption under its own picture, none running into another."""
    wait_for(lambda: not wider_than_the_column(pg), timeout=10)
    captions = boxes(pg, "[data-testid=stMainBlockContainer] [data-testid=stImageCaption]")
    assert len(captions) >= 5
    clashes = [(a["text"], b["text"]) for i, a in enumerate(captions) for b in captions[i + 1:] if overlap(a, b)]
    assert clashes == []


def model_chips(pg) -> list[str]:
    return [t.split(" (test")[0] for t in pg.locator(".st-key-models [data-tag]").all_inner_texts()]


def choose_both_models(pg) -> None:
    pg.locator(".st-key-models input").click()
    pg.get_by_role("option", name="second mlp").click()
    pg.keyboard.press("Escape")
    wait_for(lambda: sorted(model_chips(pg)) == sorted(MODELS), timeout=30)


def test_a_drawing_is_answered_beside_the_canvas_on_a_projector(server, new_page):
    pg = new_page(viewport=PROJECTOR)
    pg.goto(server + "/draw")
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    choose_both_models(pg)
    pg.wait_for_timeout(500)
    draw(pg, STROKES["7"])
    wait_for(lambda: prediction_text(pg).count("Prediction:") == 2, timeout=90)
    pg.wait_for_function("document.querySelectorAll('.js-plotly-plot .bars').length >= 2")   # the page is all drawn
    pg.evaluate("document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")

    # every model's answer within the first screen, without scrolling
    answer = pg.locator(".st-key-prediction").bounding_box()
    assert answer["y"] >= 0 and answer["y"] + answer["height"] <= PROJECTOR["height"], answer
    fits_the_column(pg)
    # the canvas' toolbar, shown while the pointer is over the canvas, hides neither the tabs nor Clear
    canvas = pg.locator(".st-key-canvas canvas.upper-canvas").bounding_box()
    pg.mouse.move(canvas["x"] + 100, canvas["y"] + 100)
    pg.wait_for_timeout(600)                                   # its fade-in
    bar = pg.locator(".st-key-canvas .dc-toolbar-card").bounding_box()
    toolbar = {"x": bar["x"], "y": bar["y"], "right": bar["x"] + bar["width"], "bottom": bar["y"] + bar["height"]}
    for other in boxes(pg, "[data-testid=stTabs] [role=tablist]") + boxes(pg, ".st-key-clear button"):
        assert not overlap(toolbar, other), (toolbar, other)

    # the drawing is kept as a 7 ... then an upload: its answer alone, not under the drawing's
    pg.locator(".st-key-right-0 button:visible").click()
    wait_for(lambda: "Kept as a" in pg.inner_text("body"), timeout=30)
    pg.get_by_role("tab", name="Upload photos").click()
    pg.locator(".st-key-upload input[type=file]").set_input_files(str(ROOT / "assets" / "pen-photo-3.jpg"))
    text = wait_for(lambda: "pen-photo-3.jpg" in prediction_text(pg) and prediction_text(pg).count("Prediction:") >= 2
                    and prediction_text(pg), timeout=60)
    assert text.count("Prediction:") == 2 and text.index("pen-photo-3.jpg") < text.index("Prediction:"), text
    assert "Kept as a" not in pg.locator("[data-testid=stMain]").inner_text()
    wait_for(lambda: "strokes evened to" in pg.locator("[data-testid=stMain]").inner_text(), timeout=30)
    pg.wait_for_timeout(1000)
    fits_the_column(pg)                                         # a photo's nine steps too
    pg.evaluate("document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")
    answer = pg.locator(".st-key-prediction").bounding_box()
    assert answer["y"] + answer["height"] <= PROJECTOR["height"], answer


def test_the_chosen_models_and_the_drawing_stay_across_pages_and_reloads(server, new_page):
    pg = new_page(viewport=PROJECTOR)
    pg.goto(server + "/draw")
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    assert model_chips(pg) == ["first mlp"]                     # the best run, preselected
    choose_both_models(pg)
    pg.wait_for_timeout(500)
    draw(pg, STROKES["1"])
    wait_for(lambda: prediction_text(pg).count("Prediction:") == 2, timeout=90)

    pg.locator("[data-testid=stSidebarNav] a", has_text="Data").click()
    pg.get_by_role("heading", name="The data").first.wait_for()
    pg.locator("[data-testid=stSidebarNav] a", has_text="Draw").click()
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    wait_for(lambda: sorted(model_chips(pg)) == sorted(MODELS), timeout=30)
    wait_for(lambda: prediction_text(pg).count("Prediction:") == 2, timeout=30)    # the drawing, still read

    pg.reload()
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    wait_for(lambda: sorted(model_chips(pg)) == sorted(MODELS), timeout=30)
    pg.locator("[data-testid=stSidebarNav] a", has_text="Inside").click()    # the drawing made before the reload
    pg.wait_for_selector(".st-key-inside-source")
    assert "your drawing" in pg.locator(".st-key-inside-source").inner_text()


def touch_draw(pg, strokes) -> None:
    """Strokes drawn with a finger: touch events, as a phone's or a tablet's screen sends them."""
    cdp = pg.context.new_cdp_session(pg)
    box = pg.locator(".st-key-canvas canvas.upper-canvas").bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x, box["y"] + y) for x, y in stroke]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [dict(zip("xy", points[0]))]})
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for i in range(1, 9):
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
                    {"x": x0 + (x1 - x0) * i / 8, "y": y0 + (y1 - y0) * i / 8}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("device", [dict(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2),
                                    dict(viewport={"width": 1024, "height": 768})], ids=["phone", "tablet"])
def test_a_finger_draws_a_digit_and_reads_the_answer(server, new_page, device):
    pg = new_page(has_touch=True, **device)
    pg.goto(server + "/draw")
    pg.wait_for_selector(".st-key-canvas canvas.upper-canvas")
    pg.locator(".st-key-canvas").scroll_into_view_if_needed()
    pg.wait_for_timeout(500)
    touch_draw(pg, STROKES["7"])
    wait_for(lambda: "Prediction:" in prediction_text(pg), timeout=90)
    # the answer right under the canvas (beside it on a tablet), not after every preprocessing step
    canvas = pg.locator(".st-key-canvas canvas.upper-canvas").bounding_box()
    answer = pg.locator(".st-key-prediction [data-testid=stMarkdownContainer]", has_text="Prediction:").first
    assert answer.bounding_box()["y"] - (canvas["y"] + canvas["height"]) < 200, (canvas, answer.bounding_box())
    assert not wider_than_the_column(pg)
