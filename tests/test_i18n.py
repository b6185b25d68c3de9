"""English and Spanish: the two catalogues match, the code only shows catalogue text, and every
page renders in Spanish without an English sentence left over."""
import ast
import json
import re
import string

import numpy as np
import pytest
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from digitdash import i18n
from digitdash.i18n import Message
from digitdash.plan.config import RunConfig
from digitdash.runs.store import STATUSES

from conftest import ROOT

EN, ES = i18n.catalogue("en"), i18n.catalogue("es")
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "app_pages").rglob("*.py")),
            *sorted((ROOT / "digitdash" / "reading" / "charts").rglob("*.py"))]
ALL_FILES = [*UI_FILES, *sorted(set((ROOT / "digitdash").rglob("*.py")) - set(UI_FILES))]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_hold_the_same_keys_and_placeholders():
    assert sorted(EN) == sorted(ES)
    for key in EN:
        assert EN[key].strip() and ES[key].strip(), key
        assert placeholders(EN[key]) == placeholders(ES[key]), key


def test_both_catalogues_break_lines_and_escape_alike():
    """A line break is the same in both files: no literal backslash-n shown to a student in one language."""
    for key in EN:
        for text in (EN[key], ES[key]):
            assert "\\n" not in text and "\\t" not in text, (key, text)
        assert EN[key].count("\n") == ES[key].count("\n"), key
        assert EN[key].count("\\") == ES[key].count("\\"), key


def test_the_spanish_catalogue_is_translated():
    same = [k for k in EN if EN[k] == ES[k] and len(EN[k]) > 12 and placeholders(EN[k]) != {EN[k].strip("{}")}]
    assert same == ["common.language"], same   # the selector's own label is bilingual on purpose


def test_messages_say_themselves_in_either_language_and_survive_json():
    msg = Message("config.error", field="epochs", value="0",
                  allowed=Message("config.allowed.int_range", low=1, high=1000))
    assert msg == "epochs=0 is not allowed: a whole number from 1 to 1000."
    assert i18n.say(msg, "es") == "epochs=0 no está permitido: un número entero de 1 a 1000."
    again = i18n.from_json(msg.to_json())
    assert again == msg and again.key == "config.error" and i18n.say(again, "es") == i18n.say(msg, "es")
    assert i18n.from_json("not json", "plain old text") == "plain old text"
    assert i18n.from_json('{"key": "no.such.key"}', "kept") == "kept"


@pytest.mark.parametrize("locale, code", [("es-GT", "es"), ("es", "es"), ("en-US", "en"), (None, "en"),
                                          ("fr-FR,es;q=0.8", "es"), ("de-DE", "en")])
def test_browser_locale_picks_the_catalogue(locale, code):
    assert i18n.language_of(locale) == code


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            yield name, node.args[0].value


def test_every_literal_catalogue_key_in_the_code_exists():
    looked_up = 0
    for path in ALL_FILES:
        for name, first in _calls(ast.parse(path.read_text())):
            if name in ("t", "Message") or name.endswith("Error") and "." in first and " " not in first:
                assert first in EN, f"{path.name}: {name}({first!r}) has no catalogue entry"
                looked_up += 1
    assert looked_up > 150


PROBLEMS = {"Problem", "ConfigError", "DatasetError", "ImageError", "ModelError", "StoreError"}


def test_every_translatable_error_is_raised_with_a_catalogue_key():
    raised = 0
    for path in ALL_FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in PROBLEMS and node.args:
                first = node.args[0]
                if getattr(node.func, "id") == "ConfigError":     # (field, value, Message)
                    continue
                raised += 1
                assert isinstance(first, ast.Constant) and first.value in EN, f"{path.name}:{node.lineno}"
    assert raised > 30


def test_keys_built_from_names_exist():
    for field in RunConfig().to_dict():
        if field != "dataset":
            assert f"knob.{field}.label" in EN and f"knob.{field}.help" in EN, field
    for status in STATUSES:
        assert f"status.{status}" in EN
    from digitdash.plan.kinds import BASELINES
    for kind in BASELINES:
        assert f"baseline.{kind}" in EN
    for key in ("accuracy", "loss"):
        for prefix in ("train_", "val_", "cross_"):
            assert f"chart.{prefix}{key}" in EN
        assert f"chart.{key}_gap" in EN


