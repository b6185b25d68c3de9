import json

import pytest

from digitdash.plan.config import BOUNDS, PRESETS, ConfigError, RunConfig, preset

BAD_VALUES = [
    ("architecture", "rnn"), ("layers", (0,)), ("layers", ()), ("layers", (64, -1)),
    ("conv_filters", ()), ("kernel_size", 0), ("downsampling", "avg"), ("padding", "full"),
    ("activation", "swish2"), ("initializer", "ones"), ("init_stddev", 0.0),
    ("optimizer", "lbfgs"), ("learning_rate", -0.1), ("learning_rate", 0.0),
    ("learning_rate", float("nan")), ("momentum", 1.0), ("beta_1", 1.0), ("beta_2", -0.1), ("nesterov", "yes"),
    ("batch_size", 0), ("epochs", 0), ("epochs", 2.5), ("validation_split", 1.0),
    ("validation_split", -0.1), ("dropout", 1.0), ("l1", -1.0), ("l2", 2.0), ("batch_norm", 1),
    ("augment", None), ("rotation", 400.0), ("shift", 0.9), ("zoom", 1.0),
    ("early_stopping", "no"), ("monitor", "val_f1"), ("patience", -1), ("restore_best", 0),
    ("loss_threshold", -0.5), ("reduce_lr", "x"), ("reduce_lr_factor", 1.0),
    ("reduce_lr_patience", -2), ("output_units", -5), ("seed", -1), ("dataset", ""),
    ("mixed_precision", "fast"),
    ("class_drawings", "yes"),
    ("written", "yes"),
    ("lr_schedule", "cyclic"),
]


@pytest.mark.parametrize("field,value", BAD_VALUES)
def test_every_bad_value_is_rejected_with_field_value_and_allowed(field, value):
    cfg = RunConfig(architecture="cnn") if field in ("conv_filters", "kernel_size") else RunConfig()
    with pytest.raises(ConfigError) as err:
        cfg.replace(**{field: value}).validate(10)
    assert err.value.field == field
    message = str(err.value)
    assert message.startswith(f"{field}=") and "not allowed" in message
    assert repr(value) in message


def test_every_field_has_a_bad_value_case():
    fields = set(RunConfig().to_dict())
    assert fields - {f for f, _ in BAD_VALUES} == set()


def test_output_size_must_match_classes():
    with pytest.raises(ConfigError, match="output_units=5 .*10 \\(one per class"):
        RunConfig(output_units=5).validate(10)
    RunConfig(output_units=10).validate(10)


def test_cross_field_rules():
    with pytest.raises(ConfigError, match="nesterov"):
        RunConfig(optimizer="adam", nesterov=True).validate()
    with pytest.raises(ConfigError, match="monitor"):
        RunConfig(early_stopping=True, validation_split=0.0).validate()
    RunConfig(early_stopping=True, validation_split=0.0, monitor="loss").validate()


def test_json_round_trip_keeps_every_field():
    cfg = RunConfig(architecture="cnn", layers=(256, 64), conv_filters=(8, 16, 32), dropout=0.25,
                    optimizer="sgd", momentum=0.9, nesterov=True, loss_threshold=0.05)
    again = RunConfig.from_json(cfg.to_json())
    assert again == cfg
    assert json.loads(cfg.to_json())["conv_filters"] == [8, 16, 32]


def test_unknown_key_is_a_config_error():
    with pytest.raises(ConfigError, match="neurons"):
        RunConfig.from_dict({"neurons": 5})
    with pytest.raises(ConfigError, match="a known setting"):
        RunConfig().with_settings({"neurons": "5"})


def test_settings_parse_by_field_type():
    cfg = RunConfig().with_settings({"layers": "512-128", "epochs": "3", "learning_rate": "0.01",
                                     "batch_norm": "true", "activation": "sigmoid"})
    assert cfg.layers == (512, 128) and cfg.epochs == 3 and cfg.learning_rate == 0.01
    assert cfg.batch_norm is True and cfg.activation == "sigmoid"
    with pytest.raises(ConfigError, match="epochs='three' .*a whole number"):
        RunConfig().with_settings({"epochs": "three"})


