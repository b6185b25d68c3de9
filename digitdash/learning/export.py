"""A finished Keras run as code: a Jupyter notebook or a plain script that loads the same data, builds
the same network with its layers spelled out, fits it with the same seed and settings (and every
learning rate changed while it trained, at the batch where it took effect), then plots the curves
and the confusion matrix (seaborn's heatmap, as the classroom notebooks drew it) and prints the test
accuracy. The way back to the notebooks.

The network is the run's recipe (recipe.py), the parts models.build makes for training written out
as calls (tests/test_export.py builds both and finds them equal, weights included); the callbacks Keras
has not are models.own_callbacks' classes, their source copied as it is. Only the dataset is read with
DigitDash's loader, so the same names work offline (mnist-5k included): the code runs from any folder
once DigitDash is installed (`pip install -r requirements.txt -e .`, which scripts/start.sh does), and
says so in one line if not.

Every value from a run (its name, dataset, knobs) is written as a Python literal (repr) or, in the
comments and markdown, on one line with unprintable characters escaped: whatever a run holds, the
code parses and does only what the template says. A dataset's path on the server is written only
for the command line (`server_paths`): pages get the name students see (limits.public).
"""
from __future__ import annotations

import ast
import inspect
import math
import textwrap

from digitdash.digits import datasets
from digitdash.i18n import Message, t
from digitdash.learning import models
from digitdash.learning import recipe as recipes
from digitdash.learning.controls import TIMER
from digitdash.learning.recipe import Part, Recipe
from digitdash.plan import kinds, limits
from digitdash.plan.config import ConfigError, RunConfig

NOT_KERAS = "export.not_keras"


def _one_line(text) -> str:
    """Text for a comment or a markdown line: printable characters as they are, anything else
    (newlines, NUL, other controls, separators, lone surrogates) escaped as Python would write it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _code(value, **written) -> str:
    """A recipe's value as Python: a Part as its call (`layers.Dense(8, activation='relu')`, a keyword
    argument named in `written` as the code given there), anything else as its literal."""
    if not isinstance(value, Part):
        return repr(value)
    where = {None: "", "layers": "layers."}.get(value.module, f"keras.{value.module}.")
    arguments = [_code(a) for a in value.args] + [f"{key}={written.get(key) or _code(argument)}"
                                                  for key, argument in value.kwargs.items()]
    return f"{where}{value.name}({', '.join(arguments)})"


def _noted(line: str, part: Part) -> str:
    return f"{line}   # {_one_line(part.note)}" if part.note else line


def _model(recipe: Recipe) -> list[str]:
    """The Sequential, seeded as models.build seeds it, a layer a line."""
    return (["keras.utils.set_random_seed(SEED)", "model = keras.Sequential(["]
            + [_noted(f"    {_code(layer)},", layer) for layer in recipe.layers]
            + [f"], name={recipe.name!r})", "model.summary()"])


def _compiled(recipe: Recipe) -> list[str]:
    """The optimizer (its schedule first, named `rate`) and model.compile."""
    rate = recipe.optimizer.kwargs["learning_rate"]
    schedule = [f"# {_one_line(rate.note)}", f"rate = {_code(rate)}"] if isinstance(rate, Part) else []
    settings = "".join(f", {key}={_code(value)}" for key, value in recipe.compile.items())
    return schedule + [f"optimizer = {_code(recipe.optimizer, learning_rate='rate' if schedule else None)}",
                       f"model.compile(optimizer=optimizer{settings})"]


def _class_source(name: str) -> str:
    """One of models.own_callbacks' classes as it is written there (read as source: no Keras imported)."""
    source = textwrap.dedent(inspect.getsource(models.own_callbacks))
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == name)
    return textwrap.dedent(ast.get_source_segment(source, node, padded=True))


