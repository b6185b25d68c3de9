"""What a run leaves in the store when its training ends: its model, its figures and its end."""
from __future__ import annotations

import time
import traceback

from digitdash.i18n import Message
from digitdash.learning.results import Outcome
from digitdash.plan import kinds
from digitdash.plan.config import RunConfig
from digitdash.reading import forward, handwriting
from digitdash.runs.store import Store, StoreError

RECORD_RETRY_SECONDS = 3600   # a run's end that cannot be written (disk full) is tried again this long ...
RECORD_RETRY_EVERY = 2.0      # ... this often


def _save_layers(store: Store, run_id: str, config: RunConfig, model) -> None:
    """A Keras run's layers as plain arrays beside its model, written after it (predict.LAYERS_FILE):
    the page server answers with them without TensorFlow."""
    if kinds.of(config.architecture).keras:
        try:
            store.save_arrays(run_id, "layers", forward.layers_of(model))
        except (forward.UnsupportedLayer, OSError):
            pass                   # the server loads the Keras file instead


def _read_drawings(store: Store, run_id: str, results: dict) -> None:
    """A digit model's accuracy on made-here canvas drawings (robustness.drawn_digits) and on other
    hands (robustness.other_hands_digits: writers' styles MNIST hardly holds, drawn and photographed),
    in its results: Compare shows how well each run reads drawn strokes and other hands, not only MNIST."""
    from digitdash.reading import robustness
    for key, figure in (("drawings_accuracy", robustness.drawings_accuracy),
                        ("other_hands_accuracy", robustness.other_hands_accuracy)):
        try:
            results[key] = figure(store, run_id)
        except Exception:          # noqa: BLE001 - an extra figure never fails a trained, saved run
            pass                   # the run keeps its other figures


def _answer_class_drawings(store: Store, run_id: str) -> None:
    """The finished run's answers to the class's drawings, kept now by the worker: Compare's table of
    hundreds of runs reads them and loads no model (drawings added later are answered when a
    student selects the run)."""
    try:
        handwriting.score(store, run_id)
    except Exception:              # noqa: BLE001 - only a cache: the page predicts what is missing
        pass


def record(store: Store, run_id: str, config: RunConfig, digits: bool, outcome: Outcome, layers: dict | None = None,
           settle=None, retry_seconds: float = RECORD_RETRY_SECONDS) -> None:
    """Keep what a run learnt (its model, its layers as arrays, its misclassified digits, its reading
    of drawings) and finish it with its outcome. `layers` when they were taken from the model
    elsewhere (a Ray task); otherwise from the model here. `settle` writes the progress still
    waiting first (StoreListener.settle)."""
    try:
        if outcome.model is not None:
            store.save_model(run_id, outcome.model)
            if layers is not None:
                store.save_arrays(run_id, "layers", layers)
            else:
                _save_layers(store, run_id, config, outcome.model)
        if outcome.misclassified is not None:
            store.save_arrays(run_id, "misclassified", outcome.misclassified)
    except OSError as exc:   # disk full, folder gone: the figures are kept, the model is not
        end(store, run_id, "failed", Message("run.not_saved", reason=exc.strerror or str(exc)), outcome.results,
            settle=settle, retry_seconds=retry_seconds)
        return
    if outcome.model is not None and digits:
        _read_drawings(store, run_id, outcome.results)
    if end(store, run_id, outcome.status, outcome.message, outcome.results, settle=settle,
           retry_seconds=retry_seconds) and outcome.model is not None and digits:
        _answer_class_drawings(store, run_id)


def end(store: Store, run_id: str, status: str, message, results: dict | None = None, settle=None,
        retry_seconds: float = RECORD_RETRY_SECONDS) -> bool:
    """Record a run's end (after `settle()`, the progress still waiting). While the store cannot be
    written (the disk full) the run's life file says the model could not be saved, and the end is
    tried again every RECORD_RETRY_EVERY seconds for up to `retry_seconds` (the heartbeat goes on
    meanwhile): freed space gets the whole end written, figures included. Returns whether it was."""
    deadline = time.monotonic() + retry_seconds
    while True:
        try:
            if settle is not None:
                settle()
            store.finish(run_id, status, message, results)
            return True
        except StoreError as exc:
            saved = isinstance(message, Message) and message.key == "run.not_saved"
            reason = message.params["reason"] if saved else exc.message.params.get("reason") or exc.message
            store.last_word(run_id, reason)
        if time.monotonic() >= deadline:
            return False
        time.sleep(RECORD_RETRY_EVERY)


def failure(exc: Exception) -> Message:
    """An unexpected error as a run's message: its last line, never a traceback."""
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return Message("run.failed", reason=last[:500])
