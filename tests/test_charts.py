"""The figures the pages place: what a student reads off them."""
import zlib

from digitdash.reading import charts
from digitdash.reading.charts import style
from digitdash.reading.charts.style import OVER, PALETTE

EPOCHS = [{"epoch": 1, "accuracy": 0.90, "val_accuracy": 0.97, "loss": 0.35, "val_loss": 0.10, "seconds": 1.0},
          {"epoch": 2, "accuracy": 0.97, "val_accuracy": 0.96, "loss": 0.10, "val_loss": 0.12, "seconds": 1.0},
          {"epoch": 3, "accuracy": 0.995, "val_accuracy": 0.95, "loss": 0.02, "val_loss": 0.30, "seconds": 1.0}]


def test_gap_bars_are_red_only_where_validation_falls_behind_by_more_than_the_threshold():
    fig = charts.gap_bars(EPOCHS, 0.03, 0.1)
    acc, loss = fig.data[0], fig.data[1]
    assert acc.marker.color[0] != OVER and acc.y[0] < 0          # epoch 1: validation ahead
    assert list(acc.marker.color[1:]) == [acc.marker.color[1], OVER] and acc.marker.color[1] != OVER
    assert loss.marker.color[0] != OVER and loss.marker.color[2] == OVER


def test_the_threshold_label_sits_in_the_title_not_on_the_bars():
    fig = charts.gap_bars(EPOCHS, 0.05, 0.1)
    texts = [a.text for a in fig.layout.annotations]
    assert len(texts) == 2 and "0.05" in texts[0] and "0.1" in texts[1]        # the two subplot titles only
    assert all(a.yref == "paper" for a in fig.layout.annotations)


def test_epoch_axes_tick_at_whole_epochs():
    for fig in (charts.gap_bars(EPOCHS), charts.curves(EPOCHS)):
        for axis in (fig.layout.xaxis, fig.layout.xaxis2):
            assert axis.tickmode == "linear" and axis.tick0 == 1 and axis.dtick == 1
    long = [dict(EPOCHS[0], epoch=n) for n in range(1, 101)]
    assert charts.gap_bars(long).layout.xaxis.dtick == 7      # about 15 whole-epoch ticks


# Pause, a new rate while paused, Resume: three changes at one step; a new rate a few batches later.
STEPS = 100
CHANGES = [{"kind": "pause", "value": None, "step": 130}, {"kind": "lr", "value": 0.001, "step": 130},
           {"kind": "resume", "value": None, "step": 130}, {"kind": "lr", "value": 0.0005, "step": 135},
           {"kind": "lr", "value": 0.0001, "step": 290}]


def change_labels(fig):
    return [a for a in fig.layout.annotations if a.yref != "paper"]        # the subplot titles are in paper


def test_change_labels_never_overprint_each_other_nor_the_title():
    fig = charts.curves(EPOCHS, changes=CHANGES, steps_per_epoch=STEPS)
    titles = [a for a in fig.layout.annotations if a.yref == "paper"]
    marks = change_labels(fig)
    assert [a.text for a in marks] == ["paused · lr 0.001 · resumed", "lr 0.0005", "lr 0.0001"]   # one per step
    assert len({(a.x, a.y) for a in marks}) == len(marks)            # no two at one place
    assert marks[0].y != marks[1].y                                  # close in x: one row apart
    title_y = {a.y for a in titles}
    for a in marks:                                                  # inside the plot, below its top
        assert a.yref == "y2 domain" and a.yanchor == "top" and a.y < 1 and a.y not in title_y
    assert len([s for s in fig.layout.shapes if s.line.dash == "dot"]) == 2 * 3       # a line per step, both panels
    es = charts.curves(EPOCHS, changes=CHANGES, steps_per_epoch=STEPS, lang="es")
    assert change_labels(es)[0].text == "pausa · lr 0,001 · reanudada"      # Spanish decimals


