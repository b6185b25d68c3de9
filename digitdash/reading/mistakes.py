"""The test digits a run got wrong (its 'misclassified' arrays: index, true, pred, probs, images,
most confident first): those of one confusion-matrix cell, and those two runs read differently."""
from __future__ import annotations

import numpy as np

FIELDS = ("index", "true", "pred", "probs", "images")


def picked_cell(points, size: int) -> tuple[int, int] | None:
    """The (true, predicted) cell a click on a clickable confusion matrix chose, from the points of
    its selection (each clicked point carries [true, predicted] as its customdata). A browser may
    send anything: only two whole numbers within the matrix count; the last point clicked wins."""
    for point in reversed(points if isinstance(points, (list, tuple)) else []):
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, (list, tuple)) and len(data) >= 2:
            true, pred = data[0], data[1]
            if all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < size for v in (true, pred)):
                return true, pred
    return None


def subset(wrong: dict, keep) -> dict:
    """The mistakes where `keep` (a boolean mask or positions) holds, in their order."""
    return {k: np.asarray(wrong[k])[keep] for k in FIELDS}


def empty() -> dict:
    return {"index": np.zeros(0, int), "true": np.zeros(0, int), "pred": np.zeros(0, int),
            "probs": np.zeros((0, 0), np.float32), "images": np.zeros((0, 28, 28, 1), np.uint8)}


def in_cell(wrong: dict | None, true: int, pred: int) -> dict:
    """The test digits of true class `true` that the run read as `pred` (none on the diagonal: only
    mistakes are kept), most confident first."""
    if wrong is None or true == pred:
        return empty()
    return subset(wrong, (np.asarray(wrong["true"]) == true) & (np.asarray(wrong["pred"]) == pred))


def complete(run: dict, wrong: dict | None) -> bool:
    """Whether a run's arrays hold every one of its mistakes (a run keeps at most its 500 most
    confident ones): only then does "not among its mistakes" mean "read right"."""
    if wrong is None:
        return False
    return len(wrong["index"]) >= run["results"].get("misclassified_count", len(wrong["index"]))


def same_test_set(a: dict, b: dict) -> bool:
    """Two runs' test digits are the same images, in the same order (same dataset)."""
    return a["dataset"] == b["dataset"]


def read_differently(a: dict, a_wrong: dict | None, b: dict, b_wrong: dict | None,
                     cell: tuple[int, int] | None = None) -> dict | None:
    """The test digits run `a` reads right and run `b` wrong ("a_right": from b's mistakes, with b's
    answers) and the other way round ("b_right": from a's mistakes, with a's answers). `cell` =
    (true, predicted) keeps those of that true digit, and, off the diagonal, those the wrong run read
    as `predicted`. None when the runs were tested on different datasets (their digits do not match).
    "sure" says whether both runs kept every mistake (else a digit may be wrong for both)."""
    if not same_test_set(a, b):
        return None
    a_wrong, b_wrong = a_wrong or empty(), b_wrong or empty()

    def only(wrong: dict, other: dict) -> dict:
        keep = ~np.isin(np.asarray(wrong["index"]), np.asarray(other["index"]))
        if cell is not None:
            true, pred = cell
            keep &= np.asarray(wrong["true"]) == true
            if pred != true:
                keep &= np.asarray(wrong["pred"]) == pred
        return subset(wrong, keep)

    return {"a_right": only(b_wrong, a_wrong), "b_right": only(a_wrong, b_wrong),
            "sure": complete(a, a_wrong) and complete(b, b_wrong)}


def pictures(arrays: dict) -> list[np.ndarray]:
    """The digits as images to show: grey ones as 2-D arrays, colour ones as they are."""
    images = np.asarray(arrays["images"])
    return list(images[..., 0] if images.ndim == 4 and images.shape[-1] == 1 else images)


def confidences(arrays: dict) -> list[float]:
    """How sure the run was of each (wrong) answer."""
    probs = np.asarray(arrays["probs"])
    return [float(p.max()) if p.size else 0.0 for p in probs]
