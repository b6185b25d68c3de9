"""A run exported as a notebook runs top to bottom and lands within 2 points of the run; the script
is the same code; the command line writes both; a baseline is refused with one message."""
import json

import nbformat
import pytest
from nbclient import NotebookClient

from digitdash import export
from digitdash.bench import _engine_fit
from digitdash.config import ConfigError, RunConfig, preset
from digitdash.datasets import load
from digitdash.store import Store

from conftest import ROOT, cli


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    """A real cnn run with several knobs set (batch norm, dropout, augmentation, one-cycle, early stop)."""
    store = Store(tmp_path_factory.mktemp("export-home"))
    config = preset("cnn-basic").replace(conv_filters=(8, 16), layers=(32,), epochs=2, batch_norm=True, dropout=0.2,
                                         lr_schedule="one-cycle", learning_rate=0.003, early_stopping=True,
                                         initializer="he_normal", loss_threshold=0.01)
    _, run_id = _engine_fit(config, load("mnist-5k"), store)
    return store, store.get(run_id)


def test_the_exported_notebook_runs_and_matches_the_run(cnn_run, monkeypatch):
    store, run = cnn_run
    monkeypatch.delenv("MPLBACKEND", raising=False)   # importing Streamlit (other tests) sets Agg: no figures
    book = nbformat.reads(export.notebook(run, "es"), as_version=4)
    markdown = [c.source for c in book.cells if c.cell_type == "markdown"]
    assert markdown[0].startswith(f"# {run['name']}") and "capa a capa" in " ".join(markdown)   # the session's language
    code = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    assert "layers.Conv2D(8, 3" in code and "layers.BatchNormalization(momentum=0.9)" in code
    assert "keras.initializers.HeNormal(seed=" in code and "CosineDecay" in code and "EarlyStopping" in code
    NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    last = book.cells[-1].outputs
    printed = "".join(o.get("text", "") for o in last if o.output_type == "stream")
    assert any("image/png" in o.get("data", {}) for o in last)                 # the confusion matrix
    accuracy = float(printed.split("test accuracy ")[1].split()[0])
    assert abs(accuracy - run["results"]["test_accuracy"]) <= 0.02, (accuracy, run["results"]["test_accuracy"])


def test_the_script_is_the_same_code_and_the_cli_writes_both(cnn_run, tmp_path):
    store, run = cnn_run
    text = export.script(run)
    compile(text, "exported.py", "exec")                                     # valid Python
    book = nbformat.reads(export.notebook(run), as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.source in text
    out = cli("export", run["id"], "--notebook", str(tmp_path / "run.ipynb"), "--script", str(tmp_path / "run.py"),
              home=store.home)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "run.ipynb").read_text())["nbformat"] == 4 and (tmp_path / "run.py").read_text() == text


def test_a_baseline_or_a_missing_run_is_one_message(digitdash_home, tmp_path):
    store = Store(digitdash_home)
    forest = store.create(RunConfig(architecture="random-forest"))
    with pytest.raises(ConfigError, match="mlp or cnn run"):
        export.notebook(store.get(forest))
    out = cli("export", forest, "--script", str(tmp_path / "x.py"), home=digitdash_home)
    assert out.returncode == 2 and "mlp or cnn run" in out.stderr and not (tmp_path / "x.py").exists()
    out = cli("export", "nope", "--script", str(tmp_path / "x.py"), home=digitdash_home)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    out = cli("export", forest, home=digitdash_home)
    assert out.returncode == 2 and "--notebook" in out.stderr


# ---- whatever a run holds, the code parses and does only what the template writes ------------

import ast  # noqa: E402
from unittest import mock  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from digitdash import datasets, limits  # noqa: E402

TRICKY = ['"', "'", '"""', "'''", "\\", "\n", "\r", "\r\n", "\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028",
          "\u2029", "\ud800", "#", ";", "+", "(", ")", "{", "}", "/", "..", ":", "é", "数", "🙂", " ",
          '")\nimport os\nos.system("touch p")\n#', '"+str(__import__("os").system("touch p"))[:0]+"']
texts = st.one_of(st.text(st.characters(codec=None, exclude_categories=[]), max_size=40),
                  st.lists(st.sampled_from(TRICKY), max_size=8).map("".join))
