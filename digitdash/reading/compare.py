"""Runs side by side: one table row per run, and the knobs that differ between runs."""
from __future__ import annotations

from digitdash.plan import limits
from digitdash.plan.config import dashed
from digitdash.reading import handwriting, memo
from digitdash.runs import metrics

# Table columns the Compare page charts (pages show them through the catalogue's column.* entries).
ACCURACY_COLUMNS = ["mean accuracy", "mean val_accuracy", "test accuracy", "other hands", "drawings accuracy",
                    "our handwriting"]
LOSS_COLUMNS = ["mean loss", "mean val_loss", "test loss"]
PARAMS, FLOPS, TIME = "params", "MFLOPs", "train time s"


def differing_knobs(configs: list[dict]) -> list[str]:
    """Config keys whose value is not the same in every run."""
    if len(configs) < 2:
        return []
    keys = sorted(set().union(*configs))
    return [k for k in keys if len({repr(c.get(k)) for c in configs}) > 1]


# The columns a student compares come first, so that a projector's narrow table shows them without
# scrolling sideways; who owns a run, what it is, and its knobs follow, then every other figure.
# Other hands (robustness.other_hands_digits) stands beside MNIST's test accuracy: how far it carries.
FIRST = ["name", "test accuracy", "other hands", "final val_accuracy", "our handwriting", "test loss", "status"]


def row(run: dict, figures: dict, knobs: list[str], owner: str | None = None,
        ours: dict | None = None, cfg: dict | None = None) -> dict:
    """One run as a flat table row (`figures`: its metrics.epoch_figures; `owner`: who it belongs
    to, as people read it; `ours`: its handwriting.score on the class's drawings; `cfg`: its
    configuration as a dict, when the caller has it already): its id, the FIRST columns, then the rest."""
    cfg = run["config"].to_dict() if cfg is None else cfg
    res = run["results"]
    figures = dict(figures)
    out = {"id": run["id"], "name": run["name"], "test accuracy": res.get("test_accuracy"),
           "other hands": res.get("other_hands_accuracy"), "final val_accuracy": figures.pop("final val_accuracy"),
           "our handwriting": round(ours["accuracy"], 4) if ours and ours["accuracy"] is not None else None,
           "test loss": res.get("test_loss"), "status": run["status"],
           "owner": owner if owner is not None else run["owner"], "model": run["config"].summary(),
           "dataset": limits.display(run["dataset"])}
    for k in knobs:
        value = cfg.get(k)
        out[k] = dashed(value) if isinstance(value, list) else value
    out["epochs run"] = figures.pop("epochs run")
    timing = {k: figures.pop(k) for k in ("train time s", "s per epoch", "loss drop per epoch")}
    out.update(figures)
    out["drawings accuracy"] = res.get("drawings_accuracy")
    out["drawings read"] = f"{ours['right']}/{ours['total']}" if ours else None
    out["params"] = run["params"]
    out["MFLOPs"] = round(run["flops"] / 1e6, 3) if run["flops"] else None
    out["train time s"] = timing["train time s"]
    out["s per epoch"] = timing["s per epoch"]
    out["loss drop per epoch"] = timing["loss drop per epoch"]
    out["device"] = run["device"]
    return out


def table(store, runs: list[dict], all_knobs: bool = False, owner_name=None, predict: bool = True,
          version: tuple[int, int] | None = None) -> list[dict]:
    """Rows of the runs table; owner_name(owner id) says whose each run is (default: the id). Each
    finished run is scored on the class's handwriting: with `predict`, drawings it has not answered
    yet are predicted (then kept); without, the score counts the drawings it has answered (a page
    showing hundreds of runs loads no model). Built from one read of the epochs' figures and of the
    answers, and kept per process until the store changes (Store.changes), whatever the order asked:
    thirty students, each seeing their own runs first, share one table. `version`: the store's
    changes read before `runs` were (a run that ended in between is then not kept under the newer
    version with its old row); read here when not given."""
    def build() -> dict[str, dict]:
        configs = [r["config"].to_dict() for r in runs]
        knobs = sorted(set().union(*configs) - {"dataset"}) if all_knobs and configs else differing_knobs(configs)
        knobs = [k for k in knobs if k != "dataset"]
        ours = handwriting.scores(store, runs, predict=predict)
        figures = store.figures(runs)
        return {r["id"]: row(r, figures[r["id"]], knobs, None, ours.get(r["id"]), cfg) for r, cfg in zip(runs, configs)}
    ids = tuple(sorted(r["id"] for r in runs))
    version = store.changes() if version is None else version
    by_id = _tables.get((str(store.db_path), version, ids, all_knobs, predict), build)
    name = owner_name or (lambda o: o)
    return [{**by_id[r["id"]], "owner": name(r["owner"])} for r in runs]


PAGE_ROWS = 100         # the runs table shows this many rows at a time (a lesson leaves hundreds)


def newest_first(runs: list[dict]) -> list[dict]:
    """The runs, newest first, whoever owns them (a file of the class's runs)."""
    return sorted(runs, key=lambda r: -r["seq"])


def newest_mine_first(runs: list[dict], me: str | None) -> list[dict]:
    """The order of the runs table: the student's own runs, newest first, then everyone else's,
    newest first (a lesson's end holds hundreds; the ones a student looks for come first)."""
    return sorted(runs, key=lambda r: (r["owner"] != me, -r["seq"]))


def pages(rows: int) -> int:
    """How many pages of PAGE_ROWS rows the table takes (at least one)."""
    return max(1, -(-rows // PAGE_ROWS))


_tables = memo.Kept(16)     # tables kept per process (a filter or family each), the oldest dropped first


# Figures the table shows with three decimals (a projector has no room for 0.9812345).
DECIMALS = ["test accuracy", "other hands", "test loss", "our handwriting", "drawings accuracy",
            "loss drop per epoch",
            *(f"{how} {key}" for how in ("final", "best", "mean") for key in ("accuracy", "val_accuracy", "loss", "val_loss"))]
FILE_DIGITS = 4       # a file's figures keep four significant digits (0.99055051803 says no more than
                      # 0.9906; a loss of 0.0000123 stays 1.23e-05, not 0)


def rounded(rows: list[dict]) -> list[dict]:
    """Rows for a file: the DECIMALS figures to FILE_DIGITS significant digits, the rest as it is."""
    return [{k: float(f"{v:.{FILE_DIGITS}g}") if k in DECIMALS and isinstance(v, float) else v for k, v in r.items()}
            for r in rows]


EXPLAINED = FIRST[1:6]     # their headers say what each figure is (catalogue: compare.<column>_help)
LETTERS = "ABCD"      # the runs of the per-digit table, in the order the matrices show them
DIGIT, CHANGE = "digit", "B − A"


def per_digit(runs: list[dict], class_names) -> list[dict]:
    """Per-digit test accuracy, one row per class: DIGIT, then one column per run headed by its
    letter (short headers keep the table narrow; the page names the runs beside it) and, with two
    runs or more, CHANGE: B's accuracy minus A's (above 0: B reads that digit better)."""
    runs = runs[:len(LETTERS)]
    columns = {letter: metrics.per_class_accuracy(r["results"]["confusion"]["test"]) for letter, r in zip(LETTERS, runs)}
    rows = []
    for i, name in enumerate(class_names):
        one = {DIGIT: str(name), **{letter: float(acc[i]) for letter, acc in columns.items()}}
        if len(runs) >= 2:
            one[CHANGE] = one["B"] - one["A"]
        rows.append(one)
    return rows
