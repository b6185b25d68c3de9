"""Finished runs written straight into a store (no training): their answers on mnist-5k's test set
are the true digits with chosen mistakes, stored exactly as a trained run's are (results.evaluate)."""
import numpy as np

from digitdash.digits.datasets import load
from digitdash.learning.results import evaluate
from digitdash.plan.config import RunConfig


def answers(y: np.ndarray, wrong_at, as_digit=None) -> np.ndarray:
    """The true digits, except at `wrong_at`: there `as_digit` (default: the next digit)."""
    pred = y.copy()
    wrong_at = np.asarray(wrong_at, int)
    pred[wrong_at] = as_digit if as_digit is not None else (y[wrong_at] + 1) % 10
    return pred


def finished_run(store, name: str, pred: np.ndarray, config: RunConfig | None = None, epochs: int = 2) -> str:
    """A finished run called `name` whose test answers are `pred`, with its confusion matrices and
    its misclassified digits stored; train and validation matrices count the test digits too."""
    data = load("mnist-5k")
    config = config or RunConfig(layers=(32,), epochs=epochs)
    run_id = store.create(config, name=name, status="running")
    k = data.num_classes

    def proba(x):          # x is the test set: one-hot answers, 0.9 sure
        probs = np.full((len(x), k), 0.1 / (k - 1), np.float32)
        probs[np.arange(len(x)), pred[:len(x)]] = 0.9
        return probs
    test = (data.x_test, data.y_test)
    results, wrong = evaluate(proba, data, test, test)
    for e in range(1, epochs + 1):
        store.add_epoch(run_id, {"epoch": e, "loss": 1.0 / e, "accuracy": 0.8 + 0.05 * e, "val_loss": 1.1 / e,
                                 "val_accuracy": 0.78 + 0.05 * e, "seconds": 1.0})
    store.save_arrays(run_id, "misclassified", wrong)
    store.finish(run_id, "done", "", results)
    return run_id


def two_runs(store):
    """Run "A" reads test digits 0-39 wrong, "B" digits 20-59 (as the next digit): A reads 40-59
    right and B wrong, B reads 0-19 right and A wrong. Returns (ids, the test labels)."""
    y = load("mnist-5k").y_test
    a = finished_run(store, "A run", answers(y, range(0, 40)))
    b = finished_run(store, "B run", answers(y, range(20, 60)))
    return (a, b), y
