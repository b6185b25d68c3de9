"""The teacher's limits on students' runs, kept in a TOML file on the server.

    $DIGITDASH_LIMITS, else $DIGITDASH_HOME/limits.toml:

    max_epochs = 30                 # most epochs in one run
    max_run_seconds = 600           # most estimated seconds of training for one run
    max_queued_per_student = 3      # most runs one student may have waiting or training
    datasets = ["mnist-5k", "mnist", "fashion-mnist", "cifar10"]   # built-in datasets offered
    kinds = ["mlp", "cnn", "random-forest", "sklearn-mlp", "logreg", "svc", "numpy-mlp"]
    collect_drawings = true         # students may add their labelled drawings to the class's set

    [folders]                       # folders of the class's own images, offered by name
    our-digits = "/srv/class/digits"        # folder:PATH (one subfolder per class) or idx:PATH

Students see the folders by name only; the paths never leave the server. The teacher's own runs
(and the command line's, which default to the teacher) are not limited.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from digitdash import paths
from digitdash.i18n import Problem
from digitdash.plan.config import DATASETS as BUILTIN
from digitdash.plan.config import RunConfig
from digitdash.plan.kinds import NAMES as KINDS

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}")
LISTED = "listed:"      # a dataset name that points at one of the teacher's folders


class LimitError(Problem):
    """A run over one of the teacher's limits; the message names the limit."""