def test_compare_epoch_axes_tick_at_whole_epochs():
    series = [("a", EPOCHS), ("b", EPOCHS[:2])]
    for fig in (charts.overlay_curves(series), charts.convergence_lines(series)):
        axes = [fig.layout[k] for k in fig.layout if k.startswith("xaxis")]
        assert axes
        for axis in axes:
            assert axis.tickmode == "linear" and axis.tick0 == 1 and axis.dtick == 1 and axis.tickformat == "d"


def colours(fig):
    return {tr.name.split(" ")[0]: tr.line.color for tr in fig.data}


def ids_wanting(slots):
    """Run ids (time-ordered, as the store makes them) whose own colours are PALETTE[slot] for each slot."""
    out = []
    for slot in slots:
        out.append(next(i for n in range(10_000) if zlib.crc32((i := f"0601-1000{len(out)}-{n:04x}").encode()) % 10 == slot))
    return out


def test_a_run_keeps_its_colour_in_every_view():
    runs = [(f"run{i}", EPOCHS, run_id) for i, run_id in enumerate(ids_wanting([7, 2, 9, 4, 0, 5]))]
    every = colours(charts.overlay_curves(runs))
    assert list(every.values()) == [PALETTE[s] for s in (7, 2, 9, 4, 0, 5)]      # the id chooses, not the place
    for view in (runs[3:5], runs[:1], [runs[5], runs[2]]):           # a family's view, one run, another order
        shown = colours(charts.overlay_curves(view))
        assert all(shown[name] == every[name] for name in shown)
        assert colours(charts.convergence_lines(view)) == shown
    bars = charts.grouped_bars([{"name": n, "id": i, "test_accuracy": 0.9} for n, _, i in runs[2:4]], ["test_accuracy"], "t")
    assert [b.marker.color for b in bars.data] == [every["run2"], every["run3"]]
    legend = bars.layout.legend          # below the bars, not beside a narrow chart and over its tallest bars
    assert legend.orientation == "h" and legend.yanchor == "top" and legend.y < 0
    assert colours(charts.overlay_curves([("run1", EPOCHS)]))        # the old (name, epochs) shape still draws


def test_runs_drawn_together_do_not_share_a_colour():
    older, newer, third = ids_wanting([3, 3, 4])
    assert style.run_colors([newer, older, third]) == [PALETTE[4], PALETTE[3], PALETTE[5]]   # the older keeps its own
    assert len(set(style.run_colors([f"run-{n}" for n in range(10)]))) == 10
    assert style.run_colors([newer]) == [PALETTE[3]]


def test_dragging_on_the_digit_map_selects_a_box():
    import numpy as np
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [3.0, 2.0]])
    y, pred = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    fig = charts.digit_map(xy, y, pred, ["0", "1"], np.array([[1.5, 1.5]]))
    assert fig.layout.dragmode == "select"
    assert all(list(tr.customdata) for tr in fig.data if tr.customdata is not None)   # a box's points name their digits


def test_a_run_of_one_epoch_is_a_point_in_the_overlay():
    """A line through one point draws nothing: a one-epoch run's curves were empty beside its
    legend. It is a point (train hollow, validation filled); longer runs stay lines."""
    one = [{"epoch": 1, "accuracy": 0.9, "val_accuracy": 0.88, "loss": 0.3, "val_loss": 0.35}]
    two = one + [{"epoch": 2, "accuracy": 0.95, "val_accuracy": 0.9, "loss": 0.2, "val_loss": 0.3}]
    fig = charts.overlay_curves([("short", one, "a"), ("long", two, "b")])
    short = [tr for tr in fig.data if "short" in tr.name or tr.legendgroup == "0"]
    assert short and all("markers" in tr.mode for tr in short)
    assert {tr.marker.symbol for tr in short} == {"circle", "circle-open"}
    assert all(tr.mode == "lines" for tr in fig.data if tr.legendgroup == "1")
