"""A configuration or a selection of runs carried by a link: query parameters to and from a RunConfig
(only the knobs that differ from the defaults, so a link stays short), and run ids for Compare.
Bad or unknown parameters are dropped and named, never raised: a link is never an error page."""
from __future__ import annotations

from collections.abc import Mapping

from digitdash.plan.config import BOUNDS, ConfigError, RunConfig, dashed

PAGE_PARAMS = ("run", "runs", "dataset")     # the pages' own parameters, not knobs
MAX_VALUE = 100                              # a longer value is not a knob's
MAX_RUNS = 12                                # run ids a Compare link may carry


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return dashed(value)
    return repr(value) if isinstance(value, float) else str(value)


def to_params(config: RunConfig) -> dict[str, str]:
    """The knobs that differ from RunConfig()'s defaults, as text (the dataset travels on its own)."""
    base = RunConfig()
    return {k: _text(getattr(config, k)) for k in config.to_dict()
            if k != "dataset" and getattr(config, k) != getattr(base, k)}


def from_params(params: Mapping[str, str]) -> tuple[RunConfig | None, list[str]]:
    """The RunConfig a link describes (None when it names no knob) and the parameters ignored: unknown
    names, values a knob does not take, and knobs that do not go together with the rest."""
    known = set(RunConfig().to_dict()) - {"dataset"}
    ignored = sorted(k for k in params if k not in known and k not in PAGE_PARAMS)
    changes = {}
    for key in sorted(k for k in params if k in known):
        value = str(params[key])
        try:
            if len(value) > MAX_VALUE:
                raise ValueError
            parsed = getattr(RunConfig().with_settings({key: value}), key)   # parses as this knob's type
            if key in BOUNDS and isinstance(parsed, (int, float)) and not isinstance(parsed, bool):
                low, high = BOUNDS[key].form_range()       # what the Train form can show (a slider refuses more)
                if not low <= parsed <= high:
                    raise ValueError
            changes[key] = value
        except (ConfigError, ValueError):
            ignored.append(key)
    while changes:                                         # then the knobs together: drop what clashes
        try:
            return RunConfig().with_settings(changes).validate(), ignored
        except ConfigError as exc:
            bad = exc.field if exc.field in changes else list(changes)[-1]
            ignored.append(bad)
            changes.pop(bad)
    return None, ignored


def run_ids(text: str | None) -> list[str]:
    """The run ids a Compare link carries (?runs=ID,ID), at most MAX_RUNS, each plain ASCII."""
    ids = [p.strip() for p in (text or "").split(",") if p.strip()]
    return [i for i in ids if i.isascii() and len(i) <= 40][:MAX_RUNS]
