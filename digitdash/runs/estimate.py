"""How long a run will take, and how long each waiting run will wait, on this machine.

A Keras run costs about 3x its forward FLOPs per training image and epoch (forward and backward),
plus a fixed cost per batch and per run. The FLOP rate is measured: the median over this store's
recent finished Keras runs (their FLOPs, images, epochs and fit seconds). Until one has finished,
a cautious rate for a 2-core CPU stands in. Baselines take their kind's median duration so far.
"""
from __future__ import annotations

import heapq
import statistics
import time

from digitdash.digits import datasets
from digitdash.plan import architecture, kinds
from digitdash.plan.config import ConfigError, RunConfig
from digitdash.runs.store import TRAINED

FALLBACK_FLOPS_PER_S = 2e10     # a 2-core CPU's training rate (measured: cnn-basic on mnist-partial)
STEP_SECONDS = 0.002            # Keras' own cost per batch
RUN_SECONDS = 8.0               # starting a run: building the model, evaluating, saving
RECENT = 20


def flops_per_second(runs: list[dict]) -> float:
    """The training FLOP rate of this machine from finished Keras runs (newest RECENT)."""
    rates = []
    for run in runs[::-1]:
        res, info = run["results"], run["info"]
        if kinds.of(run["config"].architecture).keras and res.get("fit_seconds") and res.get("epochs_run") \
                and run["flops"] and info.get("train_size"):
            rates.append(3 * run["flops"] * info["train_size"] * res["epochs_run"] / res["fit_seconds"])
        if len(rates) >= RECENT:
            break
    return statistics.median(rates) if rates else FALLBACK_FLOPS_PER_S


def run_seconds(config: RunConfig, runs: list[dict], rate: float | None = None) -> float:
    """Estimated seconds of one run from submission to its model saved, on this machine."""
    kind = kinds.of(config.architecture)
    if not kind.keras:
        past = [r["finished"] - r["started"] for r in runs if r["config"].architecture == config.architecture
                and r["status"] == "done" and r["started"] and r["finished"]]
        return statistics.median(past[-RECENT:]) if past else kind.seconds
    shape, classes = datasets.shape_of(config.dataset)
    flops = architecture.total_flops(architecture.plan(config, shape, len(classes)))
    images = int(datasets.train_size(config.dataset) * (1 - config.validation_split))
    images *= 2 if config.written else 1          # one handwriting-like copy of each image trains beside it
    steps = -(-images // config.batch_size)
    rate = rate or flops_per_second(runs)
    return RUN_SECONDS + config.epochs * (3 * flops * images / rate + steps * STEP_SECONDS)


def waits(runs: list[dict], queue: list[str], slots: int, now: float | None = None) -> dict[str, float]:
    """Seconds until each waiting run (in queue order) starts, with `slots` runs training at once:
    the running runs' remaining time first, then each waiting run takes the first slot to free."""
    now = now or time.time()
    rate = flops_per_second([r for r in runs if r["status"] in TRAINED])
    by_id = {r["id"]: r for r in runs}
    free = []
    for run in runs:
        if run["status"] == "running":
            free.append(max(0.0, _safe(run["config"], runs, rate) - (now - (run["started"] or now))))
    free = sorted(free)[:max(1, slots)] + [0.0] * max(0, slots - len(free))
    heapq.heapify(free)
    out = {}
    for run_id in queue:
        start = heapq.heappop(free)
        out[run_id] = start
        heapq.heappush(free, start + _safe(by_id[run_id]["config"], runs, rate))
    return out


def _safe(config: RunConfig, runs: list[dict], rate: float) -> float:
    try:
        return run_seconds(config, runs, rate)
    except (ConfigError, datasets.DatasetError):   # a dataset gone since it was queued: a typical run
        return 60.0


def progress(epochs: list[dict], total: int, last_step: int | None, steps_per_epoch: int | None) -> tuple[float, float | None]:
    """(the fraction of a running run's training done, seconds left) from what the store holds: whole
    epochs, plus the batches of the epoch under way (`last_step`, counted from 0 across epochs, when the
    run records batch losses). The bar and its text both come from here, so they never disagree; with
    every epoch done, (1.0, 0.0): what remains is the test, which the page names."""
    done = len(epochs)
    if total <= 0:
        return 1.0, 0.0
    if done >= total:
        return 1.0, 0.0
    within = 0.0
    if steps_per_epoch and last_step is not None:
        within = min(max((last_step + 1) / steps_per_epoch - done, 0.0), 0.999)
    fraction = (done + within) / total
    seconds = [e["seconds"] for e in epochs if e.get("seconds")]
    per_epoch = sum(seconds) / len(seconds) if seconds else None
    return fraction, (per_epoch * (total - done - within) if per_epoch else None)
