"""A run's figures: live curves and gaps (Train), and runs side by side (Compare)."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from digitdash.i18n import t
from digitdash.reading.charts.style import AHEAD, BATCH, CHANGE, OVER, TRAIN, VAL, label, layout, run_colors
from digitdash.runs import metrics


def curves(epochs: list[dict], batches: list[dict] | None = None, steps_per_epoch: int | None = None,
           lang: str = "en", changes: list[dict] | None = None) -> go.Figure:
    """Accuracy and loss per epoch, train and validation, with the points where they cross, and a
    dotted line where a change asked while it trained took effect (a new rate, a pause, a resume)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("chart.accuracy", lang), t("chart.loss", lang)))
    xs = [e["epoch"] for e in epochs]
    for col, key in ((1, "accuracy"), (2, "loss")):
        train = [e.get(key) for e in epochs]
        val = [e.get(f"val_{key}") for e in epochs]
        fig.add_trace(go.Scatter(x=xs, y=train, name=t(f"chart.train_{key}", lang), mode="lines+markers",
                                 line=dict(color=TRAIN)), row=1, col=col)
        if any(v is not None for v in val):
            fig.add_trace(go.Scatter(x=xs, y=val, name=t(f"chart.val_{key}", lang), mode="lines+markers",
                                     line=dict(color=VAL)), row=1, col=col)
            cross = metrics.crossings(xs, train, val)
            if cross:
                fig.add_trace(go.Scatter(x=[c[0] for c in cross], y=[c[1] for c in cross], mode="markers",
                                         name=t(f"chart.cross_{key}", lang), marker=dict(symbol="x", size=12, color="black")),
                              row=1, col=col)
    if batches and steps_per_epoch:
        fig.add_trace(go.Scatter(x=[b["step"] / steps_per_epoch for b in batches], y=[b["loss"] for b in batches],
                                 name=t("chart.batch_loss", lang), mode="lines", line=dict(color=BATCH, width=1)),
                      row=1, col=2)
    marks = change_marks(changes, steps_per_epoch, lang)
    for x, _ in marks:
        for col in (1, 2):
            fig.add_vline(x=x, line_dash="dot", line_color=CHANGE, row=1, col=col)
    seen = xs + [x for x, _ in marks]
    if batches and steps_per_epoch:
        seen += [b["step"] / steps_per_epoch for b in batches]
    for x, text, xanchor, level in place_marks(marks, min(seen, default=0), max(seen, default=1)):
        fig.add_annotation(x=x, xref="x2", y=MARK_TOP - level * MARK_STEP, yref="y2 domain", text=text,
                           showarrow=False, xanchor=xanchor, yanchor="top", xshift=3 if xanchor == "left" else -3,
                           font=dict(size=MARK_FONT, color=CHANGE), bgcolor="rgba(255,255,255,0.8)")
    whole_epochs(fig, xs, lang)
    return layout(fig, 340, legend=dict(orientation="h", y=-0.25))


# Labels of the changes on the loss panel: inside the plot, from just below its top (never on the
# panel's title), one row down for each label that would touch one before it.
MARK_TOP, MARK_STEP, MARK_ROWS, MARK_FONT = 0.98, 0.11, 6, 11
MARK_CHAR_PX, MARK_PANEL_PX = 7.0, 300      # a generous glyph width; a narrow panel (the worst case)


def change_marks(changes: list[dict] | None, steps_per_epoch: int | None, lang: str) -> list[tuple[float, str]]:
    """(x in epochs, label) per step where changes took effect: the changes of one step (a pause, a
    new rate and a resume, all asked while paused) share one label, "paused · lr 0.001 · resumed"."""
    if not steps_per_epoch:
        return []
    by_step: dict[int, list[str]] = {}
    for change in changes or []:
        if change.get("step") is None:
            continue
        said = (t("control.mark_lr", lang, value=change["value"]) if change["kind"] == "lr"
                else t(f"control.mark_{change['kind']}", lang))
        by_step.setdefault(change["step"], []).append(said)
    return [(step / steps_per_epoch, " · ".join(said)) for step, said in sorted(by_step.items())]


