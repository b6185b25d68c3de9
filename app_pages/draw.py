"""Draw or upload digits: see each preprocessing step and every chosen model's prediction, and
say what was meant, so the drawing joins the class's own handwriting."""
import hashlib
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages import language, navigation, run_picker, server, student
from digitdash import charts, handwriting, kinds, limits, preprocess, samples, uploads
from digitdash.i18n import Problem
from digitdash.predict import ModelError, run_probabilities

t = language.t
st.title(t("draw.title"))


@st.cache_data(show_spinner=False)
def mnist_samples() -> dict[int, np.ndarray]:
    """One real MNIST digit per class (from the bundled mnist-5k test split), to compare with."""
    data = server.dataset("mnist-5k")
    return {int(d): data.x_test[np.flatnonzero(data.y_test == d)[0], ..., 0] for d in range(10)}


def models_ui() -> list[dict]:
    by_id = run_picker.trained_runs("draw.no_model")
    chosen = st.multiselect(t("draw.models"), list(by_id), default=[next(iter(by_id))], key="models",
                            format_func=lambda i: run_picker.run_label(by_id[i]), help=t("draw.models_help"))
    return [by_id[i] for i in chosen]


def input_ui() -> tuple[list[tuple[str, bytes | np.ndarray, bool]], dict]:
    """What to read: the canvas drawing, uploaded pictures and the sample sent (name, RGBA array or
    file bytes, whether the student may add it to the class's handwriting), and the preprocessing
    options."""
    draw, upload, sample = st.tabs([t("draw.tab_draw"), t("draw.tab_upload"), t("draw.tab_samples")])
    with draw:
        c1, c2 = st.columns([2, 1])
        with c2:
            width = st.slider(t("draw.brush"), 5, 40, 18, key="brush", help=t("draw.brush_help"))
            if st.button(t("draw.clear"), key="clear", help=t("draw.clear_help")):
                st.session_state["canvas-version"] = st.session_state.get("canvas-version", 0) + 1
            threshold = st.radio(t("draw.threshold"), ["otsu", "adaptive"], horizontal=True, key="threshold",
                                 format_func=lambda m: t(f"draw.threshold_{m}"), help=t("draw.threshold_help"))
            deskew = st.checkbox(t("draw.deskew"), key="deskew", help=t("draw.deskew_help"))
        with c1, st.container(key="canvas"):
            result = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000",
                               height=280, width=280, drawing_mode="freedraw", return_image_data=True,
                               key=f"canvas-{st.session_state.get('canvas-version', 0)}")
    with upload:
        files = st.file_uploader(t("draw.upload"), accept_multiple_files=True, help=t("draw.upload_help"),
                                 type=["png", "jpg", "jpeg", "bmp", "webp", "gif", "tif", "tiff"], key="upload")
    with sample:
        samples_ui()
    items = [(f.name, f.getvalue(), True) for f in files or []]
    if st.session_state.get("draw-sample") in samples.names():
        name = st.session_state["draw-sample"]
        items.append((t("draw.sample_name", digits=samples.digits_in(name)), samples.read(name), False))
    if result is not None and result.image_data is not None:
        items.insert(0, (t("draw.drawing"), result.image_data, True))
    return items, {"threshold": threshold, "deskew": deskew}


def samples_ui() -> None:
    """Pictures made by the project, each sent to the models with one click (for a student without
    a camera); they are read like uploads but never join the class's handwriting."""
    st.caption(t("draw.samples_help"))
    names = samples.names()
    for col, name in zip(st.columns(max(1, len(names))), names):
        col.image(str(samples.FOLDER / name), width="stretch")
        if col.button(t("draw.sample_send", digits=samples.digits_in(name)), key=f"sample-{Path(name).stem}",
                      help=t("draw.sample_send_help")):
            st.session_state["draw-sample"] = name
    if st.session_state.get("draw-sample") and st.button(t("draw.sample_remove"), key="sample-remove",
                                                           help=t("draw.sample_remove_help")):
        st.session_state.pop("draw-sample")
        st.rerun()


def digits_of(source, opts: dict) -> tuple[list[preprocess.Prepared], np.ndarray]:
    """The digits in a drawing (RGBA array) or an uploaded file (bytes), and the picture as gray.
    A file is read once per server process, kept by its content (every click reruns this page)."""
    if isinstance(source, np.ndarray):
        return [preprocess.from_canvas(source, **opts)], preprocess.canvas_gray(source)
    return uploads.read(source, **opts)


def steps_ui(prepared: preprocess.Prepared) -> None:
    cols = st.columns(len(prepared.steps))
    for col, (name, img) in zip(cols, prepared.steps):    # each in a cell of one size, its shape kept
        col.image(preprocess.framed(img), caption=language.say(name), width=preprocess.CELL)


