"""Families of runs: templates, one or two knobs varied, launched as one group (pages and CLI)."""
import json

import pytest

from digitdash.plan import experiments
from digitdash.plan.config import RunConfig
from digitdash.runs.store import Store
from digitdash.workers.runners import LocalRunner, Runner

from conftest import cli, finished, wait_for


@pytest.mark.slow
def test_a_three_run_experiment_lands_as_one_group(seeded):
    runner = LocalRunner(Store(), workers=1)        # the family waits in the queue: one worker trains all three
    base = RunConfig(layers=(16,), epochs=1)
    group, ids = experiments.launch(runner, base, {"activation": ["linear", "relu", "sigmoid"]}, "activation")
    try:
        runs = [wait_for(finished(runner.store, i)) for i in ids]
    finally:
        runner.shutdown(timeout=10)
    assert {r["grp"] for r in runs} == {group} and len(ids) == 3
    assert [r["config"].activation for r in runs] == ["linear", "relu", "sigmoid"]
    assert all(r["status"] == "done" for r in runs)


def test_templates_and_two_knob_families():
    base, vary = experiments.template("neurons", "mnist-5k")
    assert [c.layers for c in experiments.expand(base, vary)] == [(216,), (512,), (1024,)]
    for name in ("activation", "initializer", "optimizer", "epochs"):
        assert len(experiments.expand(*experiments.template(name, "mnist-5k"))) == 3
    vary = experiments.parse_vary(["layers=216,512-128", "optimizer=sgd,adam"], RunConfig())
    configs = experiments.expand(RunConfig(), vary)
    assert len(configs) == 4 and configs[1].layers == (216,) and configs[1].optimizer == "adam"
    assert configs[2].layers == (512, 128)
    without, with_them = experiments.expand(*experiments.template("our-drawings", "mnist-5k"))  # one click
    assert (without.class_drawings, with_them.class_drawings) == (False, True)
    assert without.replace(class_drawings=True) == with_them


@pytest.mark.slow
def test_cli_experiment_groups_its_runs(seeded, digitdash_home):
    out = cli("experiment", "--vary", "layers=8,16", "--set", "epochs=1", "--json", home=digitdash_home)
    assert out.returncode == 0, out.stderr[-1500:]
    runs = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(runs) == 2 and runs[0]["group"] == runs[1]["group"] and runs[0]["group"]
    assert [r["config"]["layers"] for r in runs] == [[8], [16]]


def test_each_optimizer_runs_at_its_own_keras_rate_unless_a_rate_is_chosen():
    base, vary = experiments.template("optimizer", "mnist-5k")
    configs = experiments.expand(base, vary)
    assert [(c.optimizer, c.learning_rate) for c in configs] == [("sgd", 0.01), ("adam", 0.001), ("rmsprop", 0.001)]
    assert [experiments.label(c, vary) for c in configs][0] == "optimizer = sgd (lr 0.01)"   # the form says it
    chosen = experiments.expand(base.replace(learning_rate=0.005), vary)          # the student's own rate
    assert {c.learning_rate for c in chosen} == {0.005}
    both = experiments.parse_vary(["optimizer=sgd,adam", "learning_rate=0.1,0.001"], base)
    assert [c.learning_rate for c in experiments.expand(base, both)] == [0.1, 0.001, 0.1, 0.001]
    other = experiments.expand(*experiments.template("activation", "mnist-5k"))   # not an optimizer family
    assert {c.learning_rate for c in other} == {base.learning_rate}


class _Recorder(Runner):
    """A runner that only records what it was asked to queue (admitted as every runner admits)."""

    def __init__(self):
        self.store, self.names = Store(), []

    def submit(self, config, name=None, **_):
        self.names.append(name)
        return f"run-{len(self.names)}"


def test_a_family_run_names_its_knob_once():
    for title, vary, names in (
            ("activation", {"activation": ["linear", "relu"]}, ["activation = linear", "activation = relu"]),
            ("vary activation", {"activation": ["relu", "sigmoid"]}, ["activation = relu", "activation = sigmoid"]),
            ("neurons", {"layers": [(216,), (512, 128)]}, ["neurons: layers = 216", "neurons: layers = 512-128"])):
        runner = _Recorder()
        experiments.launch(runner, RunConfig(layers=(16,), epochs=1), vary, title)
        assert runner.names == names
    runner = _Recorder()
    base, vary = experiments.template("optimizer", "mnist-5k")
    experiments.launch(runner, base.replace(epochs=1), vary, "optimizer")
    assert runner.names[0] == "optimizer = sgd (lr 0.01)"


def test_the_other_hands_family_trains_one_network_without_and_with_written_variants():
    without, with_them = experiments.expand(*experiments.template("other-hands", "mnist-5k"))
    assert (without.written, with_them.written) == (False, True)
    assert without.replace(written=True) == with_them
