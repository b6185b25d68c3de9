"""The class's own handwriting: kept with its writer, scored per run (cached), trained on by choice."""
import json
import sqlite3

import numpy as np
import pytest

from digitdash.plan import limits
from digitdash.plan.config import ConfigError, RunConfig
from digitdash.reading import handwriting, leaderboard, predict
from digitdash.runs.store import Store
from digitdash.workers.runners import ForegroundRunner

from conftest import cli

pytestmark = pytest.mark.slow      # its shared fixtures train runs or start the app's workers


@pytest.fixture
def store(digitdash_home):
    return Store(digitdash_home)


def digits(mnist5k, n, start=0):
    """n real digits (28x28 uint8) and their labels, from mnist-5k's test split."""
    return mnist5k.x_test[start:start + n, ..., 0], mnist5k.y_test[start:start + n]


def trained(store, **settings) -> str:
    return ForegroundRunner(store).submit(RunConfig(layers=(32,), epochs=1, **settings), name="small")


def test_a_labelled_drawing_is_kept_with_its_writer_and_its_original(store, mnist5k):
    x, y = digits(mnist5k, 1)
    photo = np.full((600, 900), 200, np.uint8)
    drawing = handwriting.add(store, x[0], int(y[0]), "s-ana", photo)
    assert handwriting.listing(store) == [{"id": drawing, "owner": "s-ana", "label": int(y[0]),
                                           "created": handwriting.listing(store)[0]["created"]}]
    ids, images, labels = handwriting.arrays(store)
    assert ids.tolist() == [drawing] and np.array_equal(images[0], x[0]) and labels.tolist() == [int(y[0])]
    assert handwriting.original(store, drawing).shape == (187, 280)      # kept small, aspect kept
    assert handwriting.counts(store)[int(y[0])] == 1


@pytest.mark.parametrize("label", [10, -1, "3", True, 3.5, None])
def test_a_label_outside_0_9_is_one_clear_message(store, mnist5k, label):
    with pytest.raises(handwriting.HandwritingError) as err:
        handwriting.add(store, digits(mnist5k, 1)[0][0], label, "s-ana")
    assert err.value.message.key == "handwriting.bad_label" and "0-9" in str(err.value)
    assert handwriting.listing(store) == []


def test_an_empty_or_misshapen_picture_is_not_kept(store):
    for image in (np.zeros((28, 28), np.uint8), np.ones((27, 28), np.uint8), np.ones((28, 28), np.float32)):
        with pytest.raises(handwriting.HandwritingError) as err:
            handwriting.add(store, image, 3, "s-ana")
        assert err.value.message.key == "handwriting.bad_image"


def test_the_teacher_can_turn_collection_off_and_on(store, mnist5k):
    x, y = digits(mnist5k, 2)
    limits.save(limits.with_changes(limits.load(), collect_drawings=False))
    with pytest.raises(handwriting.HandwritingError) as err:
        handwriting.add(store, x[0], int(y[0]), "s-ana")
    assert err.value.message.key == "handwriting.off"
    handwriting.add(store, x[0], int(y[0]), "teacher", student=False)       # the teacher's own still go in
    limits.save(limits.with_changes(limits.load(), collect_drawings=True))
    handwriting.add(store, x[1], int(y[1]), "s-ana")
    assert [d["owner"] for d in handwriting.listing(store)] == ["teacher", "s-ana"]


def test_a_student_keeps_at_most_the_limit(store, mnist5k, monkeypatch):
    monkeypatch.setattr(handwriting, "MAX_PER_STUDENT", 2)
    x, y = digits(mnist5k, 3)
    handwriting.add(store, x[0], int(y[0]), "s-ana")
    handwriting.add(store, x[1], int(y[1]), "s-ana")
    with pytest.raises(handwriting.HandwritingError) as err:
        handwriting.add(store, x[2], int(y[2]), "s-ana")
    assert err.value.message.key == "handwriting.too_many"
    handwriting.add(store, x[2], int(y[2]), "s-ben")                        # others are not held back


