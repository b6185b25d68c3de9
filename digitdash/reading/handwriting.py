"""The class's own handwriting: digits students drew or photographed and labelled themselves.

Each drawing (the model's 28x28 input, a small copy of the original, the digit its writer meant)
is kept in the run store with its owner. Every run is scored on them ("accuracy on our
handwriting"): a run's answer to each drawing is cached, so a score costs one prediction per new
drawing. A run may train with the class's drawings added to MNIST (RunConfig.class_drawings);
every HOLD_OUT-th drawing is never trained on, and a run is scored only on the drawings it did not
train on, so its score is never its own training set. The store keeps the drawings and answers
(Store.add_drawing and the methods beside it); the rules are here.
"""
from __future__ import annotations

import numpy as np

from digitdash.digits import datasets
from digitdash.i18n import Problem
from digitdash.plan import limits
from digitdash.runs.store import TRAINED, Store, StoreError, is_teacher

HOLD_OUT = 4                # drawings whose id is a multiple of this are never trained on
MAX_PER_STUDENT = 500       # a student's drawings at most (a loop in a browser cannot fill the disk)
ORIGINAL_SIDE = 280         # px: the original is kept at most this large (the canvas' size)
SCORED = TRAINED


class HandwritingError(Problem):
    """A drawing that cannot be kept (bad label, empty picture, collection off, ...)."""


def add(store: Store, image: np.ndarray, label, owner: str | None, original: np.ndarray | None = None,
        student: bool = True) -> int:
    """Keep one labelled drawing; returns its id. `image` is the 28x28 uint8 model input, `original`
    the picture it came from (grayscale or RGB(A); shrunk to ORIGINAL_SIDE). A student (`student`)
    is held to the teacher's switch and to MAX_PER_STUDENT; the teacher and the command line are not."""
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) <= 9:
        raise HandwritingError("handwriting.bad_label", label=repr(label))
    image = np.asarray(image)
    if image.shape != (28, 28) or image.dtype != np.uint8 or not image.any():
        raise HandwritingError("handwriting.bad_image")
    if student and not is_teacher(owner):
        if not limits.load().collect_drawings:
            raise HandwritingError("handwriting.off")
        if len(listing(store, owner)) >= MAX_PER_STUDENT:
            raise HandwritingError("handwriting.too_many", most=MAX_PER_STUDENT)
    return store.add_drawing(owner, int(label), image.tobytes(), _png(original) if original is not None else None)


def add_picture(store: Store, data: bytes, label, owner: str | None, student: bool = True) -> int:
    """A picture file holding one digit (the command line's `handwriting add`), read as the Draw
    page reads an upload; a picture with several digits is refused."""
    from digitdash.digits import preprocess
    gray = preprocess.decode(data)
    found = preprocess.prepare_all(gray, keep_steps=False)
    if len(found) != 1:
        raise HandwritingError("handwriting.several", n=len(found))
    return add(store, found[0].image, label, owner, gray, student)


