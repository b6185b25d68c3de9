"""Compare in a real browser: two trained runs in the table and two confusion matrices."""
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
    pg = page
    pg.goto(server + "/compare")
    pg.wait_for_selector(".st-key-runs-table")
    wait_for(lambda: pg.locator(".st-key-confusion .js-plotly-plot").count() == 2, timeout=60)
    table_text = pg.locator(".st-key-runs-table").inner_text()
    # the table is a canvas grid: its text is read through the CSV download instead when hidden
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download table as CSV").click()
    csv = open(dl.value.path()).read()
    assert "mlp 32 run" in csv and "mlp 128 run" in csv, (table_text, csv)
    titles = pg.locator(".st-key-confusion").inner_text()
    assert "mlp 32 run" in titles and "mlp 128 run" in titles
