"""A class on one server, enforced in the engine: the fair queue, waits, the teacher's limits,
identity tokens, datasets offered by name only, bounded uploads, faults as one message."""
import io
import json
import os
import resource
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitdash import paths
from digitdash.classroom import identity
from digitdash.digits import datasets, preprocess
from digitdash.plan import limits
from digitdash.plan.config import PRESETS, ConfigError, RunConfig
from digitdash.plan.limits import LimitError
from digitdash.runs import estimate
from digitdash.runs.store import Store
from digitdash.workers.admission import admit
from digitdash.workers.runners import LocalRunner

from conftest import ROOT, copy_home, seed_cache

A, B, C = "s-aaaaaaaaaaaaaaaa", "s-bbbbbbbbbbbbbbbb", "s-cccccccccccccccc"


def test_waits_add_up_behind_the_running_runs(digitdash_home):
    store = Store(digitdash_home)
    config = PRESETS["cnn-basic"].replace(epochs=2)
    running = store.create(config, owner=A, status="running")
    store.update(running, started=time.time() - 5)
    queued = [store.create(config, owner=o) for o in (B, C)]
    one_run = estimate.run_seconds(config, [])
    assert one_run > estimate.RUN_SECONDS
    waits = estimate.waits(store.runs(), store.queue(), slots=1)
    assert waits[queued[0]] == pytest.approx(one_run - 5, abs=1)
    assert waits[queued[1]] == pytest.approx(2 * one_run - 5, abs=1)
    two = estimate.waits(store.runs(), store.queue(), slots=2)
    assert two[queued[0]] == 0 and two[queued[1]] == pytest.approx(one_run - 5, abs=1)


def test_the_measured_rate_replaces_the_fallback():
    config = PRESETS["mlp-512"]
    run = {"config": config, "status": "done", "flops": 1_000_000, "info": {"train_size": 1000},
           "results": {"fit_seconds": 3.0, "epochs_run": 2}}
    assert estimate.flops_per_second([run]) == pytest.approx(3 * 1e6 * 1000 * 2 / 3.0)
    assert estimate.flops_per_second([]) == estimate.FALLBACK_FLOPS_PER_S


def write_limits(home, text):
    (home / "limits.toml").parent.mkdir(parents=True, exist_ok=True)
    (home / "limits.toml").write_text(text)


def test_limits_refuse_a_students_run_naming_the_limit(digitdash_home):
    store = Store(digitdash_home)
    write_limits(digitdash_home, 'max_epochs = 5\nmax_queued_per_student = 2\nkinds = ["mlp", "cnn"]\n'
                                 'datasets = ["mnist-5k"]\nmax_run_seconds = 60\n')
    small = RunConfig(layers=(16,), epochs=5)
    with pytest.raises(LimitError, match="over the class limit of 5 epochs"):
        admit(store, [small.replace(epochs=6)], A)
    with pytest.raises(LimitError, match="not allowed svc runs"):
        admit(store, [PRESETS["svc"]], A)
    with pytest.raises(datasets.DatasetError, match="not offered here. Choose one of: mnist-5k"):
        admit(store, [small.replace(dataset="mnist")], A)
    with pytest.raises(LimitError, match="about .* s on this machine, over the class limit of 60 s"):
        admit(store, [PRESETS["cnn-basic"].replace(conv_filters=(256, 512), padding="same", epochs=5)], A)
    admit(store, [small, small], A)
    with pytest.raises(LimitError, match="already have 2 runs waiting"):        # a family of 3 is refused whole
        admit(store, [small] * 3, A)
    store.create(small, owner=A)
    store.create(small, owner=A)
    with pytest.raises(LimitError, match="already have 2 runs waiting"):
        admit(store, [small], A)
    admit(store, [small], B)                                                     # others are not held up
    admit(store, [small.replace(epochs=500)], "teacher")                         # the teacher is not limited
    runner = LocalRunner(store, workers=1)
    with pytest.raises(LimitError):
        runner.submit(small.replace(epochs=6), owner=B)
    assert len(store.runs()) == 2                                                # nothing was created


def test_the_limits_file_round_trips_and_a_broken_one_says_so(digitdash_home):
    assert limits.load() == limits.Limits()
    changed = limits.with_changes(limits.load(), max_epochs=7, kinds=("mlp",))
    limits.save(changed)
    assert limits.load().max_epochs == 7 and limits.load().kinds == ("mlp",)
    time.sleep(0.01)
    write_limits(digitdash_home, "max_epochs = 'lots'\n")
    with pytest.raises(LimitError, match="max_epochs = 'lots'"):
        limits.load()
    write_limits(digitdash_home, "max_epochs = [\n")
    with pytest.raises(LimitError, match="cannot be read"):
        limits.load()


def test_networks_that_cannot_be_built_are_refused_before_a_run_exists(digitdash_home):
    store = Store(digitdash_home)
    for config in (RunConfig(layers=(8192, 8192, 8192, 8192)),
                   PRESETS["cnn-basic"].replace(conv_filters=(32,) * 5, kernel_size=5)):
        with pytest.raises(ConfigError):
            LocalRunner(store, workers=1).submit(config, owner="teacher")
    assert store.runs() == []


