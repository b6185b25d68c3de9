"""The teacher's gate: a link nobody can guess, a password whose wrong tries cost only the guesser,
and rights that last until they expire or the teacher signs out."""
import pytest

from digitdash.classroom import teacher_gate
from digitdash.runs.store import Store


@pytest.fixture
def store(digitdash_home):
    return Store(digitdash_home)


def test_the_link_key_unlocks_and_is_long_random_and_private(store, digitdash_home):
    key = teacher_gate.key(store.home)
    assert len(key) >= 40 and key == teacher_gate.key(store.home)
    assert oct((digitdash_home / "teacher.key").stat().st_mode & 0o777) == "0o600"
    assert teacher_gate.link("http://localhost:8501", store.home) == f"http://localhost:8501/teacher?key={key}"
    with pytest.raises(teacher_gate.GateError, match="not .or no longer. valid"):
        teacher_gate.open_with_key(store, "s-a", key[:-1] + "x", now=100.0)
    assert teacher_gate.until(store, "s-a", now=100.0) is None
    expires = teacher_gate.open_with_key(store, "s-a", key, now=100.0)
    assert expires == 100.0 + teacher_gate.HOURS * 3600
    assert teacher_gate.until(store, "s-a", now=200.0) == expires            # a reload: the store still says so
    assert teacher_gate.until(store, "s-a", now=expires + 1) is None          # until it expires
    assert teacher_gate.until(store, "s-b", now=200.0) is None


def test_a_new_key_ends_every_teacher_browser(store):
    old = teacher_gate.key(store.home)
    teacher_gate.open_with_key(store, "s-a", old, now=100.0)
    new = teacher_gate.rotate(store)
    assert new != old and teacher_gate.until(store, "s-a", now=101.0) is None
    with pytest.raises(teacher_gate.GateError):
        teacher_gate.open_with_key(store, "s-a", old, now=102.0)


def test_sign_out(store):
    teacher_gate.try_password(store, "s-t", "pw", "pw", now=10.0)
    assert teacher_gate.until(store, "s-t", now=11.0)
    teacher_gate.sign_out(store, "s-t")
    assert teacher_gate.until(store, "s-t", now=12.0) is None


def test_a_guessing_browser_waits_alone_and_never_locks_the_teacher_out(store):
    now = 1000.0
    for expected in (1, 2, 4, 8, 16):
        assert teacher_gate.try_password(store, "s-student", "guess", "pw", now=now) == (None, expected)
        assert teacher_gate.try_password(store, "s-student", "pw", "pw", now=now)[0] is None   # locked: not checked
        now += expected
    assert teacher_gate.try_password(store, "s-teacher", "pw", "pw", now=now)[0] is not None   # another browser


def test_the_class_budget_bounds_guesses_from_any_number_of_browsers(store):
    """A script that opens a new browser for each guess gets PASSWORD_BUDGET guesses an hour, no more;
    then the password is not even checked, and the link still unlocks."""
    for n in range(teacher_gate.PASSWORD_BUDGET):
        assert teacher_gate.try_password(store, f"s-{n}", "guess", "pw", now=1000.0 + n)[0] is None
    with pytest.raises(teacher_gate.GateError, match="Too many wrong passwords"):
        teacher_gate.try_password(store, "s-new", "pw", "pw", now=1100.0)
    assert teacher_gate.open_with_key(store, "s-teacher", teacher_gate.key(store.home), now=1100.0)
    assert teacher_gate.try_password(store, "s-new", "pw", "pw", now=1000.0 + 3601)[0] is not None   # an hour on


def test_tries_outlive_any_cache_the_server_keeps(store, digitdash_home):
    """The waits are in the store: a new Store (a cleared cache, a restarted server) still knows them."""
    teacher_gate.try_password(store, "s-student", "guess", "pw", now=50.0)
    assert teacher_gate.try_password(Store(digitdash_home), "s-student", "pw", "pw", now=50.5) == (None, 0.5)
