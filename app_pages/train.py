"""Train: configure a network, launch it, watch it learn."""
import time

import numpy as np
import streamlit as st

from digitdash import architecture, charts, experiments, metrics
from digitdash.baselines import SUBSAMPLE, params_of
from digitdash.config import (ACTIVATIONS, ARCHITECTURES, BASELINES, DOWNSAMPLING, INITIALIZERS, MONITORS, OPTIMIZERS, PADDINGS, PRESETS,
                              ConfigError, RunConfig)
from digitdash.datasets import DatasetError, shape_of
from app_pages import common
from app_pages.train_form import config_from_state, load_preset

st.title("Train a network")
BASELINE_NOTES = {
    "random-forest": "100 trees; uses no epochs, optimizer or layers.",
    "logreg": f"Logistic regression; trains on at most {SUBSAMPLE['logreg']:,} images.",
    "svc": f"RBF support vector classifier; trains on at most {SUBSAMPLE['svc']:,} images (it slows down fast).",
    "sklearn-mlp": "scikit-learn's MLPClassifier (Adam, relu); uses layers, learning rate, batch size, epochs.",
    "numpy-mlp": "A network written from scratch in NumPy (relu, softmax, Xavier init, plain SGD); uses "
                 "layers, learning rate, batch size and epochs.",
}
if "cfg-architecture" not in st.session_state:
    load_preset("mlp-512")


def form_ui() -> None:
    st.selectbox("Start from a preset", list(PRESETS), key="preset", on_change=lambda: load_preset(st.session_state["preset"]),
                 help="The classroom notebooks' networks. Every knob below can still be changed.")
    cnn = st.session_state["cfg-architecture"] == "cnn"
    a, b, c = st.columns(3)
    with a:
        st.subheader("Architecture")
        st.selectbox("Kind", ARCHITECTURES, key="cfg-architecture",
                     help="mlp: dense layers on the flattened pixels. cnn: convolutions first, then dense layers. "
                          "The others are baselines: scikit-learn models and a network written in NumPy.")
        if st.session_state["cfg-architecture"] in BASELINES:
            st.caption(BASELINE_NOTES[st.session_state["cfg-architecture"]])
        if cnn:
            st.text_input("Conv filters per layer", key="cfg-conv_filters", help="e.g. 32-64: two conv layers.")
            st.number_input("Kernel size", 1, 11, key="cfg-kernel_size")
            st.selectbox("Downsampling", DOWNSAMPLING, key="cfg-downsampling",
                         help="pool: 2x2 max-pool after every conv; stride: stride-2 convs; -last: only after the last one.")
            st.selectbox("Padding", PADDINGS, key="cfg-padding")
        st.text_input("Hidden dense layers (neurons)", key="cfg-layers",
                      help="e.g. 512, or 512-128 for two layers. The notebooks compared 216, 512 and 1024.")
        st.selectbox("Activation", ACTIVATIONS, key="cfg-activation",
                     help="linear = no activation: the notebooks got ~0.92 with it, 0.97-0.98 with relu.")
        st.selectbox("Weight initializer", INITIALIZERS, key="cfg-initializer",
                     help="zeros does not learn: every neuron stays identical.")
        if st.session_state["cfg-initializer"] in ("random_normal", "random_uniform"):
            st.number_input("Initial stddev / range", 0.0001, 10.0, key="cfg-init_stddev", format="%.4f")
    with b:
        st.subheader("Training")
        st.selectbox("Optimizer", OPTIMIZERS, key="cfg-optimizer",
                     help="Plain sgd learns more slowly than adam or rmsprop at the same number of epochs.")
        st.number_input("Learning rate", 0.0, 1000.0, key="cfg-learning_rate", format="%.5f", step=0.0001)
        if st.session_state["cfg-optimizer"] in ("sgd", "rmsprop"):
            st.slider("Momentum", 0.0, 0.99, key="cfg-momentum")
        if st.session_state["cfg-optimizer"] == "sgd":
            st.checkbox("Nesterov momentum", key="cfg-nesterov")
        st.number_input("Batch size", 1, 65536, key="cfg-batch_size")
        st.number_input("Epochs", 1, 1000, key="cfg-epochs", help="More epochs widen the train/validation gap.")
        st.slider("Validation split", 0.0, 0.9, key="cfg-validation_split",
                  help="The last part of the training data, held out to watch overfitting.")
        st.number_input("Seed", 0, 2**31 - 1, key="cfg-seed")
        st.checkbox("Mixed precision (GPU only)", key="cfg-mixed_precision")
    with c:
        st.subheader("Regularization")
        st.slider("Dropout after each dense layer", 0.0, 0.9, key="cfg-dropout")
        st.number_input("L1", 0.0, 1.0, key="cfg-l1", format="%.5f", step=0.0001)
        st.number_input("L2", 0.0, 1.0, key="cfg-l2", format="%.5f", step=0.0001)
        st.checkbox("Batch normalization", key="cfg-batch_norm")
        st.checkbox("Augmentation (rotation, shift, zoom)", key="cfg-augment")
        if st.session_state["cfg-augment"]:
            st.slider("Rotation (degrees)", 0.0, 45.0, key="cfg-rotation")
            st.slider("Shift (fraction)", 0.0, 0.5, key="cfg-shift")
            st.slider("Zoom (fraction)", 0.0, 0.5, key="cfg-zoom")
        st.subheader("Stopping")
        st.checkbox("Early stopping", key="cfg-early_stopping")
        if st.session_state["cfg-early_stopping"] or st.session_state["cfg-reduce_lr"]:
            st.selectbox("Monitor", MONITORS, key="cfg-monitor")
        if st.session_state["cfg-early_stopping"]:
            st.number_input("Patience (epochs)", 0, 1000, key="cfg-patience")
            st.checkbox("Restore the best weights", key="cfg-restore_best")
        st.number_input("Stop when training loss falls below (0 = off)", 0.0, 100.0, key="cfg-loss_threshold",
                        format="%.3f", step=0.01)
        st.checkbox("Reduce learning rate on plateau", key="cfg-reduce_lr")
        if st.session_state["cfg-reduce_lr"]:
            st.slider("Reduce factor", 0.05, 0.95, key="cfg-reduce_lr_factor")
            st.number_input("Plateau patience", 0, 1000, key="cfg-reduce_lr_patience")
        st.number_input("Output neurons (0 = one per class)", 0, 100000, key="cfg-output_units")