@pytest.mark.parametrize("value", ["-5", "512--128", "５１２", "٥١٢", "512-٣", " - "])
def test_layer_sizes_are_plain_ascii_whole_numbers(value):
    with pytest.raises(ConfigError, match="whole numbers separated by"):
        RunConfig().with_settings({"layers": value})


@pytest.mark.parametrize("key,value", [("epochs", "٣"), ("epochs", "３"), ("learning_rate", "０.１"),
                                       ("learning_rate", "nan"), ("batch_size", "1_000")])
def test_numbers_are_plain_ascii(key, value):
    with pytest.raises(ConfigError):
        RunConfig().with_settings({key: value})


def cli(*args, home, preexec=None):
    return subprocess.run([sys.executable, "-m", "digitdash", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DIGITDASH_HOME": str(home)}, preexec_fn=preexec, timeout=300)


@pytest.fixture(scope="module")
def cli_trained(tmp_path_factory, mnist5k_cached):
    """A home where `python -m digitdash train --set layers=16 --set epochs=1` has trained one run (the
    teacher's); each test that uses it gets a copy."""
    home = seed_cache(tmp_path_factory.mktemp("cli-trained"), mnist5k_cached)
    out = cli("train", "--set", "layers=16", "--set", "epochs=1", home=home)
    assert out.returncode == 0, out.stderr[-2000:]
    return home


@pytest.mark.parametrize("args,needle", [
    (["--set", "layers=8192-8192-8192-8192"], "at most 50,000,000 parameters"),
    (["--preset", "cnn-basic", "--set", "conv_filters=32-32-32-32-32", "--set", "kernel_size=5"], "shrunk to nothing"),
    (["--set", "layers=-5"], "whole numbers"),
    (["--set", "epochs=٣"], "a whole number"),
    (["--owner", "alice", "--set", "epochs=31"], "class limit of 30 epochs"),
])
def test_cli_refusals_exit_2_before_any_run_exists(args, needle, seeded, digitdash_home):
    out = cli("train", *args, home=digitdash_home)
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert Store(digitdash_home).runs() == []


@pytest.mark.slow
def test_cli_runs_belong_to_the_teacher_or_the_named_owner(cli_trained, digitdash_home):
    copy_home(cli_trained, digitdash_home)          # trained without --owner: the teacher's
    out = cli("train", "--set", "layers=16", "--set", "epochs=1", "--json", "--owner", "Ana", home=digitdash_home)
    assert out.returncode == 0, out.stderr
    runs = json.loads(cli("runs", "--json", home=digitdash_home).stdout)
    assert [r["owner"] for r in runs] == ["teacher", "Ana"]


def full_disk():
    """The child sees a disk with no room left: every write past 0 bytes fails."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


@pytest.mark.slow
def test_a_full_disk_is_one_message_in_the_cli_and_nothing_is_lost(cli_trained, digitdash_home):
    copy_home(cli_trained, digitdash_home)          # one run trained by the command line
    run_id = Store(digitdash_home).runs()[0]["id"]
    for args in (["runs"], ["show", run_id]):                  # reading needs no free space
        out = cli(*args, home=digitdash_home, preexec=full_disk)
        assert out.returncode == 0 and run_id in out.stdout, out.stderr
    out = cli("train", "--set", "epochs=1", home=digitdash_home, preexec=full_disk)   # new work: one line
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error: The run store cannot be written") and "Traceback" not in out.stderr
    runs = Store(digitdash_home).runs()
    assert len(runs) == 1 and runs[0]["status"] == "done"


def test_tokens_are_signed_by_this_server(digitdash_home, tmp_path):
    student, token = identity.new_student()
    assert identity.student_of(token) == student
    other_id, _ = identity.new_student()
    forged = f"{other_id}.{token.split('.')[1]}"
    for bad in (None, "", "nonsense", forged, token + "0", token.upper(), f"{student}.", "s-../../etc.0"):
        assert identity.student_of(bad) is None
    assert identity.student_of(token, tmp_path / "another-server") is None
    assert identity.student_of(token) == student                                   # the same server, restarted
    assert oct((digitdash_home / "secret.key").stat().st_mode & 0o777) == "0o600"
    assert token in identity.cookie_script(token)
    with pytest.raises(ValueError):
        identity.cookie_script("x'; alert(1); '")


# ---- datasets: offered by name, paths never read from a browser ------------------------------

PATHS = ["/etc", "folder:/etc", "folder:/proc/self", "idx:/proc/self/cwd", "folder:../../..", "../../..",
         "folder:/root", "idx:" + str(ROOT.parent / "shared" / "datasets" / "mnist-partial"), "folder:~",
         "listed:../../etc", "listed:", "mnist-5k/..", "MNIST", " mnist-5k", "folder:/dev/zero", "file:///etc/passwd"]


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.sampled_from(PATHS), st.text(max_size=60),
                 st.builds(lambda p, s: p + s, st.sampled_from(["folder:", "idx:", "listed:", "/", "./"]),
                           st.text(alphabet="/._-~abcdefghiprotscl", max_size=40))))
def test_a_browser_can_pick_only_offered_datasets_and_learns_no_path(name):
    before = set(datasets._cache)
    try:
        datasets.student_choice(name)
    except datasets.DatasetError as exc:
        text = str(exc)
        assert "/" not in text and str(ROOT) not in text and "mnist-5k" in text
    else:
        assert name in limits.Limits().offered_datasets()
    assert set(datasets._cache) == before
    assert not any(paths.cache_dir().iterdir())


def test_a_teachers_folder_is_offered_by_name_and_its_path_never_shown(digitdash_home, tmp_path):
    from PIL import Image
    folder = tmp_path / "class-digits"
    for label in ("0", "1"):
        (folder / label).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((28, 28), 40 * i + int(label) * 20, np.uint8)).save(folder / label / f"{i}.png")
    write_limits(digitdash_home, f'[folders]\nour-digits = "{folder}"\nbroken = "folder:{tmp_path}/gone"\n')
    offered = limits.load().offered_datasets()
    assert offered[-2:] == ["listed:broken", "listed:our-digits"]
    data = datasets.load(datasets.student_choice("listed:our-digits"))
    assert data.name == "listed:our-digits" and len(data.x_train) + len(data.x_test) == 10
    assert datasets.shape_of("listed:our-digits") == ((28, 28, 1), ("0", "1"))
    with pytest.raises(datasets.DatasetError) as exc:
        datasets.load("listed:broken")
    assert "'broken' cannot be read right now" in str(exc.value) and str(tmp_path) not in str(exc.value)
    with pytest.raises(datasets.DatasetError, match="no folder named 'nope'"):
        datasets.load("listed:nope")


def test_a_cached_folder_is_not_walked_again_on_every_load(tmp_path, monkeypatch):
    from PIL import Image
    folder = tmp_path / "f"
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((8, 8), i * 50, np.uint8)).save(folder / label / f"{i}.png")
    walks = []
    real = datasets._folder_files
    monkeypatch.setattr(datasets, "_folder_files", lambda f: walks.append(f) or real(f))
    first = datasets.load(f"folder:{folder}")
    n = len(walks)
    for _ in range(20):
        assert datasets.load(f"folder:{folder}") is first
    assert len(walks) == n


def test_a_folder_walk_stops_at_its_limit_and_never_follows_a_link_out(tmp_path, monkeypatch):
    folder = tmp_path / "big"
    (folder / "0").mkdir(parents=True)
    os.symlink("/", folder / "0" / "root")            # a link to the whole machine is not walked
    os.symlink("/etc", folder / "1")                  # nor is a class folder that is a link
    for i in range(30):
        (folder / "0" / f"{i}.png").write_bytes(b"x")
    monkeypatch.setattr(datasets, "MAX_FOLDER_FILES", 20)
    with pytest.raises(datasets.DatasetError, match="more than 20 files"):
        datasets._folder_files(folder)
    monkeypatch.setattr(datasets, "MAX_FOLDER_FILES", 1000)
    files = datasets._folder_files(folder)
    assert len(files) == 30 and all(f.resolve().is_relative_to(folder) for _, f in files)


# ---- uploads: bounded cost ----------------------------------------------------------------------

def png(array) -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG")
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("side", [3000, 6000])
def test_a_huge_upload_is_shrunk_before_the_heavy_steps(side):
    import cv2
    rng = np.random.default_rng(side)
    photo = (200 + rng.normal(0, 8, (side, side))).clip(0, 255).astype(np.uint8)
    cv2.putText(photo, "5", (side // 4, 3 * side // 4), cv2.FONT_HERSHEY_SIMPLEX, side / 60, (20,), side // 25)
    gray = preprocess.decode(png(photo))
    assert max(gray.shape) == preprocess.MAX_SIDE
    digits = preprocess.prepare_all(gray)
    assert len(digits) == 1 and all(max(a.shape) <= preprocess.MAX_SIDE for _, a in digits[0].steps)
    with pytest.raises(preprocess.ImageError, match="No digit found"):
        preprocess.prepare_all(preprocess.decode(png(np.full((side, side), 255, np.uint8))))


PAGE_ON_A_FULL_DISK = """
import json, resource, signal, sys
from streamlit.testing.v1 import AppTest
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)           # from here on the disk is full
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
out = {"errors": [e.value for e in at.error], "exception": [str(e.value) for e in at.exception]}
for page in ("app_pages/train.py", "app_pages/compare.py"):
    at.switch_page(page).run()
    out["errors"] += [e.value for e in at.error]
    out["exception"] += [str(e.value) for e in at.exception]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_full_disk_is_one_message_in_the_pages(cli_trained, digitdash_home):
    copy_home(cli_trained, digitdash_home)          # one run trained by the command line
    out = subprocess.run([sys.executable, "-c", PAGE_ON_A_FULL_DISK, str(ROOT / "app.py")], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "DIGITDASH_HOME": str(digitdash_home)},
                         timeout=300)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["exception"] == [] and seen["errors"]
    assert all(e.startswith("The run store cannot be written") for e in seen["errors"])
    assert len(Store(digitdash_home).runs()) == 1
