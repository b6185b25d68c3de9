"""Draw or upload digits: every chosen model's answer beside the canvas, each preprocessing step
below it, and say what was meant, so the drawing joins the class's own handwriting.

What is read follows the tab the student has open: the drawing, the uploaded photos or the sample
sent, never an older answer from another tab above the one just asked for."""
import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages.parts import language, navigation, run_picker, server, session_keys, student
from digitdash import i18n
from digitdash.digits import preprocess, samples, uploads
from digitdash.i18n import Problem
from digitdash.plan import kinds, limits
from digitdash.plan.config import DEFAULT_DATASET
from digitdash.reading import charts, handwriting, reference
from digitdash.reading.predict import ModelError, run_probabilities

t = language.t
CANVAS = 280           # px: the canvas' side
INPUTS_WIDTH = 300     # px: the canvas' column; the answers take the rest of the row (below it on a phone)
# Session-state keys used on this page only (what Inside is sent is session_keys')
MODELS_BOX = "models"                  # the models that answer (a widget key); absent once Draw's widgets are gone
TAB_BOX = "draw-input"                 # the open tab (a widget key), set before the tabs are drawn
SENT_SAMPLE = "draw-sample"            # the file name of the sample picture sent to the models
CANVAS_KEPT = "canvas-kept"            # (Fabric JSON, RGBA) of the drawing on the canvas, None once cleared
CANVAS_VERSION = "canvas-version"      # counts new canvases (Clear, back from another page): the canvas' key
CANVAS_INITIAL = "canvas-initial"      # (canvas version, Fabric JSON) that new canvas starts from
BRUSH_SLIDER = "brush"                 # the brush width (a widget key)
KEPT_DRAWINGS = "kept-drawings"        # image digest -> (drawing id, digit) of the drawings said and kept
st.title(t("draw.title"))


@st.cache_data(show_spinner=False)
def mnist_samples() -> dict[int, np.ndarray]:
    """One real MNIST digit per class (from the bundled mnist-5k test split), to compare with."""
    data = server.dataset(DEFAULT_DATASET)
    return {int(d): data.x_test[np.flatnonzero(data.y_test == d)[0], ..., 0] for d in range(10)}


def models_ui() -> list[dict]:
    """The runs that answer: the ones this student chose last (on another page visit or before a
    reload too), else the best one; the reference model that ships with DigitDash is offered after
    the class's runs, and answers on its own before anyone has trained."""
    shipped = reference.available()
    by_id = run_picker.trained_runs("draw.no_model", stop=not shipped)
    if shipped:
        by_id[reference.ID] = reference.as_run(t("draw.reference"))
    run_picker.restore_models(MODELS_BOX, by_id)
    chosen = st.multiselect(t("draw.models"), list(by_id), key=MODELS_BOX, help=t("draw.models_help"),
                            format_func=run_picker.run_labels(by_id).get)
    run_picker.keep_models(MODELS_BOX, chosen)
    if reference.ID in chosen:
        st.caption(t("draw.reference_about", acc=by_id[reference.ID]["results"].get("test_accuracy") or 0))
    return [by_id[i] for i in chosen]


def input_ui(returned: bool) -> tuple[str, list[tuple[str, bytes | np.ndarray, bool]]]:
    """The tab the student has open ("draw", "upload" or "samples") and what it holds to read: (name,
    RGBA array or file bytes, whether the student may add it to the class's handwriting)."""
    labels = {name: t(f"draw.tab_{name}") for name in ("draw", "upload", "samples")}
    said = {i18n.t(f"draw.tab_{name}", code): name for code in i18n.LANGUAGES for name in labels}   # a language change
    st.session_state[TAB_BOX] = labels[said.get(st.session_state.get(TAB_BOX), "draw")]   # same tab after
    tabs = dict(zip(labels, st.tabs(list(labels.values()), key=TAB_BOX, on_change="rerun")))
    with tabs["draw"]:
        drawing = canvas_ui(returned)
    with tabs["upload"]:
        files = st.file_uploader(t("draw.upload", formats=preprocess.FORMATS), accept_multiple_files=True,
                                 help=t("draw.upload_help"), type=list(preprocess.EXTENSIONS), key="upload")
    with tabs["samples"]:
        samples_ui()
    source = next((name for name, tab in tabs.items() if tab.open), "draw")
    if source == "upload":
        return source, [(f.name, f.getvalue(), True) for f in files or []]
    if source == "samples":
        name = st.session_state.get(SENT_SAMPLE)
        if name not in samples.names():
            return source, []
        return source, [(t("draw.sample_name", digits=samples.digits_in(name)), samples.read(name), False)]
    return source, [(t("draw.drawing"), drawing, True)] if drawing is not None else []


