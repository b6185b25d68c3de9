"""Compare: runs side by side in a table, curves, bars, confusion matrices and mistakes."""
import hashlib
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.parts import data_effect, export_buttons, language, navigation, server, session_keys, student, teacher_auth
from digitdash import text
from digitdash.digits import datasets
from digitdash.digits.datasets import DatasetError, shape_of
from digitdash.i18n import Problem
from digitdash.plan import kinds, limits, share
from digitdash.reading import charts, compare, handwriting, lessons
from digitdash.reading import mistakes as cells
from digitdash.runs.store import StoreError

t = language.t
ALL = "*"   # the family filter's "every run" choice
GALLERY_PAGE = 40   # misclassified digits shown at first, and added by each "show more"
# Session-state keys used on this page only (the run Inside opens on is session_keys')
PICKED_VIEW = "picked-view"        # (the runs table drawn last, whether rows were ticked in it)
TABLE_PAGE_AT = "table-page-at"    # the page of the runs table shown, kept when its page box is drawn anew
PICKED_CELL = "cm-cell"            # (run id, true digit, predicted digit) of the test matrix cell clicked last
GALLERY_LIMIT = "gallery-limit"    # how many misclassified digits the gallery shows ("show more" adds a page)
st.title(t("compare.title"))
store = server.store()
VERSION = store.changes()     # what this render reads of the store; a figure built from it is kept under it
runs = store.runs()
if not runs:
    st.info(t("compare.no_runs"))
    navigation.link("train", label=t("compare.to_train"))
    st.stop()


def table_ui() -> tuple[list[dict], list[dict]]:
    """The runs table; returns the selected runs (the latest finished ones when none is selected)
    and their table rows."""
    c1, c2, c3 = st.columns([2, 2, 1])
    groups = sorted({r["grp"] for r in runs if r["grp"]})
    family = c1.selectbox(t("compare.family"), [ALL, *groups], key="family-filter",
                          format_func=lambda g: t("compare.all_runs") if g == ALL else g,
                          help=t("compare.family_help"))
    typed = c2.text_input(t("compare.filter"), key="filter", help=t("compare.filter_help"))
    show_all = c3.toggle(t("compare.all_knobs"), key="all-knobs", help=t("compare.all_knobs_help"))
    typed = typed.lower()
    matching = [r for r in runs if family in (ALL, r["grp"]) and (not typed or typed in haystack(r))]
    ordered = compare.newest_mine_first(matching, student.owner())
    page = page_ui(len(ordered))
    shown = ordered[page * compare.PAGE_ROWS:(page + 1) * compare.PAGE_ROWS]
    # The table is drawn anew, nothing ticked, whenever the runs it shows change (another page, a
    # filter, a run added by anyone): a tick always belongs to the run beside it. The runs chosen
    # stay in the address bar (?runs=), and the charts below keep showing them.
    view_key = hashlib.blake2b(",".join(r["id"] for r in shown).encode(), digest_size=6).hexdigest()
    table_key = f"runs-table-{view_key}"        # the table's widget key: its selection is kept under it
    ticked = ticked_rows(table_key, len(shown))
    picked = chosen_runs([shown[i] for i in ticked], view_key, matching, family)
    # the chosen runs answer the newest drawings first (a few models at most), so their rows are current
    handwriting.scores(store, picked)
    names = store.student_names()
    rows = compare.table(store, ordered, all_knobs=show_all, owner_name=student.namer(names),
                         predict=False, version=VERSION)
    on_page = rows[page * compare.PAGE_ROWS:(page + 1) * compare.PAGE_ROWS]
    with st.container(key="runs-table"):
        if on_page:
            frame = pd.DataFrame(on_page)
            view = frame.drop(columns=["id"])
            view["status"] = [t(f"status.{s}") for s in view["status"]]
            for column in compare.DECIMALS:        # a figure no run has yet is an empty cell, not "None"
                if column in view:
                    view[column] = pd.to_numeric(view[column], errors="coerce")
            decimals = {t(f"column.{c.replace(' ', '_')}"): st.column_config.NumberColumn(
                format="%.3f", help=t(f"compare.{c.replace(' ', '_')}_help") if c in compare.EXPLAINED else None)
                for c in compare.DECIMALS}
            st.dataframe(language.translated_columns(view, "column"), key=table_key, on_select="rerun",
                         selection_mode="multi-row", hide_index=True, width="stretch", column_config=decimals)
        else:
            st.info(t("compare.no_match"), icon=":material/filter_alt_off:")
    # The file itself goes with the page: a file made on the click is forgotten when the page reruns, and
    # a click just then never arrives. One file per store change and filter for the whole class (newest
    # first, every owner by name), not one per student: a thousand runs are a large file to write.
    csv = server.kept_file(("csv", VERSION, tuple(sorted(r["id"] for r in matching)), language.lang(), show_all),
                           lambda: class_file(matching, show_all, names))
    st.download_button(t("compare.csv"), csv, "digitdash-runs.csv", "text/csv", key="download-csv",
                       help=t("compare.csv_help"))
    if family != ALL:
        lesson_ui([r for r in runs if r["grp"] == family])
    return picked, compare.table(store, picked, predict=False)     # (their new answers were kept above)


