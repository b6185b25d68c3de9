"""A finished Keras run as code: a Jupyter notebook or a plain script that loads the same data, builds
the same network with its layers spelled out, fits it with the same seed and settings (and every
learning rate changed while it trained, at the batch where it took effect), then plots the curves
and the confusion matrix (seaborn's heatmap, as the classroom notebooks drew it) and prints the test
accuracy. The way back to the notebooks.

The code mirrors models.build layer by layer (tests/test_export.py runs the notebook and holds its
test accuracy to the run's). Only the dataset is read with DigitDash's loader, so the same names
work offline (mnist-5k included): the code runs from any folder once DigitDash is installed
(`pip install -r requirements.txt -e .`, which scripts/start.sh does), and says so in one line if not.

Every value from a run (its name, dataset, knobs) is written as a Python literal (repr) or, in the
comments and markdown, on one line with unprintable characters escaped: whatever a run holds, the
code parses and does only what the template says. A dataset's path on the server is written only
for the command line (`server_paths`): pages get the name students see (limits.public).
"""
from __future__ import annotations

import math

from digitdash.digits import datasets
from digitdash.i18n import Message, t
from digitdash.learning.controls import TIMER
from digitdash.plan import architecture, kinds, limits
from digitdash.plan.config import INITIALIZERS, ConfigError, RunConfig

NOT_KERAS = "export.not_keras"
_INITIALIZER_CLASSES = {name: "".join(part.capitalize() for part in name.split("_")) for name in INITIALIZERS}
_OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adadelta": "Adadelta",
                      "adagrad": "Adagrad", "nadam": "Nadam"}      # one per config.OPTIMIZERS


