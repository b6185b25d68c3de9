"""Inside the network: each view's numbers on tiny networks whose answers are known by hand."""
import numpy as np
import pytest

from digitdash.learning import models
from digitdash.reading import inside

from conftest import network_numpy_cannot_run


def linear_model(seed=0):
    """Rescaling -> Flatten -> Dense(10, softmax): its class scores are (x / 255) . W + b."""
    import keras
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(784, 10)).astype(np.float32), rng.normal(size=10).astype(np.float32)
    model.layers[-1].set_weights([w, b])
    return model, w, b


def mlp(hidden_bias=0.0):
    import keras
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(6, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    rng = np.random.default_rng(1)
    w1 = rng.normal(size=(784, 6)).astype(np.float32) * 0.1
    model.layers[2].set_weights([w1, np.full(6, hidden_bias, np.float32)])
    return model, w1


@pytest.fixture(scope="module")
def digit():
    rng = np.random.default_rng(3)
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = rng.integers(150, 256, (16, 4))
    return img


def test_saliency_of_a_linear_model_is_its_weights_times_the_input(digit):
    model, w, b = linear_model()
    for d in (3, 7):
        expected = (digit.astype(np.float64) / 255 * w[:, d].reshape(28, 28))
        np.testing.assert_allclose(inside.saliency(model, digit, d), expected, rtol=1e-4, atol=1e-6)


def test_activations_match_a_forward_pass_by_hand(digit):
    model, w1 = mlp()
    layers = inside.activations(model, digit)
    hidden = np.maximum(0, digit.reshape(-1).astype(np.float32) / 255 @ w1)
    assert [a["kind"] for a in layers] == ["dense", "dense"] and [a["output"] for a in layers] == [False, True]
    np.testing.assert_allclose(layers[0]["values"], hidden, rtol=1e-5, atol=1e-6)
    assert layers[1]["values"].sum() == pytest.approx(1.0, abs=1e-5)       # the softmax output


def test_first_layer_pictures_are_each_neurons_weights_in_image_order():
    model, w1 = mlp()
    pictures, norms, kind = inside.first_layer_pictures(model, (28, 28, 1))
    assert kind == "dense" and pictures.shape == (6, 28, 28)
    np.testing.assert_allclose(pictures[4], w1[:, 4].reshape(28, 28), rtol=1e-6)
    np.testing.assert_allclose(norms, np.linalg.norm(w1, axis=0), rtol=1e-5)
    gray = inside.as_gray(np.array([[-2.0, 0.0, 1.0]]))
    assert gray.tolist() == [[1, 128, 191]]


def test_conv_filters_become_pictures():
    import keras
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    kernel = model.layers[0].get_weights()[0]
    pictures, norms, kind = inside.first_layer_pictures(model, (28, 28, 1))
    assert kind == "conv" and pictures.shape == (4, 3, 3)
    np.testing.assert_allclose(pictures[2], kernel[:, :, 0, 2], rtol=1e-6)


def test_dead_relu_units_are_counted(digit):
    images = np.stack([digit, np.rot90(digit), np.zeros_like(digit)])
    dead_model, _ = mlp(hidden_bias=-1000.0)
    assert inside.dead_units(dead_model, images) == [{"layer": "Hidden 1: 6 neurons", "units": 6, "dead": 6}]
    live_model, w1 = mlp(hidden_bias=0.0)
    outputs = np.maximum(0, images.reshape(3, -1).astype(np.float32) / 255 @ w1)
    expected = int((outputs.max(axis=0) <= 0).sum())
    assert inside.dead_units(live_model, images)[0]["dead"] == expected


def test_weight_histograms_and_their_change_from_initialization():
    model, w1 = mlp()
    start = models.initial_kernels(model)
    model.layers[2].set_weights([w1 + 0.5, np.zeros(6, np.float32)])
    rows = inside.weight_histograms(model, start, bins=10)
    assert [r["count"] for r in rows] == [784 * 6, 60] and rows[0]["counts"].sum() == 784 * 6
    assert rows[0]["mean_abs_change"] == pytest.approx(0.5, abs=1e-6) and rows[1]["mean_abs_change"] == 0
    assert "change_counts" not in inside.weight_histograms(model, None)[0]


def test_the_pca_map_places_a_new_drawing_with_the_same_projection():
    from sklearn.decomposition import PCA
    rng = np.random.default_rng(0)
    points = rng.normal(size=(200, 20)) * np.linspace(5, 0.1, 20)
    xy, placed, explained = inside.pca_map(points, points[:1] + 0.0)
    reference = PCA(n_components=2, random_state=0).fit(points)
    np.testing.assert_allclose(np.abs(xy), np.abs(reference.transform(points)), rtol=1e-6)
    np.testing.assert_allclose(placed, xy[:1], rtol=1e-6, atol=1e-9)
    assert 0 < explained <= 1
    txy, tplaced = inside.tsne_map(points[:60], points[:1])
    assert txy.shape == (60, 2) and tplaced.shape == (1, 2)


def test_a_baseline_has_no_inside():
    with pytest.raises(inside.InsideError):
        inside.require_keras(object())


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory):
    """A store with one small MLP trained 2 epochs, trained once for the module."""
    from digitdash.plan.config import RunConfig
    from digitdash.runs.store import Store
    from digitdash.workers.worker import execute

    from conftest import at_home
    with at_home(tmp_path_factory.mktemp("inside-run")) as home:
        store = Store(home)
        run_id = store.create(RunConfig(layers=(32,), epochs=2), name="small mlp", status="running")
        assert execute(store, run_id)["status"] == "done"
    return home, run_id