def place_marks(marks: list[tuple[float, str]], lo: float, hi: float) -> list[tuple[float, str, str, int]]:
    """(x, label, xanchor, row) per mark: a label reads away from the nearer edge of the panel, and
    takes the first row where it overlaps no label already placed (widths estimated for a narrow
    panel, so that a wider one only spaces them more)."""
    span = (hi - lo) or 1.0
    taken: list[list[tuple[float, float]]] = [[] for _ in range(MARK_ROWS)]
    placed = []
    for x, text in marks:
        at = (x - lo) / span * MARK_PANEL_PX
        width = len(text) * MARK_CHAR_PX + 12
        xanchor = "left" if at < MARK_PANEL_PX / 2 else "right"
        box = (at, at + width) if xanchor == "left" else (at - width, at)
        free = [r for r in range(MARK_ROWS) if all(box[1] + 4 < a or b + 4 < box[0] for a, b in taken[r])]
        row = free[0] if free else min(range(MARK_ROWS), key=lambda r: len(taken[r]))
        taken[row].append(box)
        placed.append((x, text, xanchor, row))
    return placed


def gap_bars(epochs: list[dict], acc_threshold=metrics.ACCURACY_GAP, loss_threshold=metrics.LOSS_GAP,
             lang: str = "en") -> go.Figure:
    """How far validation falls behind training per epoch: red above the overfitting threshold,
    grey where validation is ahead (negative). The threshold is a dashed line named in the title."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        t("chart.accuracy_gap", lang) + " · " + t("chart.threshold", lang, limit=acc_threshold),
        t("chart.loss_gap", lang) + " · " + t("chart.threshold", lang, limit=loss_threshold)))
    gaps = metrics.gaps(epochs)
    xs = [g["epoch"] for g in gaps]
    for col, key, limit in ((1, "accuracy_gap", acc_threshold), (2, "loss_gap", loss_threshold)):
        ys = [g[key] or 0.0 for g in gaps]
        fig.add_trace(go.Bar(x=xs, y=ys, name=t(f"chart.{key}", lang), showlegend=False,
                             marker_color=[OVER if y > limit else AHEAD if y < 0 else TRAIN for y in ys]),
                      row=1, col=col)
        fig.add_hline(y=limit, line_dash="dash", line_color=OVER, row=1, col=col)
    whole_epochs(fig, xs, lang)
    return layout(fig, 300)


def whole_epochs(fig, xs: list, lang: str) -> None:
    """An epoch axis ticks at whole epochs only (a 3-epoch run: 1, 2, 3; never 1.2, 1.4)."""
    last = max(xs, default=1)
    fig.update_xaxes(title_text=t("chart.epoch", lang), tickmode="linear", tick0=1, dtick=max(1, math.ceil(last / 15)),
                     tickformat="d")


def _series(series: list[tuple]) -> list[tuple[str, list[dict], str]]:
    """(name, epochs, colour) per run: series items are (name, epochs) or (name, epochs, run id); a
    run's colour comes from its id (its name when no id is given), the same in every view."""
    items = [(item[0], item[1], item[2] if len(item) > 2 and item[2] is not None else item[0]) for item in series]
    return [(name, epochs, color) for (name, epochs, _), color in zip(items, run_colors([k for *_, k in items]))]


