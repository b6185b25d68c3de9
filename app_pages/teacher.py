"""Teacher: behind the teacher's gate (link or password), the whole class at a glance: runs, queue,
limits, leaderboard, and the class's handwriting (review, delete, collection on or off)."""
import time

import pandas as pd
import streamlit as st

from app_pages.parts import data_effect, language, server, student, teacher_auth
from digitdash.classroom import teacher_gate
from digitdash.digits import datasets
from digitdash.i18n import Problem
from digitdash.plan import kinds, limits
from digitdash.plan.config import DATASETS
from digitdash.reading import handwriting, leaderboard
from digitdash.runs import estimate
from digitdash.runs.store import ACTIVE, StoreError

t = language.t
ARCHIVE_SAID = "archive-said"     # session state: what the last archive or unarchive click did, said once
st.title(t("teacher.title"))
store = server.store()


def link_ui() -> None:
    """The teacher's link (?key=...): rights for this browser, and the key taken out of the address bar."""
    typed = st.query_params.get("key")
    if typed is None:
        return
    del st.query_params["key"]
    try:
        expires = teacher_auth.open_with_key(typed)
        st.success(t("gate.link_used", until=time.strftime("%H:%M", time.localtime(expires))))
    except teacher_gate.GateError as exc:
        st.error(language.say(exc.message))


def unlock_ui() -> None:
    """The password box (when the server has one); each wrong try makes this browser's next one wait longer."""
    if not teacher_auth.teacher_password():
        st.info(t("teacher.unset"))
        st.caption(t("gate.link_help"))
        return
    typed = st.text_input(t("teacher.password"), type="password", key="teacher-password",
                          help=t("teacher.password_help"))
    if st.button(t("teacher.unlock"), key="unlock", help=t("teacher.unlock_help")):
        try:
            ok, wait = teacher_auth.unlock_teacher(typed)
        except teacher_gate.GateError as exc:
            st.error(language.say(exc.message))
        else:
            if ok:
                st.rerun()
            st.error(t("teacher.wrong_password", seconds=max(1, round(wait))))
    st.caption(t("gate.link_help"))


def signed_in_ui() -> None:
    until = teacher_auth.until()
    a, b = st.columns([4, 1])
    a.success(t("gate.on_until", until=time.strftime("%H:%M", time.localtime(until))))
    if b.button(t("gate.sign_out"), key="sign-out", help=t("gate.sign_out_help")):
        teacher_auth.sign_out()
        st.rerun()


@st.fragment(run_every=2.0)
def class_ui() -> None:
    with store.request():        # one connection for the tick's reads
        class_tick()


def class_tick() -> None:
    """Every run waiting or training, live: whose it is, progress, the wait; stop, cancel or move one."""
    runs = store.runs()
    order = store.queue()
    active = [r for r in runs if r["status"] == "running"] + [r for i in order for r in runs if r["id"] == i]
    st.subheader(t("teacher.live", running=sum(r["status"] == "running" for r in runs), queued=len(order)))
    if not active:
        st.caption(t("teacher.nothing_running"))
        return
    waits = estimate.waits(runs, order, server.runner().workers)
    name = student.namer()
    rows = [{t("teacher.col_run"): r["name"], t("teacher.col_owner"): name(r["owner"]),
             t("teacher.col_status"): t(f"status.{r['status']}"),
             t("teacher.col_progress"): f"{len(store.epochs(r['id']))}/{r['config'].epochs}",
             t("teacher.col_wait"): t("train.queue_minutes", minutes=max(1, round(waits[r["id"]] / 60)))
             if r["id"] in waits else "-"} for r in active]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="class-runs")
    labels = {r["id"]: f"{r['name']} ({name(r['owner'])})" for r in active}
    chosen = st.selectbox(t("teacher.pick"), list(labels), format_func=labels.get, key="teacher-run",
                          help=t("teacher.pick_help"))
    a, b, c = st.columns(3)
    if a.button(t("teacher.stop"), key="teacher-stop", help=t("teacher.stop_help")):
        server.runner().stop(chosen, by=student.owner(), teacher=True)
    queued = chosen in order
    if b.button(t("teacher.front"), key="teacher-front", disabled=not queued, help=t("teacher.front_help")):
        store.move(chosen, "front")
    if c.button(t("teacher.back"), key="teacher-back", disabled=not queued, help=t("teacher.back_help")):
        store.move(chosen, "back")


