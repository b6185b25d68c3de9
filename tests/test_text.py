"""One rule for text people type: stored clean, names told apart, CSV cells that never run a formula."""
import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitdash import text
from digitdash.plan.config import RunConfig
from digitdash.runs.store import Store, StoreError

HIDDEN = ["a\x00b", "a\x07b", "ab\u200b", "\u202eevil", "x\u2066y\u2069", "na\ufeffme", "line\nbreak", "a\u2028b",
          "\u200dStudentA", "\u061cname"]


@pytest.mark.parametrize("value", HIDDEN)
def test_hidden_and_direction_characters_are_refused_with_one_message(value):
    with pytest.raises(text.TextError) as err:
        text.clean(value, "name", 40)
    assert "U+" in str(err.value) and "letters, digits, spaces" in str(err.value)


def test_spaces_collapse_and_length_is_bounded():
    assert text.clean("  Ana \t  María ", "name", 40) == "Ana María"
    assert text.clean("![x](http://127.0.0.1/a.png)", "run_name", 80) == "![x](http://127.0.0.1/a.png)"  # kept as typed
    with pytest.raises(text.TextError, match="40 at most"):
        text.clean("x" * 41, "name", 40)
    with pytest.raises(text.TextError, match="visible character"):
        text.clean("   ", "name", 40)


def test_names_are_told_apart_ignoring_case_spacing_and_look_alikes():
    assert text.same_key("StudentA") == text.same_key("student a") == text.same_key("ＳｔｕｄｅｎｔＡ")
    assert text.same_key("Ana") != text.same_key("Ane")


def test_display_names_are_unique_within_the_class(digitdash_home):
    store = Store(digitdash_home)
    store.set_student_name("s-a", "StudentA")
    with pytest.raises(StoreError, match="already goes by"):
        store.set_student_name("s-b", "student  a")
    assert store.set_student_name("s-a", "studenta") == "studenta"       # one's own name may change its case
    with pytest.raises(text.TextError):
        store.set_student_name("s-b", "Ana\u202e")
    assert store.student_names() == {"s-a": "studenta"}


def test_run_names_are_stored_clean(digitdash_home):
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(), name="mine", owner="me")
    for bad in ("a\x00b", "\u202egnp.exe", "", "x" * 81):
        with pytest.raises(text.TextError):
            store.rename(run_id, bad, by="me")
    store.rename(run_id, "  =HYPERLINK(1)  ", by="me")
    assert store.get(run_id)["name"] == "=HYPERLINK(1)"
    with pytest.raises(text.TextError):
        store.create(RunConfig(), name="nul\x00", owner="me")


FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\t=1", "\r=1"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_csv_cells_that_would_start_a_formula_are_read_as_text(cell):
    rows = [{"name": cell, "owner": cell, "test accuracy": 0.9, "loss": -0.5}]
    parsed = list(csv.reader(io.StringIO(text.to_csv(rows), newline="")))
    assert parsed[0] == ["name", "owner", "test accuracy", "loss"]
    assert parsed[1][0] == "'" + cell and parsed[1][1] == "'" + cell
    assert parsed[1][2:] == ["0.9", "-0.5"]          # numbers stay numbers


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_no_csv_cell_begins_a_formula(value):
    parsed = list(csv.reader(io.StringIO(text.to_csv([{"name": value}]), newline="")))
    cell = parsed[1][0] if len(parsed) > 1 else ""
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
