"""`python -m digitdash`'s own face: its help lists what a person may type, nothing internal; bad
input is one line and exit code 2."""
import json

import pytest

from digitdash import cli

from conftest import cli as run_cli     # `python -m digitdash ...` in a subprocess (`cli` is the module here)


def test_help_lists_the_commands_and_hides_the_worker(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "SUPPRESS" not in text and "worker" not in text
    for command in ("train", "experiment", "runs", "show", "predict", "delete", "bench", "robustness"):
        assert f"    {command} " in text
    args = cli._parser().parse_args(["worker", "--slot", "1"])     # the runner still starts workers this way
    assert args.command == "worker" and args.slot == 1


# ---- bad input on the command line: exit code 2 and one line, never a traceback -------------

def _one_line_refusal(out):
    assert out.returncode == 2, (out.returncode, out.stdout[-500:], out.stderr[-2000:])
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out.stderr, out.stderr[-2000:]
    return lines[0]


def _no_runs(home):
    out = run_cli("runs", "--json", home=home)
    return out.returncode == 0 and json.loads(out.stdout) == []


@pytest.mark.parametrize("dataset", ["folder:/proc", "folder:/", "idx:/proc/1/cwd"])
def test_a_dataset_path_that_cannot_be_read_is_one_line_and_exit_2(dataset, digitdash_home):
    """folder:/proc ended in a 28-line PermissionError traceback (/proc/1/cwd cannot be read)."""
    line = _one_line_refusal(run_cli("train", "--dataset", dataset, "--set", "epochs=1", home=digitdash_home))
    assert repr(dataset) in line or "holds more than" in line       # a server whose /proc reads: too many files
    assert _no_runs(digitdash_home)


def test_a_setting_that_is_not_a_knob_is_refused_naming_the_knobs(digitdash_home):
    """--set dataset=../../etc trained on mnist-5k, the value silently dropped."""
    line = _one_line_refusal(run_cli("train", "--set", "epochs=1", "--set", "dataset=../../etc", home=digitdash_home))
    assert "dataset='../../etc'" in line and "--dataset" in line
    for knob in ("epochs", "layers", "learning_rate", "optimizer", "seed"):
        assert knob in line
    line = _one_line_refusal(run_cli("experiment", "--vary", "dataset=mnist-5k,mnist", home=digitdash_home))
    assert "dataset='mnist-5k'" in line
    assert _no_runs(digitdash_home)
