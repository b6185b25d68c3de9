"""Train: configure a network, launch it, watch it learn."""
import time

import pandas as pd
import streamlit as st

from app_pages.parts import export_buttons, language, navigation, server, sidebar, student, teacher_auth
from app_pages.parts.session_keys import KNOB_PREFIX, knob_key
from app_pages.parts.train_form import CUSTOM, config_from_state, load_config, load_preset, matching_preset
from digitdash.digits.datasets import DatasetError, shape_of
from digitdash.i18n import Problem
from digitdash.learning import controls, device
from digitdash.plan import architecture, experiments, kinds, share
from digitdash.plan.config import (ACTIVATIONS, ADAM_FAMILY, BOUNDS, DOWNSAMPLING, INITIALIZERS, LR_SCHEDULES,
                                   MONITORS, OPTIMIZERS, PADDINGS, PRESETS, ConfigError, RunConfig)
from digitdash.reading import charts
from digitdash.runs import estimate, metrics
from digitdash.runs.store import ACTIVE, StoreError

t = language.t
# Session-state keys used on this page only (the knobs' `cfg-<field>` are session_keys.knob_key's)
LINK_READ = "link-read"              # set once the address bar's shared link has filled the form
PRESET_BOX = "preset"                # the preset box's container; the box itself is preset-<what it names>
FORM_KEPT = "form-kept"              # the knobs as last drawn: Streamlit drops them while another page is shown
WATCH_BOX = "watch-run"              # the box of the run to watch (a widget key), set by a launch too
WATCHED_RUN = "watch"                # the run the live part shows (an id, "" for none), copied from WATCH_BOX
LIVE_STATUS = "live-status"          # the watched run's status when the page was drawn: a change redraws it
TRAIN_REFUSED = "train-refused"      # why a launch was refused (a Message), said once on the next run
ACCURACY_GAP_BOX = "acc-threshold"   # the overfitting threshold on accuracy (a widget key)
LOSS_GAP_BOX = "loss-threshold"      # the overfitting threshold on loss (a widget key)
st.title(t("train.title"))
if LINK_READ not in st.session_state:        # a shared link fills the form once per session
    st.session_state[LINK_READ] = True
    linked, ignored = share.from_params(st.query_params.to_dict())
    if linked is not None:
        load_config(linked)
    if ignored:
        names = ", ".join(language.plain(name[:30]) for name in ignored[:8]) + (f" (+{len(ignored) - 8})" if len(ignored) > 8 else "")
        st.info(t("train.link_ignored", names=names), icon=":material/link_off:")   # a link's text is never markup
if knob_key("architecture") not in st.session_state:       # a first visit, or back from another page
    if FORM_KEPT in st.session_state:
        st.session_state.update(st.session_state[FORM_KEPT])
    else:
        load_preset("mlp-512")


def link_sync(config: RunConfig | None) -> None:
    """The address bar holds the form: the knobs that differ from the defaults (?layers=256-128&...)."""
    if config is None:
        return
    wanted = share.to_params(config)
    current = {k: v for k, v in st.query_params.to_dict().items() if k not in share.PAGE_PARAMS}
    if current != wanted:
        for key in set(current) - set(wanted):
            del st.query_params[key]
        st.query_params.update(wanted)


def knob(widget, field: str, *args, **kwargs):
    """One config knob: its widget keyed cfg-<field>, label and hover help from the catalogue."""
    if widget is st.selectbox and "format_func" not in kwargs:       # choices said in the session's language
        kwargs["format_func"] = language.knob_choice(field)
    return widget(t(f"knob.{field}.label"), *args, key=knob_key(field), help=t(f"knob.{field}.help"), **kwargs)


def knob_value(field: str):
    """What the knob of config field `field` holds now."""
    return st.session_state[knob_key(field)]


def bounds(field: str) -> tuple[float, float]:
    """The widget's range: the values config.validate accepts (an open end one step inside)."""
    return BOUNDS[field].form_range()


def _preset_chosen(box: str) -> None:
    """A preset chosen in the box loads. Each box is named after what the form held when it was drawn
    (preset-<name>, see preset_box): a browser that sends an old box's value again with its next
    change (it had not yet drawn the new box) sends that name, which is not a choice; any other
    value is one, whichever box it comes from."""
    value = st.session_state[box]
    if value != CUSTOM and value != box.removeprefix(PRESET_BOX + "-"):
        load_preset(value)


