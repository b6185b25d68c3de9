"""The Data page over the bundled mnist-5k and over a folder: dataset."""
import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT


def test_data_page_describes_mnist_5k():
    at = AppTest.from_file(str(ROOT / "app_pages" / "data.py"), default_timeout=60).run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["4,000", "1,000", "28x28 gray", "0..255"]
    at.button(key="reshuffle").click().run()
    assert at.session_state["sample-seed"] == 1 and not at.exception


def listed(home, **folders):
    home.mkdir(parents=True, exist_ok=True)
    (home / "limits.toml").write_text("[folders]\n" + "".join(f'{k} = "{v}"\n' for k, v in folders.items()))


def test_data_page_on_a_teachers_folder(tmp_path, digitdash_home):
    folder = tmp_path / "pets"
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((12, 10, 3), 40 * i, np.uint8)).save(folder / label / f"{i}.png")
    listed(digitdash_home, pets=f"folder:{folder}")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert at.selectbox(key="dataset-choice").options[-1] == "pets"      # by name, never by path
    at.selectbox(key="dataset-choice").set_value("listed:pets").run()
    at.switch_page("app_pages/data.py").run()
    assert not at.exception
    assert [m.value for m in at.metric][:3] == ["8", "2", "10x12 RGB"]


def test_a_broken_folder_is_one_clear_message_without_its_path(tmp_path, digitdash_home):
    listed(digitdash_home, gone=f"idx:{tmp_path / 'none'}")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.selectbox(key="dataset-choice").set_value("listed:gone").run()
    at.switch_page("app_pages/data.py").run()
    assert not at.exception and "'gone' cannot be read right now" in at.error[0].value
    assert str(tmp_path) not in at.error[0].value


def test_a_path_in_the_link_is_refused_and_the_default_shown():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["dataset"] = "folder:/etc"
    at.run()
    assert not at.exception and "not offered here" in at.sidebar.warning[0].value
    assert "/etc" not in at.sidebar.warning[0].value
    at.switch_page("app_pages/data.py").run()
    assert [m.value for m in at.metric][:2] == ["4,000", "1,000"]


def class_bars(lang: str) -> list[tuple]:
    import json
    at = AppTest.from_file(str(ROOT / "app_pages" / "data.py"), default_timeout=60)
    at.session_state["language"] = lang
    at.run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bars = next(c for c in charts if len(c["data"]) == 2 and c["data"][0]["type"] == "bar")["data"]
    return [(b["marker"]["color"], tuple(b["x"]), tuple(b["y"])) for b in bars]


def test_images_per_class_keep_their_order_and_colours_in_every_language():
    english, spanish = class_bars("English"), class_bars("Español")
    assert english == spanish
    assert english[0][1] == tuple(str(d) for d in range(10)) and sum(english[0][2]) == 4000   # train first



def test_a_drawing_that_cannot_be_dropped_says_why_after_the_page_is_drawn_again(digitdash_home, monkeypatch):
    from digitdash.reading import handwriting
    from digitdash.runs.store import Store, StoreError
    store = Store(digitdash_home)
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255                                    # a "1"
    drawing = handwriting.add(store, digit, 1, "s-me")
    at = AppTest.from_file(str(ROOT / "app_pages" / "data.py"), default_timeout=60)
    at.session_state["owner"] = "s-me"
    at.run()
    full = StoreError("store.unavailable", reason="No space left on device")

    def refused(*args, **kwargs):
        raise full
    monkeypatch.setattr(handwriting, "delete", refused)        # the disk fills while the page is open
    at.button(key=f"drop-mine-{drawing}").click().run()       # the click reruns the page: the message survives it
    assert not at.exception
    assert [e.value for e in at.error] == [str(full)]           # str(): the English text
    assert at.button(key=f"drop-mine-{drawing}")               # the drawing is still there, still offered
    at.run()
    assert not at.error                                         # said once