def test_only_the_writer_or_the_teacher_deletes_a_drawing(store, mnist5k):
    x, y = digits(mnist5k, 2)
    first, second = (handwriting.add(store, x[i], int(y[i]), "s-ana") for i in range(2))
    with pytest.raises(handwriting.HandwritingError) as err:
        handwriting.delete(store, first, by="s-ben")
    assert err.value.message.key == "handwriting.not_yours"
    handwriting.delete(store, first, by="s-ana")
    handwriting.delete(store, second, by="s-ben", teacher=True)
    assert handwriting.listing(store) == []
    with pytest.raises(handwriting.HandwritingError):
        handwriting.delete(store, first)


def test_a_run_is_scored_on_the_drawings_and_new_ones_cost_one_prediction_each(store, mnist5k, monkeypatch):
    run_id = trained(store)
    x, y = digits(mnist5k, 30)
    wrong = (y + 1) % 10
    for i in range(30):                                     # a third labelled wrong on purpose
        handwriting.add(store, x[i], int(wrong[i] if i % 3 == 0 else y[i]), "s-ana")
    answers = predict.run_probabilities(store, run_id, x).argmax(1)
    meant = np.where(np.arange(30) % 3 == 0, wrong, y)
    figures = handwriting.score(store, run_id)
    assert figures == {"right": int((answers == meant).sum()), "total": 30,
                       "accuracy": float((answers == meant).mean())}

    calls = []
    original = predict.run_probabilities
    monkeypatch.setattr(predict, "run_probabilities",
                        lambda s, r, images: calls.append(len(images)) or original(s, r, images))
    assert handwriting.score(store, run_id) == figures and calls == []          # cached: no prediction
    x2, y2 = digits(mnist5k, 1, start=100)
    handwriting.add(store, x2[0], int(y2[0]), "s-ben")
    assert handwriting.score(store, run_id)["total"] == 31 and calls == [1]   # one new drawing, one prediction

    assert handwriting.scores(store, store.runs())[run_id]["total"] == 31
    store.delete(run_id)
    with sqlite3.connect(store.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 0


def test_a_run_without_drawings_or_without_a_model(store):
    run_id = trained(store)
    assert handwriting.score(store, run_id) == {"right": 0, "total": 0, "accuracy": None}
    assert 0.3 < store.get(run_id)["results"]["drawings_accuracy"] <= 1    # read on made-here drawings too
    queued = store.create(RunConfig())
    assert handwriting.score(store, queued) is None


def test_training_with_the_class_drawings_adds_them_but_never_the_held_out_quarter(store, mnist5k):
    x, y = digits(mnist5k, 8)
    ids = [handwriting.add(store, x[i], int(y[i]), "s-ana") for i in range(8)]
    run_id = trained(store, class_drawings=True)
    run = store.get(run_id)
    assert run["status"] == "done"
    held_out = [i for i in ids if i % handwriting.HOLD_OUT == 0]
    assert run["info"]["class_drawings"] == [i for i in ids if i not in held_out]
    assert handwriting.score(store, run_id)["total"] == len(held_out)   # never scored on its own training set
    plain = trained(store)
    assert handwriting.score(store, plain)["total"] == 8

    data, used = handwriting.added_to(mnist5k, store)
    repeats = min(round(handwriting.SHARE * len(mnist5k.x_train) / len(used)), handwriting.MOST_REPEATS)
    assert len(data.x_train) == len(mnist5k.x_train) + repeats * len(used)
    assert np.array_equal(data.x_train[:len(used), ..., 0], x[[ids.index(i) for i in used]])   # before MNIST
    assert np.array_equal(data.x_train[-10:], mnist5k.x_train[-10:])      # validation split is unchanged


@pytest.mark.parametrize("dataset", ["cifar10", "fashion-mnist"])     # fashion: 28x28 gray, ten classes, no digits
@pytest.mark.parametrize("knob", ["class_drawings", "written"])
def test_class_drawings_and_written_variants_need_a_digit_dataset(store, knob, dataset):
    with pytest.raises(ConfigError) as err:
        ForegroundRunner(store).submit(RunConfig(dataset=dataset, epochs=1, **{knob: True}))
    assert "not a digit dataset" in str(err.value) and err.value.field == knob
    assert store.runs() == []


def test_the_leaderboard_shows_the_best_runs_score_on_our_handwriting(store, mnist5k):
    x, y = digits(mnist5k, 5)
    for i in range(5):
        handwriting.add(store, x[i], int(y[i]), "s-ana")
    run_id = trained(store)
    runs = store.runs()
    board = leaderboard.best_per_owner(runs, handwriting.scores(store, runs))
    assert board[0]["our_handwriting"] == handwriting.score(store, run_id)["accuracy"]


def test_the_command_line_adds_lists_and_scores(digitdash_home, mnist5k, tmp_path):
    import cv2
    x, y = digits(mnist5k, 3)
    files = []
    for i in range(3):
        path = tmp_path / f"d{i}.png"
        cv2.imwrite(str(path), cv2.resize(255 - x[i], (140, 140)))         # dark ink on white, larger
        files.append(str(path))
    two = tmp_path / "two.png"
    cv2.imwrite(str(two), np.hstack([cv2.resize(255 - x[0], (140, 140)), cv2.resize(255 - x[1], (140, 140))]))
    out = cli("handwriting", "add", "--label", str(int(y[0])), "--owner", "ana", files[0], str(two), "--json",
              home=digitdash_home)
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert len(result["added"]) == 1 and "2 digits" in result["failed"][0]["error"]
    for i in (1, 2):
        assert cli("handwriting", "add", "--label", str(int(y[i])), files[i], home=digitdash_home).returncode == 0
    bad = cli("handwriting", "add", "--label", "12", files[0], home=digitdash_home)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    listed = json.loads(cli("handwriting", "list", "--json", home=digitdash_home).stdout)
    assert [d["owner"] for d in listed["drawings"]] == ["ana", "teacher", "teacher"] and sum(listed["per_digit"]) == 3
    run = json.loads(cli("train", "--set", "layers=32", "--set", "epochs=1", "--json", home=digitdash_home).stdout)
    score = json.loads(cli("handwriting", "score", "--run", run["id"], "--json", home=digitdash_home).stdout)
    assert score["total"] == 3 and score["accuracy"] == score["right"] / 3
    assert cli("handwriting", "delete", str(listed["drawings"][0]["id"]), home=digitdash_home).returncode == 0
    assert cli("handwriting", "score", "--run", "nope", home=digitdash_home).returncode == 2


def test_the_same_network_with_and_without_the_class_drawings_is_scored_on_the_same_drawings(store, mnist5k):
    """'Your data fixes your model': a network trained both ways, both runs scored on the drawings
    the one with them did not train on; another network trained one way only makes no pair."""
    x, y = digits(mnist5k, 12)
    ids = [handwriting.add(store, x[i], int(y[i]), "s-ana") for i in range(12)]
    assert handwriting.data_effect(store, store.runs()) == []
    plain = trained(store)
    added = trained(store, class_drawings=True)
    ForegroundRunner(store).submit(RunConfig(layers=(16,), epochs=1), name="other")   # one way only: no pair
    (pair,) = handwriting.data_effect(store, store.runs())
    assert pair["without"]["id"] == plain and pair["with"]["id"] == added
    unseen = [i for i in ids if i % handwriting.HOLD_OUT == 0]
    assert pair["drawings"] == len(unseen)
    answers = store.answers([plain, added])
    labels = store.drawing_labels()
    for run_id, key in ((plain, "before"), (added, "after")):
        right = sum(answers[run_id][i] == labels[i] for i in unseen)
        assert pair[key] == right / len(unseen)
    assert pair["gain"] == pair["after"] - pair["before"]
    # Compare shows the pair at the bottom of the page, with what the drawings changed
    from streamlit.testing.v1 import AppTest
    from conftest import ROOT
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60).run()
    assert not at.exception
    assert at.subheader[-1].value == "Your data fixes your model"
    (table,) = [d for d in at.dataframe if "gain" in d.value.columns]
    row = table.value.iloc[0]
    assert row["gain"] == f"{pair['gain']:+.3f}" and row["drawings read"] == len(unseen)
    assert row["our handwriting, with"] == round(pair["after"], 3)
