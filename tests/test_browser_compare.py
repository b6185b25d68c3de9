"""Compare in a real browser: trained runs in the table, and confusion matrices a class can read."""
import os
import subprocess
import sys

import pytest

from browser import app_server, page, server  # noqa: F401  (fixtures)
from conftest import ROOT, wait_for

pytestmark = pytest.mark.browser


def test_two_runs_in_table_and_confusion(server, page, tmp_path):  # noqa: F811
    env = {**os.environ, "DIGITDASH_HOME": str(tmp_path / "server-home")}
    for neurons in (32, 128):
        out = subprocess.run([sys.executable, "-m", "digitdash", "train", "--set", f"layers={neurons}",
                              "--set", "epochs=2", "--name", f"mlp {neurons} run"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
    out = subprocess.run([sys.executable, "-m", "digitdash", "experiment", "--vary", "layers=16,64", "--set", "epochs=1"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]       # four runs: the most Compare shows at once
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
