"""Inside: what a trained network learnt (weights), how it read one digit (activations, saliency),
and where that digit sits among the test set (a map)."""
import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.parts import language, run_picker, server, session_keys
from digitdash.digits.datasets import DatasetError
from digitdash.reading import charts, inside
from digitdash.reading.predict import ModelError, load, probabilities

t = language.t
MAP_POINTS, TSNE_POINTS = 2000, 600
RUN_BOX = "inside-run"      # the run looked inside (a widget key), set to the one Draw or Compare sent
st.title(t("inside.title"))
st.caption(t("inside.intro"))


def run_ui() -> dict:
    by_id = run_picker.trained_runs("inside.no_run", keras_only=True)
    wanted = session_keys.take_inside_pick()
    if wanted in by_id:
        st.session_state[RUN_BOX] = wanted
    chosen = st.selectbox(t("inside.run"), list(by_id), key=RUN_BOX, help=t("inside.run_help"),
                          format_func=run_picker.run_labels(by_id).get)
    return by_id[chosen]


@st.cache_data(show_spinner=False, max_entries=8)
def weight_facts(run_id: str, _model, _images) -> tuple[list[dict], bool, list[dict]]:
    """Per run, once: weight histograms (with their change when the run kept its starting kernels),
    whether it did, and the dead-ReLU counts over `_images`."""
    initial = server.store().load_arrays(run_id, "initial")
    return inside.weight_histograms(_model, initial), initial is not None, inside.dead_units(_model, _images)


def weights_ui(model, run: dict, data) -> None:
    st.caption(t("inside.weights_note"))
    pictures, norms, kind = inside.first_layer_pictures(model, data.image_shape)
    c1, c2 = st.columns(2)
    order = c1.radio(t("inside.sort"), ["norm", "index"], horizontal=True, key="inside-sort",
                     format_func=lambda o: t(f"inside.sort_{o}"), help=t("inside.sort_help"))
    shown = c2.slider(t("inside.count"), 1, len(pictures), min(len(pictures), 48), key="inside-count",
                      help=t("inside.count_help"))
    idx = np.argsort(-norms) if order == "norm" else np.arange(len(pictures))
    cols = st.columns(12)
    for n, i in enumerate(idx[:shown]):
        server.image(cols[n % 12], inside.as_gray(pictures[i]), width=56, caption=t("inside.picture", index=int(i)))
    st.caption(t("inside.picture_note_" + kind))
    rows, kept_initial, dead = weight_facts(run["id"], model, data.x_test[:500])
    st.plotly_chart(server.kept(("weights", run["id"], language.lang()),
                                lambda: charts.weight_histograms(rows, language.lang())), key="weight-hist", width="stretch")
    st.caption(t("inside.hist_note" if kept_initial else "inside.hist_note_no_initial"))
    if dead:
        frame = pd.DataFrame([{t("column.layer"): language.say(row["layer"]), t("inside.units"): row["units"],
                               t("inside.dead"): row["dead"]} for row in dead])
        st.dataframe(frame, hide_index=True, key="dead-relu")
        st.caption(t("inside.dead_note"))


def plain_image(img: np.ndarray) -> np.ndarray:
    """A gray image without its channel axis; colour images as they are."""
    return img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img


def digit_source_ui(data) -> tuple[np.ndarray, int | None, str]:
    """The digit to look at: the Draw page's drawing, or one picked from the test set."""
    drawing = run_picker.latest_drawing()      # after a reload too (kept by the browser)
    if data.image_shape != (28, 28, 1):      # a drawing is a 28x28 gray digit: only for MNIST-shaped runs
        drawing = None
    c1, c2 = st.columns([2, 1])
    source = "test"
    if drawing is not None:          # a choice only when there is one to make
        source = c1.radio(t("inside.source"), ["drawing", "test"], horizontal=True,
                          key=session_keys.INSIDE_SOURCE, format_func=lambda s: t(f"inside.source_{s}"),
                          help=t("inside.source_help"))
    else:
        c1.caption(t("inside.no_drawing"))
    if source == "drawing":
        return np.asarray(drawing, np.uint8), None, t("inside.source_drawing")
    index = c2.number_input(t("inside.index"), 0, len(data.x_test) - 1, 0, key="inside-index",
                            help=t("inside.index_help"))
    return plain_image(data.x_test[index]), int(data.y_test[index]), t("inside.test_digit", index=index)


def activations_ui(model, run: dict, image: np.ndarray, data) -> None:
    st.subheader(t("inside.activations"))
    seen = hashlib.sha1(image.tobytes()).hexdigest()[:12]
    st.caption(t("inside.activations_note"))
    with st.container(key="activations"):
        for n, layer in enumerate(inside.activations(model, image)):
            values = layer["values"]
            title = t("inside.output_layer" if layer["output"] else "inside.layer", name=layer["layer"])
            if layer["kind"] == "dense":
                classes = data.class_names if layer["output"] else None
                st.plotly_chart(server.kept(("activations", run["id"], seen, n, language.lang()),
                                            lambda: charts.activation_bars(values, title, language.lang(), classes)),
                                key=f"act-{n}", width="stretch")
                continue
            st.markdown(f"**{title}**")
            maps = values.transpose(2, 0, 1)[:32]
            cols = st.columns(16)
            for i, fmap in enumerate(maps):
                top = float(fmap.max()) or 1.0
                server.image(cols[i % 16], (np.clip(fmap / top, 0, 1) * 255).astype(np.uint8), width=44, caption=str(i))