# Keyword arguments whose strings are identifiers, not text a person reads.
TECHNICAL_KWARGS = {"key", "icon", "page_icon", "format", "type", "url_path", "layout", "mime", "selection_mode",
                    "on_select", "drawing_mode", "stroke_color", "background_color", "barmode", "line_dash",
                    "line_color", "annotation_position", "colorscale", "symbol", "color", "dash", "mode",
                    "orientation", "texttemplate", "yaxis_type", "legendgroup", "marker_color", "label_visibility"}
PHRASE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}|^[A-Z][a-z]{2,}$")


def _docstrings(tree) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            ids.add(id(node.body[0].value))
    return ids


def _exempt(tree) -> set[int]:
    """Strings that are catalogue keys, page paths or technical keyword values."""
    ids = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in TECHNICAL_KWARGS:
            ids.update(id(n) for n in ast.walk(node.value))
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("t", "Message", "Page", "page_link", "from_file") and node.args:
                ids.update(id(n) for n in ast.walk(node.args[0]))
            if name in LOG_CALLS and isinstance(node.func, ast.Attribute) and _is_logger(node.func.value):
                ids.update(id(n) for n in ast.walk(node))      # the server's log, read by the teacher
    return ids


LOG_CALLS = ("debug", "info", "warning", "error", "exception")


def _is_logger(node) -> bool:
    """`_LOG` / `logger` names, or `logging.getLogger(...)`."""
    if isinstance(node, ast.Name):
        return node.id.lower().lstrip("_") in ("log", "logger")
    return isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "getLogger"