def _png(picture: np.ndarray) -> bytes:
    import cv2

    from digitdash.digits.preprocess import canvas_gray
    picture = np.asarray(picture)
    picture = canvas_gray(picture) if picture.ndim == 3 else np.clip(picture, 0, 255).astype(np.uint8)
    scale = ORIGINAL_SIDE / max(picture.shape)
    if scale < 1:
        size = (max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    return cv2.imencode(".png", picture)[1].tobytes()


def listing(store: Store, owner: str | None = ..., newest_first: bool = False) -> list[dict]:
    """Drawings without their pixels: id, owner, label, created (one owner's when `owner` is given)."""
    return store.drawings(owner, newest_first)


def arrays(store: Store, ids: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, images (N, 28, 28) uint8, labels) of the given drawings, or of all of them."""
    rows = store.drawing_pixels(ids)
    images = np.frombuffer(b"".join(image for _, image, _ in rows), np.uint8).reshape(-1, 28, 28)
    return (np.array([i for i, _, _ in rows], np.int64), images.copy(),
            np.array([label for _, _, label in rows], np.int64))


def original(store: Store, drawing_id: int) -> np.ndarray | None:
    """The picture a drawing came from (grayscale, at most ORIGINAL_SIDE), if it was kept."""
    import cv2
    png = store.drawing_original(drawing_id)
    return None if png is None else cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)


def delete(store: Store, drawing_id: int, by: str | None = None, teacher: bool = False) -> None:
    """Delete one drawing (its writer, the teacher, or the command line when `by` is None)."""
    drawing = store.drawing(drawing_id)
    if drawing is None:
        raise HandwritingError("handwriting.no_drawing", drawing=drawing_id)
    if not is_teacher(by, teacher) and drawing["owner"] != by:
        raise HandwritingError("handwriting.not_yours")
    store.delete_drawings([drawing_id])


def delete_all(store: Store) -> int:
    """The teacher's reset of the class's set; returns how many drawings went."""
    return store.delete_drawings()


def counts(store: Store) -> list[int]:
    """How many drawings of each digit 0-9."""
    drawn = store.drawing_counts()
    return [drawn.get(digit, 0) for digit in range(10)]


def means(images: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """The mean drawing of each digit that has any (uint8 28x28)."""
    return {d: images[labels == d].mean(axis=0).astype(np.uint8) for d in range(10) if (labels == d).any()}


def training_set(store: Store) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, images, labels) a run may add to its training data: all but the held-out drawings."""
    ids, images, labels = arrays(store)
    keep = ids % HOLD_OUT != 0
    return ids[keep], images[keep], labels[keep]


SHARE = 0.05       # the class's drawings are repeated to make about this share of the training images
MOST_REPEATS = 20


def added_to(data, store: Store):
    """(the dataset with the class's drawings put before its training images, the drawing ids).
    Before, not after: the last part of the training images is the validation split. Few drawings
    beside thousands of MNIST images would change nothing, so each is repeated (up to MOST_REPEATS
    times) to make about SHARE of the training images. Only 28x28 gray digit datasets can take them."""
    from dataclasses import replace

    from digitdash.plan.config import ConfigError
    if not datasets.digit_shaped(data.image_shape, data.class_names):
        raise ConfigError("class_drawings", True, not_digits(data.name))
    ids, images, labels = training_set(store)
    if not len(ids):
        return data, []
    repeats = int(np.clip(round(SHARE * len(data.x_train) / len(ids)), 1, MOST_REPEATS))
    x = np.concatenate([np.tile(images[..., None], (repeats, 1, 1, 1)), data.x_train])
    y = np.concatenate([np.tile(labels.astype(data.y_train.dtype), repeats), data.y_train])
    return replace(data, x_train=x, y_train=y), [int(i) for i in ids]


def not_digits(dataset: str):
    from digitdash.i18n import Message
    from digitdash.plan import limits as _limits
    return Message("handwriting.not_digits", dataset=_limits.display(dataset))


def score(store: Store, run: dict | str, labels: dict[int, int] | None = None, known: dict | None = None,
          predict: bool = True) -> dict | None:
    """How many of the class's drawings a finished run reads right: {right, total, accuracy}, over
    the drawings it did not train on (accuracy None while there are none). None for a run without
    a usable model. New drawings are predicted once and cached (`predict=False`: not predicted, the
    score counts the drawings answered so far). `labels` (drawing id -> digit) and `known` (its
    answers, drawing id -> digit) may be passed by a caller scoring many runs, so each is read once."""
    from digitdash.reading.predict import ModelError, run_probabilities
    run = store.get(run) if isinstance(run, str) else run
    if run["status"] not in SCORED or store.model_path(run["id"]) is None:
        return None
    trained = set(run["info"].get("class_drawings", ()))
    labels = store.drawing_labels() if labels is None else labels
    known = dict(store.answers([run["id"]])[run["id"]] if known is None else known)
    wanted = [i for i in labels if i not in trained]
    missing = [i for i in wanted if i not in known]
    if missing and predict:
        ids, images, _ = arrays(store, missing)
        try:
            digits = np.concatenate([run_probabilities(store, run["id"], images[s:s + 512]).argmax(1)
                                     for s in range(0, len(images), 512)])
        except ModelError:
            return None
        answers = {int(i): int(d) for i, d in zip(ids, digits)}
        try:
            store.keep_answers(run["id"], answers)
        except StoreError:       # only a cache: a full disk keeps the answers for this render, not stored
            pass
        known.update(answers)
    scored = [(known[i], labels[i]) for i in wanted if i in known]
    right = sum(a == b for a, b in scored)
    return {"right": right, "total": len(scored), "accuracy": right / len(scored) if scored else None}


def scores(store: Store, runs: list[dict], predict: bool = True) -> dict[str, dict]:
    """score() of each finished run with a model, by run id; the drawings and every run's answers
    are read in one go (`predict` as for score). Without predicting, the runs that trained on none
    of the drawings are counted by the database itself (a lesson's hundreds of runs at once)."""
    finished = [run for run in runs if run["status"] in SCORED and store.model_path(run["id"]) is not None]
    if not finished:
        return {}
    counted = [run["id"] for run in finished if not predict and not run["info"].get("class_drawings")]
    out = {run_id: {"right": 0, "total": 0, "accuracy": None} for run_id in counted}
    for run_id, (right, total) in store.answers_right(counted).items():
        out[run_id] = {"right": right, "total": total, "accuracy": right / total if total else None}
    rest = [run for run in finished if run["id"] not in out]
    if not rest:
        return out
    labels = store.drawing_labels()
    answers = store.answers([run["id"] for run in rest])
    for run in rest:
        figures = score(store, run, labels, answers[run["id"]], predict)
        if figures is not None:
            out[run["id"]] = figures
    return out


PAIRS_SHOWN = 5             # "your data fixes your model": the newest pairs shown


def data_effect(store: Store, runs: list[dict], most: int = PAIRS_SHOWN) -> list[dict]:
    """What adding the class's drawings to training did to the score on the class's own handwriting:
    for each network trained both ways (the same configuration, with and without the drawings; the
    newest run of each), both runs scored on the same drawings: those the run with them did not
    train on, and both have answered (a run answers the drawings there are when it ends; Compare
    has the runs a student picks answer the newer ones). Read from the answers kept: no model is
    loaded. Newest pairs first, at most `most`; each {without, with (the runs), before, after
    (their accuracies), gain, drawings (how many scored)}. Pairs with nothing to score are left out."""
    finished = [r for r in runs if r["status"] in SCORED]
    added = {}
    for run in finished:               # the newest run of each network trained with the drawings
        if run["config"].class_drawings:
            key = run["config"].replace(class_drawings=False)
            if key not in added or run["created"] > added[key]["created"]:
                added[key] = run
    if not added:
        return []                      # (most lessons: one look at each run, nothing compared)
    plain = {}
    for run in finished:
        if not run["config"].class_drawings and run["config"] in added:
            if run["config"] not in plain or run["created"] > plain[run["config"]]["created"]:
                plain[run["config"]] = run
    pairs = sorted(((plain[key], run) for key, run in added.items() if key in plain),
                   key=lambda pair: pair[1]["created"], reverse=True)[:most]
    if not pairs:
        return []
    labels = store.drawing_labels()
    answers = store.answers([run["id"] for pair in pairs for run in pair])
    out = []
    for without, with_them in pairs:
        trained = set(with_them["info"].get("class_drawings", ()))
        said_before, said_after = answers[without["id"]], answers[with_them["id"]]
        common = [i for i in labels if i not in trained and i in said_before and i in said_after]
        if not common:
            continue
        before = sum(said_before[i] == labels[i] for i in common) / len(common)
        after = sum(said_after[i] == labels[i] for i in common) / len(common)
        out.append({"without": without, "with": with_them, "before": before, "after": after,
                    "gain": after - before, "drawings": len(common)})
    return out