def class_file(matching: list[dict], show_all: bool, names: dict[str, str]) -> str:
    """The runs table of the whole class as CSV, newest first, every owner by name: headed, and its
    statuses said, in the session's language, its figures rounded for a spreadsheet."""
    rows = compare.rounded(compare.table(store, compare.newest_first(matching), all_knobs=show_all,
                                         owner_name=student.namer(names, mark_viewer=False), predict=False,
                                         version=VERSION))
    frame = pd.DataFrame(rows, dtype=object)          # object: an empty figure stays empty, not "nan"
    if "status" in frame:
        frame["status"] = [t(f"status.{s}") for s in frame["status"]]
    return text.to_csv(language.translated_columns(frame, "column").to_dict("records"))


def ticked_rows(key: str, size: int) -> list[int]:
    """The rows ticked in the table `key` (its selection, kept by Streamlit under its key before the
    table is drawn again). A browser may send anything there: only real rows count."""
    try:
        rows = st.session_state[key]["selection"]["rows"]
    except Exception:       # noqa: BLE001 - none yet, or a value no table sends (a crafted message)
        return []
    return [i for i in rows if isinstance(i, int) and 0 <= i < size] if isinstance(rows, list) else []


def chosen_runs(ticked: list[dict], view_key: str, matching: list[dict], family: str) -> list[dict]:
    """The runs the charts show: those ticked, else those in the address bar (a shared link, or the
    last choice on another page of the table), else the latest finished ones."""
    before = st.session_state.get(PICKED_VIEW)          # (the table drawn last, whether rows were ticked)
    st.session_state[PICKED_VIEW] = (view_key, bool(ticked))
    if not ticked and before == (view_key, True) and "runs" in st.query_params:
        del st.query_params["runs"]                       # the student unticked every row: nothing chosen
    linked = share.run_ids(st.query_params.get("runs"))
    picked = ticked
    if picked:                                    # the address bar carries the selection (?runs=ID,ID)
        st.query_params["runs"] = ",".join(r["id"] for r in picked[:share.MAX_RUNS])
    elif linked:                                  # a shared link's runs, those that are here
        by_id = {r["id"]: r for r in runs}
        picked = [by_id[i] for i in linked if i in by_id]
        if len(picked) < len(linked):
            st.info(t("compare.link_missing", n=len(linked) - len(picked)), icon=":material/link_off:")
    if not picked:
        finished = [r for r in matching if r["results"].get("test_accuracy") is not None]
        if family == ALL:
            st.caption(t("compare.select_hint"))
            finished = finished[-4:]
        picked = finished
    return picked