def preset_box() -> str:
    """The preset box's widget key. The box names what the form holds (custom once a knob differs
    from every preset), so choosing any preset, the one it named before included, always loads it.
    The key names it too: the value under one key never changes, so no browser can hold a value
    for it that the page has changed meanwhile."""
    held = matching_preset(st.session_state)
    box = f"{PRESET_BOX}-{held}"
    st.session_state[box] = held
    return box


def form_ui() -> None:
    box = preset_box()
    with st.container(key=PRESET_BOX):
        st.selectbox(t("train.preset"), [CUSTOM, *PRESETS], key=box, on_change=_preset_chosen, args=(box,),
                     format_func=lambda p: t("train.preset_custom") if p == CUSTOM else p, help=t("train.preset_help"))
    cnn = knob_value("architecture") == "cnn"
    a, b, c = st.columns(3)
    with a:
        st.subheader(t("train.architecture"))
        knob(st.selectbox, "architecture", kinds.NAMES)
        kind = kinds.of(knob_value("architecture"))
        if not kind.keras:
            st.caption(t(f"baseline.{kind.name}", limit=kind.subsample or 0))
        if cnn:
            knob(st.text_input, "conv_filters")
            knob(st.number_input, "kernel_size", *bounds("kernel_size"))
            knob(st.selectbox, "downsampling", DOWNSAMPLING)
            knob(st.selectbox, "padding", PADDINGS)
        knob(st.text_input, "layers")
        knob(st.selectbox, "activation", ACTIVATIONS)
        knob(st.selectbox, "initializer", INITIALIZERS)
        if knob_value("initializer") in ("random_normal", "random_uniform"):
            knob(st.number_input, "init_stddev", *bounds("init_stddev"), format="%.4f")
    with b:
        st.subheader(t("train.training"))
        knob(st.selectbox, "optimizer", OPTIMIZERS)
        knob(st.number_input, "learning_rate", *bounds("learning_rate"), format="%.5f", step=0.0001)
        knob(st.selectbox, "lr_schedule", LR_SCHEDULES)
        if knob_value("optimizer") in ("sgd", "rmsprop"):
            knob(st.slider, "momentum", *bounds("momentum"))
        if knob_value("optimizer") == "sgd":
            knob(st.checkbox, "nesterov")
        if knob_value("optimizer") in ADAM_FAMILY:
            knob(st.slider, "beta_1", *bounds("beta_1"))
            knob(st.slider, "beta_2", *bounds("beta_2"), step=0.0001, format="%.4f")
        knob(st.number_input, "batch_size", *bounds("batch_size"))
        knob(st.number_input, "epochs", *bounds("epochs"))
        knob(st.slider, "validation_split", *bounds("validation_split"))
        knob(st.number_input, "seed", *bounds("seed"))
        knob(st.checkbox, "mixed_precision")
        knob(st.checkbox, "class_drawings")
    with c:
        st.subheader(t("train.regularization"))
        knob(st.slider, "dropout", *bounds("dropout"))
        knob(st.number_input, "l1", *bounds("l1"), format="%.5f", step=0.0001)
        knob(st.number_input, "l2", *bounds("l2"), format="%.5f", step=0.0001)
        knob(st.checkbox, "batch_norm")
        knob(st.checkbox, "augment")
        if knob_value("augment"):
            knob(st.slider, "rotation", *bounds("rotation"))
            knob(st.slider, "shift", *bounds("shift"))
            knob(st.slider, "zoom", *bounds("zoom"))
        knob(st.checkbox, "written")          # beside the other augmentation: both train on changed copies
        st.subheader(t("train.stopping"))
        knob(st.checkbox, "early_stopping")
        if knob_value("early_stopping") or knob_value("reduce_lr"):
            knob(st.selectbox, "monitor", MONITORS)
        if knob_value("early_stopping"):
            knob(st.number_input, "patience", *bounds("patience"))
            knob(st.checkbox, "restore_best")
        knob(st.number_input, "loss_threshold", *bounds("loss_threshold"), format="%.3f", step=0.01)
        knob(st.checkbox, "reduce_lr")
        if knob_value("reduce_lr"):
            knob(st.slider, "reduce_lr_factor", *bounds("reduce_lr_factor"))
            knob(st.number_input, "reduce_lr_patience", *bounds("reduce_lr_patience"))
        knob(st.number_input, "output_units", *bounds("output_units"))