def canvas_ui(returned: bool) -> np.ndarray | None:
    """The canvas (RGBA drawing, None while nothing is drawn), Clear above it and the brush below. The
    canvas' own toolbar shows above its right half on hover: Clear sits left of it, nothing under it.
    Back from another page (`returned`), the canvas starts again with the drawing it had."""
    kept = st.session_state.get(CANVAS_KEPT)            # (Fabric JSON, RGBA) of the drawing on the canvas
    if st.button(t("draw.clear"), key="clear", help=t("draw.clear_help")):
        st.session_state[CANVAS_VERSION] = st.session_state.get(CANVAS_VERSION, 0) + 1
        kept = st.session_state[CANVAS_KEPT] = None
    elif returned and kept:                   # a new canvas, drawn from the JSON it had (kept for this canvas)
        st.session_state[CANVAS_VERSION] = st.session_state.get(CANVAS_VERSION, 0) + 1
        st.session_state[CANVAS_INITIAL] = (st.session_state[CANVAS_VERSION], kept[0])
    version = st.session_state.get(CANVAS_VERSION, 0)
    initial = st.session_state.get(CANVAS_INITIAL, (None, None))
    with st.container(key="canvas"):
        result = st_canvas(stroke_width=st.session_state.get(BRUSH_SLIDER, 18), stroke_color="#FFFFFF",
                           background_color="#000000", height=CANVAS, width=CANVAS, drawing_mode="freedraw",
                           return_image_data=True, initial_drawing=initial[1] if initial[0] == version else None,
                           key=f"canvas-{version}")
    st.slider(t("draw.brush"), 5, 40, 18, key=BRUSH_SLIDER, help=t("draw.brush_help"), width=CANVAS)
    rgba = None if result is None else result.image_data
    if rgba is not None:
        st.session_state[CANVAS_KEPT] = (result.json_data, rgba)
    elif kept is not None and initial[0] == version:      # restored: the canvas sends nothing until drawn on
        rgba = kept[1]
    if rgba is None or preprocess.canvas_gray(rgba).max() < preprocess.CANVAS_INK:
        return None
    return rgba


def samples_ui() -> None:
    """Pictures made by the project, each sent to the models with one click (for a student without
    a camera); they are read like uploads but never join the class's handwriting."""
    st.caption(t("draw.samples_help"))
    with st.container(horizontal=True):
        for name in samples.names():
            with st.container(width=88, gap="small"):
                st.image(server.thumbnail(samples.FOLDER / name, 88), width=88, output_format="PNG")
                if st.button(t("draw.sample_send", digits=samples.digits_in(name)), key=f"sample-{Path(name).stem}",
                             width="stretch", help=t("draw.sample_send_help")):
                    st.session_state[SENT_SAMPLE] = name
    if st.session_state.get(SENT_SAMPLE) and st.button(t("draw.sample_remove"), key="sample-remove",
                                                         help=t("draw.sample_remove_help")):
        st.session_state.pop(SENT_SAMPLE)
        st.rerun()


def options_ui() -> dict:
    """How ink is told from paper, for drawings and photos alike."""
    with st.container(horizontal=True, gap="large"):
        threshold = st.radio(t("draw.threshold"), ["otsu", "adaptive"], horizontal=True, key="threshold",
                             format_func=lambda m: t(f"draw.threshold_{m}"), help=t("draw.threshold_help"))
        deskew = st.checkbox(t("draw.deskew"), key="deskew", help=t("draw.deskew_help"))
    return {"threshold": threshold, "deskew": deskew}