def test_no_interface_string_bypasses_the_catalogue():
    offenders = []
    for path in UI_FILES:
        tree = ast.parse(path.read_text())
        exempt = _exempt(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in exempt \
                    and PHRASE.search(node.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_the_bypass_check_catches_a_hard_coded_label(tmp_path):
    tree = ast.parse('import streamlit as st\nst.button("Train now", key="train")\nst.title(t("train.title"))\n')
    exempt = _exempt(tree)
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and id(n) not in exempt and PHRASE.search(n.value)]
    assert found == ["Train now"]


# ---- rendered pages ------------------------------------------------------------------------------
def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def rendered_text(at: AppTest) -> str:
    """Every string the page sent to the browser: labels, help, bodies, options, chart specs."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.extend(_strings(MessageToDict(proto)))
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else children or []):
            walk(child)
    walk(at._tree)
    return "\n".join(out)


def english_only_fragments() -> set[str]:
    """Pieces of English catalogue text (between placeholders) that the Spanish text does not share."""
    spanish = "\n".join(ES.values())
    pieces = set()
    for key, text in EN.items():
        if key == "common.language" or EN[key] == ES[key] or re.fullmatch(r"[a-z0-9_]+", EN[key]):
            continue           # a config key as a table heads it in English (early_stopping) is no sentence
        for part in re.split(r"\{[^}]*\}|\*\*|\\n", text):
            part = part.strip(" .,:;()-")
            if len(part) >= 14 and part not in spanish:
                pieces.add(part)
    return pieces


@pytest.fixture(scope="module")
def two_trained_runs(tmp_path_factory):
    """A store with two trained runs, trained once for the module."""
    from digitdash.bench import _engine_fit
    from digitdash.digits.datasets import load
    from digitdash.runs.store import Store

    from conftest import at_home
    with at_home(tmp_path_factory.mktemp("i18n-runs")) as home:
        store = Store(home)
        data = load("mnist-5k")
        ids = [_engine_fit(RunConfig(layers=(n,), epochs=2), data, store)[1] for n in (16, 32)]
    return home, ids


@pytest.fixture
def finished_run(two_trained_runs, digitdash_home):
    """This test's home: a copy of the two trained runs' store (the pages may write to it)."""
    from conftest import copy_home
    home, ids = two_trained_runs
    copy_home(home, digitdash_home)
    return ids


@pytest.mark.parametrize("page", ["home", "train", "compare", "draw", "data", "inside"])
def test_every_page_renders_in_spanish_without_english_left(finished_run, page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["language"] = "Español"
    at.run()
    if page != "home":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    text = rendered_text(at)
    assert at.selectbox(key="language").value == "Español"
    leftovers = sorted(p for p in english_only_fragments() if p in text)
    assert leftovers == []
    title = {"home": "home.title", "train": "train.title", "compare": "compare.title", "draw": "draw.title",
             "data": "data.title", "inside": "inside.title"}[page]
    assert ES[title] in text


def test_switching_language_keeps_the_settings():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/train.py").run()
    at.number_input(key="cfg-epochs").set_value(7).run()
    at.selectbox(key="cfg-activation").set_value("sigmoid").run()
    assert at.title[0].value == EN["train.title"]
    at.selectbox(key="language").set_value("Español").run()
    assert at.title[0].value == ES["train.title"]
    assert at.number_input(key="cfg-epochs").value == 7 and at.selectbox(key="cfg-activation").value == "sigmoid"
    assert at.number_input(key="cfg-epochs").label == ES["knob.epochs.label"]
    assert json.dumps(at.number_input(key="cfg-epochs").help) == json.dumps(ES["knob.epochs.help"])


WIDGETS = {"selectbox", "text_input", "number_input", "slider", "checkbox", "radio", "toggle", "button",
           "download_button", "multiselect", "file_uploader"}


def test_every_control_has_hover_help_from_the_catalogue():
    missing, controls = [], 0
    for path in sorted((ROOT / "app_pages").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WIDGETS:
                controls += 1
                helps = [k.value for k in node.keywords if k.arg == "help"]
                if not helps or not (isinstance(helps[0], ast.Call) and getattr(helps[0].func, "id", "") == "t"):
                    missing.append(f"{path.name}:{node.lineno} {node.func.attr}")
    assert controls > 30 and missing == []


def test_spanish_labels_fit_where_the_english_ones_do():
    """A control's label is read in a column made for the English one: the Spanish may not run much longer."""
    keys = [k for k in EN if k.endswith(".label")] + ["compare.all_knobs", "compare.filter", "compare.family"]
    long = [(k, ES[k]) for k in keys if len(ES[k]) > max(len(EN[k]) * 1.25, len(EN[k]) + 8)]
    assert long == []


def test_the_draw_pages_threshold_choices_and_step_names_speak_spanish(finished_run):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["language"] = "Español"
    at.run()
    at.switch_page("app_pages/draw.py").run()
    assert not at.exception
    assert at.radio(key="threshold").options == ["otsu", "adaptativo"]
    from digitdash.digits import preprocess
    gray = np.zeros((60, 60), np.uint8)
    gray[15:45, 27:33] = 255
    steps = [i18n.say(name, "es") for name, _ in preprocess.prepare(gray, threshold="adaptive").steps]
    assert "umbral (adaptativo)" in steps and not any("adaptive" in s for s in steps)


def test_no_spinner_shows_a_function_name():
    """Streamlit's cache says "Running f()." unless told otherwise: every cache is told."""
    unsaid = []
    for path in UI_FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            for deco in getattr(node, "decorator_list", []):
                call = deco if isinstance(deco, ast.Call) else None
                target = ast.unparse(call.func if call else deco)
                if target in ("st.cache_data", "st.cache_resource"):
                    said = {k.arg: k.value for k in (call.keywords if call else [])}
                    if not (isinstance(said.get("show_spinner"), ast.Constant) and said["show_spinner"].value is False):
                        unsaid.append(f"{path.name}:{node.name}")
    assert unsaid == []


# ---- numbers, the device and the tables said in Spanish ----------------------------------------

# English words that a Spanish page must not show (names such as relu, sgd or MFLOPs are not words).
ENGLISH_WORDS = {"class", "cores", "core", "more", "constant", "linear", "zeros", "none", "activation",
                 "precision", "recall", "support", "device", "best", "worst"}


def _words(text):
    return {w.lower() for w in re.findall(r"[A-Za-z]+", str(text))}


def test_numbers_are_written_as_each_language_writes_them():
    assert i18n.number(4000, "en") == "4,000" and i18n.number(4000, "es") == "4.000"
    assert i18n.number(1234567.5, "es", ",.1f") == "1.234.567,5" and i18n.number(0.975, "es", ".1%") == "97,5%"
    assert i18n.number(0.001, "es", "g") == "0,001" and i18n.number(12, "es") == "12"
    msg = Message("dataset.folder_too_many", folder="…/x", most=100_000)
    assert "100,000" in msg and "100.000" in i18n.say(msg, "es")
    lesson = Message("lesson.neurons_gain", small="216", large="1024", small_params=171730,
                     large_params=814090, points=1.5)
    assert "171.730" in i18n.say(lesson, "es") and "1,5 puntos" in i18n.say(lesson, "es")
    assert "171,730" in lesson and "1.5 points" in lesson                        # English as it was
    assert i18n.say(Message("config.allowed.int_range", low=1, high=1000), "es") == "un número entero de 1 a 1000"


def test_the_device_is_said_in_the_sessions_language(monkeypatch):
    from digitdash.learning import device
    monkeypatch.setattr(device.os, "cpu_count", lambda: 2)
    for text in (device.badge("es"), device.cpu_name("es"), device.said("CPU: AMD EPYC 7B13 (2 cores)", "es")):
        assert "2 núcleos" in text and not _words(text) & ENGLISH_WORDS, text
    assert device.said("CPU: AMD EPYC 7B13 (2 cores)", "en") == "CPU: AMD EPYC 7B13 (2 cores)"
    assert device.said("CPU: X (1 core)", "es") == "CPU: X (1 núcleo)" and device.said(None, "es") is None
    monkeypatch.setattr(device, "gpu_names", lambda: ("NVIDIA H200", "NVIDIA H200"))
    assert device.badge("es") == "GPU: NVIDIA H200 (+1 más)" and device.badge() == "GPU: NVIDIA H200 (+1 more)"


def test_knob_values_that_are_words_are_said_in_spanish():
    assert i18n.say(i18n.knob_value("lr_schedule", "constant"), "es") == "constante"
    assert i18n.say(i18n.knob_value("activation", "linear"), "es") == "lineal"
    assert i18n.knob_value("activation", "relu") == "relu" and i18n.knob_value("layers", "512-128") == "512-128"
    from digitdash.plan.config import ACTIVATIONS, DOWNSAMPLING, INITIALIZERS, LR_SCHEDULES
    for knob, values in (("activation", ACTIVATIONS), ("initializer", INITIALIZERS), ("lr_schedule", LR_SCHEDULES),
                         ("downsampling", DOWNSAMPLING)):
        for value in values:
            assert not _words(i18n.say(i18n.knob_value(knob, value), "es")) & ENGLISH_WORDS, (knob, value)


def test_compare_in_spanish_shows_no_english_header_or_cell(digitdash_home):
    """The classification report's index ("class"), the runs table's lr_schedule values and the
    device a run used, all in Spanish."""
    from digitdash.bench import _engine_fit
    from digitdash.digits.datasets import load
    from digitdash.runs.store import Store
    store = Store(digitdash_home)
    data = load("mnist-5k")
    for layers, schedule in (((16,), "constant"), ((32,), "one-cycle")):
        _engine_fit(RunConfig(layers=layers, epochs=1, lr_schedule=schedule), data, store)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["language"] = "Español"
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    reports = [d.value for d in at.dataframe if "soporte" in d.value.columns]
    assert len(reports) == 2
    for report in reports:
        headers = [*report.columns, *report.index.names]
        assert "clase" in headers and not set().union(*map(_words, headers)) & ENGLISH_WORDS, headers
    runs = at.dataframe[0].value
    assert sorted(runs[ES["column.lr_schedule"]]) == ["constante", "un ciclo"]
    cells = [str(v) for v in runs[ES["column.device"]]]
    assert all("núcleo" in c or c.startswith("GPU") for c in cells) and not _words(" ".join(cells)) & ENGLISH_WORDS