def limits_ui() -> None:
    """The class limits, saved to the limits file on the server."""
    st.subheader(t("teacher.limits"))
    try:
        now = limits.load()
    except limits.LimitError as exc:
        st.error(language.say(exc.message))
        now = limits.Limits()
    with st.form("limits-form"):
        a, b, c = st.columns(3)
        epochs = a.number_input(t("teacher.max_epochs"), 1, 100_000, now.max_epochs, key="limit-epochs",
                                help=t("teacher.max_epochs_help"))
        seconds = b.number_input(t("teacher.max_seconds"), 1, 100_000, now.max_run_seconds, key="limit-seconds",
                                 help=t("teacher.max_seconds_help"))
        queued = c.number_input(t("teacher.max_queued"), 1, 100_000, now.max_queued_per_student, key="limit-queued",
                                help=t("teacher.max_queued_help"))
        data = st.multiselect(t("teacher.datasets"), list(DATASETS), list(now.datasets), key="limit-datasets",
                              help=t("teacher.datasets_help"))
        allowed = st.multiselect(t("teacher.kinds"), list(kinds.NAMES), list(now.kinds), key="limit-kinds",
                               help=t("teacher.kinds_help"))
        saved = st.form_submit_button(t("teacher.save"), help=t("teacher.save_help"))
    st.caption(t("teacher.folders", names=", ".join(sorted(now.folders)) or "-"))
    for hint in datasets.teacher_hints():        # built-in datasets this server cannot load yet: how to add them
        st.caption(language.say(hint))
    if saved:
        try:
            limits.save(limits.with_changes(now, max_epochs=int(epochs), max_run_seconds=int(seconds),
                                            max_queued_per_student=int(queued), datasets=tuple(data),
                                            kinds=tuple(allowed)))
            st.success(t("teacher.saved"))
        except (limits.LimitError, OSError):
            st.error(t("teacher.not_saved"))


def leaderboard_ui() -> None:
    st.subheader(t("teacher.leaderboard"))
    name = student.namer()
    runs = store.runs()
    ours = handwriting.scores(store, runs, predict=False)    # the answers kept: no model loaded for a table
    board = leaderboard.best_per_owner(runs, ours)
    if not board:
        st.caption(t("teacher.no_results"))
        return
    rows = [{t("teacher.col_rank"): n, t("teacher.col_owner"): name(b["owner"]),
             t("teacher.col_best"): round(b["test_accuracy"], 4),
             t("teacher.col_ours"): round(b["our_handwriting"], 4) if b["our_handwriting"] is not None else None,
             t("teacher.col_run"): b["name"],
             t("teacher.col_runs"): b["runs"]} for n, b in enumerate(board, 1)]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="leaderboard")


DRAWINGS_SHOWN = 60      # the newest drawings shown for review


def drawings_ui() -> None:
    """The class's handwriting: collection on or off, and the newest drawings to review or delete."""
    st.subheader(t("teacher.drawings"))
    try:
        now = limits.load()
    except limits.LimitError:
        now = limits.Limits()
    collect = st.toggle(t("teacher.collect"), now.collect_drawings, key="collect-drawings",
                        help=t("teacher.collect_help"))
    if collect != now.collect_drawings:
        try:
            limits.save(limits.with_changes(now, collect_drawings=collect))
        except (limits.LimitError, OSError):
            st.error(t("teacher.not_saved"))
    listing = handwriting.listing(store, newest_first=True)
    per_digit = " · ".join(f"{digit}: {n}" for digit, n in enumerate(handwriting.counts(store)))
    st.caption(t("teacher.drawings_count", n=len(listing), per_digit=per_digit))
    if not listing:
        return
    name = student.namer()
    shown = listing[:DRAWINGS_SHOWN]
    ids, images, _ = handwriting.arrays(store, [d["id"] for d in shown])
    by_id = dict(zip(ids.tolist(), images))
    cols = st.columns(10)
    for n, drawing in enumerate(shown):
        with cols[n % 10]:
            server.image(st, by_id[drawing["id"]], width=56,
                     caption=t("teacher.drawing_caption", digit=drawing["label"],
                               owner=name(drawing["owner"])))
            if st.button("✕", key=f"drop-drawing-{drawing['id']}", help=t("teacher.drop_drawing_help")):
                try:
                    handwriting.delete(store, drawing["id"], teacher=True)
                except Problem as exc:
                    st.error(language.say(exc.message))
                else:
                    st.rerun()
    if st.checkbox(t("teacher.confirm_drop_all"), key="confirm-drop-drawings", help=t("teacher.drop_all_help")):
        if st.button(t("teacher.drop_all"), key="drop-drawings", type="primary", help=t("teacher.drop_all_help")):
            try:
                st.success(t("teacher.dropped", n=handwriting.delete_all(store)))
            except Problem as exc:
                st.error(language.say(exc.message))


