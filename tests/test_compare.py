"""The Compare page's logic over real stored runs."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from digitdash.bench import _engine_fit
from digitdash.digits.datasets import load
from digitdash.plan.config import RunConfig
from digitdash.reading import compare
from digitdash.runs import metrics
from digitdash.runs.store import Store

from conftest import ROOT

pytestmark = pytest.mark.slow      # its shared fixtures train runs or start the app's workers


@pytest.fixture
def two_runs(digitdash_home):
    store = Store(digitdash_home)
    data = load("mnist-5k")
    ids = [_engine_fit(RunConfig(layers=(n,), epochs=2), data, store)[1] for n in (16, 64)]
    store.rename(ids[0], "small")
    store.rename(ids[1], "bigger")
    return store, ids


def test_table_rows_hold_the_notebooks_figures(two_runs):
    store, ids = two_runs
    rows = compare.table(store, [store.get(i) for i in ids])
    assert [r["name"] for r in rows] == ["small", "bigger"]
    assert [r["layers"] for r in rows] == ["16", "64"]          # the knob that differs
    assert "activation" not in rows[0]                          # ... and only that one
    for r, run_id in zip(rows, ids):
        epochs = store.epochs(run_id)
        assert r["mean accuracy"] == pytest.approx(sum(e["accuracy"] for e in epochs) / 2)
        assert r["best val_loss"] == min(e["val_loss"] for e in epochs)
        assert r["epochs run"] == 2 and r["params"] == store.get(run_id)["params"]
        assert r["loss drop per epoch"] == pytest.approx(1 - epochs[1]["loss"] / epochs[0]["loss"])
    full = compare.table(store, [store.get(i) for i in ids], all_knobs=True)
    assert "activation" in full[0] and "optimizer" in full[0]


def test_metric_helpers():
    cm = [[8, 2], [1, 9]]
    assert list(metrics.per_class_accuracy(cm)) == [0.8, 0.9]
    assert metrics.convergence([2.0, 1.0, 0.5]) == [1.0, 0.5, 0.25]
    assert metrics.mean_drop_per_epoch([2.0, 1.0, 0.5]) == 0.375
    assert compare.differing_knobs([{"a": 1, "b": 2}, {"a": 1, "b": 3}]) == ["b"]


def test_page_shows_both_runs_and_their_confusion_matrices(two_runs):
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    # newest first (the page's order: the student's own runs, then everyone's, newest first)
    assert list(table["name"]) == ["bigger", "small"] and list(table["layers"]) == ["64", "16"]
    assert at.radio(key="cm-split").value == "test"
    at.text_input(key="filter").set_value("bigger").run()
    assert list(at.dataframe[0].value["name"]) == ["bigger"]


def test_page_without_runs_points_to_train():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and "No runs yet" in at.info[0].value


def test_a_family_comes_up_together(two_runs):
    store, ids = two_runs
    store.update(ids[1], grp="neurons · abcd")
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60).run()
    at.selectbox(key="family-filter").select("neurons · abcd").run()
    assert not at.exception and list(at.dataframe[0].value["name"]) == ["bigger"]


def test_in_spanish_every_table_header_is_spanish(digitdash_home):
    store = Store(digitdash_home)
    for config in (RunConfig(architecture="cnn", layers=(16,), epochs=2, batch_size=64, validation_split=0.1),
                   RunConfig(layers=(32,), epochs=3, batch_size=32)):
        store.finish(store.create(config), "done", "", {"test_accuracy": 0.9, "test_loss": 0.3})
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60)
    at.session_state["language"] = "Español"
    at.run()
    assert not at.exception
    headers = list(at.dataframe[0].value.columns)
    fields = set(RunConfig().to_dict())
    assert "tamaño de lote" in headers and "épocas" in headers
    assert [h for h in headers if h in fields] == []
    assert set(at.dataframe[0].value["dueño"]) == {"profesor"}        # command-line runs: the teacher's, in Spanish


def test_the_gallery_says_how_many_it_shows_and_shows_more_on_request(digitdash_home):
    from digitdash.workers.worker import execute
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(layers=(8,), epochs=1), status="running")
    wrong = execute(store, run_id)["results"]["misclassified_count"]
    assert wrong > 40
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60).run()
    at.selectbox(key="gallery-run").select_index(0).run()
    gallery = lambda: [c.value for c in at.caption if "mistakes" in c.value and "shown" in c.value]  # noqa: E731
    assert gallery() == [f"40 shown of {wrong} mistakes (most confident first)"]
    images = lambda: len(at.get("image"))  # noqa: E731
    assert images() == 40
    at.button(key="gallery-more").click().run()
    shown = min(80, wrong)
    assert not at.exception and gallery() == [f"{shown} shown of {wrong} mistakes (most confident first)"]
    assert images() == shown


def test_a_finished_family_says_what_it_shows_in_the_students_language(two_runs):
    store, ids = two_runs                       # two real runs, 16 and 64 neurons: a neurons family
    for run_id in ids:
        store.update(run_id, grp="neurons · ef01")
    small, big = (store.get(i)["results"]["test_accuracy"] for i in ids)
    for language, words in (("English", "What this family shows"), ("Español", "Qué muestra esta familia")):
        at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60)
        at.session_state["language"] = language
        at.run()
        assert not [i for i in at.info if words in i.value]              # every run: no family, no lesson
        at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60)
        at.session_state["language"] = language
        at.session_state["family-filter"] = "neurons · ef01"
        at.run()
        (lesson,) = [i.value for i in at.info if words in i.value]
        best = max(("16", small), ("64", big), key=lambda p: p[1])
        spanish = f"{best[0]} con {best[1]:.1%}".replace(".", ",")           # Spanish writes 87,4%
        assert f"{best[0]} at {best[1]:.1%}" in lesson if language == "English" else spanish in lesson
        assert "16" in lesson and "64" in lesson and not at.exception


def test_a_compare_link_shows_its_runs(two_runs):
    store, ids = two_runs
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60)
    at.query_params["runs"] = f"{ids[1]},0000-gone,{ids[0]}"
    at.run()
    assert not at.exception
    assert [tab.label for tab in at.tabs] == ["bigger", "small"]                  # the link's runs, in its order
    assert [i.value for i in at.info if "1 run(s) of the link" in i.value]


def test_a_command_line_runs_server_path_is_never_shown(digitdash_home):
    """A teacher's run trained with --dataset idx:/a/server/folder: the table, its CSV and the page
    name the dataset as students see it (a listed folder by its name), never by its path."""
    from digitdash import text

    from conftest import MNIST_PARTIAL
    store = Store(digitdash_home)
    hidden = store.create(RunConfig(dataset=f"idx:{MNIST_PARTIAL}"), name="from the terminal")
    listed = store.create(RunConfig(dataset="folder:/srv/class/our-digits/"), name="class folder")
    for run_id in (hidden, listed):
        store.finish(run_id, "done", "", {"test_accuracy": 0.9, "test_loss": 0.3})
    (digitdash_home / "limits.toml").write_text('[folders]\nour-digits = "folder:/srv/class/our-digits"\n')
    rows = compare.table(store, [store.get(hidden), store.get(listed)], all_knobs=True)
    assert [r["dataset"] for r in rows] == ["idx:…/mnist-partial", "our-digits"]
    csv = text.to_csv(rows)
    assert str(MNIST_PARTIAL.parent) not in csv and "/srv" not in csv and "idx:…/mnist-partial" in csv
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60).run()
    assert not at.exception
    assert list(at.dataframe[0].value["dataset"]) == ["our-digits", "idx:…/mnist-partial"]     # newest first


def test_the_figures_a_student_compares_come_first(digitdash_home):
    """On a 1280x720 projector the table shows its first columns only: name and accuracies lead,
    who owns the run, what it is and its knobs follow."""
    from fake_runs import two_runs
    store = Store(digitdash_home)
    (a, b), _ = two_runs(store)
    store.update(b, config=RunConfig(layers=(64,), epochs=2, dropout=0.2).to_json())
    rows = compare.table(store, [store.get(a), store.get(b)])
    columns = list(rows[0])
    assert columns[:7] == ["id", "name", "test accuracy", "other hands", "final val_accuracy", "our handwriting",
                           "test loss"]
    assert columns.index("owner") > columns.index("test loss")
    assert columns.index("dropout") > columns.index("owner") and columns.index("layers") > columns.index("owner")
    assert rows[0]["test accuracy"] == 0.96 and rows[0]["final val_accuracy"] == pytest.approx(0.88)
    assert set(compare.DECIMALS) <= set(columns)


def test_the_per_digit_table_heads_runs_by_letter_with_the_change_of_b_from_a(digitdash_home):
    from fake_runs import two_runs
    store = Store(digitdash_home)
    (a, b), y = two_runs(store)
    runs = [store.get(a), store.get(b)]
    rows = compare.per_digit(runs, [str(d) for d in range(10)])
    assert [r["digit"] for r in rows] == [str(d) for d in range(10)]
    assert list(rows[0]) == ["digit", "A", "B", "B − A"]                  # short headers: a projector's width
    for d, r in enumerate(rows):
        for letter, run in zip("AB", runs):
            cm = run["results"]["confusion"]["test"]
            assert r[letter] == pytest.approx(cm[d][d] / sum(cm[d]))
        assert r["B − A"] == pytest.approx(r["B"] - r["A"])
    assert list(compare.per_digit(runs[:1], "01")[0]) == ["digit", "A"]


def test_a_clicked_cell_shows_its_digits_and_what_two_runs_read_differently(digitdash_home):
    """The page's part of a click (the browser test clicks for real): the cell chosen is kept in
    session state; the page shows that cell's digits, then A's and B's disagreements within it."""
    from fake_runs import two_runs
    store = Store(digitdash_home)
    (a, b), y = two_runs(store)
    digit = int(y[0])
    pred = (digit + 1) % 10
    a_cell = [i for i in range(40) if y[i] == digit]                  # A's mistakes in the cell
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60).run()
    assert not at.exception
    assert [c.value for c in at.caption if "Click a cell" in c.value]
    both = [m.value for m in at.markdown if "Right by" in m.value]
    assert both == ["Right by A, wrong by B: 20", "Right by B, wrong by A: 20"]
    at.session_state["cm-cell"] = (a, digit, pred)
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown if f"true {digit}, read as {pred}" in m.value]
    assert [c.value for c in at.caption if c.value.startswith(f"{len(a_cell)} shown of {len(a_cell)} test digits")]
    shown = [[p.caption for p in image.proto.imgs] for image in at.get("image")]
    assert ["90% sure"] * len(a_cell) in shown                       # the cell's digits, how sure A was of each
    both = [m.value for m in at.markdown if "Right by" in m.value]
    in_b_only = [i for i in range(40, 60) if y[i] == digit]
    assert both == [f"Right by A, wrong by B: {len(in_b_only)}", f"Right by B, wrong by A: {len([i for i in a_cell if i < 20])}"]
    at.radio(key="cm-split").set_value("train").run()
    assert not at.exception and [c.value for c in at.caption if "Only the test digits are kept" in c.value]


def test_runs_named_alike_are_told_apart_below_the_table(two_runs):
    """Two students name their runs alike: the matrices' tabs and the charts' legends say each run's
    id beside the name (they were told apart by colour only)."""
    store, ids = two_runs
    for run_id in ids:
        store.rename(run_id, "my cnn")
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60).run()
    assert not at.exception
    tabs = [tab.label.replace("\\", "") for tab in at.tabs if "my cnn" in tab.label]     # Markdown-escaped
    assert sorted(tabs) == sorted(f"my cnn · {i}" for i in ids), tabs
    legend = {trace["name"] for chart in at.get("plotly_chart")
              for trace in json.loads(chart.proto.spec)["data"] if "name" in trace}
    assert any(ids[0] in name for name in legend) and any(ids[1] in name for name in legend), legend
    assert at.dataframe[0].value["name"].tolist() == ["my cnn", "my cnn"]     # the table has its id column
