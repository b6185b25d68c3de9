"""Compare in a real browser: trained runs in the table, and confusion matrices a class can read."""
import os
import sys

import pytest

from browser import app_server, app_with, page, trained_stores  # noqa: F401  (fixtures)
from conftest import wait_for

pytestmark = pytest.mark.browser


def test_two_runs_in_table_and_confusion(app_with, page):  # noqa: F811
    server = app_with("two mlps and a family")      # mlp 32 run, mlp 128 run, and a family of two: four runs
    pg = page
    pg.goto(server + "/compare")
    pg.wait_for_selector(".st-key-runs-table")
    wait_for(lambda: pg.locator(".st-key-confusion .js-plotly-plot").count() == 4, timeout=60)
    table_text = pg.locator(".st-key-runs-table").inner_text()
    # the table is a canvas grid: its text is read through the CSV download instead when hidden
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download table as CSV").click()
    csv = open(dl.value.path()).read()
    assert "mlp 32 run" in csv and "mlp 128 run" in csv, (table_text, csv)
    titles = pg.locator(".st-key-confusion").inner_text()
    assert "mlp 32 run" in titles and "mlp 128 run" in titles
    # On a 1280x720 projector every cell's number is at least 12 px high (one matrix at a time, full width)
    pg.set_viewport_size({"width": 1280, "height": 720})
    pg.locator(".st-key-confusion").scroll_into_view_if_needed()

    def cell_sizes():
        return pg.evaluate("""() => [...document.querySelectorAll('.st-key-confusion .js-plotly-plot')]
            .filter(p => p.getBoundingClientRect().width > 0)
            .flatMap(p => [...p.querySelectorAll('.heatmaplayer text, .textpoint text, g.hm text')])
            .filter(t => /^[0-9.+-]+$/.test(t.textContent.trim()))
            .map(t => t.getBoundingClientRect().height)""")
    sizes = wait_for(cell_sizes, timeout=30)
    assert len(sizes) >= 10 and min(sizes) >= 12, sizes


LONG_NAMES = ("cnn c32-c64 d256 bn drop0.5 aug #1", "cnn c32-c64 d128 stride-last adadelta #2")   # default-like names


def hover_help(pg, box: dict, text: str) -> float | None:
    """Hover along a table's header row (only its visible part: no sideways scrolling) until the
    header's tooltip holding `text` shows; the x where it did, else None."""
    for x in range(int(box["x"]) + 20, int(box["x"] + box["width"]) - 2, 30):
        pg.mouse.move(x, box["y"] + 18)
        pg.wait_for_timeout(700)                 # the grid shows a header's help once the pointer rests
        pg.mouse.move(x + 1, box["y"] + 19)
        try:
            pg.get_by_test_id("stDataFrameTooltipContent").filter(has_text=text).wait_for(timeout=1500)
            return x
        except Exception:           # noqa: BLE001  (no tooltip, or another column's)
            continue
    return None


def test_on_a_projector_compare_fits_its_column_and_a_clicked_cell_shows_its_digits(app_server, page):  # noqa: F811
    """1280x720 (a classroom projector): the runs table shows the test accuracy without sideways
    scrolling, nothing in the main column is wider than it, and clicking a confusion cell shows the
    test digits of that cell (true d read as d+1), and what the other run reads differently."""
    sys.path.insert(0, os.path.dirname(__file__))
    from digitdash.runs.store import Store

    from fake_runs import answers, finished_run
    store = Store(app_server.home)
    from digitdash.digits.datasets import load
    y = load("mnist-5k").y_test
    finished_run(store, LONG_NAMES[0], answers(y, range(0, 40)))          # wrong on test digits 0-39
    finished_run(store, LONG_NAMES[1], answers(y, range(20, 60)))         # wrong on 20-59
    digit = int(y[0])
    in_cell = [i for i in range(40) if y[i] == digit]                      # the first run's d read as d+1
    pg = page
    pg.set_viewport_size({"width": 1280, "height": 720})
    pg.goto(app_server.url + "/compare")
    pg.wait_for_selector(".st-key-runs-table")
    wait_for(lambda: pg.locator(".st-key-confusion .js-plotly-plot").count() == 2, timeout=60)
    wait_for(lambda: pg.locator("[data-testid=stDataFrame]").count() >= 2, timeout=60)   # runs and per-digit tables
    # the runs table: the test accuracy is among the columns drawn, and hovering its header (within
    # the table's visible width) shows its help
    heads = wait_for(lambda: pg.evaluate("() => [...document.querySelectorAll('.st-key-runs-table th')]"
                                         ".map(h => h.textContent)"), timeout=30)     # the columns drawn
    assert "test accuracy" in heads, heads
    table = pg.locator(".st-key-runs-table [data-testid=stDataFrame]").bounding_box()
    assert hover_help(pg, table, "never seen in training") is not None
    # nothing in the main column is wider than it, and no table scrolls sideways but the runs table
    too_wide = pg.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMainBlockContainer]');
        const style = getComputedStyle(main), r = main.getBoundingClientRect();
        const left = r.left + parseFloat(style.paddingLeft) - 1, right = r.right - parseFloat(style.paddingRight) + 1;
        const wide = [...main.querySelectorAll('[data-testid=stElementContainer], [data-testid=stVerticalBlock], '
                                             + '[data-testid=stHorizontalBlock], .js-plotly-plot, img')]
            .filter(e => { const b = e.getBoundingClientRect(); return b.width > 0 && (b.left < left || b.right > right); })
            .map(e => (e.className || e.tagName) + ' ' + Math.round(e.getBoundingClientRect().width));
        const scrolls = [...main.querySelectorAll('.dvn-scroller')]
            .filter(s => s.clientWidth > 0 && !s.closest('.st-key-runs-table') && s.scrollWidth > s.clientWidth + 1)
            .map(s => 'a table scrolls sideways: ' + s.scrollWidth + ' > ' + s.clientWidth);
        const page = document.documentElement.scrollWidth > window.innerWidth ? ['the page scrolls sideways'] : [];
        return [...wide, ...scrolls, ...page]; }""")
    assert too_wide == [], too_wide
    # the per-digit table's change column is drawn, its help says what it is
    per_digit = pg.locator(".st-key-per-digit [data-testid=stDataFrame]")
    per_digit.scroll_into_view_if_needed()
    assert hover_help(pg, per_digit.bounding_box(), "B reads it better") is not None
    # click the first run's cell (true d, predicted d+1): its digits show, and the other run's reading
    chart = pg.locator(".st-key-confusion .js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    point = chart.locator(".scatterlayer .point").nth(digit * 10 + (digit + 1) % 10)
    wait_for(lambda: point.bounding_box(), timeout=30)
    box = point.bounding_box()
    pg.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    cell = pg.locator(".st-key-cell-digits")
    cell.get_by_text(f"true {digit}, read as {(digit + 1) % 10}").wait_for(timeout=30_000)
    wait_for(lambda: cell.locator("img").count() >= len(in_cell), timeout=30)
    assert cell.get_by_text(f"{len(in_cell)} shown of {len(in_cell)} test digits").count() == 1
    assert cell.get_by_text("Right by B, wrong by A").count() == 1