def digits_of(source, opts: dict) -> tuple[list[preprocess.Prepared], np.ndarray]:
    """The digits in a drawing (RGBA array) or an uploaded file (bytes), and the picture as gray.
    A file is read once per server process, kept by its content (every click reruns this page)."""
    if isinstance(source, np.ndarray):
        return [preprocess.from_canvas(source, **opts)], preprocess.canvas_gray(source)
    return uploads.read(source, **opts)


def answers_of(digits: list[preprocess.Prepared], models: list[dict]) -> dict[str, np.ndarray | str]:
    """Each model's probabilities for the digits (one row per digit), or what stopped it, said."""
    images = np.stack([p.image for p in digits])
    found = {}
    for run in models:
        try:
            found[run["id"]] = run_probabilities(server.store(), run["id"], images)
        except ModelError as exc:
            found[run["id"]] = language.say(exc.message)
    return found


def answer_ui(run: dict, probs) -> None:
    """One model's answer to a picture, in the `prediction` container: "Prediction: 3 (95.2%)", or
    the digits left to right when the picture holds several."""
    if isinstance(probs, str):
        st.error(probs)
        return
    name = language.plain(run["name"])
    if len(probs) == 1:
        digit = int(probs[0].argmax())
        st.markdown(t("draw.prediction", name=name, digit=digit, p=probs[0][digit]))
        return
    digits = "".join(str(int(p.argmax())) for p in probs)
    sure = " · ".join(language.number(float(p.max()), ".0%") for p in probs)
    st.markdown(t("draw.prediction_digits", name=name, digits=digits, ps=sure))


def steps_ui(prepared: preprocess.Prepared, index: int) -> None:
    """Each step in a cell of one size, its shape kept; the cells wrap onto more rows, each caption
    under its own picture."""
    with st.container(horizontal=True, key=f"steps-{index}"):
        for name, img in prepared.steps:
            with st.container(width=preprocess.CELL, gap=None):
                server.image(st, preprocess.framed(img), caption=language.say(name), width=preprocess.CELL)


def detail_ui(prepared: preprocess.Prepared, answers: dict, models: list[dict], index: int, n: int) -> None:
    """One digit read: what the model sees, Look inside, each model's probabilities and a real MNIST
    digit of the answer."""
    left, right = st.columns([1, 4])
    with left:
        server.image(st, prepared.image, caption=t("draw.model_sees"), width=112)
        keras_runs = [r["id"] for r in models if kinds.of(r["config"].architecture).keras and r["id"] != reference.ID]
        if keras_runs and st.button(t("draw.inside"), key=f"inside-{index}", help=t("draw.inside_help")):
            session_keys.look_inside(keras_runs[0], prepared.image)
            navigation.go("inside")
    with right:
        shown = [(run, answers[run["id"]][n]) for run in models if not isinstance(answers[run["id"]], str)]
        for col, (run, probs) in zip(st.columns(max(1, len(shown))), shown):
            digit = int(probs.argmax())
            col.markdown(f"**{language.plain(run['name'])}**")
            col.plotly_chart(charts.probability_bars(probs, language.lang()), key=f"probs-{index}-{run['id']}",
                             width="stretch")
            server.image(col, mnist_samples()[digit], caption=t("draw.real_mnist", digit=digit), width=70)


def guess_of(answers: dict, models: list[dict], n: int) -> int | None:
    """The first model's answer to digit n (None when no model could answer)."""
    return next((int(answers[r["id"]][n].argmax()) for r in models if not isinstance(answers[r["id"]], str)), None)


