"""AppTest on the Train page's logic: widgets -> config, validation, the disabled Train button."""
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.parts.train_form import config_from_state, load_preset
from digitdash.plan.config import PRESETS, ConfigError, RunConfig

from conftest import ROOT


def page():
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=60)
    return at.run()


def preset_box(at):
    """The preset box: a new widget (preset-<n>) each time the page changes what it names."""
    (box,) = [s for s in at.selectbox if (s.key or "").startswith("preset-")]
    return box


def test_every_preset_round_trips_through_the_widgets():
    for name, cfg in PRESETS.items():
        state = {}
        load_preset(name, state)
        assert config_from_state(state, "mnist-5k") == cfg.replace(dataset="mnist-5k")


def test_text_and_number_widgets_become_typed_config_fields():
    state = {}
    load_preset("mlp-512", state)
    state.update({"cfg-layers": "1024-128", "cfg-learning_rate": 1, "cfg-activation": "sigmoid"})
    cfg = config_from_state(state, "mnist-5k")
    assert cfg.layers == (1024, 128) and cfg.learning_rate == 1.0 and cfg.activation == "sigmoid"
    state["cfg-layers"] = "512-zero"
    with pytest.raises(ConfigError, match="layers='512-zero'"):
        config_from_state(state, "mnist-5k")


def test_page_shows_summary_and_enables_train():
    at = page()
    assert not at.exception
    assert at.button(key="train").disabled is False
    assert [m.value for m in at.metric][:2] == ["407,050", "0.81"]


def test_changing_a_knob_updates_params_before_training():
    at = page()
    at.text_input(key="cfg-layers").set_value("216").run()
    assert at.metric[0].value == f"{784 * 216 + 216 + 216 * 10 + 10:,}"
    at.selectbox(key="cfg-architecture").select("cnn").run()
    assert at.text_input(key="cfg-conv_filters").value == "32-64"
    assert at.button(key="train").disabled is False


@pytest.mark.parametrize("key,value,needle", [
    ("cfg-layers", "0", "layers=(0,) is not allowed"),
    ("cfg-output_units", 5, "output_units=5 is not allowed"),
])
def test_an_invalid_combination_shows_the_message_and_disables_train(key, value, needle):
    at = page()
    widget = at.text_input(key=key) if key == "cfg-layers" else at.number_input(key=key)
    widget.set_value(value).run()
    assert any(needle in e.value for e in at.error)
    assert at.button(key="train").disabled is True


def test_picking_a_preset_loads_its_values():
    at = page()
    preset_box(at).select("mlp-512-128-dropout").run()
    assert at.text_input(key="cfg-layers").value == "512-128"
    assert at.slider(key="cfg-dropout").value == 0.3
    assert at.number_input(key="cfg-learning_rate").value == pytest.approx(0.0005)


def test_train_queues_a_run_owned_by_the_session(digitdash_home):
    at = page()
    at.number_input(key="cfg-epochs").set_value(1)
    at.text_input(key="cfg-layers").set_value("16").run()
    at.button(key="train").click().run()
    from digitdash.runs.store import Store
    runs = Store(digitdash_home).runs()
    assert len(runs) == 1 and runs[0]["config"].layers == (16,) and runs[0]["owner"]
    assert runs[0]["owner"] == at.session_state["owner"]
    assert at.session_state["watch"] == runs[0]["id"]


def test_a_baseline_preset_shows_its_note_and_parameter_count():
    at = page()
    preset_box(at).select("logreg").run()
    assert not at.exception and at.metric[0].value == f"{784 * 10 + 10:,}"
    assert any("Logistic regression" in c.value for c in at.caption)
    preset_box(at).select("random-forest").run()
    assert at.metric[0].value == "n/a" and at.button(key="train").disabled is False


def test_run_names_are_shown_as_typed_never_as_markup():
    from markdown_it import MarkdownIt

    from app_pages.parts.language import plain
    name = "**bold** <b>x</b> [link](http://x) :red[hi] $x$ # title"
    html = MarkdownIt().render(plain(name))
    assert "<strong>" not in html and "<a " not in html and "<b>" not in html and "<h1>" not in html
    html = html.replace("\u2060", "")        # text.WORD_JOINER: keeps a bare address from becoming a link
    assert "**bold**" in html and "[link](http://x)" in html and "&lt;b&gt;" in html


