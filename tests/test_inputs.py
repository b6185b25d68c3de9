"""What a Keras run under TensorFlow is fed: its images through a tf.data pipeline with autotuning off
(on two cores autotuning's threads took a core from the training step in most epochs), each image once
an epoch, in a new order every epoch, in the run's batches."""
import os

import numpy as np
import pytest

from digitdash.learning import inputs
from digitdash.plan.config import RunConfig

pytestmark = pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
                                reason="the pipeline is TensorFlow's; other backends get the arrays")


def _epoch(dataset) -> tuple[list[int], np.ndarray, np.ndarray]:
    sizes, xs, ys = [], [], []
    for x, y in dataset:
        sizes.append(len(y))
        xs.append(x.numpy())
        ys.append(y.numpy())
    return sizes, np.concatenate(xs), np.concatenate(ys)


def test_each_image_comes_once_an_epoch_with_its_label_in_a_new_order_each_epoch():
    x = np.arange(50, dtype=np.uint8).reshape(50, 1, 1, 1).repeat(2, axis=1)
    y = (np.arange(50) % 10).astype(np.int64)
    feed = inputs.training(x, y, batch_size=16, seed=3)
    assert set(feed) == {"x", "shuffle"} and not feed["shuffle"]       # the pipeline's own batches and order
    dataset = feed["x"]
    assert dataset.options().autotune.enabled is False
    first, second = _epoch(dataset), _epoch(dataset)
    for sizes, images, labels in (first, second):
        assert sizes == [16, 16, 16, 2]
        assert sorted(images[:, 0, 0, 0]) == list(range(50))          # every image once
        assert (labels == images[:, 0, 0, 0] % 10).all()              # with its own label
    assert (first[1] != second[1]).any() and (first[1][:, 0, 0, 0] != np.arange(50)).any()


def test_validation_keeps_its_order_and_no_images_is_no_validation():
    x, y = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1), np.arange(20) % 10
    sizes, images, labels = _epoch(inputs.validation(x, y, 8))
    assert sizes == [8, 8, 4] and list(images[:, 0, 0, 0]) == list(range(20)) and list(labels) == list(y)
    assert inputs.validation(x[:0], y[:0], 8) is None


@pytest.mark.slow
def test_a_run_trains_on_the_pipeline_and_validates_on_its_own_images(mnist5k, monkeypatch):
    """train() hands fit the pipelines (not the NumPy arrays, whose pipeline autotunes) and still learns."""
    import keras

    from digitdash.learning.training import train
    handed = {}
    fit = keras.Model.fit

    def watching_fit(model, x=None, y=None, **kwargs):
        handed.update(x=x, y=y, validation=kwargs.get("validation_data"))
        return fit(model, x, y, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", watching_fit)
    outcome = train(RunConfig(dataset="mnist-5k", layers=(32,), epochs=2, batch_size=64, validation_split=0.2), mnist5k)
    assert handed["y"] is None and handed["x"].options().autotune.enabled is False
    assert handed["validation"].options().autotune.enabled is False
    assert sum(len(y) for _, y in handed["validation"]) == 800       # a fifth of mnist-5k's 4,000 to train on
    assert outcome.status == "done" and outcome.results["test_accuracy"] > 0.85
