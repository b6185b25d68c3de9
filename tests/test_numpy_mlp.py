"""The NumPy network written from scratch: its backpropagation against finite differences, its start."""
import numpy as np

from digitdash.learning import training
from digitdash.learning.numpy_mlp import NumpyMLP
from digitdash.plan.config import PRESETS


def numeric_gradient(model: NumpyMLP, x, y, layer: int, index: tuple, eps: float = 1e-5) -> float:
    """Central finite difference of the loss for one weight: the reference for backpropagation."""
    w = model.weights[layer]
    old = w[index]
    w[index] = old + eps
    up = model.loss(model.predict_proba(x), y)
    w[index] = old - eps
    down = model.loss(model.predict_proba(x), y)
    w[index] = old
    return (up - down) / (2 * eps)


def test_numpy_backpropagation_matches_finite_differences():
    rng = np.random.default_rng(1)
    x, y = rng.random((16, 20)), rng.integers(0, 5, 16)
    net = NumpyMLP([20, 12, 7, 5], seed=3)
    grads_w, _ = net.gradients(x, y)
    for layer, g in enumerate(grads_w):
        for _ in range(6):
            index = tuple(int(rng.integers(0, n)) for n in g.shape)
            numeric = numeric_gradient(net, x, y, layer, index)
            assert abs(numeric - g[index]) <= 1e-7 + 1e-5 * abs(numeric), (layer, index)


def test_numpy_network_uses_xavier_init_and_learns(mnist5k):
    net = NumpyMLP([784, 128, 10], seed=0)
    limit = np.sqrt(6 / (784 + 128))
    assert np.abs(net.weights[0]).max() <= limit and net.params == 784 * 128 + 128 + 1290
    out = training.train(PRESETS["numpy-mlp"].replace(epochs=3), mnist5k, training.Listener())
    assert out.status == "done" and out.results["test_accuracy"] > 0.85
