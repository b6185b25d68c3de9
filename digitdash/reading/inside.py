"""Inside a trained Keras network: weights as pictures, activations, saliency and a map of the test
set. Plain arrays in, plain arrays out, all in NumPy (forward.Network): no TensorFlow in the page
server. A Keras model given instead is read into a Network first."""
from __future__ import annotations

import numpy as np

from digitdash.i18n import Message, Problem
from digitdash.reading.forward import BATCH, Network, UnsupportedLayer

SALIENCY_STEP = 0.5       # pixel change (of 0-255) for the differences of the score
SALIENCY_BUDGET = 4_000_000   # nudged images x their pixels: 28x28 is nudged pixel by pixel, larger in blocks


class InsideError(Problem):
    """A run whose model cannot be looked into (a baseline, or no model)."""


def network(model) -> Network:
    """The model as a NumPy Network (a Keras model is read once into one)."""
    if isinstance(model, Network):
        return model
    if not hasattr(model, "layers"):
        raise InsideError("inside.not_keras")
    try:
        return Network.from_keras(model)
    except UnsupportedLayer:          # a layer DigitDash never builds: nothing this page can show
        raise InsideError("inside.not_keras") from None


def weight_layers(model) -> list:
    """The layers that hold a kernel (dense and conv), first to last, the output layer included."""
    return [layer for layer in network(model).layers if layer.kernel is not None]


def layer_names(model) -> dict[str, Message]:
    """Each weight layer's name as a student reads it ("Conv 1: 32 filters 3x3", "Hidden 1: 512",
    "Output: 10"), by Keras' own layer name."""
    layers = weight_layers(model)
    names, conv, dense = {}, 0, 0
    for layer in layers:
        kernel = layer.get_weights()[0]
        if layer is layers[-1]:
            names[layer.name] = Message("inside.name_output", units=int(kernel.shape[-1]))
        elif kernel.ndim == 4:
            conv += 1
            names[layer.name] = Message("inside.name_conv", n=conv, filters=int(kernel.shape[-1]),
                                        size=f"{kernel.shape[0]}x{kernel.shape[1]}")
        else:
            dense += 1
            names[layer.name] = Message("inside.name_dense", n=dense, units=int(kernel.shape[-1]))
    return names


def require_keras(model) -> None:
    """InsideError unless the model is a network with weight layers (a baseline has none to show)."""
    if not weight_layers(model):          # network() refuses what has no layers at all
        raise InsideError("inside.not_keras")


# ---- 1. weights ----------------------------------------------------------------------------------
def first_layer_pictures(model, input_shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, str]:
    """Each first-layer neuron's weights as a picture: (pictures (n, h, w), their L2 norms, kind).
    MLP: the 784 weights of each neuron of the first dense layer as 28x28. CNN: each k x k filter of
    the first conv layer (averaged over input channels)."""
    layer = weight_layers(model)[0]
    kernel = np.asarray(layer.get_weights()[0], dtype=np.float64)
    if kernel.ndim == 4:                                    # (k, k, channels, filters)
        pictures = kernel.mean(axis=2).transpose(2, 0, 1)
        kind = "conv"
    else:                                                   # (inputs, neurons), inputs = h * w * c
        h, w, c = input_shape
        pictures = kernel.T.reshape(-1, h, w, c).mean(axis=3)
        kind = "dense"
    norms = np.sqrt((pictures ** 2).reshape(len(pictures), -1).sum(axis=1))
    return pictures, norms, kind


def as_gray(picture: np.ndarray) -> np.ndarray:
    """A signed picture as uint8 gray: 0 weight is mid-gray, the largest |weight| black or white."""
    scale = float(np.abs(picture).max()) or 1.0
    return np.clip(128 + 127 * picture / scale, 0, 255).astype(np.uint8)


def weight_histograms(model, initial: dict | None = None, bins: int = 60) -> list[dict]:
    """Per weight layer: a histogram of its kernel, and of its change from the initial kernel when the
    run kept it (initial: models.initial_kernels at the start)."""
    out, names = [], layer_names(model)
    for i, layer in enumerate(weight_layers(model)):
        kernel = np.asarray(layer.get_weights()[0], dtype=np.float64).ravel()
        counts, edges = _histogram(kernel, bins)
        row = {"layer": names[layer.name], "index": i, "count": int(kernel.size), "counts": counts, "edges": edges,
               "std": float(kernel.std())}
        start = (initial or {}).get(f"layer_{i}")
        if start is not None and start.size == kernel.size:
            change = kernel - start.ravel().astype(np.float64)
            row["change_counts"], row["change_edges"] = _histogram(change, bins)
            row["mean_abs_change"] = float(np.abs(change).mean())
        out.append(row)
    return out


