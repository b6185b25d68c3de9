"""Other hands: the made-here sets of writers' styles MNIST hardly holds, the handwriting
augmentation (RunConfig.written), the cnn-hands preset, and Compare's column beside MNIST's."""
import json

import numpy as np
import pytest

from digitdash.digits import datasets, other_hands, strokes, written
from digitdash.plan.config import PRESETS, ConfigError, RunConfig
from digitdash.reading import robustness

from conftest import ROOT, cli, seed_cache


# ---- the sets ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(other_hands.SETS))
def test_each_set_is_the_same_for_the_same_seed_and_labelled_in_order(name):
    make = other_hands.SETS[name]
    one, again, other = (make(2, np.random.default_rng(seed)) for seed in (1, 1, 2))
    assert [label for _, label in one] == [d for d in range(10) for _ in range(2)]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(one, again))
    assert not all(np.array_equal(a, b) for (a, _), (b, _) in zip(one, other))
    shape = (280, 280, 4) if name.endswith("drawings") else (360, 480)
    assert all(image.shape == shape and image.dtype == np.uint8 for image, _ in one)
    assert name in robustness.SOURCES                       # `robustness` reports them


def test_the_styles_mnist_hardly_holds_are_all_written():
    for digit, forms in {0: {"narrow"}, 1: {"flag", "flag-base", "long-flag"}, 2: {"looped", "curly"},
                         3: {"cursive"}, 4: {"open", "open-tall"}, 7: {"bar", "bar-long"},
                         8: {"cursive", "loops"}}.items():
        assert forms <= set(other_hands.FORMS[digit]), digit
    hands = other_hands.writers(np.random.default_rng(1))
    assert len(hands) == other_hands.WRITERS and any(h["thin"] for h in hands)
    assert any(h["slant"] > 0.2 for h in hands) and any(h["aspect"] < 0.75 for h in hands)


@pytest.mark.parametrize("name", sorted(other_hands.SETS))
def test_every_picture_is_read_as_one_digit(name):
    """Readable: the Draw page's pipeline finds exactly one digit in each (none split, none lost)."""
    items = other_hands.SETS[name](2, np.random.default_rng(3))
    assert [robustness.read(image)[1] for image, _ in items] == [1] * len(items)


def test_the_other_hands_every_run_is_read_on_are_made_once_then_kept(digitdash_home, monkeypatch):
    monkeypatch.setattr(robustness, "HANDS_PER_CLASS", 1)
    robustness.other_hands_digits.cache_clear()
    x, y, one = robustness.other_hands_digits()
    assert x.shape == (20, 28, 28) and list(y) == list(range(10)) * 2 and one.all()
    (kept,) = (digitdash_home / "cache").glob("other-hands-*.npz")
    robustness.other_hands_digits.cache_clear()
    monkeypatch.setattr(robustness.other_hands, "SETS", {})      # made again would find no sets: empty
    again = robustness.other_hands_digits()
    assert np.array_equal(again[0], x) and np.array_equal(again[1], y)
    robustness.other_hands_digits.cache_clear()


# ---- the augmentation ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    data = datasets.load("mnist-5k")
    return data


def _big(image):
    import cv2
    return np.pad(cv2.resize(image.reshape(28, 28), (written.SIDE, written.SIDE)), written.PAD)


def _skew(img):
    """How far the ink's top leans right per unit of height (second moments)."""
    import cv2
    m = cv2.moments(img.astype(np.float32))
    return -m["mu11"] / m["mu02"]


def test_a_pen_makes_strokes_thinner_or_thicker(digits):
    for i in range(5):
        img = _big(digits.x_train[i])
        width = lambda a: strokes.stroke_width(a > 127)      # noqa: E731
        assert width(written.pen(img, -1)) < width(img) < width(written.pen(img, 1)) < width(written.pen(img, 2))
        assert np.array_equal(written.pen(img, 0), img)


def test_a_slant_leans_the_digit_and_a_narrow_hand_narrows_it(digits):
    rng = np.random.default_rng(0)
    for i in range(5):
        img = _big(digits.x_train[i])
        right = written.warped(img, slant=0.4, aspect=1.0, turn=0, bend=0, rng=rng)
        left = written.warped(img, slant=-0.25, aspect=1.0, turn=0, bend=0, rng=rng)
        assert _skew(right) - _skew(img) == pytest.approx(0.4, abs=0.08)
        assert _skew(left) - _skew(img) == pytest.approx(-0.25, abs=0.08)
        narrow = written.warped(img, slant=0, aspect=0.6, turn=0, bend=0, rng=rng)
        cols = lambda a: np.ptp(np.nonzero(a > 127)[1])      # noqa: E731
        assert cols(narrow) < 0.75 * cols(img)
        bent = written.warped(img, slant=0, aspect=1.0, turn=0, bend=3, rng=rng)
        assert not np.array_equal(bent, img) and (bent > 127).sum() > 0.6 * (img > 127).sum()