def summary_ui(config: RunConfig | None, specs: list | None, error: str | None) -> bool:
    """The model's layers, params and FLOPs before training; False when the config cannot train."""
    if error:
        st.error(error)
        return False
    shape, classes = shape_of(config.dataset)
    m1, m2, m3 = st.columns(3)
    params = architecture.parameters(config, specs, shape, len(classes))
    m1.metric(t("train.params"), language.number(params) if params is not None else "n/a", help=t("train.params_help"))
    m2.metric(t("train.mflops"), f"{architecture.total_flops(specs) / 1e6:.2f}", help=t("train.mflops_help"))
    m3.metric(t("train.input_classes", classes=len(classes)), "x".join(map(str, shape)))   # short: never cut
    with st.expander(t("train.model_summary"), expanded=False):
        frame = language.translated_columns(pd.DataFrame(architecture.summary_rows(specs)), "column")
        st.dataframe(frame, hide_index=True, width="stretch")
    return True


def current_config() -> tuple[RunConfig | None, list | None, str | None]:
    """(config, layer plan, None) when the widgets describe a network that can train, else the message."""
    try:
        config = config_from_state(st.session_state, sidebar.dataset_name())
        shape, classes = shape_of(config.dataset)
        return config, architecture.plan(config, shape, len(classes)), None
    except (ConfigError, DatasetError) as exc:
        return None, None, language.say(exc.message)


def family_ui(config: RunConfig | None) -> None:
    """The notebooks' families in one click, or any one or two knobs over listed values."""
    choice = st.selectbox(t("train.family"), ["custom", *experiments.TEMPLATES], key="family",
                          format_func=lambda c: t("train.family_custom") if c == "custom" else c,
                          help=t("train.family_help"))
    try:
        if choice == "custom":
            if config is None:
                st.warning(t("train.family_fix_first"))
                return
            text = st.text_input(t("train.vary"), "activation=relu,sigmoid", key="family-vary",
                                 help=t("train.vary_help"))
            base = config
            vary = experiments.parse_vary([p for p in text.split(";") if p.strip()], base)
            title = "vary " + " x ".join(vary)
        else:
            base, vary = experiments.template(choice, sidebar.dataset_name())
            if config is not None and "epochs" not in vary:      # the epochs the form shows
                base = base.replace(epochs=config.epochs)
            title = choice
        configs = experiments.expand(base, vary)
    except ConfigError as exc:
        st.error(language.say(exc.message))
        return
    epochs = sorted({c.epochs for c in configs})
    st.caption(t("train.family_runs", n=len(configs), runs="; ".join(experiments.label(c, vary) for c in configs),
                 epochs=t("train.n_epochs", n="/".join(map(str, epochs)))))
    if st.button(t("train.launch_family"), key="launch-family", help=t("train.launch_family_help")):
        try:
            group, ids = experiments.launch(server.runner(), base, vary, title, owner=student.owner(),
                                            teacher=teacher_auth.is_teacher())
        except Problem as exc:       # a limit of the class, a network that cannot be built
            st.error(language.say(exc.message))
            return
        st.session_state[WATCH_BOX] = ids[0]
        st.success(t("train.family_queued", n=len(ids), group=language.plain(group)))


form_ui()
st.session_state[FORM_KEPT] = {key: st.session_state[key] for key in st.session_state if str(key).startswith(KNOB_PREFIX)}
config, specs, error = current_config()
link_sync(config)
can_train = summary_ui(config, specs, error)
t1, t2, t3 = st.columns([1, 1, 2])
if t1.button(t("train.train"), key="train", type="primary", disabled=not can_train, help=t("train.train_help")):
    try:
        st.session_state[WATCH_BOX] = server.runner().submit(config, owner=student.owner(),
                                                             teacher=teacher_auth.is_teacher())
    except Problem as exc:           # a limit of the class, a network that cannot be built
        st.session_state[TRAIN_REFUSED] = exc.message
if TRAIN_REFUSED in st.session_state:
    st.error(language.say(st.session_state.pop(TRAIN_REFUSED)), icon=":material/block:")
with st.expander(t("train.family_title")):
    family_ui(config)
t2.number_input(t("train.acc_threshold"), 0.0, 1.0, metrics.ACCURACY_GAP, 0.01, key=ACCURACY_GAP_BOX,
                help=t("train.acc_threshold_help"))
t3.number_input(t("train.loss_threshold"), 0.0, 10.0, metrics.LOSS_GAP, 0.01, key=LOSS_GAP_BOX,
                help=t("train.loss_threshold_help"))


