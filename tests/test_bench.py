"""bench's own measures: the lean bare-Keras baseline that cnn-fast's time to 99% is held against."""
import pytest

from digitdash import bench


@pytest.mark.slow              # trains a real network on mnist-5k
@pytest.mark.parametrize("fed", [False, True], ids=["numpy-arrays", "fed-as-the-engine"])
def test_the_lean_baseline_trains_and_times_each_epoch_apart_from_its_test(mnist5k, fed, monkeypatch):
    """One epoch of the lean recipe on mnist-5k: its training seconds and test accuracy per epoch, and
    the seconds at which it first reached the target (here a low one, so that one epoch reaches it);
    fed, through the engine's inputs once, every image of the training set."""
    from digitdash.learning import inputs
    made = []
    training = inputs.training
    monkeypatch.setattr(inputs, "training", lambda x, *args: made.append(len(x)) or training(x, *args))
    figures = bench.lean_baseline(mnist5k, epochs=2, target=0.5, fed=fed)
    assert made == ([len(mnist5k.x_train)] if fed else [])
    epochs = figures["baseline"]["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert 0 < epochs[0]["train_s"] < epochs[1]["train_s"]
    assert epochs[1]["test_accuracy"] > 0.9          # the recipe learns: 5,000 images, two epochs
    assert figures["time_to_99_baseline_s"] == epochs[0]["train_s"]


@pytest.mark.slow
def test_the_baseline_says_none_when_it_never_reaches_the_target(mnist5k):
    figures = bench.lean_baseline(mnist5k, epochs=1, target=1.01)
    assert figures["time_to_99_baseline_s"] is None and len(figures["baseline"]["epochs"]) == 1


def test_the_median_time_to_the_target_counts_a_seed_that_never_reached_it_as_longest():
    """Three seeds of a recipe at the edge of 99%: one that never reaches it is slower than any that did."""
    assert bench.median_reached([8.0, None, 6.0]) == 8.0
    assert bench.median_reached([None, 7.0, None]) is None          # most never reached it: no time to report
    assert bench.median_reached([7.5]) == 7.5 and bench.median_reached([2.0, 4.0]) == 3.0


def test_the_ratio_to_the_baseline_falls_back_on_its_whole_training_when_it_never_reached_99():
    """Most seeds of the baseline ending at 0.9897-0.9905 left no ratio at all: its whole training is a
    bound of its time to 99%, and the figure says which it was held against."""
    reached = {"time_to_99_s": 7.0, "time_to_99_baseline_s": 7.5, "baseline_all_epochs_s": 7.6}
    assert bench.time_to_99_ratio(reached) == {"time_to_99_ratio": 0.933, "time_to_99_ratio_of": "time_to_99_baseline_s"}
    never = {**reached, "time_to_99_baseline_s": None}
    assert bench.time_to_99_ratio(never) == {"time_to_99_ratio": 0.921, "time_to_99_ratio_of": "baseline_all_epochs_s"}
    fed = {**never, "time_to_99_baseline_fed_s": 5.0}          # the baseline fed as the engine feeds a run
    assert bench.time_to_99_ratio(fed)["time_to_99_fed_ratio"] == 1.4
    assert bench.time_to_99_ratio({**reached, "time_to_99_s": None}) == {}


@pytest.mark.slow
def test_the_bare_fit_fed_as_the_engine_trains_the_engines_network_on_its_inputs(mnist5k, monkeypatch):
    """recording_ratio's other side: the engine's compiled network (its steps per call) fit on the
    engine's inputs, training and validation both, nothing recorded."""
    from digitdash.learning import inputs
    from digitdash.plan.config import preset
    import keras
    made, handed = [], {}
    training, validation = inputs.training, inputs.validation
    monkeypatch.setattr(inputs, "training", lambda x, *args: made.append(("training", len(x))) or training(x, *args))
    monkeypatch.setattr(inputs, "validation", lambda x, *args: made.append(("validation", len(x))) or validation(x, *args))
    fit = keras.Model.fit
    monkeypatch.setattr(keras.Model, "fit", lambda model, **kw: handed.update(per_call=model.steps_per_execution) or fit(model, **kw))
    config = preset("mlp-512").replace(dataset="mnist-5k", layers=(16,), epochs=1)
    assert bench._bare_fit(config, mnist5k, fed=True) > 0
    assert made == [("training", 3000), ("validation", 1000)]       # mlp-512 keeps a quarter to validate
    assert handed["per_call"] > 1
