"""Figures drawn by plotly.js in Debian's chromium (no app server): what a class sees on a projector."""
import itertools

import pytest

from digitdash.reading import charts

from browser import page  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

EPOCHS = [{"epoch": n, "accuracy": 0.9 + n / 100, "val_accuracy": 0.9 + n / 120, "loss": 0.4 / n, "val_loss": 0.45 / n}
          for n in range(1, 6)]
STEPS = 100
CHANGES = [{"kind": "pause", "value": None, "step": 130}, {"kind": "lr", "value": 0.001, "step": 130},
           {"kind": "resume", "value": None, "step": 130}, {"kind": "lr", "value": 0.0005, "step": 138},
           {"kind": "pause", "value": None, "step": 145}, {"kind": "resume", "value": None, "step": 150},
           {"kind": "lr", "value": 0.0001, "step": 470}, {"kind": "lr", "value": 0.00005, "step": 480}]


def boxes(pg, fig, width: int) -> list[dict]:
    """The rendered box of every annotation of the figure (the panels' titles and the change labels)."""
    fig.update_layout(width=width)
    pg.set_content(fig.to_html(include_plotlyjs=True, full_html=True))
    pg.wait_for_selector(".js-plotly-plot g.annotation")
    return pg.evaluate("""() => [...document.querySelectorAll('g.annotation')].map(g => {
        const r = g.getBoundingClientRect();
        return {text: g.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    })""")


def test_change_labels_do_not_overprint_in_the_browser(page):  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 720})
    for width, lang in ((1200, "en"), (900, "es"), (600, "en"), (420, "es")):
        fig = charts.curves(EPOCHS, changes=CHANGES, steps_per_epoch=STEPS, lang=lang)
        shown = boxes(page, fig, width)
        assert len(shown) == 2 + 6, shown                      # two titles, a label per step of changes
        for a, b in itertools.combinations(shown, 2):
            apart = a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]
            assert apart, (width, lang, a, b)


def test_the_digit_map_offers_box_select_and_a_drag_selects(page):  # noqa: F811
    import numpy as np
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(200, 2))
    y = rng.integers(0, 10, 200)
    fig = charts.digit_map(xy, y, y, [str(d) for d in range(10)], None)
    fig.update_layout(width=800)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.set_content(fig.to_html(include_plotlyjs=True, full_html=True))
    page.wait_for_selector(".js-plotly-plot .nsewdrag")
    page.evaluate("""() => { window.picked = null;
        document.querySelector('.js-plotly-plot').on('plotly_selected', e => { window.picked = e ? e.points.length : 0; }); }""")
    assert page.locator('.modebar-btn[data-val="select"]').count() == 1        # the toolbar offers box select
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    page.mouse.move(box["x"] + box["width"] - 5, box["y"] + box["height"] - 5, steps=8)
    page.mouse.up()
    page.wait_for_function("window.picked !== null", timeout=5000)
    assert page.evaluate("window.picked") > 100                          # a box over the map picks its points