def _callbacks(recipe: Recipe, notes: list[str]) -> list[str]:
    """The callbacks, the classes Keras has not written out first; a changed learning rate's
    {step: rate} as RATE_CHANGES."""
    lines = list(notes)
    for part in recipe.callbacks:
        if part.name == "RateChanges":
            lines += [f"RATE_CHANGES = {part.kwargs['changes']!r}   # step -> the learning rate from that batch on"]
        if part.module is None:
            lines += ["", *_class_source(part.name).splitlines(), ""]
    calls = [f"    {_code(part, changes='RATE_CHANGES')}," for part in recipe.callbacks]
    return lines + (["callbacks = [", *calls, "]"] if calls else ["callbacks = []"])


def _steps_per_epoch(run: dict) -> int | None:
    """The batches of each epoch the run trained (what sizes a one-cycle schedule); for a run that has not
    trained, the batches it would have."""
    config: RunConfig = run["config"]
    info = run.get("info") or {}
    steps = info.get("steps_per_epoch")
    if config.written or info.get("class_drawings"):
        steps = None          # it trained on more images than the exported code loads: size for the code's
    if steps or config.lr_schedule == "constant":
        return steps
    trained_on = math.ceil(datasets.train_size(config.dataset) * (1 - config.validation_split))  # split_validation's
    return math.ceil(trained_on / config.batch_size)


def _changes(run: dict, changes) -> tuple[list[str], dict[int, float]]:
    """(comment lines, {step: learning rate}) for the changes applied while the run trained, in order:
    each at its step (the batches trained before it). A pause is a comment: it changes nothing learnt."""
    per_epoch = (run.get("info") or {}).get("steps_per_epoch")
    notes, rates = [], {}
    for row in sorted(changes, key=lambda r: r.get("seq") or 0):
        if row.get("applied") is None or row.get("step") is None:
            continue                                   # asked, never taken (the run ended first)
        step, epoch = int(row["step"]), int(row.get("epoch") or 1)
        where = f"step {step} (epoch {epoch}" + (f", batch {step - (epoch - 1) * int(per_epoch) + 1})"
                                                 if per_epoch else ")")
        if row["kind"] == "lr" and row.get("value") is not None and math.isfinite(float(row["value"])):
            rates[step] = float(row["value"])
            notes.append(f"#   {where}: learning rate {float(row['value'])!r}")
        elif row["kind"] == "pause":
            notes.append(f"#   {where}: paused (a pause holds the training; what it learns is the same)")
        elif row["kind"] == "resume":
            notes.append(f"#   {where}: resumed" + (" (its pauses had run out)" if row.get("by") == TIMER else ""))
    if notes:
        notes.insert(0, "# Changes made while the run trained, each from the batch where it took effect "
                        "(step: the batches trained before it):")
    return notes, rates