def summary_ui(config: RunConfig | None, specs: list | None, error: str | None) -> bool:
    """The model's layers, params and FLOPs before training; False when the config cannot train."""
    if error:
        st.error(error)
        return False
    shape, classes = shape_of(config.dataset)
    m1, m2, m3 = st.columns(3)
    params = architecture.total_params(specs) if config.architecture not in BASELINES else \
        params_of(config, int(np.prod(shape)), len(classes))
    m1.metric("Parameters", f"{params:,}" if params is not None else "n/a")
    m2.metric("MFLOPs per image", f"{architecture.total_flops(specs) / 1e6:.2f}")
    m3.metric("Input", "x".join(map(str, shape)) + f", {len(classes)} classes")
    with st.expander("Model summary", expanded=False):
        st.dataframe(architecture.summary_rows(specs), hide_index=True, width="stretch")
    return True


def current_config() -> tuple[RunConfig | None, list | None, str | None]:
    """(config, layer plan, None) when the widgets describe a network that can train, else the message."""
    try:
        config = config_from_state(st.session_state, common.dataset_name())
        shape, classes = shape_of(config.dataset)
        return config, architecture.plan(config, shape, len(classes)), None
    except (ConfigError, DatasetError) as exc:
        return None, None, str(exc)


def family_ui(config: RunConfig | None) -> None:
    """The notebooks' families in one click, or any one or two knobs over listed values."""
    choice = st.selectbox("Family", ["custom", *experiments.TEMPLATES], key="family",
                          help="neurons 216/512/1024, activation linear/relu/sigmoid, initializer "
                               "zeros/random_normal/glorot_uniform, optimizer sgd/adam/rmsprop, epochs 5/15/30.")
    try:
        if choice == "custom":
            if config is None:
                st.warning("Fix the settings above first: a custom family starts from them.")
                return
            text = st.text_input("Vary (one or two knobs)", "activation=relu,sigmoid", key="family-vary",
                                 help="KEY=V1,V2; a second knob after ';', e.g. layers=216,512;optimizer=sgd,adam")
            base = config
            vary = experiments.parse_vary([p for p in text.split(";") if p.strip()], base)
            title = "vary " + " x ".join(vary)
        else:
            base, vary = experiments.template(choice, common.dataset_name())
            title = choice
        configs = experiments.expand(base, vary)
    except ConfigError as exc:
        st.error(str(exc))
        return
    st.caption(f"{len(configs)} runs: " + "; ".join(experiments.label(c, vary) for c in configs))
    if st.button("Launch family", key="launch-family"):
        group, ids = experiments.launch(common.runner(), base, vary, title, owner=common.owner())
        st.session_state["watch-run"] = ids[0]
        st.success(f"Queued {len(ids)} runs as family '{group}'. Compare shows them together.")