@st.cache_data(show_spinner=False, max_entries=16)
def saliency_maps(run_id: str, image_key: str, digits: tuple[int, ...], _model, _image) -> list[np.ndarray]:
    """Per run, digit image and answer: the saliency maps (a batch of nudged images each time)."""
    return inside.saliency_maps(_model, _image, list(digits))


def saliency_ui(model, run: dict, image: np.ndarray, probs: np.ndarray) -> None:
    st.subheader(t("inside.saliency"))
    st.caption(t("inside.saliency_note"))
    first, second = inside.top_two(probs)
    titles = [t("inside.input"), t("inside.for_digit", digit=first, p=float(probs[first])),
              t("inside.for_digit", digit=second, p=float(probs[second]))]
    key = hashlib.sha1(image.tobytes()).hexdigest()[:12]
    maps = saliency_maps(run["id"], key, (first, second), model, image)
    st.plotly_chart(server.kept(("saliency", run["id"], key, first, second, language.lang()),
                                lambda: charts.saliency(image, maps, titles)), key="saliency", width="stretch")


@st.cache_data(show_spinner=False, max_entries=16)
def map_points(run_id: str, space: str, method: str, drawing_key: str, _model, _x, _drawing):
    """(2-D points, the drawing's point, each point's predicted digit), once per run, space, method
    and drawing."""
    n = len(_x) if method == "pca" else min(len(_x), TSNE_POINTS)
    x = _x[:n]
    hidden, pred = inside.hidden_and_answers(_model, x)          # one pass gives both
    points = x.reshape(n, -1).astype(np.float32) / 255 if space == "pixels" else hidden
    extra = None
    if _drawing is not None:
        extra = (_drawing.reshape(1, -1).astype(np.float32) / 255 if space == "pixels"
                 else inside.hidden_features(_model, _drawing[None]))
    if method == "pca":
        xy, placed, _ = inside.pca_map(points, extra)
    else:
        xy, placed = inside.tsne_map(points, extra)
    return xy, placed, pred


def map_ui(model, run: dict, data, image: np.ndarray) -> None:
    st.caption(t("inside.map_note"))
    c1, c2 = st.columns(2)
    space = c1.radio(t("inside.space"), ["pixels", "hidden"], horizontal=True, key="map-space",
                     format_func=lambda s: t(f"inside.space_{s}"), help=t("inside.space_help"))
    method = c2.radio(t("inside.method"), ["pca", "tsne"], horizontal=True, key="map-method",
                      format_func=lambda m: t(f"inside.method_{m}"), help=t("inside.method_help"))
    x, y = data.x_test[:MAP_POINTS], data.y_test[:MAP_POINTS]
    key = hashlib.sha1(image.tobytes()).hexdigest()[:12]
    with st.spinner(t("inside.computing")):
        xy, placed, pred = map_points(run["id"], space, method, key, model, x, image)
    n = len(xy)
    fig = server.kept(("map", run["id"], space, method, key, language.lang()),
                      lambda: charts.digit_map(xy, y[:n], pred, data.class_names, placed, language.lang()))
    event = st.plotly_chart(fig, key="map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                            width="stretch")
    st.caption(t("inside.map_count", n=n, wrong=int((pred != y[:n]).sum())))
    picked = [p.get("customdata") for p in (event.selection.points if event and event.selection else [])]
    picked = [int(i if np.isscalar(i) else i[0]) for i in picked if i is not None][:12]
    if picked:
        cols = st.columns(12)
        for col, i in zip(cols, picked):
            server.image(col, plain_image(x[i]), width=56, caption=t("inside.hover", true=int(y[i]), pred=int(pred[i])))
    else:
        st.caption(t("inside.pick_hint"))


run = run_ui()
path = server.store().model_path(run["id"])
try:
    model = load(path)[0]
    inside.require_keras(model)
    data = server.load_dataset(run["dataset"])
except (ModelError, DatasetError, inside.InsideError) as exc:
    st.error(language.say(exc.message))
    st.stop()
image, true, caption = digit_source_ui(data)
probs = probabilities(path, image[None])[0]
left, right = st.columns([1, 4])
server.image(left, image, caption=caption, width=112)
right.markdown(t("inside.answer", digit=int(probs.argmax()), p=float(probs.max())) +
               (" " + t("inside.truth", digit=true) if true is not None else ""))
weights_tab, digit_tab, map_tab = st.tabs([t("inside.tab_weights"), t("inside.tab_digit"), t("inside.tab_map")])
with weights_tab:
    weights_ui(model, run, data)
with digit_tab:
    saliency_ui(model, run, image, probs)
    activations_ui(model, run, image, data)
with map_tab:
    map_ui(model, run, data, image)