def sections(run: dict, lang: str, server_paths: bool = False, changes=()) -> list[tuple[str, str]]:
    """(markdown, code) for each step of the exported run, the markdown in `lang`. The dataset is
    loaded by the name pages show (limits.public) unless `server_paths` (the command line, on the
    server): then by the run's own name, path included. `changes` are the run's rows of
    controls.changes: each learning rate applied while it trained is set again at its step."""
    config: RunConfig = run["config"]
    if not kinds.of(config.architecture).keras:
        raise ConfigError("architecture", config.architecture, Message(NOT_KERAS))
    shape, classes = datasets.shape_of(config.dataset)
    shown = str(config.dataset) if server_paths else limits.public(config.dataset)
    say = lambda key, **kw: t(f"export.{key}", lang, **kw)  # noqa: E731
    head = say("title", name=_one_line(run["name"]), run=_one_line(run["id"]), summary=_one_line(config.summary()),
               dataset=_one_line(shown))
    if shown != config.dataset and not shown.startswith(limits.LISTED):
        head += "\n\n" + say("server_folder")
    if config.class_drawings:
        head += "\n\n" + say("no_drawings")
    if config.written:
        head += "\n\n" + say("no_written")
    if config.mixed_precision:
        head += "\n\n" + say("no_mixed_precision")
    setup = ["try:   # DigitDash's loader: the same dataset names as the app, offline too",
             "    from digitdash.digits.datasets import load",
             "except ImportError as missing:",
             f"    raise SystemExit(f\"{{missing}}. \" + {say('no_digitdash')!r}) from None", "",
             "import keras", "import matplotlib.pyplot as plt", "import numpy as np", "import seaborn as sns",
             "from keras import layers", "from sklearn.metrics import confusion_matrix", "",
             f"SEED = {config.seed!r}", f"BATCH_SIZE = {config.batch_size!r}", f"EPOCHS = {config.epochs!r}",
             f"VALIDATION_SPLIT = {config.validation_split!r}"]
    data = [f"data = load({shown!r})",
            "x_train, y_train = data.x_train, data.y_train",
            "x_test, y_test = data.x_test, data.y_test",
            'print("train", x_train.shape, x_train.dtype, "test", x_test.shape, "classes", data.class_names)']
    notes, rates = _changes(run, changes)
    recipe = recipes.of(config, shape, len(classes), _steps_per_epoch(run), rates)
    model = _model(recipe)
    fit = _compiled(recipe) + _callbacks(recipe, notes)
    fit += ["history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,",
            "                    validation_split=VALIDATION_SPLIT, callbacks=callbacks, verbose=2)"]
    curves = ["h = history.history",
              "epochs = range(1, len(h['loss']) + 1)",
              "fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))",
              "for key in ('accuracy', 'val_accuracy'):",
              "    if key in h:",
              "        left.plot(epochs, h[key], marker='o', label=key)",
              "for key in ('loss', 'val_loss'):",
              "    if key in h:",
              "        right.plot(epochs, h[key], marker='o', label=key)",
              "left.set_xlabel('epoch'), right.set_xlabel('epoch'), left.legend(), right.legend()",
              "plt.show()"]
    test = ["test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)",
            "predicted = model.predict(x_test, verbose=0).argmax(axis=1)",
            "plt.figure(figsize=(7, 6))",
            "sns.heatmap(confusion_matrix(y_test, predicted), annot=True, fmt='d', cmap='Blues', cbar=False,",
            "            xticklabels=data.class_names, yticklabels=data.class_names)",
            "plt.xlabel('predicted'), plt.ylabel('true')",
            "plt.show()",
            'print(f"test accuracy {test_accuracy:.4f}  test loss {test_loss:.4f}")']
    figure = run["results"].get("test_accuracy")
    fit_text = say("fit") + ("\n\n" + say("rate_changes", count=len(rates)) if rates else "")
    return [(head + "\n\n" + say("setup"), "\n".join(setup)), (say("data"), "\n".join(data)),
            (say("model"), "\n".join(model)), (fit_text, "\n".join(fit)), (say("curves"), "\n".join(curves)),
            (say("test", accuracy=f"{figure:.4f}" if figure is not None else "-"), "\n".join(test))]


def notebook(run: dict, lang: str = "en", server_paths: bool = False, changes=()) -> str:
    """The run as a Jupyter notebook (.ipynb text): a markdown cell before each code cell."""
    import nbformat
    from nbformat import v4
    cells = []
    for markdown, code in sections(run, lang, server_paths, changes):
        cells += [v4.new_markdown_cell(markdown), v4.new_code_cell(code)]
    book = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(book)
    return nbformat.writes(book)


def script(run: dict, lang: str = "en", server_paths: bool = False, changes=()) -> str:
    """The run as a plain Python script: the markdown as comments above each step."""
    parts = []
    for markdown, code in sections(run, lang, server_paths, changes):
        comment = "\n".join(("# " + _one_line(line)).rstrip() for line in markdown.splitlines())
        parts.append(f"{comment}\n{code}\n")
    return "\n\n".join(parts)


def file_name(run: dict, suffix: str) -> str:
    """A download's name: the run's id (never anything from the server's folders)."""
    return f"digitdash-{run['id']}{suffix}"

