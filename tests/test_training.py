"""training.train directly (in this process), with a recording listener."""
import pytest

from digitdash.learning import training
from digitdash.plan.config import RunConfig
from digitdash.runs.store import LIFE_FILE, Store


class Recorder(training.Listener):
    def __init__(self, stop_after_batches=None):
        self.info, self.rows, self.batches, self.calls = None, [], [], 0
        self.stop_after = stop_after_batches

    def started(self, info):
        self.info = info

    def epoch(self, row):
        self.rows.append(row)

    def batch(self, step, epoch, loss):
        self.batches.append((step, epoch, loss))

    def should_stop(self):
        self.calls += 1
        return self.stop_after is not None and self.calls > self.stop_after


@pytest.mark.slow
def test_records_epochs_lr_and_sampled_batches(mnist5k):
    rec = Recorder()
    out = training.train(RunConfig(layers=(32,), epochs=3, batch_size=16), mnist5k, rec)
    assert out.status == "done" and [r["epoch"] for r in rec.rows] == [1, 2, 3]
    assert all(r["lr"] == pytest.approx(0.001) for r in rec.rows)
    assert rec.info["train_size"] == 3000 and rec.info["val_size"] == 1000
    steps = [s for s, _, _ in rec.batches]
    assert steps == sorted(steps) and len(steps) >= 1
    # sampled, not every batch: at most ~4 a second of fit time
    assert len(steps) <= out.fit_seconds / training.BATCH_RECORD_SECONDS + 3


def test_stop_request_is_honoured_at_the_next_call(mnist5k):
    """Training comes back to Python every steps_per_execution batches (about 0.1 s): a stop asked
    during one call ends the run at the next, before the epoch is over."""
    rec = Recorder(stop_after_batches=1)
    out = training.train(RunConfig(layers=(32,), epochs=5, batch_size=16), mnist5k, rec)
    per_call = rec.info["steps_per_execution"]
    assert 1 < per_call <= rec.info["steps_per_epoch"] // 4
    assert out.status == "stopped" and rec.rows == [] and rec.calls == 2
    assert out.results["test_accuracy"] > 0.1  # the partly trained weights were evaluated


def test_a_big_network_on_the_cpu_comes_back_every_batch():
    cnn = RunConfig(architecture="cnn", conv_filters=(64, 128), layers=(256,), batch_size=256)
    assert training.steps_per_execution(cnn, 100, 40_000_000, on_gpu=False) == 1
    assert training.steps_per_execution(cnn, 100, 40_000_000, on_gpu=True) == 25   # at most a quarter epoch


def test_loss_threshold_stops_training(mnist5k):
    out = training.train(RunConfig(layers=(128,), epochs=30, loss_threshold=0.3), mnist5k, Recorder())
    assert out.status == "done" and out.results["stopped_early_at"] < 30
    assert "fell below 0.3" in out.message


@pytest.mark.slow
def test_early_stopping_and_reduce_lr(mnist5k):
    rec = Recorder()
    cfg = RunConfig(layers=(256,), epochs=40, early_stopping=True, patience=1, reduce_lr=True,
                    reduce_lr_patience=0, reduce_lr_factor=0.5, learning_rate=0.01)
    out = training.train(cfg, mnist5k, rec)
    assert out.results["stopped_early_at"] < 40 and "Stopped early at epoch" in out.message
    lrs = [r["lr"] for r in rec.rows]
    assert min(lrs) < 0.01  # the plateau halved it at least once


@pytest.mark.slow
def test_zeros_initialization_does_not_learn(mnist5k):
    out = training.train(RunConfig(layers=(64,), epochs=2, initializer="zeros"), mnist5k, Recorder())
    assert out.results["test_accuracy"] < 0.25   # as the notebooks found
    good = training.train(RunConfig(layers=(64,), epochs=2), mnist5k, Recorder())
    assert good.results["test_accuracy"] > 0.85


