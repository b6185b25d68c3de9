"""What a finished family of runs shows, said from its measured figures with the reason the notebooks
gave, and the notebooks' own figures beside ours (`python -m digitdash reproduce`)."""
from __future__ import annotations

from digitdash.i18n import Message, knob_value
from digitdash.plan.config import RunConfig, dashed

# What the notebooks reported (../shared/DESIGN.md), by (family, value); the final network by preset.
NOTEBOOK = {("activation", "linear"): "0.91-0.92", ("activation", "relu"): "0.97-0.98",
            ("initializer", "zeros"): "does not learn", ("optimizer", "sgd"): "0.935",
            ("optimizer", "rmsprop"): "0.978", ("final", "mlp-512-128-dropout"): "0.98"}
FAMILIES = ("neurons", "activation", "initializer", "optimizer", "epochs")
CLOSE = 0.01          # accuracies within a point are "about the same"


def varied(configs: list[RunConfig]) -> list[str]:
    """The knobs whose values differ between the runs (a learning rate that only follows its
    optimizer, as in an optimizer family, is not a knob of its own)."""
    fields = [k for k in configs[0].to_dict() if len({repr(getattr(c, k)) for c in configs}) > 1]
    if "optimizer" in fields and "learning_rate" in fields:
        rates = {}
        for c in configs:
            rates.setdefault(c.optimizer, set()).add(c.learning_rate)
        if all(len(r) == 1 for r in rates.values()):
            fields.remove("learning_rate")
    return fields


def value_of(config: RunConfig, knob: str) -> str:
    value = getattr(config, knob)
    return dashed(value) if isinstance(value, tuple) else f"{value:g}" if isinstance(value, float) else str(value)


def conclusion(runs: list[dict], epochs_of) -> list[Message]:
    """For a family whose runs have all finished with a test accuracy and that varies one knob: what
    changed and by how much, then the notebooks' reason, each from the measured figures. `epochs_of`
    gives a run's epoch rows. Empty while runs are missing or for two knobs at once."""
    if len(runs) < 2 or any(r["results"].get("test_accuracy") is None for r in runs):
        return []
    knobs = varied([r["config"] for r in runs])
    if len(knobs) != 1:
        return []
    knob = knobs[0]
    acc = {value_of(r["config"], knob): r["results"]["test_accuracy"] for r in runs}
    best, worst = max(acc, key=acc.get), min(acc, key=acc.get)
    said = [Message("lesson.spread", knob=Message(f"knob.{knob}.label"), best=knob_value(knob, best),
                    best_acc=acc[best], worst=knob_value(knob, worst), worst_acc=acc[worst],
                    points=100 * (acc[best] - acc[worst]))]
    reason = REASONS.get(knob)
    extra = reason(runs, acc, epochs_of) if reason else None
    return said + ([extra] if extra else [])


def _activation(runs, acc, epochs_of):
    if "linear" not in acc or len(acc) < 2:
        return None
    others = {k: v for k, v in acc.items() if k != "linear"}
    best = max(others, key=others.get)
    points = 100 * (others[best] - acc["linear"])
    key = "lesson.linear" if points > 100 * CLOSE else "lesson.linear_close"
    return Message(key, linear=acc["linear"], best=knob_value("activation", best), best_acc=others[best],
                   points=points)


def _initializer(runs, acc, epochs_of):
    if "zeros" not in acc or len(acc) < 2:
        return None
    others = {k: v for k, v in acc.items() if k != "zeros"}
    best = max(others, key=others.get)
    classes = len(runs[0]["results"].get("report") or []) or 10
    key = "lesson.zeros" if acc["zeros"] < 2 / classes else "lesson.zeros_learnt"
    return Message(key, zeros=acc["zeros"], best=knob_value("initializer", best), best_acc=others[best],
                   chance=1 / classes)


def _optimizer(runs, acc, epochs_of):
    by = {r["config"].optimizer: r["config"] for r in runs}
    if "sgd" not in by or "adam" not in by:
        return None
    sgd, adam = acc["sgd"], acc["adam"]
    key = "lesson.sgd_slower" if adam - sgd > CLOSE else "lesson.sgd_level"
    return Message(key, sgd=sgd, adam=adam, sgd_lr=by["sgd"].learning_rate, adam_lr=by["adam"].learning_rate,
                   epochs=by["sgd"].epochs, points=100 * (adam - sgd))


def _epochs(runs, acc, epochs_of):
    """The train-validation gap at each run's end, in accuracy and in loss (the notebooks watched both)."""
    gaps = []
    for r in sorted(runs, key=lambda r: r["config"].epochs):
        rows = epochs_of(r["id"])
        if not rows or rows[-1].get("val_accuracy") is None or rows[-1].get("val_loss") is None:
            return None
        last = rows[-1]
        gaps.append((len(rows), last["accuracy"] - last["val_accuracy"], last["val_loss"] - last["loss"]))
    (first, first_gap, first_loss), (last, last_gap, last_loss) = gaps[0], gaps[-1]
    wider = last_gap - first_gap > 0.005 or last_loss - first_loss > 0.02
    return Message("lesson.epochs_wider" if wider else "lesson.epochs_same", first=first, last=last,
                   first_gap=first_gap, last_gap=last_gap, first_loss=first_loss, last_loss=last_loss)


def _neurons(runs, acc, epochs_of):
    ordered = sorted(runs, key=lambda r: r.get("params") or 0)
    small, large = ordered[0], ordered[-1]
    gain = 100 * (large["results"]["test_accuracy"] - small["results"]["test_accuracy"])
    key = "lesson.neurons_gain" if gain > 100 * CLOSE else "lesson.neurons_little"
    return Message(key, small=value_of(small["config"], "layers"), large=value_of(large["config"], "layers"),
                   small_params=small.get("params") or 0, large_params=large.get("params") or 0, points=gain)


REASONS = {"activation": _activation, "initializer": _initializer, "optimizer": _optimizer,
           "epochs": _epochs, "layers": _neurons}


def reproduction_rows(family: str, runs: list[dict], dataset: str) -> list[dict]:
    """One row per run of a notebook family (or the final network): the notebook's figure and ours."""
    from digitdash.plan import experiments
    knob = next(iter(experiments.TEMPLATES[family][1])) if family in experiments.TEMPLATES else None
    rows = []
    for r in runs:
        value = value_of(r["config"], knob) if knob else family
        rows.append({"family": family if knob else "final", "run": value if knob else r["name"],
                     "learning_rate": r["config"].learning_rate,
                     "notebook": NOTEBOOK.get((family if knob else "final", value), "-"),
                     "ours": r["results"].get("test_accuracy"), "dataset": dataset,
                     "epochs": r["results"].get("epochs_run")})
    return rows