def feedback_ui(prepared: preprocess.Prepared, picture: np.ndarray, guess: int | None, index: int) -> None:
    """Say what was meant: a tick when the answer was right, or the right digit. The drawing is then
    kept, with its writer, in the class's handwriting that every model is scored on."""
    kept = st.session_state.setdefault(KEPT_DRAWINGS, {})        # image digest -> (drawing id, digit)
    digest = hashlib.sha1(prepared.image.tobytes()).hexdigest()[:16]
    problem_key = f"keep-problem-{index}"             # why keeping this digit failed, said once after the click
    meant_key = f"meant-{index}-{digest}"             # the digit the student says was meant (a widget key)
    with st.container(key=f"feedback-{index}"):
        if digest in kept:
            drawing, digit = kept[digest]
            st.success(t("draw.kept", digit=digit))
            if st.button(t("draw.undo"), key=f"undo-{index}", help=t("draw.undo_help")):
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
                st.session_state[problem_key] = exc.message
                return
            kept[digest] = (drawing, int(digit))

        def picked() -> None:
            if st.session_state[meant_key] is not None:
                keep(st.session_state[meant_key])

        if guess is not None:
            st.button(t("draw.right", digit=guess), key=f"right-{index}", on_click=keep, args=(guess,),
                      help=t("draw.right_help", digit=guess))
        st.segmented_control(t("draw.meant"), list(range(10)), key=meant_key, on_change=picked,
                             help=t("draw.meant_help"))
        if problem_key in st.session_state:
            st.error(language.say(st.session_state.pop(problem_key)))


class Reading(NamedTuple):
    """A picture read: its name, whether it is the student's own (a sample is not), the picture as
    gray, its digits and each model's answers (or what stopped the picture being read, said)."""
    name: str
    own: bool
    picture: np.ndarray | None
    digits: list[preprocess.Prepared]
    answers: dict | str


def read_all(source: str, items: list, models: list[dict], options: dict) -> list[Reading]:
    read = []
    for name, data, own in items:
        try:
            digits, picture = digits_of(data, options)
        except preprocess.ImageError as exc:
            read.append(Reading(name, own, None, [], language.say(exc.message)))
            continue
        if source == "draw":              # the latest drawing is offered on Inside too, after a reload as well
            run_picker.keep_drawing(digits[0].image)
        read.append(Reading(name, own, picture, digits, answers_of(digits, models)))
    return read


def answers_panel_ui(source: str, read: list[Reading], models: list[dict]) -> None:
    """Beside the canvas: every chosen model's answer to what the open tab holds, and the drawing's tick."""
    with st.container(key="prediction"):
        if not read:
            st.info(t({"draw": "draw.nothing_yet", "upload": "draw.nothing_uploaded",
                       "samples": "draw.nothing_sent"}[source]))
        elif not models:
            st.info(t("draw.pick_model"))
        for reading in read:
            if isinstance(reading.answers, str):
                st.warning(f"{language.plain(reading.name)}: {reading.answers}")
                continue
            if source != "draw":
                st.markdown(f"**{language.plain(reading.name)}**")
            for run in models:
                answer_ui(run, reading.answers[run["id"]])
            if source == "samples" and samples.caveat(st.session_state[SENT_SAMPLE]):
                st.caption(t(samples.caveat(st.session_state[SENT_SAMPLE])))
    if source == "draw" and read and read[0].digits:
        drawing = read[0]
        feedback_ui(drawing.digits[0], drawing.picture, guess_of(drawing.answers, models, 0), 0)


def details_ui(source: str, read: list[Reading], models: list[dict]) -> None:
    """Below: each digit's steps, what the model sees and each model's probabilities; a photo's digits
    are said right or wrong here too (the drawing's beside its answer)."""
    index = 0
    for reading in read:
        for n, prepared in enumerate(reading.digits):
            part = f" · {t('draw.digit_of', n=n + 1, of=len(reading.digits))}" if len(reading.digits) > 1 else ""
            st.markdown(f"**{language.plain(reading.name)}**{part}")
            steps_ui(prepared, index)
            detail_ui(prepared, reading.answers, models, index, n)
            if reading.own and source != "draw":     # a sample made by the project is not the class's handwriting
                feedback_ui(prepared, reading.picture, guess_of(reading.answers, models, n), index)
            index += 1


returned = MODELS_BOX not in st.session_state   # Draw's widgets are gone: back from another page, or a new session
models = models_ui()
run_picker.latest_drawing()                # after a reload: the drawing made before it is offered on Inside again
with st.container(horizontal=True, gap="large"):       # the answers beside the canvas; below it on a phone
    with st.container(width=INPUTS_WIDTH):
        source, items = input_ui(returned)
    answers_column = st.container()
st.subheader(t("draw.steps"))
readings = read_all(source, items, models, options_ui())
with answers_column:
    answers_panel_ui(source, readings, models)
details_ui(source, readings, models)
run_picker.cookies_ui()
