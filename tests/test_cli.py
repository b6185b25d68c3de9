"""`python -m digitdash`'s own face: its help lists what a person may type, nothing internal; bad
input is one line and exit code 2."""
import json
import re

import pytest

from digitdash import cli
from digitdash.learning import tensorflow_start

from conftest import cli as run_cli  # `python -m digitdash ...` in a subprocess (`cli` is the module here)


def test_help_lists_the_commands_and_hides_the_worker(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "SUPPRESS" not in text and "worker" not in text
    for command in ("train", "experiment", "runs", "show", "predict", "delete", "bench", "robustness", "teacher-link"):
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


# ---- the teacher's link (scripts/start.sh prints it before Streamlit starts) ---------------------

def test_teacher_link_prints_a_link_that_opens_the_gate_and_new_changes_it(digitdash_home):
    from digitdash.classroom import teacher_gate
    from digitdash.runs.store import Store

    def link(*args):
        out = run_cli("teacher-link", *args, home=digitdash_home)
        assert out.returncode == 0, out.stderr
        assert f"for {teacher_gate.HOURS} hours" in out.stdout and "teacher-link --new" in out.stdout
        (found,) = re.findall(r"(https?://\S+/teacher\?key=(\S+))", out.stdout)
        return found

    first, key = link()
    assert first.startswith("http://localhost:8501/teacher?key=") and link() == (first, key)   # the same until --new
    store = Store(digitdash_home)
    assert teacher_gate.open_with_key(store, "browser-1", key) > 0
    other, new_key = link("--new", "--url", "http://192.168.1.20:8600/")
    assert other == f"http://192.168.1.20:8600/teacher?key={new_key}" and new_key != key
    assert teacher_gate.until(store, "browser-1") is None                      # every teacher browser signed out
    with pytest.raises(teacher_gate.GateError):
        teacher_gate.open_with_key(store, "browser-2", key)                     # the old link no longer opens
    assert teacher_gate.open_with_key(store, "browser-2", new_key) > 0
    _one_line_refusal(run_cli("teacher-link", "--url", "localhost 8501", home=digitdash_home))


# ---- TensorFlow's start-up chatter stays out of the command line's output (issue 21) -------------

@pytest.mark.slow
def test_a_training_command_prints_no_tensorflow_start_up_lines(seeded, digitdash_home):
    """oneDNN, CUDA and absl lines came before and between the command's own lines."""
    out = run_cli("train", "--set", "epochs=1", "--set", "layers=8", home=digitdash_home)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "test accuracy" in out.stdout
    absl_line = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")     # I0000 00:00:1721.5  12 port.cc:113] ...
    for line in (out.stderr + out.stdout).splitlines():
        assert not any(noise in line.lower() for noise in ("onednn", "cuda", "absl", "retracing", "tensorflow")), line
        assert not absl_line.match(line), line


def test_only_start_up_chatter_is_hidden_never_an_error():
    chatter = ["WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
               "I0000 00:00:1796180621.898562    3880 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
               "GPU will not be used.",
               "I0000 00:00:1721.5    12 port.cc:153] oneDNN custom operations are on. You may see slightly different "
               "numerical results due to floating-point round-off errors from different computation orders.",
               "W0000 00:00:1721.5    12 cpu_feature_guard.cc:210] This TensorFlow binary is optimized to use "
               "available CPU instructions in performance-critical operations.",
               "W0000 00:00:1721.5    12 gpu_device.cc:2344] Cannot dlopen some GPU libraries.",
               "E0000 00:00:1721.5    12 cuda_dnn.cc:8310] Unable to register cuDNN factory: Attempting to register "
               "factory for plugin cuDNN when one has already been registered",
               "E0000 00:00:1796180633.313507    3880 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error"]
    errors = ["E0000 00:00:1721.5    12 bfc_allocator.cc:47] Allocator (GPU_0_bfc) ran out of memory",
              "F0000 00:00:1721.5    12 cuda_blas.cc:190] Check failed: status == CUBLAS_STATUS_SUCCESS",
              "ImportError: libcudnn.so.9: cannot open shared object file", "Traceback (most recent call last):"]
    assert all(tensorflow_start.chatter(line) for line in chatter)
    assert not any(tensorflow_start.chatter(line) for line in errors)
    why_no_gpu = [line for line in chatter if "cuInit" in line or "dlopen" in line]
    assert len(why_no_gpu) == 2 and not any(tensorflow_start.chatter(line, has_gpu=True) for line in why_no_gpu)  # on a GPU machine
