"""Admission to the queue: whether configs may be queued for an owner, said before any run exists."""
from __future__ import annotations

from digitdash.digits import datasets
from digitdash.plan import architecture, limits
from digitdash.plan.config import ConfigError, RunConfig
from digitdash.reading import handwriting
from digitdash.runs import estimate
from digitdash.runs.store import ACTIVE, Store, is_teacher


def admit(store: Store, configs: list[RunConfig], owner: str | None, teacher: bool = False) -> None:
    """Refuse, before any run exists, configs that cannot be built (ConfigError) or that break the
    teacher's limits for a student (LimitError, naming the limit)."""
    runs = store.runs()
    waiting = sum(r["owner"] == owner and r["status"] in ACTIVE for r in runs)
    rules = limits.load()
    for n, config in enumerate(configs):
        config.validate()
        if not is_teacher(owner, teacher):
            datasets.student_choice(config.dataset)
        shape, classes = datasets.shape_of(config.dataset)
        for knob in ("class_drawings", "written"):      # both add digits written by hand
            if getattr(config, knob) and not datasets.digit_shaped(shape, classes):
                raise ConfigError(knob, True, handwriting.not_digits(config.dataset))
        architecture.plan(config, shape, len(classes))          # too big, or shrunk to nothing
        if not is_teacher(owner, teacher):
            rules.check(config, estimate.run_seconds(config, runs), waiting + n)
