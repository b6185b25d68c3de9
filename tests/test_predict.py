"""Stored models loaded once per process (digitdash.reading.predict.load)."""
import threading

from digitdash.reading import predict


def test_a_slow_load_holds_up_only_those_asking_for_the_same_file(tmp_path, monkeypatch):
    slow, quick = tmp_path / "slow.keras", tmp_path / "quick.keras"
    slow.write_bytes(b"x")
    quick.write_bytes(b"y")
    release, calls = threading.Event(), []

    def fake_load(path):
        calls.append(path.name)
        if path == slow:
            release.wait(30)        # TensorFlow's import, a large file: seconds
        return path.name, None
    monkeypatch.setattr(predict, "_load", fake_load)
    monkeypatch.setattr(predict, "_models", type(predict._models)())
    answers = []
    waiting = [threading.Thread(target=lambda: answers.append(predict.load(slow)[0])) for _ in range(2)]
    for thread in waiting:
        thread.start()
    other = threading.Thread(target=lambda: answers.append(predict.load(quick)[0]))
    other.start()
    other.join(5)
    quick_done = not other.is_alive()
    release.set()
    for thread in (*waiting, other):
        thread.join(30)
    assert quick_done, "loading one model waited for another model's slow load"
    assert sorted(answers) == ["quick.keras", "slow.keras", "slow.keras"]
    assert calls.count("slow.keras") == 1       # asked twice at once: loaded once
