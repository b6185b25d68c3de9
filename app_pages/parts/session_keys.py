"""The session-state keys that more than one page or part reads or writes, each named once with who
writes it and who reads it.

A key used by one module only is named at the top of that module. A widget's key is its session-state
key too: where one page sets or reads another page's widget, the key is named here, its string unchanged
(tests and the browser drive the app by these strings)."""
from __future__ import annotations

import numpy as np
import streamlit as st

# The digit Inside offers (28x28 uint8): written by Draw's Look inside and run_picker; read by Inside via run_picker.
INSIDE_DRAWING = "inside-drawing"
# Inside's "drawing or test digit" radio (a widget key): set to "drawing" by Draw's Look inside; read by Inside.
INSIDE_SOURCE = "inside-source"
# The run Inside opens on next (a run id): written by Draw's and Compare's Look inside; taken once by Inside.
INSIDE_RUN_PICK = "inside-run-pick"
# Train's knob of each config field, `cfg-<field>` (widget keys): written by Train and train_form; read by both.
KNOB_PREFIX = "cfg-"


def knob_key(field: str) -> str:
    """The session-state key (and widget key) of the Train knob for config field `field`."""
    return KNOB_PREFIX + field


def look_inside(run_id: str, drawing: np.ndarray | None = None) -> None:
    """Ask Inside to open on run `run_id`, and on `drawing` as its digit when one is given (the caller then
    switches to Inside)."""
    st.session_state[INSIDE_RUN_PICK] = run_id
    if drawing is not None:
        st.session_state[INSIDE_DRAWING] = drawing
        st.session_state[INSIDE_SOURCE] = "drawing"


def take_inside_pick() -> str | None:
    """The run Draw or Compare asked Inside to open on, taken (asked once); None when none was."""
    return st.session_state.pop(INSIDE_RUN_PICK, None)
