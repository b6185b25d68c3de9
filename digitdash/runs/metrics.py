"""Numbers about runs, from plain arrays: confusion, per-class report, gaps, convergence."""
from __future__ import annotations

import numpy as np

from digitdash.i18n import Message

ACCURACY_GAP = 0.05   # the notebooks' overfitting thresholds for |train - val|
LOSS_GAP = 0.1


def confusion(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts: rows are the true class, columns the predicted one."""
    idx = np.asarray(y_true, dtype=np.int64) * num_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def report(cm: np.ndarray) -> list[dict]:
    """Per class: precision, recall, F1 and support, from a confusion matrix."""
    cm = np.asarray(cm)
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    rows = []
    for k in range(len(cm)):
        p = tp[k] / predicted[k] if predicted[k] else 0.0
        r = tp[k] / actual[k] if actual[k] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows.append({"class": k, "precision": p, "recall": r, "f1": f1, "support": int(actual[k])})
    return rows


def gaps(epochs: list[dict]) -> list[dict]:
    """How far validation falls behind training per epoch, signed (None where there is no validation):
    accuracy_gap = train - val accuracy, loss_gap = val - train loss. Positive is the overfitting
    side; negative means validation is ahead (dropout and augmentation handicap training)."""
    out = []
    for e in epochs:
        def behind(ahead, other):
            return ahead - other if ahead is not None and other is not None else None
        out.append({"epoch": e["epoch"], "accuracy_gap": behind(e.get("accuracy"), e.get("val_accuracy")),
                    "loss_gap": behind(e.get("val_loss"), e.get("loss"))})
    return out


def crossings(xs: list[float], a: list[float], b: list[float]) -> list[tuple[float, float]]:
    """Points where two piecewise-linear curves over xs cross (linear interpolation)."""
    points = []
    for i in range(1, len(xs)):
        if None in (a[i - 1], a[i], b[i - 1], b[i]):
            continue
        d0, d1 = a[i - 1] - b[i - 1], a[i] - b[i]
        if d0 == 0:
            points.append((xs[i - 1], a[i - 1]))
        elif d0 * d1 < 0:
            t = d0 / (d0 - d1)
            points.append((xs[i - 1] + t * (xs[i] - xs[i - 1]), a[i - 1] + t * (a[i] - a[i - 1])))
    if len(xs) > 1 and None not in (a[-1], b[-1]) and a[-1] == b[-1]:
        points.append((xs[-1], a[-1]))
    return points


def first_overfit_epoch(epochs: list[dict], acc_threshold=ACCURACY_GAP, loss_threshold=LOSS_GAP):
    """The first epoch in which val accuracy trails train by more than the threshold, or the loss
    gap is exceeded with val loss above train loss; None if it never happens."""
    for e in _judged(epochs):
        if _over(e, acc_threshold, loss_threshold):
            return e["epoch"]
    return None


def overfitting_since(epochs: list[dict], acc_threshold=ACCURACY_GAP, loss_threshold=LOSS_GAP):
    """The epoch from which validation has stayed behind training by more than a threshold up to the
    last epoch (the red bars at the end of the gap chart); None when the last epoch is within the
    thresholds, however red an early epoch was (a first epoch of batch normalization often is)."""
    since = None
    for e in _judged(epochs):
        since = (since or e["epoch"]) if _over(e, acc_threshold, loss_threshold) else None
    return since


def _judged(epochs: list[dict]) -> list[dict]:
    """The epochs with all four figures (train and validation, accuracy and loss)."""
    return [e for e in epochs if None not in (e.get(k) for k in ("accuracy", "val_accuracy", "loss", "val_loss"))]


def _over(e: dict, acc_threshold, loss_threshold) -> bool:
    return e["accuracy"] - e["val_accuracy"] > acc_threshold or e["val_loss"] - e["loss"] > loss_threshold


# What curbs overfitting, each a field of RunConfig and whether the run already uses it.
REMEDIES = {"dropout": lambda c: c.dropout > 0, "l2": lambda c: c.l2 > 0, "augment": lambda c: bool(c.augment),
            "early_stopping": lambda c: bool(c.early_stopping)}


def advice(config=None) -> Message:
    """What to try against overfitting: only what the run (a RunConfig; None: unknown) does not use yet."""
    left = [k for k, used in REMEDIES.items() if config is None or not used(config)]
    if not left:
        return Message("verdict.try_none")
    return Message(f"verdict.try_{len(left)}", **{name: Message(f"verdict.remedy_{k}") for name, k in zip("abcd", left)})


def verdict(epochs: list[dict], test_accuracy: float | None, acc_threshold=ACCURACY_GAP,
            loss_threshold=LOSS_GAP, config=None) -> tuple[str, Message]:
    """(kind, sentence), read off the figures: underfitting, overfitting (validation behind training
    by more than a threshold through the last epoch), or a good fit, saying so when validation ends
    ahead of training (the grey bars). The advice leaves out what `config` already uses."""
    if not epochs:
        return "none", Message("verdict.none")
    last = epochs[-1]
    acc = last.get("accuracy") or 0.0
    if acc < 0.8:
        return "underfitting", Message("verdict.underfitting", acc=acc)
    since = overfitting_since(epochs, acc_threshold, loss_threshold)
    if since is not None:
        return "overfitting", Message("verdict.overfitting", epoch=since, advice=advice(config))
    judged = _judged(epochs)
    ahead = bool(judged) and judged[-1]["val_accuracy"] > judged[-1]["accuracy"] and judged[-1]["val_loss"] < judged[-1]["loss"]
    key = "verdict.ahead" if ahead else "verdict.good"
    if test_accuracy is None:
        return "good", Message(key, acc=acc)
    return "good", Message(key + "_test", acc=acc, test=test_accuracy)


def normalize_rows(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the share of each true class given to each prediction."""
    cm = np.asarray(cm, dtype=float)
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class: correct / actual."""
    return np.diag(normalize_rows(cm))


def convergence(losses: list[float]) -> list[float]:
    """Each epoch's loss divided by the first epoch's loss."""
    if not losses or not losses[0]:
        return []
    return [loss / losses[0] for loss in losses]


def mean_drop_per_epoch(losses: list[float]) -> float | None:
    """How much of the first epoch's loss goes, on average, each later epoch."""
    norm = convergence(losses)
    return (norm[0] - norm[-1]) / (len(norm) - 1) if len(norm) > 1 else None


def epoch_figures(epochs: list[dict]) -> dict:
    """What a run's epochs add up to, as the Compare table shows it: the final, best and mean of each
    figure, how many epochs ran, the training seconds, seconds per epoch and the mean loss drop per
    epoch. Kept in the store when the run ends (store.figures), so a table of hundreds of runs never
    reads their epochs again."""
    out = {}
    for key in ("accuracy", "val_accuracy", "loss", "val_loss"):
        values = [e[key] for e in epochs if e.get(key) is not None]
        out[f"final {key}"] = values[-1] if values else None
        out[f"best {key}"] = (max if "accuracy" in key else min)(values) if values else None
        out[f"mean {key}"] = sum(values) / len(values) if values else None
    seconds = sum(e.get("seconds") or 0 for e in epochs)
    out["epochs run"] = len(epochs)
    out["train time s"] = round(seconds, 2)
    out["s per epoch"] = round(seconds / len(epochs), 3) if epochs else None
    out["loss drop per epoch"] = mean_drop_per_epoch([e["loss"] for e in epochs if e.get("loss") is not None])
    return out
