"""A run exported as a notebook runs top to bottom and lands within 2 points of the run; the script
is the same code; the command line writes both; a baseline is refused with one message."""
import json

import nbformat
import pytest
from nbclient import NotebookClient

from digitdash.bench import _engine_fit
from digitdash.digits.datasets import load
from digitdash.learning import export
from digitdash.plan.config import ConfigError, RunConfig, preset
from digitdash.runs.store import Store

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


@pytest.mark.slow
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


@pytest.mark.slow
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

from digitdash.digits import datasets  # noqa: E402
from digitdash.plan import limits

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
    from digitdash.learning import recipe
    from digitdash.plan.config import INITIALIZERS, OPTIMIZERS
    assert set(recipe.OPTIMIZER_CLASSES) == set(OPTIMIZERS) and set(recipe.INITIALIZER_CLASSES) == set(INITIALIZERS)
    with pytest.raises(ConfigError, match="optimizer"):          # a stored config outside the choices: refused
        recipe.of(RunConfig(optimizer="adam(); import os"), (28, 28, 1), 10)


def test_an_augmentation_factor_of_zero_adds_no_layer_and_leaves_the_others_seeds():
    """A rotation of 0 still moved every image through a transform (about 2 ms a batch on a CPU core, a
    tenth of a cnn-fast step): only the moves asked for become layers, seeded as they were."""
    from digitdash.learning import recipe

    def moves(**factors):
        layers = recipe.of(RunConfig(architecture="cnn", augment=True, seed=5, **factors), (28, 28, 1), 10).layers
        return [(part.name, part.kwargs["seed"]) for part in layers if part.name.startswith("Random")]
    assert moves(rotation=10.0, shift=0.1, zoom=0.1) == [("RandomRotation", 5), ("RandomTranslation", 6), ("RandomZoom", 7)]
    assert moves(rotation=0.0, shift=0.05, zoom=0.0) == [("RandomTranslation", 6)]
    assert moves(rotation=15.0, shift=0.0, zoom=0.0) == [("RandomRotation", 5)]


# ---- issue 27: the code runs wherever it is downloaded, with every change made while it trained --

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from digitdash.learning import controls  # noqa: E402


def _outside(tmp_path) -> dict:
    """An environment for a subprocess run in tmp_path, outside the repository: nothing on PYTHONPATH."""
    assert ROOT not in tmp_path.resolve().parents
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "MPLBACKEND": "Agg"}