def test_a_european_one_gets_a_flag_to_the_left_and_a_seven_a_bar(digits):
    import cv2
    rng = np.random.default_rng(0)
    for lean in (0, 12):                  # an upright 1 and one leaning right: stood upright, then flagged
        one = np.zeros((84, 84), np.uint8)
        cv2.line(one, (36 + lean, 14), (36, 70), 255, 5)
        for _ in range(6):
            out = written.european(one, 1, rng) > 127
            ys, xs = np.nonzero(out)
            stem = xs[ys > 60].mean()
            assert np.ptp(xs[(ys > 42) & (ys < 60)]) <= 9                          # the stem stands upright (not 17)
            left = out & (np.arange(84)[None, :] < stem - 6)
            rows = np.nonzero(left)[0]
            assert len(rows) and rows.min() < 22                               # a flag from the top ...
            assert not left[int(14 + 0.55 * 56):62].any()          # ... down to the left, not past the middle
    for i in np.flatnonzero(digits.y_train == 7)[:5]:
        img = _big(digits.x_train[i])
        added = (written.european(img, 7, rng) > 127) & ~(img > 127)
        ys = np.nonzero(img > 127)[0]
        assert added.sum() > 20 and np.nonzero(added)[0].min() > ys.min() + 0.3 * np.ptp(ys)   # a bar below the top


def test_variants_keep_their_digits_labels_and_the_validation_images(digits):
    small = datasets.Dataset("mnist-5k", digits.x_train[:400], digits.y_train[:400], digits.x_test,
                             digits.y_test, digits.class_names)
    out, added = written.added_to(small, seed=3, validation_split=0.25)
    again, _ = written.added_to(small, seed=3, validation_split=0.25)
    assert np.array_equal(out.x_train, again.x_train)                    # the same seed, the same variants
    assert added == 400 and out.x_train.shape == (800, 28, 28, 1) and out.x_train.dtype == np.uint8
    assert sorted(out.y_train) == sorted(np.tile(small.y_train, 2))       # each label as often, twice
    from digitdash.digits.arrays import split_validation
    (x_fit, y_fit), (x_val, y_val) = split_validation(out.x_train, out.y_train, 0.25)
    assert np.array_equal(x_val[-100:], small.x_train[300:])              # the validation images, as without
    assert np.array_equal(x_fit[-300:], small.x_train[:300])              # ... and the training ones
    variants = x_fit[:300]
    assert sorted(y_fit[:300]) == sorted(small.y_train[:300])            # one of each training image, its label kept
    assert not any((variants == image).all(axis=(1, 2, 3)).any() for image in small.x_train)
    # each variant is still its digit: nearer its own class's mean than another's far more often than chance
    means = np.stack([small.x_train[small.y_train == d].mean(0).ravel() for d in range(10)])
    nearest = np.argmin(((variants.reshape(300, 1, -1) - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == y_fit[:300]).mean() > 0.4


@pytest.mark.parametrize("n, split", [(1000, 0.1), (1000, 0.25), (999, 0.33), (7, 0.5), (10, 0.0)])
def test_the_validation_part_holds_only_validation_images_and_their_variants(n, split):
    import math
    trained, before, after = written.sizes(n, split)
    total = n + before + after
    held = total - (math.ceil(total * (1 - split)) if split else total)
    assert trained == (math.ceil(n * (1 - split)) if split else n)
    assert held == (n - trained) + after and before > 0


def test_only_digit_datasets_take_variants():
    colour = datasets.Dataset("cifar10", np.zeros((4, 32, 32, 3), np.uint8), np.arange(4), np.zeros((1, 32, 32, 3)),
                              np.zeros(1, int), tuple("abcdefghij"))
    with pytest.raises(ConfigError) as err:
        written.added_to(colour, 1, 0.1)
    assert err.value.field == "written" and "28x28" in str(err.value)


def test_a_worker_prepares_the_variants_once_and_records_how_many(digits, monkeypatch, digitdash_home):
    from digitdash.runs.store import Store
    from digitdash.workers import worker
    small = datasets.Dataset("mnist-5k", digits.x_train[:200], digits.y_train[:200], digits.x_test,
                             digits.y_test, digits.class_names)
    monkeypatch.setattr(worker.datasets, "load", lambda name: small)
    store = Store(digitdash_home)
    plain, info = worker.prepared(store, RunConfig())
    assert plain is small and info == {}
    data, info = worker.prepared(store, RunConfig(written=True, validation_split=0.25))
    assert len(data.x_train) == 400 and info == {"written": 200}       # own data: a Ray task is sent them


# ---- the knob, the form, the export --------------------------------------------------------------

def test_the_knob_validates_and_the_summary_says_it():
    RunConfig(written=True).validate(10)
    with pytest.raises(ConfigError) as err:
        RunConfig(written="yes").validate(10)
    assert err.value.field == "written"
    assert RunConfig().with_settings({"written": "on"}).written is True
    assert RunConfig(architecture="cnn", written=True).summary().split()[-1] == "written"
    assert "written" not in RunConfig().summary()


def test_cnn_hands_is_cnn_basic_that_writes_like_other_hands():
    hands, basic = PRESETS["cnn-hands"], PRESETS["cnn-basic"]
    assert hands.written and not basic.written
    network = lambda c: (c.architecture, c.conv_filters, c.layers, c.kernel_size, c.padding)   # noqa: E731
    assert network(hands) == network(basic)
    assert "written" in hands.summary()


def test_the_train_form_offers_the_knob(digitdash_home):
    from streamlit.testing.v1 import AppTest

    from app_pages.parts.train_form import config_from_state, load_preset
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=60).run()
    (box,) = [c for c in at.checkbox if c.key == "cfg-written"]
    assert box.label == "Augment like handwriting" and box.help
    state = {}
    load_preset("cnn-hands", state)
    assert state["cfg-written"] is True and config_from_state(state, "mnist-5k").written


def test_the_export_says_it_trains_without_the_variants(monkeypatch):
    from digitdash.learning import export
    monkeypatch.setattr(export.datasets, "shape_of", lambda name: ((28, 28, 1), datasets.DIGITS))
    run = {"id": "0001-abcd", "name": "hands", "results": {}, "config": PRESETS["cnn-hands"]}
    head = export.sections(run, "en")[0][0]
    assert "handwriting-like copies" in head
    plain = export.sections({**run, "config": PRESETS["cnn-basic"]}, "en")[0][0]
    assert "handwriting-like" not in plain


# ---- Compare -------------------------------------------------------------------------------------

def test_compare_shows_other_hands_beside_mnists_test_accuracy(digitdash_home):
    from fake_runs import two_runs

    from digitdash.reading import compare
    from digitdash.runs.store import Store
    store = Store(digitdash_home)
    (a, b), _ = two_runs(store)
    store.update(a, results={**store.get(a)["results"], "other_hands_accuracy": 0.9125})
    rows = compare.table(store, [store.get(a), store.get(b)])
    assert list(rows[0])[2:4] == ["test accuracy", "other hands"]
    assert rows[0]["other hands"] == 0.9125 and rows[1]["other hands"] is None      # a run before the figure
    assert "other hands" in compare.EXPLAINED and "other hands" in compare.DECIMALS
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns)[1:3] == ["test accuracy", "other hands"]
    assert sorted(table["other hands"].fillna(-1)) == [-1, 0.9125]


