"""The Compare page's logic over real stored runs."""
import pytest
from streamlit.testing.v1 import AppTest

from digitdash import compare, metrics
from digitdash.bench import _engine_fit
from digitdash.config import RunConfig
from digitdash.datasets import load
from digitdash.store import Store

from conftest import ROOT


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
    assert list(table["name"]) == ["small", "bigger"] and list(table["layers"]) == ["16", "64"]
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


def test_the_gallery_says_how_many_it_shows_and_shows_more_on_request(digitdash_home):
    from digitdash.jobs import execute
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
        assert f"{best[0]} at {best[1]:.1%}" in lesson if language == "English" else f"{best[0]} con {best[1]:.1%}" in lesson
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
    assert list(at.dataframe[0].value["dataset"]) == ["idx:…/mnist-partial", "our-digits"]