form_ui()
config, specs, error = current_config()
can_train = summary_ui(config, specs, error)
t1, t2, t3 = st.columns([1, 1, 2])
if t1.button("Train", key="train", type="primary", disabled=not can_train):
    run_id = common.runner().submit(config, owner=common.owner())
    st.session_state["watch-run"] = run_id
with st.expander("Experiment: launch a family of runs at once"):
    family_ui(config)
t2.number_input("Accuracy gap threshold", 0.0, 1.0, metrics.ACCURACY_GAP, 0.01, key="acc-threshold")
t3.number_input("Loss gap threshold", 0.0, 10.0, metrics.LOSS_GAP, 0.01, key="loss-threshold")


def status_line(run: dict, position: int | None) -> str:
    s, res = run["status"], run["results"]
    if s == "queued":
        return f"Status: queued, position {position} in the queue" if position else "Status: queued"
    if s == "running":
        return f"Status: running on {run['device'] or 'the worker'}"
    if s == "done" and res.get("stopped_early_at"):
        return f"Status: stopped early at epoch {res['stopped_early_at']}. {run['message']}"
    return f"Status: {s}. {run['message']}".strip()


def watch_ui() -> None:
    """Pick the run to watch: the one just launched, or any other (runs outlive closed tabs)."""
    runs = common.store().runs()[::-1][:50]
    if not runs:
        return
    ids = [r["id"] for r in runs]
    labels = {r["id"]: f"{r['name']} ({r['status']}, {r['id']})" for r in runs}
    if st.session_state.get("watch-run") not in ids:
        wanted = st.query_params.get("run")
        st.session_state["watch-run"] = wanted if wanted in ids else ids[0]
    chosen = st.selectbox("Watch run", ids, format_func=labels.get, key="watch-run")
    st.session_state["watch"] = chosen
    if st.query_params.get("run") != chosen:
        st.query_params["run"] = chosen


@st.fragment(run_every=1.0)
def live_ui() -> None:
    run_id = st.session_state.get("watch")
    if not run_id:
        st.info("Press **Train** to start. Training goes on in the background, even if you leave this page.")
        return
    store = common.store()
    try:
        run = store.get(run_id)
    except Exception:
        st.warning(f"Run {run_id} no longer exists.")
        return
    epochs, total = store.epochs(run_id), run["config"].epochs
    st.subheader(common.plain(run["name"]))
    with st.container(key="run-status"):
        st.markdown(status_line(run, store.queue_position(run_id)))
    if run["status"] in ("queued", "running"):
        if st.button("Stop", key="stop"):
            common.runner().stop(run_id)
    if run["status"] == "running":
        elapsed = time.time() - (run["started"] or time.time())
        done = len(epochs)
        per_epoch = sum(e["seconds"] for e in epochs) / done if done else None
        left = f", about {per_epoch * (total - done):.0f} s left" if per_epoch else ""
        st.progress(done / total, text=f"Epoch {done}/{total} finished, {elapsed:.0f} s elapsed{left}")
    steps = run["info"].get("steps_per_epoch")
    st.plotly_chart(charts.curves(epochs, store.batches(run_id), steps), key="live-curves", width="stretch")
    st.plotly_chart(charts.gap_bars(epochs, st.session_state["acc-threshold"], st.session_state["loss-threshold"]),
                    key="gap-bars", width="stretch")
    res = run["results"]
    if "test_accuracy" in res:
        c1, c2 = st.columns(2)
        c1.metric("Test accuracy", f"{res['test_accuracy']:.4f}")
        c2.metric("Test loss", f"{res['test_loss']:.4f}")
        kind, sentence = metrics.verdict(epochs, res["test_accuracy"], st.session_state["acc-threshold"],
                                         st.session_state["loss-threshold"])
        (st.warning if kind in ("underfitting", "overfitting") else st.success)(sentence)
        l1, l2 = st.columns(2)
        l1.page_link("app_pages/compare.py", label="Compare it with other runs", icon=":material/compare:")
        l2.page_link("app_pages/draw.py", label="Draw digits for this model", icon=":material/draw:")


watch_ui()
live_ui()