def status_line(run: dict, position: int | None) -> str:
    s, res = run["status"], run["results"]
    status = t(f"status.{s}")
    if s == "queued":
        return t("train.status_position", status=status, position=position) if position else \
            t("train.status", status=status)
    if s == "running":
        return t("train.status_running", status=status, device=device.said(run["device"], language.lang())
                 or t("train.the_worker"))
    message = language.say(run["message"])
    if s == "done" and res.get("stopped_early_at"):
        return t("train.status_early", epoch=res["stopped_early_at"], message=message)
    return t("train.status_message", status=status, message=message).strip()


NONE = ""   # the watch box's "nothing yet" choice


def watch_ui() -> None:
    """Pick the run to watch: the one just launched, this student's newest, or any other (runs
    outlive closed tabs). A browser with no run of its own watches nothing until it picks one."""
    runs = server.store().runs()[::-1][:50]
    if not runs:
        return
    me = student.owner()
    name = student.namer()
    ids = [r["id"] for r in runs]
    # No status in the labels: the box is drawn with the page, not with each live update, so a
    # status there would go stale; the watched run's status line below is always current.
    labels = {r["id"]: f"{r['name']} ({name(r['owner'])})" for r in runs}
    labels[NONE] = t("train.watch_none")
    if st.session_state.get(WATCH_BOX) not in [NONE, *ids]:
        wanted = st.query_params.get("run")
        mine = [r["id"] for r in runs if r["owner"] == me]
        st.session_state[WATCH_BOX] = wanted if wanted in ids else (mine[0] if mine else NONE)
    chosen = st.selectbox(t("train.watch"), [NONE, *ids], format_func=labels.get, key=WATCH_BOX,
                          help=t("train.watch_help"))
    st.session_state[WATCHED_RUN] = chosen
    if chosen and st.query_params.get("run") != chosen:
        st.query_params["run"] = chosen


def queue_ui(store) -> tuple[list[str], dict[str, float]]:
    """Every waiting run in the order it will start: whose it is and about how long until it starts.
    Returns the order and the estimated seconds each waiting run has to wait."""
    order = store.queue()
    if not order:
        return order, {}
    runs = store.runs()
    waits = estimate.waits(runs, order, server.runner().workers)
    by_id, name = {r["id"]: r for r in runs}, student.namer(store.student_names())
    rows = [{t("train.queue_position"): n, t("train.queue_run"): by_id[i]["name"],
             t("train.queue_owner"): name(by_id[i]["owner"]),
             t("train.queue_wait"): t("train.queue_minutes", minutes=max(1, round(waits[i] / 60)))}
            for n, i in enumerate(order, 1)]
    with st.expander(t("train.queue_title", n=len(order)), expanded=st.session_state.get(WATCHED_RUN) in order):
        st.dataframe(rows, hide_index=True, width="stretch", key="queue-table")
        st.caption(t("train.queue_note"))
    return order, waits


POLL_SECONDS = {"running": 1.0, "queued": 2.0}   # how often the live part redraws; finished runs: once


