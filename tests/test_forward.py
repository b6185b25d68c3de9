"""The NumPy forward pass against Keras itself: every preset and every activation, the same answers."""
import numpy as np
import pytest

from digitdash.learning import models
from digitdash.plan.config import PRESETS, RunConfig
from digitdash.reading import forward

from conftest import network_numpy_cannot_run


def keras_and_numpy(config: RunConfig, shape=(28, 28, 1)):
    model = models.build(config, shape, 10, compile=False)
    rng = np.random.default_rng(0)
    for layer in model.layers:                     # trained-looking batch-norm statistics, not the defaults
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                               rng.normal(0, 0.2, m.shape), rng.uniform(0.5, 2, v.shape)])
    return model, forward.Network.from_arrays(forward.layers_of(model))


IMAGES = np.random.default_rng(1).integers(0, 256, (40, 28, 28, 1), dtype=np.uint8)
KERAS_PRESETS = [name for name, c in PRESETS.items() if c.architecture in ("mlp", "cnn")]


@pytest.mark.parametrize("name", KERAS_PRESETS)
def test_every_preset_answers_as_keras_does(name):
    model, net = keras_and_numpy(PRESETS[name])
    expected = model.predict(IMAGES, verbose=0)
    np.testing.assert_allclose(net(IMAGES), expected, atol=2e-5)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "elu", "selu", "gelu", "leaky_relu"])
@pytest.mark.parametrize("padding,downsampling", [("same", "stride"), ("valid", "pool")])
def test_every_activation_padding_and_stride(activation, padding, downsampling):
    config = RunConfig(architecture="cnn", conv_filters=(4, 6), kernel_size=4, layers=(12,), activation=activation,
                       padding=padding, downsampling=downsampling)
    model, net = keras_and_numpy(config)
    np.testing.assert_allclose(net(IMAGES), model.predict(IMAGES, verbose=0), atol=2e-5)


def test_hidden_outputs_and_scores_match_keras():
    import keras
    model, net = keras_and_numpy(PRESETS["cnn-basic"])
    conv = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"][0]
    probe = keras.Model(model.inputs[0], [conv.output, model.layers[-1].input])
    want_conv, want_features = probe.predict(IMAGES, verbose=0)
    got_conv = net.outputs(IMAGES, [next(layer for layer in net.layers if layer.kind == "conv")])[0]
    features, scores = net.logits_and_input(IMAGES)
    np.testing.assert_allclose(got_conv, want_conv, atol=2e-4)
    np.testing.assert_allclose(features, want_features, atol=2e-4)
    np.testing.assert_allclose(forward.ACTIVATIONS["softmax"](scores), model.predict(IMAGES, verbose=0), atol=2e-5)


def test_many_images_go_through_in_bounded_batches():
    model, net = keras_and_numpy(PRESETS["mlp-512"])
    many = np.repeat(IMAGES, 15, axis=0)           # 600 images: three batches
    np.testing.assert_allclose(net(many), model.predict(many, verbose=0), atol=2e-5)


def test_a_layer_it_cannot_run_is_said_not_guessed():
    with pytest.raises(forward.UnsupportedLayer):
        forward.layers_of(network_numpy_cannot_run())


@pytest.mark.slow
def test_the_page_server_reads_and_looks_inside_without_tensorflow(seeded, digitdash_home):
    import json
    import subprocess
    import sys

    from conftest import ROOT, cli
    out = cli("train", "--preset", "cnn-basic", "--set", "epochs=1", "--set", "conv_filters=8-16", "--json",
              home=digitdash_home)
    assert out.returncode == 0, out.stderr[-1500:]
    run_id = json.loads(out.stdout.strip().splitlines()[-1])["id"]
    script = f"""
import sys, json
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=120).run()
at.switch_page("app_pages/inside.py").run()
assert not at.exception, at.exception
from digitdash.digits import datasets
from digitdash.reading import predict
from digitdash.runs.store import Store
data = datasets.load("mnist-5k")
probs = predict.run_probabilities(Store(), {run_id!r}, data.x_test[:200])
print(json.dumps({{"tf": "tensorflow" in sys.modules, "acc": float((probs.argmax(1) == data.y_test[:200]).mean())}}))
"""
    env = {**__import__("os").environ, "DIGITDASH_HOME": str(digitdash_home)}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["tf"] is False and figures["acc"] > 0.6     # real answers, from NumPy
