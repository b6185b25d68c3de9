"""Compare: runs side by side in a table, curves, bars, confusion matrices and mistakes."""
import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common
from digitdash import charts, compare, metrics
from digitdash.datasets import shape_of
from digitdash.store import StoreError

st.title("Compare runs")
store = common.store()
runs = store.runs()
if not runs:
    st.info("No runs yet: train a few on the Train page, then compare them here.")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()


def table_ui() -> tuple[list[dict], list[dict]]:
    """The runs table; returns the selected runs (the latest finished ones when none is selected)
    and their table rows."""
    c1, c2, c3 = st.columns([2, 2, 1])
    groups = sorted({r["grp"] for r in runs if r["grp"]})
    family = c1.selectbox("Family", ["all runs", *groups], key="family-filter",
                          help="Runs launched together as an experiment.")
    text = c2.text_input("Filter by name, model, dataset or status", key="filter")
    show_all = c3.toggle("Show every knob", key="all-knobs")
    shown = [r for r in runs if text.lower() in f"{r['name']} {r['config'].summary()} {r['dataset']} "
                                                f"{r['status']}".lower() and family in ("all runs", r["grp"])]
    rows = compare.table(store, shown, all_knobs=show_all)
    frame = pd.DataFrame(rows)
    event = st.dataframe(frame.drop(columns=["id"]) if len(frame) else frame, key="runs-table",
                         on_select="rerun", selection_mode="multi-row", hide_index=True, width="stretch")
    st.download_button("Download table as CSV", frame.to_csv(index=False), "digitdash-runs.csv", "text/csv")
    picked = [shown[i] for i in event.selection.rows] if event and event.selection.rows else []
    if not picked:
        finished = [r for r in shown if r["results"].get("test_accuracy") is not None]
        if family == "all runs":
            st.caption("Select rows to compare them; until then the latest finished runs (up to four) are shown.")
            finished = finished[-4:]
        picked = finished
    by_id = {row["id"]: row for row in rows}
    return picked, [by_id[r["id"]] for r in picked]


def manage_ui(selected: list[dict]) -> None:
    if len(selected) != 1:
        return
    run = selected[0]
    with st.expander(f"Manage {common.plain(run['name'])}"):
        new = st.text_input("New name", value=run["name"], key=f"rename-{run['id']}", max_chars=80)
        if st.button("Rename", key="rename") and new != run["name"]:
            try:
                store.rename(run["id"], new)
                st.rerun()
            except StoreError as exc:
                st.error(str(exc))
        path = store.model_path(run["id"])
        if path:
            st.download_button("Download model (.keras)", path.read_bytes(), f"{run['id']}.keras", key="download-model")
        if st.checkbox("I want to delete this run", key="confirm-delete"):
            if st.button("Delete for good", key="delete", type="primary"):
                try:
                    store.delete(run["id"])
                    st.rerun()
                except StoreError as exc:
                    st.error(str(exc))


def charts_ui(selected: list[dict], rows: list[dict]) -> None:
    series = [(r["name"], store.epochs(r["id"])) for r in selected]
    st.plotly_chart(charts.overlay_curves(series), key="overlay", width="stretch")
    a, b = st.columns(2)
    a.plotly_chart(charts.grouped_bars(rows, ["mean accuracy", "mean val_accuracy", "test accuracy"], "Accuracy"),
                   key="acc-bars", width="stretch")
    b.plotly_chart(charts.grouped_bars(rows, ["mean loss", "mean val_loss", "test loss"], "Loss"),
                   key="loss-bars", width="stretch")
    c, d, e = st.columns(3)
    c.plotly_chart(charts.grouped_bars(rows, ["params"], "Parameters"), key="param-bars", width="stretch")
    d.plotly_chart(charts.grouped_bars(rows, ["MFLOPs"], "MFLOPs per image"), key="flop-bars", width="stretch")
    e.plotly_chart(charts.grouped_bars(rows, ["train time s"], "Training time (s)"), key="time-bars", width="stretch")
    st.plotly_chart(charts.convergence_lines(series), key="convergence", width="stretch")


def confusion_ui(selected: list[dict]) -> None:
    done = [r for r in selected if r["results"].get("confusion")][:4]
    if not done:
        return
    st.subheader("Confusion matrices")
    c1, c2 = st.columns(2)
    split = c1.radio("Data", ["test", "train", "val"], horizontal=True, key="cm-split",
                     format_func={"test": "test", "train": "train", "val": "validation"}.get)
    normalized = c2.toggle("Row-normalized", key="cm-normalized")
    names = shape_of(done[0]["dataset"])[1]
    with st.container(key="confusion"):
        cols = st.columns(len(done))
        for col, run in zip(cols, done):
            cm = run["results"]["confusion"].get(split)
            if cm is None:
                col.info(f"{run['name']}: no {split} data")
                continue
            col.plotly_chart(charts.confusion_heatmap(cm, names, run["name"], normalized),
                             key=f"cm-{run['id']}", width="stretch")
    per_digit = {r["name"]: metrics.per_class_accuracy(r["results"]["confusion"]["test"]) for r in done}
    table = pd.DataFrame(per_digit, index=[f"digit {n}" for n in names])
    if len(done) >= 2:
        a, b = done[0], done[1]
        table[f"change {b['name']} - {a['name']}"] = table[b["name"]] - table[a["name"]]
        diff = np.array(b["results"]["confusion"][split]) - np.array(a["results"]["confusion"][split])
        st.plotly_chart(charts.confusion_heatmap(diff, names, f"{b['name']} minus {a['name']} ({split})",
                                                 diverging=True), key="cm-diff", width="stretch")
    st.markdown("**Per-digit test accuracy**")
    st.dataframe(table.style.format("{:.3f}"), width="stretch")
    for run in done:
        with st.expander(f"Classification report: {common.plain(run['name'])}"):
            st.dataframe(pd.DataFrame(run["results"]["report"]).set_index("class"), width="stretch")


def gallery_ui(selected: list[dict]) -> None:
    done = [r for r in selected if store.load_arrays(r["id"], "misclassified") is not None]
    if not done:
        return
    st.subheader("Misclassified test digits")
    c1, c2, c3 = st.columns(3)
    run = c1.selectbox("Run", done, format_func=lambda r: r["name"], key="gallery-run")
    digits = ["any", *range(10)]
    true = c2.selectbox("True digit", digits, key="gallery-true")
    pred = c3.selectbox("Predicted digit", digits, key="gallery-pred")
    wrong = store.load_arrays(run["id"], "misclassified")
    keep = np.ones(len(wrong["index"]), bool)
    if true != "any":
        keep &= wrong["true"] == true
    if pred != "any":
        keep &= wrong["pred"] == pred
    idx = np.flatnonzero(keep)[:40]
    st.caption(f"{int(keep.sum())} shown of {run['results'].get('misclassified_count', len(keep))} mistakes "
               "(most confident first)")
    cols = st.columns(10)
    for n, i in enumerate(idx):
        conf = float(wrong["probs"][i].max())
        cols[n % 10].image(wrong["images"][i][..., 0], width=56,
                           caption=f"true {wrong['true'][i]}, said {wrong['pred'][i]} ({conf:.0%})")


selected, rows = table_ui()
manage_ui(selected)
if selected:
    charts_ui(selected, rows)
    confusion_ui(selected)
    gallery_ui(selected)
