"""What a run reports while it trains and gives back at the end, whatever its kind: the Listener it
reports to, its Outcome, and the evaluation of the trained model on train, validation and test."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from digitdash.digits.arrays import cross_entropy
from digitdash.digits.datasets import Dataset
from digitdash.i18n import Message
from digitdash.plan.config import RunConfig
from digitdash.runs import metrics

MISCLASSIFIED_KEPT = 500
DIVERGED_FACTOR = 10          # a loss ten times worse than uniform guessing (ln classes) has blown up


class Listener:
    """Receives a run's progress. Every method may be called from a Keras callback thread."""

    def started(self, info: dict) -> None: ...
    def initial_weights(self, kernels: dict) -> None: ...   # every kernel before training (Inside page)
    def epoch(self, row: dict) -> None: ...
    def batch(self, step: int, epoch: int, loss: float) -> None: ...
    def should_stop(self) -> bool:  # called before every batch: keep it cheap
        return False

    def log_dir(self) -> str | None:  # a folder for TensorBoard logs, when they are wanted
        return None

    def controls(self) -> list[dict]:  # changes asked and not yet applied (controls.py); called before every batch
        return []

    def applied(self, change: dict, step: int, epoch: int) -> None: ...   # where a change took effect


@dataclass
class Outcome:
    status: str                      # done, stopped, diverged
    message: str = ""
    results: dict = field(default_factory=dict)
    model: object = None             # anything with save(path)
    misclassified: dict | None = None
    fit_seconds: float = 0.0


def diverged(loss: float | None, num_classes: int) -> bool:
    """NaN, infinite, or far beyond what any guess costs (Keras clips probabilities, so a blown-up
    network often shows a huge finite loss instead of NaN)."""
    return loss is not None and (not math.isfinite(loss) or loss > DIVERGED_FACTOR * math.log(num_classes))


def diverged_outcome(loss: float, where: Message, config: RunConfig, epochs_run: int,
                     fit_seconds: float) -> Outcome:
    return Outcome("diverged", Message("run.diverged", loss=loss, where=where, lr=config.learning_rate),
                   {"epochs_run": epochs_run}, fit_seconds=fit_seconds)


def stopped_message(epochs_done: int) -> Message:
    return Message("run.stopped_on_request", epoch=epochs_done + 1)


def threshold_message(epoch: int, config: RunConfig) -> Message:
    return Message("run.loss_threshold", epoch=epoch, threshold=config.loss_threshold)


def evaluate(proba, data: Dataset, train, val) -> tuple[dict, dict]:
    """Test loss/accuracy, confusion matrices, per-class report and the misclassified test digits,
    from a function giving class probabilities for uint8 images."""
    k = data.num_classes
    results = {"confusion": {}}
    probs_test = None
    for split, (x, y) in (("train", train), ("val", val), ("test", (data.x_test, data.y_test))):
        if not len(x):
            continue
        probs = np.asarray(proba(x))
        results["confusion"][split] = metrics.confusion(y, probs.argmax(axis=1), k).tolist()
        if split == "test":
            probs_test = probs
    y = data.y_test
    pred = probs_test.argmax(axis=1)
    results["test_accuracy"] = float((pred == y).mean())
    results["test_loss"] = cross_entropy(probs_test, y)
    results["report"] = metrics.report(np.array(results["confusion"]["test"]))
    wrong = np.flatnonzero(pred != y)
    order = wrong[np.argsort(-probs_test[wrong, pred[wrong]])][:MISCLASSIFIED_KEPT]
    misclassified = {"index": order, "true": y[order], "pred": pred[order],
                     "probs": probs_test[order].astype(np.float32), "images": data.x_test[order]}
    results["misclassified_count"] = int(len(wrong))
    return results, misclassified