def haystack(run: dict) -> str:
    """What the filter box searches in a run: its name, model, dataset and status (in both words)."""
    status = run["status"]
    return f"{run['name']} {run['config'].summary()} {limits.display(run['dataset'])} {status} {t('status.' + status)}".lower()


def page_ui(rows: int) -> int:
    """The page of the table to show (0 for the first hundred rows). The box is drawn anew when the
    number of rows or the language changes, so its label never goes stale; the page stays."""
    pages = compare.pages(rows)
    page = min(st.session_state.get(TABLE_PAGE_AT, 0), pages - 1)
    if pages > 1:        # a lesson's hundreds of runs: one page of the table at a time
        page = st.selectbox(t("compare.page"), range(pages), index=page, key=f"table-page-{rows}-{language.lang()}",
                            help=t("compare.page_help"), width=260,
                            format_func=lambda n: t("compare.page_rows", first=n * compare.PAGE_ROWS + 1,
                                                    last=min(rows, (n + 1) * compare.PAGE_ROWS), total=rows))
        page = page if isinstance(page, int) and 0 <= page < pages else 0
    st.session_state[TABLE_PAGE_AT] = page
    return page


def lesson_ui(family: list[dict]) -> None:
    """What the family shows, from its figures, once every run of it has finished."""
    said = lessons.conclusion(family, store.epochs)
    if said:
        with st.container(key="family-lesson"):
            st.info("**" + t("lesson.title") + "** \n\n" + "\n\n".join(language.say(m) for m in said),
                    icon=":material/school:")


def manage_ui(selected: list[dict]) -> None:
    if len(selected) != 1:
        return
    run = selected[0]
    teacher = teacher_auth.is_teacher()
    with st.expander(t("compare.manage", name=language.plain(run["name"]))):
        path = store.model_path(run["id"])
        if path and kinds.of(run["config"].architecture).keras and \
                st.button(t("compare.inside"), key="inside-from-compare", help=t("compare.inside_help")):
            session_keys.look_inside(run["id"])
            navigation.go("inside")
        export_buttons.export_ui(run, "compare-export")
        if path:
            st.download_button(t("compare.download_model", suffix=path.suffix), path.read_bytes(),
                               f"{run['id']}{path.suffix}", key="download-model", help=t("compare.download_model_help"))
        if run["owner"] != student.owner() and not teacher:
            st.caption(t("compare.not_yours"))
            return
        new = st.text_input(t("compare.new_name"), value=run["name"], key=f"rename-{run['id']}", max_chars=80,
                            help=t("compare.new_name_help"))
        if st.button(t("compare.rename"), key="rename", help=t("compare.rename_help")) and new != run["name"]:
            try:
                store.rename(run["id"], new, by=student.owner(), teacher=teacher)
                st.rerun()
            except Problem as exc:      # not theirs, invisible characters, too long, a full disk
                st.error(language.say(exc.message))
        # the tick belongs to this run: deleting it never leaves the next run's delete armed
        confirm_key = f"confirm-delete-{run['id']}"
        if st.checkbox(t("compare.confirm_delete"), key=confirm_key,
                       help=t("compare.confirm_delete_help")):
            if st.button(t("compare.delete"), key="delete", type="primary", help=t("compare.delete_help")):
                try:
                    store.delete(run["id"], by=student.owner(), teacher=teacher)
                    st.session_state.pop(confirm_key, None)
                    if "runs" in st.query_params:
                        del st.query_params["runs"]
                    st.rerun()
                except StoreError as exc:
                    st.error(language.say(exc.message))


def kept(name: str, runs: list[dict], build, *more):
    """The figure `name` of `runs`, built once per server process until the store changes (every
    session choosing the same runs, in the same language, shares it)."""
    return server.kept((name, VERSION, tuple(r["id"] for r in runs), language.lang(), *more), build)


