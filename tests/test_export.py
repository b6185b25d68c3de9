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
