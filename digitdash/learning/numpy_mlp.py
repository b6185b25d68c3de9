"""A multilayer perceptron written from scratch in NumPy, as the notebooks did by hand.

Forward pass (ReLU hidden layers, softmax output), cross-entropy loss, backpropagation, mini-batch
SGD, Xavier (Glorot) initialization. Inputs are pixels scaled to [0, 1] and flattened.
"""
from __future__ import annotations

import numpy as np

from digitdash.digits.arrays import cross_entropy


class NumpyMLP:
    def __init__(self, sizes: list[int], seed: int = 0):
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            limit = np.sqrt(6.0 / (n_in + n_out))          # Xavier / Glorot uniform
            self.weights.append(rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float64))
            self.biases.append(np.zeros(n_out))

    @property
    def params(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Activations of every layer, the input first and the softmax probabilities last."""
        acts = [x]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = acts[-1] @ w + b
            if i < len(self.weights) - 1:
                acts.append(np.maximum(z, 0.0))
            else:
                z = z - z.max(axis=1, keepdims=True)
                e = np.exp(z)
                acts.append(e / e.sum(axis=1, keepdims=True))
        return acts

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[-1]

    @staticmethod
    def loss(probs: np.ndarray, y: np.ndarray) -> float:
        return cross_entropy(probs, y)

    def gradients(self, x: np.ndarray, y: np.ndarray):
        """Backpropagation: d(mean cross-entropy)/d(every weight and bias)."""
        acts = self.forward(x)
        delta = acts[-1].copy()
        delta[np.arange(len(y)), y] -= 1.0               # softmax + cross-entropy
        delta /= len(y)
        grads_w, grads_b = [], []
        for i in range(len(self.weights) - 1, -1, -1):
            grads_w.insert(0, acts[i].T @ delta)
            grads_b.insert(0, delta.sum(axis=0))
            if i:
                delta = (delta @ self.weights[i].T) * (acts[i] > 0)
        return grads_w, grads_b

    def sgd_epoch(self, x, y, lr: float, batch_size: int, rng, on_batch=None) -> None:
        order = rng.permutation(len(x))
        for step, start in enumerate(range(0, len(x), batch_size)):
            idx = order[start:start + batch_size]
            gw, gb = self.gradients(x[idx], y[idx])
            for i in range(len(self.weights)):
                self.weights[i] -= lr * gw[i]
                self.biases[i] -= lr * gb[i]
            if on_batch and on_batch(step):
                return

    def to_arrays(self) -> dict:
        out = {f"w{i}": w for i, w in enumerate(self.weights)}
        out.update({f"b{i}": b for i, b in enumerate(self.biases)})
        return out

    @classmethod
    def from_arrays(cls, arrays: dict) -> "NumpyMLP":
        n = len([k for k in arrays if k.startswith("w")])
        model = cls.__new__(cls)
        model.weights = [np.asarray(arrays[f"w{i}"]) for i in range(n)]
        model.biases = [np.asarray(arrays[f"b{i}"]) for i in range(n)]
        return model

