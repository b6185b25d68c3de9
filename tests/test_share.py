"""Links that carry a Train form or a Compare selection: round trips, and bad parameters ignored."""
from hypothesis import given, settings
from hypothesis import strategies as st

from digitdash.plan import share
from digitdash.plan.config import BOUNDS, PRESETS, RunConfig


def test_every_preset_round_trips_through_a_link():
    for name, config in PRESETS.items():
        params = share.to_params(config)
        back, ignored = share.from_params(params)
        assert ignored == [] and (back or RunConfig()).replace(dataset=config.dataset) == config, name
    assert share.to_params(RunConfig()) == {}                      # defaults make no parameters
    assert share.to_params(PRESETS["mlp-512-128-dropout"]) == {"layers": "512-128", "dropout": "0.3",
                                                               "learning_rate": "0.0005"}


def test_bad_and_unknown_parameters_are_named_and_the_rest_kept():
    config, ignored = share.from_params({"layers": "256-128", "epochs": "lots", "colour": "red", "run": "x",
                                         "dropout": "2", "optimizer": "sgd", "nesterov": "true",
                                         "learning_rate": "9" * 200})
    assert config.layers == (256, 128) and config.optimizer == "sgd" and config.nesterov
    assert sorted(ignored) == ["colour", "dropout", "epochs", "learning_rate"]
    config, ignored = share.from_params({"nesterov": "true"})     # nesterov without sgd: dropped, not an error
    assert config is None and ignored == ["nesterov"]
    assert share.from_params({}) == (None, [])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*RunConfig().to_dict(), "x", "run"]), st.text(max_size=30), max_size=6))
def test_no_link_raises(params):
    config, ignored = share.from_params(params)
    assert config is None or config.validate() is config or config.validate()


def test_run_ids_from_a_compare_link():
    assert share.run_ids("a, b,,c") == ["a", "b", "c"]
    assert share.run_ids(None) == [] and len(share.run_ids(",".join(map(str, range(50))))) == share.MAX_RUNS
    assert share.run_ids("ok,ünï,\u0661") == ["ok"]


def test_a_link_value_the_train_form_cannot_show_is_ignored_not_a_broken_page():
    """validate takes momentum 0.995 and beta_1 0.995, but the form's sliders stop a step short of 1: such
    a link is one "ignored" note, never a value Streamlit's slider refuses with an error on every rerun."""
    config, ignored = share.from_params({"beta_1": "0.995", "beta_2": "0.9999", "momentum": "0.995",
                                         "optimizer": "adam", "learning_rate": "0.000001"})
    assert sorted(ignored) == ["beta_1", "learning_rate", "momentum"]
    assert config.beta_2 == 0.9999 and config.optimizer == "adam"
    for key, (low, high) in ((k, BOUNDS[k].form_range()) for k in ("beta_1", "beta_2", "momentum")):
        assert low <= getattr(config, key) <= high
