"""A confusion cell's digits, and the digits two runs read differently (digitdash.reading.mistakes)."""
import numpy as np
import pytest

from digitdash.plan.config import RunConfig
from digitdash.reading import mistakes
from digitdash.runs.store import Store

from fake_runs import answers, finished_run, two_runs


@pytest.fixture
def store(digitdash_home):
    return Store(digitdash_home)


def test_a_click_names_the_cell_only_with_two_whole_numbers_in_the_matrix():
    click = lambda *data: [{"curve_number": 1, "customdata": list(data)}]  # noqa: E731
    assert mistakes.picked_cell(click(3, 5), 10) == (3, 5)
    assert mistakes.picked_cell(click(3, 5) + click(7, 1), 10) == (7, 1)        # the last clicked wins
    for bad in (click(3, 10), click(-1, 2), click("3", 5), click(3.0, 5), click(True, 1), click(4),
                [{"x": "3", "y": "5"}], ["not a point"], "points", None, [{"customdata": "35"}]):
        assert mistakes.picked_cell(bad, 10) is None, bad


def test_a_cell_holds_the_test_digits_of_that_true_class_read_as_that_digit(store):
    from digitdash.digits.datasets import load
    y = load("mnist-5k").y_test
    threes = np.flatnonzero(y == 3)[:6]
    pred = answers(y, threes[:4], as_digit=5)          # four 3s read as 5
    pred[threes[4:]] = 8                               # two 3s read as 8
    run_id = finished_run(store, "r", pred)
    wrong = store.load_arrays(run_id, "misclassified")
    cell = mistakes.in_cell(wrong, 3, 5)
    assert sorted(cell["index"]) == sorted(threes[:4])
    assert set(cell["true"]) == {3} and set(cell["pred"]) == {5} and cell["images"].shape == (4, 28, 28, 1)
    assert store.get(run_id)["results"]["confusion"]["test"][3][5] == 4           # the cell's count agrees
    assert sorted(mistakes.in_cell(wrong, 3, 8)["index"]) == sorted(threes[4:])
    assert len(mistakes.in_cell(wrong, 5, 3)["index"]) == 0
    assert len(mistakes.in_cell(wrong, 3, 3)["index"]) == 0                      # the diagonal: read right
    assert len(mistakes.pictures(cell)) == 4 and mistakes.pictures(cell)[0].shape == (28, 28)
    assert mistakes.confidences(cell) == pytest.approx([0.9] * 4)


def test_two_runs_digits_one_reads_right_and_the_other_wrong(store):
    (a_id, b_id), y = two_runs(store)        # A wrong on test digits 0-39, B on 20-59
    a, b = store.get(a_id), store.get(b_id)
    a_wrong, b_wrong = (store.load_arrays(i, "misclassified") for i in (a_id, b_id))
    found = mistakes.read_differently(a, a_wrong, b, b_wrong)
    assert sorted(found["a_right"]["index"]) == list(range(40, 60))    # A right, B wrong: B's answers
    assert sorted(found["b_right"]["index"]) == list(range(0, 20))     # B right, A wrong: A's answers
    assert list(found["a_right"]["pred"]) == list((found["a_right"]["true"] + 1) % 10)
    assert found["sure"]
    # a cell: the digits of its true class; off the diagonal, those the wrong run read as its column
    digit = int(y[45])
    in_row = mistakes.read_differently(a, a_wrong, b, b_wrong, cell=(digit, digit))
    assert sorted(in_row["a_right"]["index"]) == [i for i in range(40, 60) if y[i] == digit]
    assert sorted(in_row["b_right"]["index"]) == [i for i in range(20) if y[i] == digit]
    off = mistakes.read_differently(a, a_wrong, b, b_wrong, cell=(digit, (digit + 1) % 10))
    assert sorted(off["a_right"]["index"]) == sorted(in_row["a_right"]["index"])
    elsewhere = mistakes.read_differently(a, a_wrong, b, b_wrong, cell=(digit, (digit + 2) % 10))
    assert len(elsewhere["a_right"]["index"]) == 0


def test_two_runs_on_different_datasets_are_not_matched_and_a_cut_list_is_not_sure(store, mnist_partial_name):
    (a_id, b_id), y = two_runs(store)
    a, b = store.get(a_id), store.get(b_id)
    a_wrong, b_wrong = (store.load_arrays(i, "misclassified") for i in (a_id, b_id))
    other = {**b, "dataset": mnist_partial_name, "config": RunConfig(dataset=mnist_partial_name)}
    assert mistakes.read_differently(a, a_wrong, other, b_wrong) is None
    cut = {**a, "results": {**a["results"], "misclassified_count": 900}}     # it kept 40 of 900 mistakes
    found = mistakes.read_differently(cut, a_wrong, b, b_wrong)
    assert not found["sure"] and sorted(found["b_right"]["index"]) == list(range(20))
