"""The class leaderboard: each owner's best test accuracy, best first."""
from __future__ import annotations

from digitdash.runs.store import TRAINED


def best_per_owner(runs: list[dict], ours: dict[str, dict] | None = None) -> list[dict]:
    """One entry per owner with a finished, evaluated run: owner, test_accuracy, name (the best
    run's), runs (how many of theirs were evaluated), our_handwriting (the best run's accuracy on
    the class's drawings, from `ours`: handwriting.scores by run id; None when not scored). Ties go
    to the earlier run."""
    ours = ours or {}
    best: dict = {}
    for run in sorted(runs, key=lambda r: r["seq"]):
        acc = run["results"].get("test_accuracy")
        if acc is None or run["status"] not in TRAINED:
            continue
        entry = best.setdefault(run["owner"], {"owner": run["owner"], "test_accuracy": -1.0, "name": "", "runs": 0,
                                               "our_handwriting": None})
        entry["runs"] += 1
        if acc > entry["test_accuracy"]:
            entry.update(test_accuracy=acc, name=run["name"],
                         our_handwriting=(ours.get(run["id"]) or {}).get("accuracy"))
    return sorted(best.values(), key=lambda e: -e["test_accuracy"])