def _histogram(values: np.ndarray, bins: int):
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:                     # all (nearly) equal, e.g. a layer that did not change
        low, high = low - 0.5, high + 0.5
    return np.histogram(values, bins=bins, range=(low, high))


# ---- 2. one digit --------------------------------------------------------------------------------
def _as_batch(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    return x[..., None] if x.ndim == 3 else x


def activations(model, image: np.ndarray) -> list[dict]:
    """The output of every dense and conv layer for one image (h, w) or (h, w, c), output included."""
    net = network(model)
    layers = weight_layers(net)
    outs = net.outputs(_as_batch(image[None]), layers)
    names = layer_names(net)
    return [{"layer": names[layer.name], "kind": "conv" if o.ndim == 4 else "dense",
             "output": layer is layers[-1], "values": o[0]} for layer, o in zip(layers, outs)]


def dead_units(model, images: np.ndarray) -> list[dict]:
    """Per hidden relu layer: units (neurons or filters) whose output is 0 for every one of `images`."""
    net = network(model)
    layers = [layer for layer in weight_layers(net)[:-1] if layer.activation_name == "relu"]
    if not layers:
        return []
    outs = net.outputs(_as_batch(images), layers)
    rows, names = [], layer_names(net)
    for layer, out in zip(layers, outs):
        per_unit = out.reshape(len(out), -1, out.shape[-1]).max(axis=(0, 1))
        rows.append({"layer": names[layer.name], "units": int(per_unit.size), "dead": int((per_unit <= 0).sum())})
    return rows


def saliency_maps(model, image: np.ndarray, digits: list[int]) -> list[np.ndarray]:
    """Gradient x input of each digit's score (the output layer's input times its weights, before
    softmax), over the raw 0-255 pixels: positive pixels pushed the answer towards that digit. The
    gradient is taken by differences, every pixel nudged once (a ReLU network is linear between its
    kinks, so a small step gives its gradient). A larger picture is nudged in square blocks, each
    pixel given its block's mean gradient, so that the work stays within SALIENCY_BUDGET."""
    net = network(model)
    x = _as_batch(np.asarray(image)[None])[0].astype(np.float64)    # differences need the precision
    h, w, c = x.shape
    nudges = max(c, SALIENCY_BUDGET // x.size)
    side = 1
    while -(-h // side) * -(-w // side) * c > nudges:
        side += 1
    rows, cols, chans = np.indices(x.shape)
    block = ((rows // side) * -(-w // side) + cols // side) * c + chans    # each pixel's block
    block = block.reshape(-1)
    blocks = int(block.max()) + 1
    flat = x.reshape(-1)
    base = net.logits_and_input(flat.reshape((1,) + x.shape))[1][0]
    change = np.empty((blocks, base.size))
    for start in range(0, blocks, BATCH):
        ids = np.arange(start, min(start + BATCH, blocks))
        nudged = flat + SALIENCY_STEP * (block[None, :] == ids[:, None])
        change[ids] = net.logits_and_input(nudged.reshape((len(ids),) + x.shape))[1] - base
    per_pixel = change[block] / np.bincount(block)[block][:, None] / SALIENCY_STEP   # (pixels, classes)
    return [(per_pixel[:, d].reshape(x.shape) * x).sum(axis=-1) for d in digits]


def saliency(model, image: np.ndarray, digit: int) -> np.ndarray:
    return saliency_maps(model, image, [digit])[0]


def top_two(probabilities: np.ndarray) -> tuple[int, int]:
    order = np.argsort(-np.asarray(probabilities))
    return int(order[0]), int(order[1])


# ---- 3. a map of the test set --------------------------------------------------------------------
def hidden_features(model, images: np.ndarray) -> np.ndarray:
    """What the last hidden layer makes of each image: the output layer's input."""
    return network(model).logits_and_input(_as_batch(images))[0]


def hidden_and_answers(model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hidden_features, the predicted digit of each image), from one pass."""
    features, scores = network(model).logits_and_input(_as_batch(images))
    return features, scores.argmax(axis=1)


def pca_map(points: np.ndarray, extra: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, float]:
    """2-D PCA of `points`; `extra` (a drawing) placed with the same projection; and the share of
    variance the two axes explain."""
    from sklearn.decomposition import PCA
    pca = PCA(n_components=2, random_state=0).fit(points)
    placed = pca.transform(extra) if extra is not None else None
    return pca.transform(points), placed, float(pca.explained_variance_ratio_.sum())


def tsne_map(points: np.ndarray, extra: np.ndarray | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """2-D t-SNE of `points` (keep it to about a thousand); `extra` is fitted with them, since t-SNE
    cannot place a new point afterwards."""
    from sklearn.manifold import TSNE
    data = points if extra is None else np.vstack([points, extra])
    perplexity = float(min(30, max(2, (len(data) - 1) // 3)))
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(data)
    return (xy, None) if extra is None else (xy[: len(points)], xy[len(points):])
