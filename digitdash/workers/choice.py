"""Which runner trains the runs: DIGITDASH_RUNNER=local (worker processes on this machine, the
default) or ray (Ray tasks)."""
from __future__ import annotations

import os

from digitdash.i18n import Message
from digitdash.plan.config import ConfigError
from digitdash.runs.store import Store
from digitdash.workers.ray_runner import RayRunner
from digitdash.workers.runners import LocalRunner, Runner

NAMES = ("local", "ray")


def setting() -> str:
    """The runner DIGITDASH_RUNNER names: local (the default) or ray."""
    name = os.environ.get("DIGITDASH_RUNNER", "").strip().lower() or "local"
    if name not in NAMES:
        raise ConfigError("DIGITDASH_RUNNER", name, Message("config.allowed.runner", names=", ".join(NAMES)))
    return name


def chosen(store: Store, name: str | None = None) -> Runner:
    """The runner `name` names (default: the DIGITDASH_RUNNER setting), over the store."""
    if (name or setting()) == "ray":
        return RayRunner(store)
    return LocalRunner(store)
