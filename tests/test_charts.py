"""The figures the pages place: what a student reads off them."""
from digitdash import charts
from digitdash.charts.style import OVER

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
