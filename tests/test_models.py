import numpy as np
import pytest

from digitdash.learning import models
from digitdash.plan import architecture
from digitdash.plan.config import PRESETS, ConfigError, RunConfig


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if c.architecture == "cnn" else n   # cnns: seconds each
                                  for n, c in sorted(PRESETS.items()) if c.architecture in ("mlp", "cnn")])
def test_every_keras_preset_builds_and_trains_one_epoch_on_a_slice(name, mnist5k):
    cfg = PRESETS[name].replace(epochs=1, early_stopping=False)
    model = models.build(cfg, mnist5k.image_shape, 10)
    specs = architecture.plan(cfg, mnist5k.image_shape, 10)
    assert model.count_params() == architecture.total_params(specs)
    assert model.output_shape == (None, 10)
    history = model.fit(mnist5k.x_train[:256], mnist5k.y_train[:256], batch_size=64, epochs=1,
                        validation_split=0.25, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "val_accuracy" in history.history
    probs = model.predict(mnist5k.x_test[:4], verbose=0)
    assert probs.shape == (4, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)


def test_flops_are_counted_as_two_per_multiply_accumulate():
    specs = architecture.plan(RunConfig(layers=(512,)), (28, 28, 1), 10)
    assert architecture.total_flops(specs) == 2 * (784 * 512 + 512 * 10)
    cnn = RunConfig(architecture="cnn", conv_filters=(32,), layers=(), downsampling="none")
    specs = architecture.plan(cnn, (28, 28, 1), 10)
    conv = [s for s in specs if s.kind == "conv"][0]
    assert conv.output_shape == (26, 26, 32) and conv.flops == 2 * 9 * 32 * 26 * 26
    rows = architecture.summary_rows(specs)
    assert rows[-1]["layer"] == "output 10" and rows[-1]["params"] == 26 * 26 * 32 * 10 + 10


def test_plan_matches_keras_shapes_for_strides_and_padding():
    cfg = RunConfig(architecture="cnn", conv_filters=(8, 16, 16), downsampling="stride",
                    padding="same", layers=(32,), batch_norm=True, dropout=0.2)
    model = models.build(cfg, (28, 28, 1), 10)
    specs = architecture.plan(cfg, (28, 28, 1), 10)
    convs = [l for l in model.layers if l.__class__.__name__ == "Conv2D"]
    assert [tuple(c.output.shape[1:]) for c in convs] == [s.output_shape for s in specs if s.kind == "conv"]
    assert model.count_params() == architecture.total_params(specs)


def test_a_network_that_shrinks_the_image_to_nothing_is_a_config_error():
    cfg = RunConfig(architecture="cnn", conv_filters=(8, 8, 8, 8, 8), kernel_size=5)
    with pytest.raises(ConfigError, match="shrunk to nothing"):
        architecture.plan(cfg, (28, 28, 1), 10)


def test_zeros_initializer_gives_zero_weights_and_random_normal_its_stddev():
    zeros = models.build(RunConfig(initializer="zeros", layers=(64,)), (28, 28, 1), 10)
    assert not np.any(zeros.layers[-2].get_weights()[0])
    normal = models.build(RunConfig(initializer="random_normal", init_stddev=0.05, layers=(512,)),
                          (28, 28, 1), 10)
    assert abs(np.std(normal.layers[-2].get_weights()[0]) - 0.05) < 0.005


def test_adam_s_betas_are_knobs_of_the_adam_family_only():
    """beta_1 and beta_2 reach adam, adamw and nadam as set (the cnn-fast preset steadies its high rate with
    0.7 / 0.9), the summary names them when not the usual, and sgd is built as before."""
    for optimizer in ("adam", "adamw", "nadam"):
        cfg = RunConfig(optimizer=optimizer, beta_1=0.7, beta_2=0.9, layers=(8,))
        built = models.build(cfg, (28, 28, 1), 10).optimizer
        assert (float(built.beta_1), float(built.beta_2)) == pytest.approx((0.7, 0.9)), optimizer
        assert "b1=0.7" in cfg.summary() and "b2=0.9" in cfg.summary()
    usual = models.build(RunConfig(layers=(8,)), (28, 28, 1), 10).optimizer
    assert (float(usual.beta_1), float(usual.beta_2)) == pytest.approx((0.9, 0.999))
    assert "b1=" not in RunConfig(layers=(8,)).summary()
    sgd = RunConfig(optimizer="sgd", beta_1=0.7, layers=(8,))
    assert not hasattr(models.build(sgd, (28, 28, 1), 10).optimizer, "beta_1") and "b1=" not in sgd.summary()