def bars(rows: list[dict], columns: list[str], title: str, key: str, where, selected: list[dict]) -> None:
    labels = [t(f"column.{c.replace(' ', '_')}") for c in columns]
    where.plotly_chart(kept(key, selected, lambda: charts.grouped_bars(rows, columns, t(title), labels)),
                       key=key, width="stretch")


def charts_ui(selected: list[dict], rows: list[dict]) -> None:
    lang = language.lang()

    def series():
        return [(r["name"], store.epochs(r["id"]), r["id"]) for r in selected]
    st.plotly_chart(kept("overlay", selected, lambda: charts.overlay_curves(series(), lang)), key="overlay",
                    width="stretch")
    st.caption(t("compare.overlay_note"))
    a, b = st.columns(2)
    bars(rows, compare.ACCURACY_COLUMNS, "chart.accuracy", "acc-bars", a, selected)
    bars(rows, compare.LOSS_COLUMNS, "chart.loss", "loss-bars", b, selected)
    c, d, e = st.columns(3)
    bars(rows, [compare.PARAMS], "train.params", "param-bars", c, selected)
    bars(rows, [compare.FLOPS], "train.mflops", "flop-bars", d, selected)
    bars(rows, [compare.TIME], "compare.train_time", "time-bars", e, selected)
    st.plotly_chart(kept("convergence", selected, lambda: charts.convergence_lines(series(), lang)),
                    key="convergence", width="stretch")
    st.caption(t("compare.convergence_note"))


def class_names(run: dict) -> tuple[str, ...]:
    """The run's class names: a built-in dataset's, else its confusion matrix's rows as numbers
    (a command-line run's folder is never read, nor named, by this page)."""
    size = len(run["results"]["confusion"]["test"])
    try:
        names = shape_of(run["dataset"])[1] if run["dataset"] in datasets.BUILTIN else ()
    except DatasetError:
        names = ()
    return tuple(names) if len(names) == size else tuple(str(i) for i in range(size))


def confusion_ui(selected: list[dict]) -> None:
    done = [r for r in selected if r["results"].get("confusion")][:4]
    if not done:
        return
    lang = language.lang()
    st.subheader(t("compare.confusion"))
    st.caption(t("compare.confusion_note"))
    c1, c2 = st.columns(2)
    split = c1.radio(t("compare.split"), ["test", "train", "val"], horizontal=True, key="cm-split",
                     format_func=lambda s: t(f"compare.split_{s}"), help=t("compare.split_help"))
    normalized = c2.toggle(t("compare.normalized"), key="cm-normalized", help=t("compare.normalized_help"))
    names = class_names(done[0])
    clickable = split == "test"       # the digits kept are the test set's
    with st.container(key="confusion"):     # one matrix at a time, the page's full width: readable on a projector
        cols = st.tabs([language.plain(run["name"]) for run in done])
        for col, run in zip(cols, done):
            cm = run["results"]["confusion"].get(split)
            if cm is None:
                col.info(t("compare.no_split", name=language.plain(run["name"]), split=t(f"compare.split_{split}")))
                continue
            key = f"cm-{run['id']}"
            figure = kept("confusion", [run], lambda: charts.confusion_heatmap(
                cm, names, run["name"], normalized, lang=lang, clickable=clickable), split, normalized, run["name"])
            col.plotly_chart(figure, key=key, width="stretch", selection_mode="points",
                             on_select=partial(pick_cell, run["id"], key, len(cm)) if clickable else "ignore")
    cell_ui(done, names, clickable)
    if len(done) >= 2:
        a, b = done[0], done[1]
        diff = np.array(b["results"]["confusion"][split]) - np.array(a["results"]["confusion"][split])
        title = t("compare.difference", b=b["name"], a=a["name"], split=t(f"compare.split_{split}"))
        st.plotly_chart(kept("difference", [a, b], lambda: charts.confusion_heatmap(
            diff, names, title, diverging=True, lang=lang), split, title), key="cm-diff", width="stretch")
    per_digit_ui(done, names)
    for run in done:
        with st.expander(t("compare.report", name=language.plain(run["name"]))):
            report = pd.DataFrame(run["results"]["report"]).set_index("class")
            st.dataframe(language.translated_columns(report, "column"), width="stretch")