@dataclass(frozen=True)
class Limits:
    max_epochs: int = 30
    max_run_seconds: int = 600
    max_queued_per_student: int = 3
    datasets: tuple[str, ...] = BUILTIN
    kinds: tuple[str, ...] = KINDS
    folders: dict = field(default_factory=dict)     # name -> "folder:PATH" / "idx:PATH"
    collect_drawings: bool = True

    def offered_datasets(self) -> list[str]:
        """What a student may pick: the allowed built-in names that this server has (mnist-5k always;
        mnist, fashion-mnist and cifar10 once Keras' files for them are in its cache), then the
        teacher's folders."""
        from digitdash.digits.datasets import builtin_here  # datasets reads this module's limits
        here = builtin_here()
        return [d for d in BUILTIN if d in self.datasets and d in here] + [LISTED + n for n in sorted(self.folders)]

    def missing_datasets(self) -> list[str]:
        """The allowed built-in datasets this server does not have yet (the teacher can add them)."""
        from digitdash.digits.datasets import builtin_here
        here = builtin_here()
        return [d for d in BUILTIN if d in self.datasets and d not in here]

    def check(self, config: RunConfig, estimated_seconds: float | None, queued_by_owner: int) -> None:
        """Raise LimitError for the first limit this student's run would break."""
        if config.dataset not in self.offered_datasets():
            raise LimitError("limits.dataset", choices=", ".join(display(d) for d in self.offered_datasets()))
        if config.architecture not in self.kinds:
            raise LimitError("limits.kind", kind=config.architecture, choices=", ".join(self.kinds))
        if config.epochs > self.max_epochs:
            raise LimitError("limits.epochs", epochs=config.epochs, most=self.max_epochs)
        if estimated_seconds is not None and estimated_seconds > self.max_run_seconds:
            raise LimitError("limits.seconds", seconds=round(estimated_seconds), most=self.max_run_seconds)
        if queued_by_owner >= self.max_queued_per_student:
            raise LimitError("limits.queued", most=self.max_queued_per_student)

    def validated(self) -> "Limits":
        for name in ("max_epochs", "max_run_seconds", "max_queued_per_student"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
                raise LimitError("limits.bad_value", name=name, value=repr(value))
        if not isinstance(self.collect_drawings, bool):
            raise LimitError("limits.bad_value", name="collect_drawings", value=repr(self.collect_drawings))
        unknown = [d for d in self.datasets if d not in BUILTIN] + [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise LimitError("limits.bad_value", name="datasets/kinds", value=repr(unknown[0]))
        for name, spec in self.folders.items():
            if not _NAME.fullmatch(str(name)) or not str(spec).startswith(("folder:", "idx:")):
                raise LimitError("limits.bad_folder", name=repr(name))
        return self


def path() -> Path:
    return Path(os.environ.get("DIGITDASH_LIMITS") or paths.home() / "limits.toml")


_cache: dict[str, tuple[float, Limits]] = {}


def load() -> Limits:
    """The limits in force (defaults when there is no file); re-read when the file changes."""
    file = path()
    try:
        mtime = file.stat().st_mtime_ns
    except OSError:
        return Limits()
    hit = _cache.get(str(file))
    if hit and hit[0] == mtime:
        return hit[1]
    try:
        with open(file, "rb") as f:
            data = tomllib.load(f)
        folders = {str(k): (v if str(v).startswith(("folder:", "idx:")) else f"folder:{v}")
                   for k, v in dict(data.pop("folders", {})).items()}
        known = {k: data[k] for k in ("max_epochs", "max_run_seconds", "max_queued_per_student") if k in data}
        lists = {k: tuple(str(v) for v in data[k]) for k in ("datasets", "kinds") if k in data}
        switches = {k: data[k] for k in ("collect_drawings",) if k in data}
        limits = Limits(**known, **lists, **switches, folders=folders).validated()
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
        if isinstance(exc, LimitError):
            raise
        raise LimitError("limits.unreadable", reason=type(exc).__name__) from None
    _cache[str(file)] = (mtime, limits)
    return limits


def save(limits: Limits) -> None:
    """Write the limits file (the teacher's page), keeping the folders as they are."""
    import tomli_w
    limits.validated()
    data = asdict(limits)
    data["datasets"], data["kinds"] = list(limits.datasets), list(limits.kinds)
    paths.write_atomic(path(), "# DigitDash: the teacher's limits on students' runs (see digitdash/plan/limits.py)\n"
                       + tomli_w.dumps(data))


def with_changes(limits: Limits, **changes) -> Limits:
    return replace(limits, **changes).validated()


PATH_KINDS = ("idx:", "folder:")     # dataset names that hold a path on the server


def listed_name(dataset: str) -> str | None:
    """The name of the teacher's folder that an idx:PATH or folder:PATH dataset is (None when it is
    none of them, or the limits file cannot be read)."""
    if not str(dataset).startswith(PATH_KINDS):
        return None
    try:
        folders = load().folders
    except LimitError:
        return None
    wanted = _spec_key(dataset)
    return next((name for name, spec in sorted(folders.items()) if _spec_key(spec) == wanted), None)


def _spec_key(spec: str) -> tuple[str, str]:
    kind, _, where = str(spec).partition(":")
    return kind, os.path.normpath(where.strip()) if where.strip() else ""


def display(dataset: str) -> str:
    """How a dataset is named in pages: never a path on the server. A teacher's folder by its name
    alone (listed:NAME, or a command-line run's idx:/folder: path that is one of them); any other
    path by its kind and last part only ("idx:/srv/class/digits" -> "idx:…/digits")."""
    dataset = str(dataset)
    if dataset.startswith(LISTED):
        return dataset[len(LISTED):]
    named = listed_name(dataset)
    if named is not None:
        return named
    kind, sep, where = dataset.partition(":")
    if sep and dataset.startswith(PATH_KINDS):
        return f"{kind}:…/{_last_part(where)}"
    if "/" in dataset or "\\" in dataset:
        return f"…/{_last_part(dataset)}"
    return dataset


def public(dataset: str) -> str:
    """A dataset name that holds no server path and still loads on this server where it can: a
    teacher's folder as listed:NAME, any other path as display() names it, the rest as it is."""
    dataset = str(dataset)
    if dataset.startswith(LISTED):
        return dataset
    named = listed_name(dataset)
    return LISTED + named if named is not None else display(dataset)


def _last_part(where: str) -> str:
    part = where.replace("\\", "/").rstrip("/").rpartition("/")[2]
    return part[:60]
