"""Junk in: random run configurations and random or truncated image bytes. Every bad input gets one
clear error naming the problem (ConfigError, ImageError); nothing crashes inside Keras or Pillow."""
import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from digitdash.digits import preprocess
from digitdash.digits.datasets import shape_of
from digitdash.plan import architecture
from digitdash.plan.config import ConfigError, RunConfig

FIELDS = {f: v for f, v in RunConfig().to_dict().items() if f != "dataset"}
SHAPE, CLASSES = shape_of("mnist-5k")

junk = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.text(max_size=12),
                 st.floats(allow_nan=True, allow_infinity=True),
                 st.lists(st.integers(-5, 5000), max_size=20).map(tuple))


def plausible(field: str, default):
    """Values near what the field takes, so that many configs are valid and reach Keras."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(-2, 300)
    if isinstance(default, float):
        return st.one_of(st.floats(-1.0, 2.0), st.sampled_from([0.0, 1e-4, 0.5, 0.99, 1.0]))
    if isinstance(default, list):
        return st.lists(st.integers(0, 300), max_size=4).map(tuple)
    from digitdash.plan import config
    choices = {"architecture": ("mlp", "cnn"), "activation": config.ACTIVATIONS,
               "initializer": config.INITIALIZERS, "optimizer": config.OPTIMIZERS,
               "downsampling": config.DOWNSAMPLING, "padding": config.PADDINGS, "monitor": config.MONITORS}
    return st.sampled_from(choices.get(field, ("x",)) + ("nonsense",))


@st.composite
def configs(draw):
    fields = draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=6, unique=True))
    values = {}
    for f in fields:
        values[f] = draw(st.one_of(plausible(f, FIELDS[f]), junk) if draw(st.booleans()) else plausible(f, FIELDS[f]))
    return values


def check(values: dict):
    """Returns the plan of a valid config; a bad one must raise ConfigError naming a real field."""
    try:
        config = RunConfig().replace(**values)
        specs = architecture.plan(config, SHAPE, len(CLASSES))
    except ConfigError as exc:
        assert exc.field in FIELDS or exc.field in ("vary",), exc
        assert str(exc).startswith(f"{exc.field}=") and "not allowed" in str(exc)
        return None
    return config, specs


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_any_config_is_either_valid_or_one_config_error(values):
    check(values)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_valid_configs_build_and_take_a_training_step_in_keras(values):
    checked = check(values)
    if checked is None:
        return
    config, specs = checked
    config = config.replace(epochs=1, batch_size=min(config.batch_size, 16))
    from digitdash.learning.models import build
    model = build(config, SHAPE, len(CLASSES))
    assert model.count_params() == architecture.total_params(specs)
    x = np.random.default_rng(0).integers(0, 256, (16, *SHAPE), dtype=np.uint8)
    y = np.arange(16) % len(CLASSES)
    loss = model.train_on_batch(x, y)
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    assert math.isfinite(float(loss)) or config.learning_rate > 1 or config.init_stddev > 1


def test_networks_too_big_for_memory_are_refused_before_keras():
    with pytest.raises(ConfigError, match="at most 50,000,000 parameters"):
        architecture.plan(RunConfig(layers=(8192,) * 4), SHAPE, 10)
    with pytest.raises(ConfigError, match="batch_size=65536 .*for this network"):
        architecture.plan(RunConfig(architecture="cnn", conv_filters=(1024, 1024), padding="same",
                                    downsampling="none", layers=(), batch_size=65536), SHAPE, 10)


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    img = np.full((60, 50), 230, np.uint8)
    img[10:50, 20:30] = rng.integers(0, 60)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format=["PNG", "JPEG", "BMP", "WEBP", "GIF", "TIFF"][seed % 6])
    return buf.getvalue()


def _read(data: bytes):
    try:
        gray = preprocess.decode(data)
    except preprocess.ImageError as exc:
        assert str(exc) and exc.message.key.startswith("image.")
        return None
    assert gray.dtype == np.uint8 and gray.ndim == 2
    try:
        for prepared in preprocess.prepare_all(gray):
            assert prepared.image.shape == (28, 28) and prepared.image.dtype == np.uint8
    except preprocess.ImageError as exc:
        assert exc.message.key in ("image.blank", "image.specks")
    return gray


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_are_an_image_error_never_a_crash(data):
    _read(data)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 5), st.floats(0.0, 1.0), st.binary(max_size=64))
def test_truncated_or_corrupted_images_are_an_image_error_never_a_crash(seed, cut, noise):
    data = _png(seed)
    _read(data[: int(len(data) * cut)])                               # truncated
    mid = len(data) // 2
    _read(data[:mid] + noise + data[mid + len(noise):])                # overwritten in the middle