def per_digit_ui(done: list[dict], names) -> None:
    """Per-digit test accuracy, narrow enough for a projector: runs headed A, B, ... (named in a caption)."""
    st.markdown(f"**{t('compare.per_digit')}**")
    letters = [f"{letter} = {language.plain(run['name'])}" for letter, run in zip(compare.LETTERS, done)]
    st.caption(" · ".join(letters) + (" · " + t("compare.change_note") if len(done) >= 2 else ""))
    number = {letter: st.column_config.NumberColumn(letter, format="%.3f", help=language.plain(run["name"]))
              for letter, run in zip(compare.LETTERS, done)}
    with st.container(key="per-digit"):
        st.dataframe(pd.DataFrame(compare.per_digit(done, names)), hide_index=True, width="content",
                     column_config={compare.DIGIT: st.column_config.TextColumn(t("compare.digit_column")), **number,
                                    compare.CHANGE: st.column_config.NumberColumn(
                                        compare.CHANGE, format="%+.3f", help=t("compare.change_note"))})


def pick_cell(run_id: str, key: str, size: int) -> None:
    """A click on a test matrix: remember the run and the cell it chose (the latest click wins)."""
    try:
        points = st.session_state[key]["selection"]["points"]
    except (KeyError, TypeError, AttributeError):
        points = []
    cell = cells.picked_cell(points, size)
    if cell is not None:
        st.session_state[PICKED_CELL] = (run_id, *cell)
    elif st.session_state.get(PICKED_CELL, (None,))[0] == run_id:     # its cell clicked again: none picked
        st.session_state.pop(PICKED_CELL, None)


def digit_row(arrays: dict, captions: list[str], where=st) -> None:
    """Digits in one flowing row that wraps (as many as the column's width holds per line)."""
    pictures = cells.pictures(arrays)[:GALLERY_PAGE]
    if pictures:
        server.image(where, pictures, width=56, caption=captions[:GALLERY_PAGE])


def cell_ui(done: list[dict], names, clickable: bool) -> None:
    """The digits of the matrix cell last clicked, and those two runs read differently."""
    with st.container(key="cell-digits"):
        if not clickable:
            st.session_state.pop(PICKED_CELL, None)      # back on test, the matrices start unpicked too
            st.caption(t("compare.cell_split"))
            return
        picked = st.session_state.get(PICKED_CELL)
        by_id = {r["id"]: r for r in done}
        if picked is None or picked[0] not in by_id or not all(0 <= v < len(names) for v in picked[1:]):
            st.caption(t("compare.cell_hint"))
            cell = None
        else:
            run, true, pred = by_id[picked[0]], picked[1], picked[2]
            cell = (true, pred)
            total = run["results"]["confusion"]["test"][true][pred]
            st.markdown("**" + t("compare.cell_title", name=language.plain(run["name"]), true=names[true],
                                 pred=names[pred]) + "**")
            if true == pred:
                st.caption(t("compare.cell_diagonal", total=total))
            elif store.has_arrays(run["id"], "misclassified"):
                found = cells.in_cell(mistakes(run["id"], str(store.home)), true, pred)
                st.caption(t("compare.cell_shown", shown=min(len(found["index"]), GALLERY_PAGE), total=total))
                digit_row(found, [t("compare.sure", conf=c) for c in cells.confidences(found)])
        two = [r for r in done if store.has_arrays(r["id"], "misclassified")]
        if len(done) >= 2 and done[0] in two and done[1] in two:
            two_runs_ui(done[0], done[1], cell, names)


