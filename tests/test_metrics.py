import numpy as np

from digitdash import metrics


def test_confusion_and_report_against_hand_counts():
    cm = metrics.confusion(np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 1, 1, 2, 2]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    rows = metrics.report(cm)
    assert rows[1]["precision"] == 2 / 3 and rows[1]["recall"] == 2 / 3 and rows[1]["support"] == 3
    assert rows[2]["precision"] == 0.5 and rows[2]["f1"] == 2 * 0.5 * 1 / 1.5


def test_crossings_are_interpolated():
    assert metrics.crossings([1, 2, 3], [0.0, 1.0, 2.0], [1.0, 0.5, 0.0]) == [(1 + 1 / 1.5, 1 / 1.5)]
    assert metrics.crossings([1, 2], [0.0, 1.0], [1.0, 2.0]) == []


def test_gaps_and_verdicts():
    good = [{"epoch": 1, "accuracy": 0.95, "val_accuracy": 0.94, "loss": 0.2, "val_loss": 0.22}]
    assert metrics.gaps(good)[0]["accuracy_gap"] == 0.95 - 0.94
    assert metrics.verdict(good, 0.94)[0] == "good"
    over = good + [{"epoch": 2, "accuracy": 0.99, "val_accuracy": 0.92, "loss": 0.02, "val_loss": 0.3}]
    kind, sentence = metrics.verdict(over, 0.92)
    assert kind == "overfitting" and "epoch 2" in sentence
    under = [{"epoch": 1, "accuracy": 0.11, "val_accuracy": 0.1, "loss": 2.3, "val_loss": 2.3}]
    assert metrics.verdict(under, 0.1)[0] == "underfitting"
    assert metrics.first_overfit_epoch(over, acc_threshold=0.1, loss_threshold=1.0) is None


def test_gaps_are_signed_validation_ahead_is_negative():
    ahead = [{"epoch": 1, "accuracy": 0.90, "val_accuracy": 0.97, "loss": 0.35, "val_loss": 0.10}]
    gap = metrics.gaps(ahead)[0]
    assert gap["accuracy_gap"] == 0.90 - 0.97 and gap["loss_gap"] == 0.10 - 0.35
