"""The class leaderboard: each owner's best test accuracy, best first."""
from __future__ import annotations


def best_per_owner(runs: list[dict]) -> list[dict]:
    """One entry per owner with a finished, evaluated run: owner, test_accuracy, name (the best
    run's), runs (how many of theirs were evaluated). Ties go to the earlier run."""
    best: dict = {}
    for run in sorted(runs, key=lambda r: r["seq"]):
        acc = run["results"].get("test_accuracy")
        if acc is None or run["status"] not in ("done", "stopped"):
            continue
        entry = best.setdefault(run["owner"], {"owner": run["owner"], "test_accuracy": -1.0, "name": "", "runs": 0})
        entry["runs"] += 1
        if acc > entry["test_accuracy"]:
            entry.update(test_accuracy=acc, name=run["name"])
    return sorted(best.values(), key=lambda e: -e["test_accuracy"])