def two_runs_ui(a: dict, b: dict, cell, names) -> None:
    """The test digits run A reads right and B wrong, and the other way round (within the clicked
    cell's digits when one is picked)."""
    st.markdown("**" + t("compare.two_runs", a=language.plain(a["name"]), b=language.plain(b["name"])) + "**")
    found = cells.read_differently(a, mistakes(a["id"], str(store.home)), b, mistakes(b["id"], str(store.home)), cell)
    if found is None:
        st.info(t("compare.two_runs_datasets", a=limits.display(a["dataset"]), b=limits.display(b["dataset"])))
        return
    if cell is not None:
        true, pred = cell
        st.caption(t("compare.two_runs_digit", true=names[true]) if true == pred
                   else t("compare.two_runs_cell", true=names[true], pred=names[pred]))
    if not found["sure"]:
        st.caption(t("compare.two_runs_unsure"))
    left, right = st.columns(2)
    for where, which, title in ((left, "a_right", "compare.a_right"), (right, "b_right", "compare.b_right")):
        shown = found[which]
        where.markdown(t(title, n=len(shown["index"])))
        digit_row(shown, [t("compare.said", pred=names[p] if 0 <= p < len(names) else p, conf=c)
                       for p, c in zip(shown["pred"], cells.confidences(shown))], where)


@st.cache_data(show_spinner=False, max_entries=8)
def mistakes(run_id: str, home: str) -> dict | None:
    """A finished run's misclassified test digits, read from disk once per run (they never change)."""
    return store.load_arrays(run_id, "misclassified")


def gallery_ui(selected: list[dict]) -> None:
    done = [r for r in selected if store.has_arrays(r["id"], "misclassified")]
    if not done:
        return
    st.subheader(t("compare.mistakes"))
    c1, c2, c3 = st.columns(3)
    run = c1.selectbox(t("compare.gallery_run"), done, format_func=lambda r: r["name"], key="gallery-run",
                       help=t("compare.gallery_run_help"))
    digits = ["any", *range(10)]
    any_label = lambda d: t("compare.any") if d == "any" else str(d)  # noqa: E731
    true = c2.selectbox(t("compare.true_digit"), digits, key="gallery-true", format_func=any_label,
                        help=t("compare.true_digit_help"))
    pred = c3.selectbox(t("compare.predicted_digit"), digits, key="gallery-pred", format_func=any_label,
                        help=t("compare.predicted_digit_help"))
    wrong = mistakes(run["id"], str(store.home))
    keep = np.ones(len(wrong["index"]), bool)
    if true != "any":
        keep &= wrong["true"] == true
    if pred != "any":
        keep &= wrong["pred"] == pred
    matching = np.flatnonzero(keep)
    filtered = true != "any" or pred != "any"
    total = len(matching) if filtered else max(len(matching), run["results"].get("misclassified_count", 0))
    limit = st.session_state.get(GALLERY_LIMIT, GALLERY_PAGE)
    idx = matching[:limit]
    st.caption(t("compare.mistakes_shown", shown=len(idx), total=total))
    cols = st.columns(10)
    for n, i in enumerate(idx):
        conf = float(wrong["probs"][i].max())
        server.image(cols[n % 10], wrong["images"][i][..., 0], width=56,
                           caption=t("compare.mistake", true=wrong["true"][i], pred=wrong["pred"][i], conf=conf))
    if len(matching) > len(idx) and st.button(t("compare.show_more", n=min(GALLERY_PAGE, len(matching) - len(idx))),
                                              key="gallery-more", help=t("compare.show_more_help")):
        st.session_state[GALLERY_LIMIT] = limit + GALLERY_PAGE
        st.rerun()


selected, rows = table_ui()
manage_ui(selected)
if selected:
    # Below, runs a class named alike say their id too (charts, tabs, boxes): not told apart by colour only
    said = text.told_apart({r["id"]: r["name"] for r in selected})
    shown = [{**r, "name": said[r["id"]]} for r in selected]
    charts_ui(shown, [{**row, "name": said[row["id"]]} for row in rows])
    confusion_ui(shown)
    gallery_ui(shown)
data_effect.data_effect_ui(store, runs, "data-effect")