def test_a_waiting_run_shows_a_waiting_state_not_empty_charts(digitdash_home):
    from digitdash.runs.store import Store
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(layers=(16,), epochs=3), owner="teacher")
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=60)
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception and at.session_state["watch"] == run_id
    charts = [c.proto.id for c in at.get("plotly_chart")]
    assert not any("live-curves" in c or "gap-bars" in c for c in charts)
    assert any("first batches" in i.value for i in at.info)


def test_the_watch_box_names_runs_without_a_status_that_could_go_stale(digitdash_home):
    from digitdash.runs.store import Store
    store = Store(digitdash_home)
    store.create(RunConfig(layers=(16,)), name="waiting one", owner="teacher")
    done = store.create(RunConfig(layers=(16,)), name="finished one", owner="teacher")
    store.finish(done, "done", "", {"test_accuracy": 0.9, "test_loss": 0.3})
    at = page()
    box = at.selectbox(key="watch-run")
    assert box.options[1:] == ["finished one (teacher)", "waiting one (teacher)"]     # newest first, no status
    assert box.options[0].startswith("(none yet")


def test_a_shared_link_fills_the_form_and_the_form_goes_back_into_the_link():
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=60)
    at.query_params.update({"layers": "256-128", "dropout": "0.3", "optimizer": "sgd", "epochs": "lots",
                            "colour": "red", "run": "", "dataset": "mnist-5k"})
    at.run()
    assert not at.exception
    assert at.session_state["cfg-layers"] == "256-128" and at.session_state["cfg-dropout"] == 0.3
    assert at.session_state["cfg-optimizer"] == "sgd" and at.session_state["cfg-epochs"] == RunConfig().epochs
    (notice,) = [i.value for i in at.info if "left out" in i.value]
    assert "colour" in notice and "epochs" in notice
    assert at.query_params["layers"] == "256-128" and at.query_params["optimizer"] == "sgd"
    assert "colour" not in at.query_params and "epochs" not in at.query_params     # the URL now holds the form
    at.text_input(key="cfg-layers").set_value("64").run()
    assert at.query_params["layers"] == "64" and not [i for i in at.info if "left out" in i.value]


def test_a_link_from_a_preset_recreates_it_exactly():
    from digitdash.plan import share
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=60)
    at.query_params.update(share.to_params(PRESETS["cnn-bn-aug"]))
    at.run()
    assert config_from_state(at.session_state, "mnist-5k") == PRESETS["cnn-bn-aug"].replace(dataset="mnist-5k")


def test_a_links_unknown_names_are_shown_as_typed_never_as_markup():
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=60)
    at.query_params.update({"[click](http://x.example)": "1", **{f"k{i}": "1" for i in range(12)}})
    at.run()
    (notice,) = [i.value for i in at.info if "left out" in i.value]
    assert r"\[click\]" in notice and "[click](" not in notice                      # escaped: no link
    assert notice.count(", ") == 7 and "(+5)" in notice                               # 8 named, the rest counted


def test_the_preset_box_names_what_the_form_holds_and_always_loads_a_choice():
    from digitdash.plan import share
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=60)
    for key, value in share.to_params(PRESETS["mlp-128-64-dropout"]).items():   # a shared link
        at.query_params[key] = value
    at.run()
    assert preset_box(at).value == "mlp-128-64-dropout"
    at.selectbox(key="cfg-architecture").set_value("cnn").run()                   # a knob differs from every preset
    assert preset_box(at).value == "custom"
    preset_box(at).set_value("mlp-512").run()                          # choosing a preset loads it
    assert at.session_state["cfg-architecture"] == "mlp" and at.session_state["cfg-layers"] == "512"
    assert preset_box(at).value == "mlp-512"
    at.session_state["cfg-epochs"] = 7
    at.run()
    assert preset_box(at).value == "custom"


def test_a_family_trains_the_epochs_the_form_shows_and_says_so():
    at = page()
    at.number_input(key="cfg-epochs").set_value(3).run()
    at.selectbox(key="family").set_value("activation").run()
    said = [c.value for c in at.caption if "runs, " in c.value]
    assert said and "3 epochs each" in said[0]


def test_the_progress_bar_and_its_text_come_from_one_figure():
    from digitdash.runs import estimate
    epochs = [{"epoch": 1, "seconds": 10.0}]
    fraction, left = estimate.progress(epochs, 5, last_step=149, steps_per_epoch=100)   # half of epoch 2
    assert fraction == pytest.approx(0.3) and left == pytest.approx(35.0)
    assert estimate.progress(epochs * 4, 4, 399, 100) == (1.0, 0.0)                    # all done: the test remains
    assert estimate.progress(epochs, 5, None, None)[0] == pytest.approx(0.2)
