"""Data: what the chosen dataset holds, and what the models see of it."""
import numpy as np
import streamlit as st

from app_pages import language, server, sidebar
from digitdash import charts
from digitdash.datasets import DatasetError

t = language.t
st.title(t("data.title"))
name = sidebar.dataset_name()
try:
    data = server.load_dataset(name)
except DatasetError as exc:
    st.error(language.say(exc.message))
    st.stop()

facts = server.dataset_facts(name)
h, w, c = data.image_shape
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("data.train_images"), f"{len(data.x_train):,}", help=t("data.train_images_help"))
m2.metric(t("data.test_images"), f"{len(data.x_test):,}", help=t("data.test_images_help"))
m3.metric(t("data.image_size"), f"{w}x{h} " + t("data.rgb" if c == 3 else "data.gray"))
m4.metric(t("data.pixel_values"), f"{int(data.x_train.min())}..{int(data.x_train.max())} ({data.x_train.dtype})")
st.caption(t("data.normalization"))

st.subheader(t("data.samples"))
if st.button(t("data.reshuffle"), key="reshuffle", help=t("data.reshuffle_help")):
    st.session_state["sample-seed"] = st.session_state.get("sample-seed", 0) + 1
rng = np.random.default_rng(st.session_state.get("sample-seed", 0))
pick = rng.choice(len(data.x_train), min(24, len(data.x_train)), replace=False)
cols = st.columns(12)
for i, idx in enumerate(pick):
    img = data.x_train[idx]
    cols[i % 12].image(img[..., 0] if c == 1 else img, caption=data.class_names[data.y_train[idx]], width=64)

st.subheader(t("data.per_class"))
st.plotly_chart(charts.class_counts(facts["train_counts"], facts["test_counts"], data.class_names, language.lang()),
                key="class-counts", width="stretch")

st.subheader(t("data.means"))
st.caption(t("data.means_note"))
cols = st.columns(data.num_classes)
for k, col in enumerate(cols):
    mean = facts["means"][k]
    col.image(mean[..., 0] if c == 1 else mean, caption=data.class_names[k], width=64)

st.subheader(t("data.pixels"))
st.plotly_chart(charts.pixel_histogram(facts["histogram"], language.lang()), key="pixel-hist", width="stretch")
st.caption(t("data.pixels_note"))