dataset_names = st.builds(lambda kind, rest: kind + rest,
                          st.sampled_from(["folder:", "idx:", "folder:/srv/class/", "listed:", "", "mnist-5k"]),
                          texts).filter(str.strip)        # a blank dataset is no run's (RunConfig.validate)


def _run(name, dataset):
    return {"id": "0001-abcd", "name": name, "results": {"test_accuracy": 0.5},
            "config": RunConfig(dataset=dataset, layers=(8,), early_stopping=True, reduce_lr=True,
                                loss_threshold=0.01, optimizer="sgd", initializer="random_uniform")}


def _shape(name):
    return (28, 28, 1), datasets.DIGITS


def _the_template(code: str) -> tuple[str, str]:
    """(the code's syntax tree with the dataset literal blanked, that literal). Two exports with the
    same tree hold the same statements; comments are not in the tree."""
    tree = ast.parse(code)
    (call,) = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "load"]
    (literal,) = call.args
    assert isinstance(literal, ast.Constant) and isinstance(literal.value, str)
    value, literal.value = literal.value, "DATASET"
    return ast.dump(tree), value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(name=texts, dataset=dataset_names, server_paths=st.booleans())
def test_any_name_or_dataset_exports_as_literals_only(name, dataset, server_paths):
    """A quote in a dataset path ran code (load("folder:/x"+str(__import__("os").system(...))+"")), and a
    NUL in a run's name made the script a SyntaxError: the script and every notebook cell parse, hold the
    template's statements only, and the dataset literal says the run's dataset (for pages, no path)."""
    import nbformat
    with mock.patch.object(datasets, "shape_of", _shape):
        script = export.script(_run(name, dataset), server_paths=server_paths)
        book = nbformat.reads(export.notebook(_run(name, dataset), server_paths=server_paths), as_version=4)
        plain = export.script(_run("plain", "mnist-5k"), server_paths=server_paths)
    expected, _ = _the_template(plain)
    cells = [c.source for c in book.cells if c.cell_type == "code"]
    for cell in cells:
        ast.parse(cell)
    for code in (script, "\n".join(cells)):
        tree, value = _the_template(code)
        assert tree == expected
        if server_paths:
            assert value == dataset                                        # the literal round-trips
        else:
            assert value == limits.public(dataset)
            if dataset.startswith(limits.PATH_KINDS):                       # kind:…/last-part, no path
                assert not set("/\\") & set(value.partition("…/")[2])
    title = book.cells[0].source.splitlines()[0]
    assert title.startswith("# ") and (title == "# " + name or not name.isprintable())
    assert script.splitlines()[0] == ("# " + title).rstrip()


def test_pages_export_no_server_path_and_the_command_line_does(digitdash_home, tmp_path, mnist_partial_name):
    """A teacher's command-line run on idx:/a/server/folder, downloaded from Compare: its code names the
    folder by its last part (a listed folder by listed:NAME, which loads on the server); `export` on the
    command line, on the server, keeps the path."""
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(dataset=mnist_partial_name, layers=(8,), epochs=1), name="terminal")
    store.finish(run_id, "done", "", {"test_accuracy": 0.9})
    run = store.get(run_id)
    path = mnist_partial_name[len("idx:"):]
    for text in (export.script(run), export.notebook(run), export.script(run, "es")):
        assert path not in text and str(ROOT.parent) not in text and "idx:…/mnist-partial" in text
    assert "load('idx:…/mnist-partial')" in export.script(run) and "whose path stays there" in export.script(run)
    assert f"load({mnist_partial_name!r})" in export.script(run, server_paths=True)
    (digitdash_home / "limits.toml").write_text(f'[folders]\npartial = "{mnist_partial_name}"\n')
    assert "load('listed:partial')" in export.script(run) and path not in export.notebook(run)
    out = cli("export", run_id, "--script", str(tmp_path / "run.py"), home=digitdash_home)
    assert out.returncode == 0, out.stderr
    assert f"load({mnist_partial_name!r})" in (tmp_path / "run.py").read_text()


def test_every_optimizer_and_initializer_has_its_keras_class():
    from digitdash.config import INITIALIZERS, OPTIMIZERS
    assert set(export._OPTIMIZER_CLASSES) == set(OPTIMIZERS) and set(export._INITIALIZER_CLASSES) == set(INITIALIZERS)
    with pytest.raises(ConfigError, match="optimizer"):          # a stored config outside the choices: refused
        export._optimizer(RunConfig(optimizer="adam(); import os"))
