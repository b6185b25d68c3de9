"""The Train page's widgets <-> RunConfig: every knob lives in session state as `cfg-<field>`."""
from __future__ import annotations

from collections.abc import MutableMapping

from app_pages.parts.session_keys import knob_key
from digitdash.plan.config import PRESETS, ConfigError, RunConfig, dashed

TEXT_FIELDS = ("layers", "conv_filters")   # edited as text such as "512-128"
FIELDS = [f for f in RunConfig().to_dict() if f != "dataset"]


def load_preset(name: str, state: MutableMapping | None = None) -> None:
    """Copy a preset's values into the widgets."""
    load_config(PRESETS[name], state)


def load_config(config: RunConfig, state: MutableMapping | None = None) -> None:
    """Copy a configuration's values into the widgets (a preset, a shared link)."""
    if state is None:
        import streamlit as st
        state = st.session_state
    for field, value in config.to_dict().items():
        if field == "dataset":
            continue
        state[knob_key(field)] = dashed(value) if field in TEXT_FIELDS else value


def config_from_state(state: MutableMapping, dataset: str) -> RunConfig:
    """The RunConfig the widgets describe, validated (ConfigError names the bad field)."""
    values = {f: state[knob_key(f)] for f in FIELDS if knob_key(f) in state}
    texts = {f: str(values.pop(f)) for f in TEXT_FIELDS if f in values}
    for field, default in RunConfig().to_dict().items():   # number widgets may hand back 1 for 1.0
        if isinstance(default, float) and isinstance(values.get(field), int) and not isinstance(values[field], bool):
            values[field] = float(values[field])
    return RunConfig(dataset=dataset).replace(**values).with_settings(texts).validate()


CUSTOM = "custom"      # the preset box's choice when the form matches no preset


def matching_preset(state: MutableMapping) -> str:
    """The preset the form holds now, knob for knob; CUSTOM when a knob differs from every preset
    (or the form does not validate): the preset box never names what the form does not hold."""
    try:
        held = config_from_state(state, RunConfig().dataset).to_dict()
    except (ConfigError, ValueError, TypeError):
        return CUSTOM
    held.pop("dataset", None)
    for name, preset in PRESETS.items():
        wanted = preset.to_dict()
        wanted.pop("dataset", None)
        if wanted == held:
            return name
    return CUSTOM