@pytest.fixture
def trained(trained_store, digitdash_home):
    """That run in a copy of its store, this test's home (the page keeps the drawing it was shown)."""
    from digitdash.runs.store import Store

    from conftest import copy_home
    home, run_id = trained_store
    copy_home(home, digitdash_home)
    return Store(digitdash_home), run_id


def test_the_page_follows_a_drawing_through_the_network(trained, digit):
    from streamlit.testing.v1 import AppTest

    from conftest import ROOT
    store, run_id = trained
    assert store.load_arrays(run_id, "initial") is not None          # kept for the change histograms
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["inside-drawing"] = digit
    at.session_state["inside-run-pick"] = run_id
    at.run()
    at.switch_page("app_pages/inside.py").run()
    assert not at.exception
    assert at.radio(key="inside-source").value == "drawing"
    charts = {c.proto.id for c in at.get("plotly_chart")}
    assert any("saliency" in c for c in charts) and any("weight-hist" in c for c in charts)
    assert any("map" in c for c in charts) and sum("act-" in c for c in charts) == 2   # hidden + output
    dead = at.dataframe[0].value
    assert int(dead.iloc[0, 1]) == 32                                  # the hidden layer's 32 units
    at.radio(key="inside-source").set_value("test").run()
    at.number_input(key="inside-index").set_value(5).run()
    assert not at.exception and any("Answer:" in m.value for m in at.markdown)


def test_layers_have_names_a_student_understands():
    import keras
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3), keras.layers.Conv2D(64, 5),
                              keras.layers.Flatten(), keras.layers.Dense(128), keras.layers.Dense(10)])
    names = list(inside.layer_names(model).values())
    assert names == ["Conv 1: 32 filters 3x3", "Conv 2: 64 filters 5x5", "Hidden 1: 128 neurons", "Output: 10"]
    from digitdash.i18n import say
    assert say(names[2], "es") == "Oculta 1: 128 neuronas"
    assert [say(r["layer"]) for r in inside.weight_histograms(model)] == names


def test_inside_shows_readable_names_every_digit_and_offers_the_latest_drawing(trained, digit):
    import json

    from streamlit.testing.v1 import AppTest

    from conftest import ROOT
    store, run_id = trained
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/inside.py").run()          # from the sidebar, nothing drawn yet
    assert not at.exception and not at.get("radio") or "inside-source" not in [r.key for r in at.radio]
    figures = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    output = next(f for i, f in figures.items() if "act-1" in i)
    assert output["data"][0]["x"] == [str(d) for d in range(10)] and output["layout"]["xaxis"]["type"] == "category"
    assert "Output: 10" in output["layout"]["title"]["text"]
    hist = next(f for i, f in figures.items() if "weight-hist" in i)
    titles = [a["text"] for a in hist["layout"]["annotations"]]
    assert titles == ["Hidden 1: 32 neurons", "Output: 10"]
    # a drawing made on Draw is offered when the student then opens Inside from the sidebar
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[40:240, 130:150, :3] = 255
    from digitdash.digits import preprocess
    at.session_state["inside-drawing"] = preprocess.from_canvas(rgba).image    # what Draw keeps for Inside
    at.switch_page("app_pages/inside.py").run()
    assert at.radio(key="inside-source").options == ["your drawing", "a test digit"]


def test_a_network_with_a_layer_numpy_cannot_run_is_one_message():
    with pytest.raises(inside.InsideError):
        inside.require_keras(network_numpy_cannot_run())


def test_saliency_of_a_large_picture_is_nudged_in_blocks_within_the_budget(monkeypatch):
    import keras

    from digitdash.reading import forward
    model = keras.Sequential([keras.Input((128, 128, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    net = forward.Network.from_keras(model)
    seen = []
    real = forward.Network.logits_and_input
    monkeypatch.setattr(forward.Network, "logits_and_input", lambda self, x: (seen.append(len(x)), real(self, x))[1])
    image = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    maps = inside.saliency_maps(net, image, [0, 1])
    assert maps[0].shape == (128, 128) and np.isfinite(maps[0]).all()
    assert sum(seen) * image.size <= inside.SALIENCY_BUDGET + image.size     # the nudges, plus the image itself