def live_ui() -> None:
    """The watched run: status, Stop, progress, curves, gaps and, at the end, the verdict. Runs as a
    fragment polling the store while the run trains or waits; once the run's status changes, the
    whole page is drawn again (and a finished run stops polling)."""
    run_id = st.session_state.get(WATCHED_RUN)
    store = server.store()
    order, waits = queue_ui(store)
    if not run_id:
        st.info(t("train.press_train"))
        return
    try:
        run = store.get(run_id)
    except StoreError:
        st.warning(t("train.run_gone", run=run_id))
        return
    if run["status"] != st.session_state.get(LIVE_STATUS):
        st.rerun()
    epochs, total = store.epochs(run_id), run["config"].epochs
    st.subheader(language.plain(run["name"]))
    with st.container(key="run-status"):
        line = status_line(run, order.index(run_id) + 1 if run_id in order else None)
        if run_id in waits:
            line += " · " + t("train.queue_about", minutes=max(1, round(waits[run_id] / 60)))
        st.markdown(line)
    changes = controls.changes(store, run_id)
    if run["status"] in ACTIVE:
        if run["owner"] == student.owner() or teacher_auth.is_teacher():
            if st.button(t("train.stop"), key="stop", help=t("train.stop_help")):
                server.runner().stop(run_id, by=student.owner(), teacher=teacher_auth.is_teacher())
            if run["status"] == "running" and kinds.of(run["config"].architecture).keras:
                controls_ui(run, changes, len(epochs))
        else:
            st.caption(t("train.not_yours", owner=language.plain(student.owner_name(run["owner"]))))
    steps = run["info"].get("steps_per_epoch")
    lang = language.lang()
    batches = store.batches(run_id)
    if run["status"] == "running":
        elapsed = time.time() - (run["started"] or time.time())
        fraction, seconds = estimate.progress(epochs, total, batches[-1]["step"] if batches else None, steps)
        if len(epochs) >= total:      # every epoch done: the test digits are being read
            text = t("train.progress_testing", total=total, elapsed=elapsed)
        else:
            left = t("train.left", seconds=seconds) if seconds is not None else ""
            text = t("train.progress", done=len(epochs), total=total, elapsed=elapsed, left=left,
                     percent=fraction)
        st.progress(fraction, text=text)
    if epochs or batches:
        st.plotly_chart(charts.curves(epochs, batches, steps, lang, changes), key="live-curves", width="stretch")
    else:       # nothing learnt yet: no empty axes, no gaps of nothing
        st.info(t("train.charts_waiting" if run["status"] in ACTIVE else "train.charts_none"),
                icon=":material/hourglass_top:")
    if epochs:
        st.plotly_chart(charts.gap_bars(epochs, st.session_state[ACCURACY_GAP_BOX], st.session_state[LOSS_GAP_BOX],
                                        lang), key="gap-bars", width="stretch")
    res = run["results"]
    if "test_accuracy" in res:
        c1, c2 = st.columns(2)
        c1.metric(t("train.test_accuracy"), f"{res['test_accuracy']:.4f}", help=t("train.test_accuracy_help"))
        c2.metric(t("train.test_loss"), f"{res['test_loss']:.4f}", help=t("train.test_loss_help"))
        kind, sentence = metrics.verdict(epochs, res["test_accuracy"], st.session_state[ACCURACY_GAP_BOX],
                                         st.session_state[LOSS_GAP_BOX], config=run["config"])
        (st.warning if kind in ("underfitting", "overfitting") else st.success)(language.say(sentence))
        l1, l2 = st.columns(2)
        navigation.link("compare", label=t("train.to_compare"), where=l1)
        navigation.link("draw", label=t("train.to_draw"), where=l2)
        export_buttons.export_ui(run, "export")


def controls_ui(run: dict, changes: list[dict], epochs_done: int) -> None:
    """Pause or resume, and a new learning rate from the next batch (digitdash.learning.controls)."""
    paused = controls.paused(changes)
    who = {"by": student.owner(), "teacher": teacher_auth.is_teacher()}
    a, b, c = st.columns([1, 1, 1], vertical_alignment="bottom")
    try:
        if paused:
            st.info(t("control.paused", epoch=epochs_done + 1, seconds=controls.PAUSE_MAX_SECONDS), icon=":material/pause:")
            if a.button(t("control.resume"), key="resume", help=t("control.resume_help")):
                controls.ask(server.store(), run["id"], "resume", **who)
        elif a.button(t("control.pause"), key="pause", help=t("control.pause_help", seconds=controls.PAUSE_MAX_SECONDS)):
            controls.ask(server.store(), run["id"], "pause", **who)
        if run["config"].lr_schedule == "constant":
            rate = b.number_input(t("control.new_lr"), *BOUNDS["learning_rate"].form_range(),
                                  value=float(run["config"].learning_rate), format="%.5f", step=0.0001,
                                  key=f"new-lr-{run['id']}", help=t("control.new_lr_help"))
            if c.button(t("control.apply_lr"), key="apply-lr", help=t("control.new_lr_help")):
                controls.ask(server.store(), run["id"], "lr", rate, **who)
                st.caption(t("control.asked", what=t("control.mark_lr", value=rate)))
    except Problem as exc:          # the run ended meanwhile, a rate out of bounds
        st.warning(language.say(exc.message))


def watched_status() -> str | None:
    run_id = st.session_state.get(WATCHED_RUN)
    try:
        return server.store().get(run_id)["status"] if run_id else None
    except StoreError:
        return None


watch_ui()
st.session_state[LIVE_STATUS] = watched_status()
poll = POLL_SECONDS.get(st.session_state[LIVE_STATUS]) or (POLL_SECONDS["queued"] if server.store().queue() else None)


def live_tick() -> None:
    with server.store().request():      # one connection for the tick's reads
        live_ui()


st.fragment(run_every=poll)(live_tick)()
