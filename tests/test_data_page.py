"""The Data page over the bundled mnist-5k and over a folder: dataset."""
import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT


def test_data_page_describes_mnist_5k():
    at = AppTest.from_file(str(ROOT / "app_pages" / "data.py"), default_timeout=60).run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["4,000", "1,000", "28x28 gray", "0..255 (uint8)"]
    at.button(key="reshuffle").click().run()
    assert at.session_state["sample-seed"] == 1 and not at.exception


def test_data_page_on_a_folder_dataset(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(5):
            Image.fromarray(np.full((12, 10, 3), 40 * i, np.uint8)).save(tmp_path / label / f"{i}.png")
    at = AppTest.from_file(str(ROOT / "app_pages" / "data.py"), default_timeout=60)
    at.session_state["dataset-choice"] = "other"
    at.session_state["dataset-path"] = f"folder:{tmp_path}"
    at.run()
    assert not at.exception
    assert [m.value for m in at.metric][:3] == ["8", "2", "10x12 RGB"]


def test_a_missing_dataset_is_one_clear_message(tmp_path):
    at = AppTest.from_file(str(ROOT / "app_pages" / "data.py"), default_timeout=60)
    at.session_state["dataset-choice"] = "other"
    at.session_state["dataset-path"] = f"idx:{tmp_path / 'none'}"
    at.run()
    assert not at.exception and "does not exist" in at.error[0].value