@pytest.mark.slow
def test_augmentation_trains_a_cnn(mnist5k):
    cfg = RunConfig(architecture="cnn", conv_filters=(8,), layers=(32,), epochs=1, augment=True)
    out = training.train(cfg, mnist5k, Recorder())
    assert out.status == "done" and out.results["test_accuracy"] > 0.3


def test_a_half_written_model_is_never_left_behind(tmp_path):
    store = Store(tmp_path / "s")
    run_id = store.create(RunConfig())

    class Exploding:
        def save(self, path):
            with open(path, "wb") as f:
                f.write(b"half a zip")
            raise OSError(28, "No space left on device")
    with pytest.raises(OSError):
        store.save_model(run_id, Exploding())
    assert store.model_path(run_id) is None
    assert [p.name for p in store.run_dir(run_id).iterdir() if p.name != LIFE_FILE] == []   # no half-written file


@pytest.mark.slow
def test_tensorboard_logs_when_the_setting_asks(monkeypatch, digitdash_home):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from digitdash.workers.runners import ForegroundRunner
    runner = ForegroundRunner(Store(digitdash_home))
    off = runner.submit(RunConfig(layers=(8,), epochs=1))
    assert not (runner.store.run_dir(off) / "tensorboard").exists()             # off by default
    monkeypatch.setenv("DIGITDASH_TENSORBOARD", "1")
    on = runner.submit(RunConfig(layers=(8,), epochs=2))
    logs = EventAccumulator(str(runner.store.run_dir(on) / "tensorboard" / "train"), size_guidance={"tensors": 0})
    logs.Reload()
    tags = logs.Tags()["tensors"]
    assert "epoch_loss" in tags and "epoch_accuracy" in tags
    assert len(logs.Tensors("epoch_loss")) == 2
    assert any("kernel" in tag and "histogram" in tag for tag in tags), tags                 # weight histograms


class Steering(Recorder):
    """A listener that pauses the run at its first batch, then after `polls` more looks either resumes it
    with a new learning rate, asks it to stop (`stop`), or never resumes (`polls` None: the timer does)."""

    def __init__(self, polls=None, stop=False):
        super().__init__()
        self.polls, self.stop, self.looks, self.taken = polls, stop, 0, []

    def controls(self):
        self.looks += 1
        if self.looks == 1:
            return [{"seq": 1, "kind": "pause"}]
        if self.looks == 2 + (self.polls or 0) and self.polls is not None and not self.stop:
            return [{"seq": 2, "kind": "lr", "value": 0.05}, {"seq": 3, "kind": "resume"}]
        return []

    def should_stop(self):
        return self.stop and self.looks >= 2 + self.polls

    def applied(self, change, step, epoch):
        self.taken.append((change["kind"], change.get("by"), step, epoch))


@pytest.mark.parametrize("polls, stop, taken, status", [
    (3, False, [("pause", None, 0, 1), ("lr", None, 0, 1), ("resume", None, 0, 1)], "done"),
    (3, True, [("pause", None, 0, 1)], "stopped"),
    (None, False, [("pause", None, 0, 1), ("resume", training.TIMER, 0, 1)], "done"),
], ids=["resumed-with-a-new-rate", "stopped-while-paused", "pauses-ran-out"])
def test_a_pause_holds_the_first_batch_until_a_resume_a_stop_or_the_timer(polls, stop, taken, status, mnist5k,
                                                                         monkeypatch):
    monkeypatch.setattr(training, "PAUSE_POLL_SECONDS", 0.01)
    monkeypatch.setattr(training, "PAUSE_MAX_SECONDS", 0.2)
    steering = Steering(polls, stop)
    out = training.train(RunConfig(layers=(8,), epochs=1, batch_size=256), mnist5k, steering)
    assert out.status == status and steering.taken == taken
    if status == "done":
        assert steering.rows[0]["lr"] == pytest.approx(0.05 if polls else 0.001)