def test_a_finished_digit_run_is_read_on_other_hands(monkeypatch, digitdash_home):
    from digitdash.workers import recording
    monkeypatch.setattr(robustness, "drawings_accuracy", lambda store, run_id: 0.5)
    monkeypatch.setattr(robustness, "other_hands_accuracy", lambda store, run_id: 0.75)
    results = {}
    recording._read_drawings(None, "run", results)
    assert results == {"drawings_accuracy": 0.5, "other_hands_accuracy": 0.75}
    monkeypatch.setattr(robustness, "other_hands_accuracy", lambda store, run_id: 1 / 0)
    results = {}
    recording._read_drawings(None, "run", results)                     # an extra figure never fails a run
    assert results == {"drawings_accuracy": 0.5}


# ---- real training -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.benchmark          # three minutes of training: `-m benchmark`; tests/test_reference.py checks the
                                # reference that ships, trained by this preset, on the same sets in seconds
def test_cnn_hands_reads_other_hands_and_keeps_mnist(tmp_path_factory, mnist_partial_name, mnist5k_cached):
    """The preset's promise, on seeds it was not built on (7 was): at least 0.99 on MNIST's test set,
    0.98 on both other-hands kinds. About three minutes on two CPU cores."""
    home = seed_cache(tmp_path_factory.mktemp("hands"), mnist5k_cached)
    out = cli("train", "--dataset", mnist_partial_name, "--preset", "cnn-hands", "--json", home=home)
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)
    assert run["test_accuracy"] >= 0.99
    shown = json.loads(cli("show", run["id"], "--json", home=home).stdout)
    assert shown["results"]["other_hands_accuracy"] >= 0.97                # the fixed set Compare shows
    model = home / "runs" / run["id"] / "model.keras"
    for seed in (1, 2):
        figures = robustness.evaluate(model, per_class=20, seed=seed, sources=tuple(other_hands.SETS))
        for name in other_hands.SETS:
            assert figures[name]["pipeline_accuracy"] >= 0.98, (seed, figures)