def test_presets_rebuild_the_notebooks_networks():
    assert set(PRESETS) == {"mlp-512", "mlp-256-128", "mlp-128-64-dropout", "mlp-512-128-dropout",
                            "cnn-basic", "cnn-dropout", "cnn-bn-aug", "net1", "net2", "cnn-hands", "cnn-fast",
                            "random-forest", "sklearn-mlp", "logreg", "svc", "numpy-mlp"}
    for cfg in PRESETS.values():
        cfg.validate(10)
    final = preset("mlp-512-128-dropout")
    assert final.layers == (512, 128) and final.dropout == 0.3 and final.learning_rate == 0.0005
    assert final.optimizer == "adam" and final.batch_size == 32 and final.validation_split == 0.25
    best = preset("cnn-bn-aug")
    assert best.batch_norm and best.augment and best.early_stopping and best.patience == 5
    assert best.restore_best and best.reduce_lr and best.layers == (256,) and best.dropout == 0.5
    assert preset("net1").optimizer == preset("net2").optimizer == "adadelta"
    assert preset("net2").downsampling == "stride-last"
    with pytest.raises(ConfigError, match="preset='mlp-9'"):
        preset("mlp-9")
    fast = preset("cnn-fast")
    assert fast.lr_schedule == "one-cycle" and (fast.beta_1, fast.beta_2) == (0.7, 0.9)
    assert fast.augment and (fast.rotation, fast.shift, fast.zoom) == (0.0, 0.05, 0.0)    # moves only


@pytest.mark.slow
def test_a_one_cycle_schedule_warms_up_then_cools_down_and_refuses_reduce_lr():
    from digitdash.learning.models import learning_rate
    config = preset("cnn-fast")
    schedule = learning_rate(config, steps_per_epoch=100)
    total = config.epochs * 100
    warm = total // 4
    rates = [float(schedule(step)) for step in (0, warm // 2, warm, (warm + total) // 2, total - 1)]
    assert rates[0] == pytest.approx(config.learning_rate / 10, rel=1e-6)
    assert rates[2] == pytest.approx(config.learning_rate, rel=1e-6)
    assert rates[0] < rates[1] < rates[2] > rates[3] > rates[4] and rates[4] < config.learning_rate / 50
    with pytest.raises(ConfigError, match="reduce_lr"):
        config.replace(reduce_lr=True).validate()
    assert learning_rate(RunConfig(), 100) == RunConfig().learning_rate


@pytest.mark.parametrize("field", sorted(set(BOUNDS) - {"layers", "conv_filters"}))
def test_the_forms_range_is_exactly_what_validate_accepts(field):
    low, high = BOUNDS[field].form_range()
    step = BOUNDS[field].step
    base = RunConfig(architecture="cnn")
    for value in (low, high):
        base.replace(**{field: value}).validate()
    for value in (low - step, high + step):
        with pytest.raises(ConfigError) as err:
            base.replace(**{field: value}).validate()
        assert err.value.field == field


def test_a_name_knob_with_non_ascii_text_is_one_message_not_a_traceback(digitdash_home):
    from conftest import cli
    out = cli("train", "--set", "activation=é", home=digitdash_home)
    assert out.returncode == 2 and "activation='é' is not allowed: one of linear" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("key", ["dataset", "neurons", "DATASET"])
def test_a_setting_must_be_a_knob_and_the_dataset_is_not_one(key):
    """--set dataset=... was taken and then silently replaced by --dataset: it is refused instead, and
    the refusal lists the knobs (the dataset not among them)."""
    with pytest.raises(ConfigError) as err:
        RunConfig().with_settings({key: "../../etc"})
    allowed = str(err.value).split("a known setting (")[1].split(")")[0].split(", ")
    assert err.value.field == key and "dataset" not in allowed
    assert {"epochs", "layers", "learning_rate", "seed"} <= set(allowed)
    assert "--dataset" in str(err.value)


def test_every_preset_has_its_own_summary_and_mlp_summaries_stay_short():
    """A run's default name is its summary: cnn-basic and cnn-dropout must not both read 'cnn c32-c64 d128'."""
    summaries = {name: cfg.summary() for name, cfg in PRESETS.items()}
    assert len(set(summaries.values())) == len(summaries), summaries
    assert summaries["mlp-512"] == "mlp 512" and summaries["cnn-basic"] == "cnn c32-c64 d128"
    assert summaries["cnn-dropout"] == "cnn c32-c64 d128 drop0.5"
    assert all(len(s) <= 20 for name, s in summaries.items() if name.startswith("mlp")), summaries
    assert all(len(s) <= 50 for s in summaries.values()), summaries     # cnn-fast's 47 the longest
    words = lambda **knobs: RunConfig(**knobs).summary().split()[2:]   # noqa: E731  (after "mlp 512")
    assert words(batch_norm=True, augment=True, l2=0.001) == ["bn", "l2=0.001", "aug"]
    assert words(optimizer="sgd", activation="sigmoid") == ["sigmoid", "sgd"]
    assert words(optimizer="adam", epochs=30, batch_size=128) == []      # defaults and training length say nothing