def _one_line(text) -> str:
    """Text for a comment or a markdown line: printable characters as they are, anything else
    (newlines, NUL, other controls, separators, lone surrogates) escaped as Python would write it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _class_name(table: dict, field: str, value) -> str:
    if value not in table:
        raise ConfigError(field, value, Message("config.allowed.one_of", choices=", ".join(table)))
    return table[value]


def _initializer(config: RunConfig, seed: int) -> str:
    name, s = config.initializer, config.init_stddev
    if name == "zeros":
        return '"zeros"'
    if name == "random_normal":
        return f"keras.initializers.RandomNormal(stddev={s!r}, seed={seed!r})"
    if name == "random_uniform":
        return f"keras.initializers.RandomUniform(minval=-{s!r}, maxval={s!r}, seed={seed!r})"
    return f"keras.initializers.{_class_name(_INITIALIZER_CLASSES, 'initializer', name)}(seed={seed!r})"  # GlorotUniform


def _layers(config: RunConfig, shape, classes: int) -> list[str]:
    """The Sequential's layers as lines of code, in models.build's order and with its seeds."""
    from digitdash.learning.models import BN_MOMENTUM
    seed = iter(range(config.seed, config.seed + 10_000))
    reg = (f", kernel_regularizer=keras.regularizers.L1L2(l1={config.l1!r}, l2={config.l2!r})"
           if (config.l1 or config.l2) else "")
    act = repr(config.activation)
    lines = [f"keras.Input(shape={tuple(shape)!r}),"]
    for spec in architecture.plan(config, shape, classes):
        if spec.kind == "augment":
            lines += [f'layers.RandomRotation({config.rotation / 360.0!r}, fill_mode="constant", seed={next(seed)!r}),',
                      f'layers.RandomTranslation({config.shift!r}, {config.shift!r}, fill_mode="constant", '
                      f'seed={next(seed)!r}),',
                      f'layers.RandomZoom({config.zoom!r}, fill_mode="constant", seed={next(seed)!r}),']
        elif spec.kind == "rescale":
            lines.append("layers.Rescaling(1.0 / 255),")
        elif spec.kind == "conv":
            lines.append(f"layers.Conv2D({spec.units!r}, {config.kernel_size!r}, strides={spec.stride!r}, "
                         f"padding={config.padding!r}, activation={act}, "
                         f"kernel_initializer={_initializer(config, next(seed))}{reg}),")
        elif spec.kind == "pool":
            lines.append("layers.MaxPooling2D(2),")
        elif spec.kind == "batch_norm":
            lines.append(f"layers.BatchNormalization(momentum={BN_MOMENTUM!r}),")
        elif spec.kind == "flatten":
            lines.append("layers.Flatten(),")
        elif spec.kind == "dense":
            lines.append(f"layers.Dense({spec.units!r}, activation={act}, "
                         f"kernel_initializer={_initializer(config, next(seed))}{reg}),")
        elif spec.kind == "dropout":
            lines.append(f"layers.Dropout({config.dropout!r}, seed={next(seed)!r}),")
        elif spec.kind == "output":
            lines.append(f'layers.Dense({spec.units!r}, activation="softmax", '
                         f"kernel_initializer={_initializer(config, next(seed))}),")
    return lines


def _optimizer(config: RunConfig) -> list[str]:
    from digitdash.learning.models import ONE_CYCLE_WARMUP
    lines = []
    rate = repr(config.learning_rate)
    if config.lr_schedule == "one-cycle":
        lines += ["steps_per_epoch = math.ceil(len(x_train) * (1 - VALIDATION_SPLIT) / BATCH_SIZE)",
                  "total = max(2, EPOCHS * steps_per_epoch)",
                  f"warm = max(1, int({ONE_CYCLE_WARMUP!r} * total))",
                  f"rate = keras.optimizers.schedules.CosineDecay({rate} / 10, decay_steps=total - warm, alpha=0.01,",
                  f"                                             warmup_target={rate}, warmup_steps=warm)"]
        rate = "rate"
    extra = {"sgd": f", momentum={config.momentum!r}, nesterov={config.nesterov!r}",
             "rmsprop": f", momentum={config.momentum!r}"}.get(config.optimizer, "")
    name = _class_name(_OPTIMIZER_CLASSES, "optimizer", config.optimizer)
    return lines + [f"optimizer = keras.optimizers.{name}(learning_rate={rate}{extra})"]


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


def _callbacks(config: RunConfig, notes: list[str], rates: dict[int, float]) -> list[str]:
    lines = notes + ["callbacks = []"]
    if rates:                          # the learning rate changed while it trained: first, as the run did
        lines = notes + [f"RATE_CHANGES = {rates!r}   # step -> the learning rate from that batch on", "",
                         "class RateChanges(keras.callbacks.Callback):",
                         '    """The learning rate changed while the run trained, each change at its step."""',
                         "    def __init__(self, changes):",
                         "        super().__init__()",
                         "        self.changes, self.step = changes, 0", "",
                         "    def on_train_batch_begin(self, batch, logs=None):",
                         "        if self.step in self.changes:",
                         "            self.model.optimizer.learning_rate = self.changes[self.step]",
                         "        self.step += 1", "",
                         "callbacks = [RateChanges(RATE_CHANGES)]"]
    if config.early_stopping:
        lines.append(f"callbacks.append(keras.callbacks.EarlyStopping(monitor={config.monitor!r}, "
                     f"patience={config.patience!r}, restore_best_weights={config.restore_best!r}))")
    if config.reduce_lr:
        lines.append(f"callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor={config.monitor!r}, "
                     f"factor={config.reduce_lr_factor!r}, patience={config.reduce_lr_patience!r}, min_lr=1e-6))")
    if config.loss_threshold:
        lines += ["", "class StopBelowLoss(keras.callbacks.Callback):",
                  '    """Stop when the training loss falls below the threshold."""',
                  "    def on_epoch_end(self, epoch, logs=None):",
                  f'        if logs and logs["loss"] < {config.loss_threshold!r}:',
                  "            self.model.stop_training = True", "",
                  "callbacks.append(StopBelowLoss())"]
    return lines


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
    if config.mixed_precision:
        head += "\n\n" + say("no_mixed_precision")
    setup = ["import math", "",
             "try:   # DigitDash's loader: the same dataset names as the app, offline too",
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
    model = ["keras.utils.set_random_seed(SEED)", "model = keras.Sequential(["]
    model += ["    " + line for line in _layers(config, shape, len(classes))]
    model += ["])", "model.summary()"]
    notes, rates = _changes(run, changes)
    fit = _optimizer(config) + ['model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", '
                                'metrics=["accuracy"])'] + _callbacks(config, notes, rates)
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

