import numpy as np

from digitdash.runs import metrics


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


def _epochs(*rows):
    return [{"epoch": n, "accuracy": a, "val_accuracy": va, "loss": lo, "val_loss": vl}
            for n, (a, va, lo, vl) in enumerate(rows, start=1)]


# cnn-bn-aug as the tester saw it: epoch 1 red (batch normalization's first validation), then
# validation ahead of training in epochs 2-4 (grey bars).
BN_AUG = _epochs((0.86, 0.78, 0.45, 0.70), (0.95, 0.98, 0.17, 0.06), (0.96, 0.985, 0.13, 0.05),
                 (0.97, 0.99, 0.10, 0.04))


def test_the_verdict_reads_the_latest_epochs_not_one_red_early_bar():
    from digitdash.i18n import say
    from digitdash.plan.config import preset
    assert metrics.first_overfit_epoch(BN_AUG) == 1 and metrics.overfitting_since(BN_AUG) is None
    kind, sentence = metrics.verdict(BN_AUG, 0.99, config=preset("cnn-bn-aug"))
    assert kind == "good" and "Overfitting" not in sentence and "validation ahead of training" in sentence
    assert "por delante" in say(sentence, "es")
    # a gap that opens and stays open to the end is overfitting, from where it opened
    grows = _epochs((0.95, 0.94, 0.2, 0.22), (0.97, 0.95, 0.1, 0.15), (0.99, 0.93, 0.03, 0.25), (0.995, 0.92, 0.02, 0.35))
    kind, sentence = metrics.verdict(grows, 0.92)
    assert kind == "overfitting" and "epoch 3" in sentence
    closes = grows[:3] + [dict(grows[3], val_accuracy=0.975, val_loss=0.08)]   # red, then close again at the end
    assert metrics.verdict(closes, 0.97)[0] == "good"


def test_overfitting_advice_leaves_out_what_the_run_already_uses():
    from digitdash.i18n import say
    from digitdash.plan.config import RunConfig, preset
    grows = _epochs((0.95, 0.94, 0.2, 0.22), (0.99, 0.90, 0.03, 0.35))
    said = metrics.verdict(grows, 0.9)[1]                 # no config known: the four remedies, as before
    assert all(w in said for w in ("dropout", "L2", "augmentation", "early stopping"))
    said = metrics.verdict(grows, 0.9, config=RunConfig(dropout=0.3, augment=True))[1]
    assert "Try L2 or early stopping." in said and "dropout" not in said and "augmentation" not in said
    assert "Prueba L2 o parada temprana." in say(said, "es")
    said = metrics.verdict(grows, 0.9, config=preset("cnn-bn-aug").replace(l2=0.001))[1]
    assert said.startswith("Overfitting from epoch 2") and "already uses" in said and "Try" not in said
    for remedy in ("dropout", "l2", "augment", "early_stopping"):   # each remedy, when used, is left out
        config = RunConfig(**{remedy: 0.2 if remedy in ("dropout", "l2") else True})
        words = {"dropout": "dropout", "l2": "L2", "augment": "augmentation", "early_stopping": "early stopping"}
        assert words[remedy] not in metrics.verdict(grows, 0.9, config=config)[1]