def _trained_with_changes(store, config, steps_per_epoch, rate_at, rate):
    """A finished run whose learning rate was changed while it trained: the rows controls records
    (`rate` from step `rate_at`, and a pause and resume there too, which change nothing)."""
    run_id = store.create(config, name="changed")
    store.claim_next(os.getpid())
    for kind, value in (("pause", None), ("lr", rate), ("resume", None), ("lr", 0.2)):
        seq = controls.ask(store, run_id, kind, value, teacher=True)
        if kind != "lr" or value == rate:                 # the last one is asked, never taken: not exported
            controls.applied(store, seq, rate_at, rate_at // steps_per_epoch + 1)
    store.update(run_id, info={"steps_per_epoch": steps_per_epoch})
    store.finish(run_id, "done", "", {"test_accuracy": 0.5, "test_loss": 1.0})
    return run_id


@pytest.mark.slow
def test_the_exported_script_runs_from_any_folder_once_digitdash_is_installed(tmp_path, seeded, digitdash_home):
    """A downloaded script run by its path (python ~/Downloads/digitdash-RUN.py) failed with
    ModuleNotFoundError: No module named 'digitdash'. Installed (pip install -e ., scripts/test.sh and
    scripts/start.sh do it), it trains from any folder; not installed, it says how in one line."""
    env = _outside(tmp_path)
    found = subprocess.run([sys.executable, "-c", "import digitdash; print(digitdash.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0 and Path(found.stdout.strip()).resolve() == ROOT / "digitdash" / "__init__.py", \
        f"DigitDash is not installed from {ROOT}: run scripts/test.sh (or pip install -e . there)\n{found.stderr[-800:]}"
    store = Store(digitdash_home)
    run_id = _trained_with_changes(store, RunConfig(dataset="mnist-5k", layers=(16,), epochs=1), 94, 40,
                                  0.003)
    script = tmp_path / f"digitdash-{run_id}.py"
    out = cli("export", run_id, "--script", str(script), home=digitdash_home)
    assert out.returncode == 0, out.stderr
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env={**env, "DIGITDASH_HOME": str(digitdash_home)},
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    accuracy = float(ran.stdout.split("test accuracy ")[1].split()[0])
    assert 0.5 < accuracy <= 1.0, ran.stdout[-1000:]
    bare = subprocess.run([sys.executable, "-S", str(script)], cwd=tmp_path, env=env,      # -S: no site-packages
                          capture_output=True, text=True, timeout=120)
    lines = bare.stderr.strip().splitlines()
    assert bare.returncode == 1 and len(lines) == 1 and "Traceback" not in bare.stderr, bare.stderr[-2000:]
    assert "No module named 'digitdash'" in lines[0] and "pip install -r requirements.txt -e ." in lines[0]


def test_a_learning_rate_changed_while_training_is_set_again_at_its_step(seeded, digitdash_home, mnist5k, monkeypatch):
    """The export trained at the constant rate, the change made on the Train page silently left out:
    the exported code sets the new rate at the step where it took effect (run here on 64 images,
    6 batches an epoch, the learning rate read at every batch)."""
    store = Store(digitdash_home)
    config = RunConfig(dataset="mnist-5k", layers=(8,), epochs=2, batch_size=8, learning_rate=0.001)
    run_id = _trained_with_changes(store, config, 6, 9, 0.05)
    out = cli("export", run_id, "--script", str(digitdash_home / "run.py"), "--notebook",
              str(digitdash_home / "run.ipynb"), home=digitdash_home)
    assert out.returncode == 0, out.stderr
    text = (digitdash_home / "run.py").read_text()
    assert "RATE_CHANGES = {9: 0.05}" in text and "0.2" not in text.split("RATE_CHANGES")[1].split("\n")[0]
    assert "step 9 (epoch 2, batch 4): paused" in text and "resumed" in text
    book = nbformat.reads((digitdash_home / "run.ipynb").read_text(), as_version=4)
    assert "RateChanges" in "\n".join(c.source for c in book.cells if c.cell_type == "code")
    assert "RateChanges" in "\n".join(c.source for c in book.cells if c.cell_type == "markdown")

    rates = _fitted_by(text, _small(mnist5k), monkeypatch)["rates"]
    assert rates == [0.001] * 9 + [0.05] * 3, rates


def test_the_notebook_draws_its_confusion_matrix_with_seaborn():
    """The classroom notebooks drew it with seaborn.heatmap (pinned in requirements.txt)."""
    run = {"id": "0001-abcd", "name": "n", "results": {}, "config": RunConfig(dataset="mnist-5k", layers=(8,))}
    book = nbformat.reads(export.notebook(run), as_version=4)
    code = [c.source for c in book.cells if c.cell_type == "code"]
    assert "import seaborn as sns" in code[0] and "sns.heatmap(confusion_matrix(y_test, predicted)" in code[-1]
    assert "ConfusionMatrixDisplay" not in "\n".join(code)


# ---- one recipe: the exported code builds the run's own network, by construction ---------------

import numpy as np  # noqa: E402


def _fitted_by(text: str, data, monkeypatch) -> dict:
    """Run an exported script on `data` and catch what it hands model.fit: the model's summary, layer
    configs and weights as they start, its optimizer and compile settings, its callbacks, and the
    learning rate at every batch it then trains."""
    import keras
    import matplotlib.pyplot as plt
    caught = {"rates": []}

    class Rate(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            caught["rates"].append(round(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)), 6))

    fit = keras.Model.fit

    def catching_fit(model, *args, callbacks=(), **kwargs):
        caught.update(_network(model), callbacks=_settings(callbacks))
        return fit(model, *args, callbacks=[*callbacks, Rate()], **kwargs)

    monkeypatch.setattr(datasets, "load", lambda name: data)
    monkeypatch.setattr(keras.Model, "fit", catching_fit)
    monkeypatch.setattr("matplotlib.pyplot.show", lambda *a, **k: None)
    keras.backend.clear_session()                         # layer names count from the same place
    exec(compile(text, "run.py", "exec"), {"__name__": "__main__"})
    plt.close("all")
    return caught


def _network(model) -> dict:
    """What a model is as it starts: its summary, layers, weights, optimizer and loss."""
    lines = []
    model.summary(print_fn=lambda line, **kw: lines.append(line))
    return {"summary": "\n".join(lines), "layers": [layer.get_config() for layer in model.layers],
            "weights": model.get_weights(), "optimizer": model.optimizer.get_config(), "loss": model.loss}


def _settings(callbacks) -> list:
    """Each callback's class and plain settings (what a callback keeps of its arguments before it runs)."""
    plain = (bool, int, float, str, type(None))
    return [(type(c).__name__, {k: v for k, v in vars(c).items() if isinstance(v, plain) and not k.startswith("_")})
            for c in callbacks]


def _small(data):
    """64 training images and 32 test images of `data`, as datasets.load gives them."""
    return type("Small", (), {"x_train": data.x_train[:64], "y_train": data.y_train[:64],
                              "x_test": data.x_test[:32], "y_test": data.y_test[:32], "class_names": data.class_names})


ONE_CYCLE_CNN = RunConfig(dataset="mnist-5k", architecture="cnn", conv_filters=(4,), layers=(8,), epochs=2,
                          batch_size=16, augment=True, batch_norm=True, dropout=0.2, l1=1e-5, l2=1e-4,
                          initializer="he_normal", lr_schedule="one-cycle", learning_rate=0.003,
                          early_stopping=True, loss_threshold=0.01, seed=7)
CHANGED_SGD = RunConfig(dataset="mnist-5k", layers=(8,), epochs=2, batch_size=8, learning_rate=0.001,
                        optimizer="sgd", momentum=0.9, nesterov=True, initializer="random_uniform", reduce_lr=True,
                        early_stopping=True, monitor="val_accuracy")


@pytest.mark.slow
@pytest.mark.parametrize("config", [ONE_CYCLE_CNN, CHANGED_SGD], ids=["one-cycle-cnn", "sgd-rate-changed"])
def test_the_exported_code_builds_the_runs_own_network(config, seeded, digitdash_home, mnist5k, monkeypatch):
    """The export wrote the network again beside models.build, equal only as far as an accuracy test could
    tell (its one-cycle schedule counted the steps of whatever data it ran on, the model had another
    name): the exported code builds what models.build builds for the run, to the summary, every layer's
    settings, the starting weights, the optimizer and its schedule, and the callbacks; a learning rate
    changed while the run trained is set again at its step."""
    import keras

    from digitdash.learning import models, training
    store = Store(digitdash_home)
    steps = 188                                           # what the run recorded: not the small data's 3
    if config.lr_schedule == "constant":
        run_id = _trained_with_changes(store, config, steps, 2, 0.05)
    else:
        run_id = store.create(config, name="one-cycle")
        store.update(run_id, info={"steps_per_epoch": steps})
        store.finish(run_id, "done", "", {"test_accuracy": 0.5, "test_loss": 1.0})
    text = export.script(store.get(run_id), changes=controls.changes(store, run_id))
    exported = _fitted_by(text, _small(mnist5k), monkeypatch)

    keras.backend.clear_session()
    model = models.build(config, mnist5k.image_shape, mnist5k.num_classes, steps_per_epoch=steps)
    run = _network(model)
    state = {"epochs": [], "stop_requested": False, "diverged": None, "paused_seconds": 0.0}
    trained_with = _settings(training._callbacks(config, training.Listener(), state, steps, mnist5k.num_classes)[1:])
    assert exported["summary"] == run["summary"] and model.name in run["summary"]
    assert exported["layers"] == run["layers"] and exported["optimizer"] == run["optimizer"]
    assert exported["loss"] == run["loss"]
    assert len(exported["weights"]) == len(run["weights"])
    for theirs, ours in zip(exported["weights"], run["weights"]):
        assert np.array_equal(theirs, ours)
    assert [c for c in exported["callbacks"] if c[0] != "RateChanges"] == trained_with
    if config.lr_schedule == "constant":                  # 48 images, 6 batches an epoch, the new rate from step 2
        assert exported["rates"] == [0.001] * 2 + [0.05] * 10, exported["rates"]


def test_exporting_imports_no_keras():
    """Exporting happens in the page server, which never imports TensorFlow: the recipe, the calls written
    from it and the source of the callbacks Keras has not all come without it."""
    code = ("import sys\n"
            "from digitdash.learning import export\n"
            "from digitdash.plan.config import RunConfig\n"
            "run = {'id': '0001-abcd', 'name': 'n', 'results': {}, 'info': {'steps_per_epoch': 6},\n"
            "       'config': RunConfig(dataset='mnist-5k', architecture='cnn', conv_filters=(4,), layers=(8,),\n"
            "                           lr_schedule='one-cycle', loss_threshold=0.01, early_stopping=True)}\n"
            "rows = [{'seq': 1, 'kind': 'lr', 'value': 0.05, 'applied': 1.0, 'step': 9, 'epoch': 2}]\n"
            "text = export.script(run, changes=rows)\n"
            "assert 'class RateChanges(' in text and 'class StopBelowLoss(' in text and 'CosineDecay(' in text\n"
            "print(sorted(k for k in ('tensorflow', 'keras') if k in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("extra", [{"written": True}, {"class_drawings": True}])
def test_a_one_cycle_schedule_is_sized_for_the_images_the_exported_code_trains_on(extra):
    """A run that trained on more images than its dataset (handwriting-like copies, the class's drawings)
    recorded more steps per epoch than the exported code will take: the export sizes its schedule for
    the dataset the code loads, so the cosine ends where the code's training does."""
    config = preset("cnn-hands").replace(dataset="mnist-5k", **extra)
    run = {"config": config, "info": {"steps_per_epoch": 999, "class_drawings": [1, 2]} if "class_drawings" in extra
           else {"steps_per_epoch": 999}}
    own = -(-int(4000 * (1 - config.validation_split)) // config.batch_size)     # mnist-5k: 4,000 to train on
    assert export._steps_per_epoch(run) == own
    plain = {"config": config.replace(written=False, class_drawings=False), "info": {"steps_per_epoch": 999}}
    assert export._steps_per_epoch(plain) == 999