ARCHIVES_SHOWN = 20      # the newest archives listed, each with its button


def archive_ui() -> None:
    """A lesson's finished runs put away (kept on disk, out of the class's views) and back with one click."""
    st.subheader(t("teacher.archive_title"))
    if ARCHIVE_SAID in st.session_state:        # what the last click did, said once after the page is redrawn
        st.success(st.session_state.pop(ARCHIVE_SAID))
    finished = [r for r in store.runs() if r["status"] not in ACTIVE]
    st.caption(t("teacher.archive_note", n=len(finished)) if finished else t("teacher.archive_none"))
    if finished:
        a, b = st.columns([3, 2], vertical_alignment="bottom")
        typed = a.text_input(t("teacher.archive_name"), key="archive-name", max_chars=80, help=t("teacher.archive_name_help"),
                             placeholder=t("teacher.archive_default", date="…"))
        if b.button(t("teacher.archive", n=len(finished)), key="archive-runs", help=t("teacher.archive_help")):
            # left empty: named by the moment of the click, in the teacher's language
            name = typed or t("teacher.archive_default", date=time.strftime("%Y-%m-%d %H:%M"))
            try:
                _, moved = store.archive(name, by=student.owner(), teacher=teacher_auth.is_teacher())
            except Problem as exc:     # a name with invisible characters, nothing left to archive, a full disk
                st.error(language.say(exc.message))
            else:
                st.session_state[ARCHIVE_SAID] = t("teacher.archived", n=moved, name=language.plain(name))
                st.rerun()
    archives = store.archives()
    st.markdown(f"**{t('teacher.archives')}**")
    if not archives:
        st.caption(t("teacher.no_archives"))
    for archive in archives[:ARCHIVES_SHOWN]:
        a, b = st.columns([4, 1], vertical_alignment="center")
        a.text(t("teacher.archive_line", name=archive["name"], n=archive["runs"],
                 date=time.strftime("%Y-%m-%d %H:%M", time.localtime(archive["created"]))))
        if b.button(t("teacher.unarchive"), key=f"unarchive-{archive['id']}", help=t("teacher.unarchive_help")):
            try:
                back = store.unarchive(archive["id"], by=student.owner(), teacher=teacher_auth.is_teacher())
            except Problem as exc:
                st.error(language.say(exc.message))
            else:
                st.session_state[ARCHIVE_SAID] = t("teacher.unarchived", n=back)
                st.rerun()


def clear_ui() -> None:
    st.subheader(t("teacher.clear_title"))
    if st.checkbox(t("teacher.confirm_clear"), key="confirm-clear", help=t("teacher.confirm_clear_help")):
        if st.button(t("teacher.clear"), key="clear-store", type="primary", help=t("teacher.clear_help")):
            try:
                st.success(t("teacher.cleared", n=store.clear()))
            except StoreError as exc:
                st.error(language.say(exc.message))


link_ui()
if not teacher_auth.is_teacher():
    unlock_ui()
    st.stop()
signed_in_ui()
class_ui()
limits_ui()
leaderboard_ui()
drawings_ui()
data_effect.data_effect_ui(store, store.runs(), "teacher-data-effect")
archive_ui()
clear_ui()
