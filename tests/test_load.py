"""The load harness on a small class: real server, websocket sessions, submissions in the first
seconds. (The 30-session figures come from `python -m digitdash bench`; this checks the harness and
that every submission is queued and run in order.)"""
import json
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_a_small_class_submits_and_every_run_finishes_in_order():
    out = subprocess.run([sys.executable, "tools/load.py", "--sessions", "5", "--submitters", "3", "--window", "8",
                          "--think", "1,2", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    figures = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])
    assert out.returncode == 0, out.stderr[-2000:]
    assert figures["submitted"] == figures["runs_stored"] == figures["runs_done"] == 3
    assert figures["ran_in_queue_order"] and figures["errors"] == []
    assert figures["page_renders"] >= 5 and figures["server_rss_mb_max"] >= figures["server_rss_mb_idle"] > 50
    assert set(figures["render_s_median_per_page"]) == {"home", "train", "compare", "draw", "inside", "data"}