def overlay_curves(series: list[tuple], lang: str = "en") -> go.Figure:
    """Several runs' curves: one colour per run (from its id), train dashed, validation solid."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("chart.accuracy", lang), t("chart.loss", lang)))
    every = []
    for i, (name, epochs, color) in enumerate(_series(series)):
        xs = [e["epoch"] for e in epochs]
        every += xs
        for col, key in ((1, "accuracy"), (2, "loss")):
            for prefix, dash in (("", "dash"), ("val_", "solid")):
                ys = [e.get(prefix + key) for e in epochs]
                if any(y is not None for y in ys):
                    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines" if len(xs) > 1 else "markers",  # one epoch: a point
                                             line=dict(color=color, dash=dash),
                                             marker=dict(color=color, symbol="circle" if prefix else "circle-open"),
                                             name=t("chart.run_val" if prefix else "chart.run_train", lang, name=label(name)), legendgroup=str(i),
                                             showlegend=col == 1), row=1, col=col)
    whole_epochs(fig, every, lang)
    return layout(fig, 360)


def grouped_bars(rows: list[dict], columns: list[str], title: str, labels: list[str] | None = None) -> go.Figure:
    """One group per metric (shown as `labels`), one bar per run, in the run's colour (from its "id");
    the runs' names below the bars (Compare sets three of these side by side: a legend beside such a
    narrow chart was drawn over its tallest bars)."""
    fig = go.Figure()
    colors = run_colors([row.get("id") or row["name"] for row in rows])
    for row, color in zip(rows, colors):
        fig.add_trace(go.Bar(name=label(row["name"]), x=labels or columns, y=[row.get(c) for c in columns],
                             marker_color=color))
    return layout(fig, 360, barmode="group", title=title,
                  legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0))


def convergence_lines(series: list[tuple], lang: str = "en") -> go.Figure:
    """Each run's training loss divided by its first epoch's loss (series as overlay_curves takes them)."""
    fig = go.Figure()
    every = []
    for name, epochs, color in _series(series):
        norm = metrics.convergence([e["loss"] for e in epochs])
        every += [e["epoch"] for e in epochs]
        fig.add_trace(go.Scatter(x=[e["epoch"] for e in epochs], y=norm, name=label(name), mode="lines+markers",
                                 line=dict(color=color)))
    whole_epochs(fig, every, lang)
    return layout(fig, 320, title=t("chart.convergence", lang))


CELL_FONT = 15     # px: every cell's number readable on a 1280x720 projector


def confusion_heatmap(cm, class_names, title: str, normalized: bool = False, diverging: bool = False,
                      lang: str = "en", clickable: bool = False) -> go.Figure:
    """A confusion matrix (true rows, predicted columns); zero cells are left blank. `clickable`:
    each cell also carries a square marker holding [true, predicted] as customdata, invisible until
    picked (outlined then): Plotly reports clicks on markers, never on a heatmap's cells."""
    values = metrics.normalize_rows(cm) if normalized else np.asarray(cm, dtype=float)
    shown = np.where(np.asarray(cm) == 0, np.nan, values)
    text = [["" if np.isnan(v) else (f"{v:.2f}" if normalized else f"{v:+.0f}" if diverging else f"{v:.0f}")
             for v in row] for row in shown]
    names = [str(c) for c in class_names]
    hover = t("chart.cm_hover", lang) + "<extra></extra>"
    fig = go.Figure(go.Heatmap(z=shown, x=names, y=names, text=text, texttemplate="%{text}", textfont=dict(size=CELL_FONT),
                               colorscale="RdBu" if diverging else "Blues", zmid=0 if diverging else None,
                               showscale=False, hovertemplate=hover, hoverinfo="skip" if clickable else None))
    if clickable:
        n = len(names)
        said = [[text[i][j] or "0" for j in range(n)] for i in range(n)]
        fig.add_trace(go.Scatter(
            x=[names[j] for i in range(n) for j in range(n)], y=[names[i] for i in range(n) for j in range(n)],
            customdata=[[i, j] for i in range(n) for j in range(n)], text=[said[i][j] for i in range(n) for j in range(n)],
            mode="markers", hovertemplate=hover, showlegend=False, name="",
            marker=dict(symbol="square-open", size=CLICK_MARKER, color=PICKED, opacity=0, line=dict(width=3, color=PICKED)),
            selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=0))))
    return layout(fig, 560, title=label(title), dragmode=False if clickable else None,
                  xaxis=dict(title=t("chart.predicted", lang), type="category", fixedrange=clickable or None),
                  yaxis=dict(title=t("chart.true", lang), type="category", autorange="reversed",
                             fixedrange=clickable or None))


CLICK_MARKER = 34      # px: a cell's outline when picked (the 560-px matrix's cells are about 40 px high)
PICKED = "#ff7f0e"