def prediction_ui(prepared: preprocess.Prepared, models: list[dict], index: int) -> int | None:
    """Each model's answer; returns the first answer (None when no model could answer)."""
    guess = None
    left, right = st.columns([1, 3])
    with left:
        st.image(prepared.image, caption=t("draw.model_sees"), width=140)
        keras_runs = [r["id"] for r in models if kinds.of(r["config"].architecture).keras]
        if keras_runs and st.button(t("draw.inside"), key=f"inside-{index}", help=t("draw.inside_help")):
            st.session_state["inside-drawing"] = prepared.image
            st.session_state["inside-source"] = "drawing"
            st.session_state["inside-run-pick"] = keras_runs[0]
            navigation.go("inside")
    with right:
        cols = st.columns(max(1, len(models)))
        for col, run in zip(cols, models):
            try:
                probs = run_probabilities(server.store(), run["id"], prepared.image[None])[0]
            except ModelError as exc:
                col.error(language.say(exc.message))
                continue
            digit = int(probs.argmax())
            guess = digit if guess is None else guess
            col.markdown(t("draw.prediction", name=language.plain(run["name"]), digit=digit, p=probs[digit]))
            col.plotly_chart(charts.probability_bars(probs, language.lang()), key=f"probs-{index}-{run['id']}",
                             width="stretch")
            col.image(mnist_samples()[digit], caption=t("draw.real_mnist", digit=digit), width=70)
    return guess


def feedback_ui(prepared: preprocess.Prepared, picture: np.ndarray, guess: int | None, index: int) -> None:
    """Say what was meant: a tick when the answer was right, or the right digit. The drawing is then
    kept, with its writer, in the class's handwriting that every model is scored on."""
    kept = st.session_state.setdefault("kept-drawings", {})        # image digest -> (drawing id, digit)
    digest = hashlib.sha1(prepared.image.tobytes()).hexdigest()[:16]
    with st.container(key=f"feedback-{index}"):
        if digest in kept:
            drawing, digit = kept[digest]
            a, b = st.columns([4, 1])
            a.success(t("draw.kept", digit=digit))
            if b.button(t("draw.undo"), key=f"undo-{index}", help=t("draw.undo_help")):
                try:
                    handwriting.delete(server.store(), drawing, by=student.owner())
                except handwriting.HandwritingError:
                    pass                                    # already gone (the teacher deleted it)
                except Problem as exc:                      # the store cannot be written: it stays
                    st.error(language.say(exc.message))
                    return
                del kept[digest]
                st.rerun()
            return
        try:
            collecting = limits.load().collect_drawings
        except limits.LimitError:
            collecting = True                   # an unreadable limits file: keeping a drawing then says so
        if not collecting:
            st.caption(t("draw.collect_off"))
            return

        def keep(digit) -> None:
            try:
                drawing = handwriting.add(server.store(), prepared.image, digit, student.owner(), picture)
            except Problem as exc:             # a bad label, collection off, the store unwritable, ...
                st.session_state[f"keep-problem-{index}"] = exc.message
                return
            kept[digest] = (drawing, int(digit))

        def picked() -> None:
            if st.session_state[f"meant-{index}-{digest}"] is not None:
                keep(st.session_state[f"meant-{index}-{digest}"])

        a, b = st.columns([1, 3])
        if guess is not None:
            a.button(t("draw.right", digit=guess), key=f"right-{index}", on_click=keep, args=(guess,),
                     help=t("draw.right_help", digit=guess))
        b.segmented_control(t("draw.meant"), list(range(10)), key=f"meant-{index}-{digest}", on_change=picked,
                            help=t("draw.meant_help"))
        if f"keep-problem-{index}" in st.session_state:
            st.error(language.say(st.session_state.pop(f"keep-problem-{index}")))


models = models_ui()
items, options = input_ui()
with st.container(key="prediction"):
    shown = 0
    for name, source, students_own in items:
        st.subheader(language.plain(name))
        try:
            digits, picture = digits_of(source, options)
        except preprocess.ImageError as exc:
            st.warning(f"{language.plain(name)}: {language.say(exc.message)}")
            continue
        if isinstance(source, np.ndarray) and digits:     # the latest drawing is offered on Inside too
            st.session_state["inside-drawing"] = digits[0].image
        for prepared in digits:
            steps_ui(prepared)
            guess = prediction_ui(prepared, models, shown)
            if students_own:                   # a sample made by the project is not the class's handwriting
                feedback_ui(prepared, picture, guess, shown)
            shown += 1
    if not items:
        st.info(t("draw.nothing_yet"))
