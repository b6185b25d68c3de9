"""Data: what the chosen dataset holds, and what the models see of it."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages import common
from digitdash.datasets import DatasetError

st.title("The data")
name = common.dataset_name()
try:
    data = common.dataset(name)
except DatasetError as exc:
    st.error(str(exc))
    st.stop()

h, w, c = data.image_shape
m1, m2, m3, m4 = st.columns(4)
m1.metric("Training images", f"{len(data.x_train):,}")
m2.metric("Test images", f"{len(data.x_test):,}")
m3.metric("Image size", f"{w}x{h}" + (" RGB" if c == 3 else " gray"))
m4.metric("Pixel values", f"{int(data.x_train.min())}..{int(data.x_train.max())} ({data.x_train.dtype})")
st.caption("What the models see: every pixel divided by 255, so inputs lie in [0, 1] (a Rescaling layer "
           "inside each Keras model; the baselines divide the same way). Drawings and photos go through "
           "the Draw page's steps first, to look like these digits.")

st.subheader("Random samples")
if st.button("Reshuffle", key="reshuffle"):
    st.session_state["sample-seed"] = st.session_state.get("sample-seed", 0) + 1
rng = np.random.default_rng(st.session_state.get("sample-seed", 0))
pick = rng.choice(len(data.x_train), min(24, len(data.x_train)), replace=False)
cols = st.columns(12)
for i, idx in enumerate(pick):
    img = data.x_train[idx]
    cols[i % 12].image(img[..., 0] if c == 1 else img, caption=data.class_names[data.y_train[idx]], width=64)

st.subheader("Images per class")
counts = pd.DataFrame({"train": np.bincount(data.y_train, minlength=data.num_classes),
                       "test": np.bincount(data.y_test, minlength=data.num_classes)},
                      index=list(data.class_names))
st.bar_chart(counts, stack=False)

st.subheader("Mean image of each class")
cols = st.columns(data.num_classes)
for k, col in enumerate(cols):
    mean = data.x_train[data.y_train == k].mean(axis=0)
    col.image((mean[..., 0] if c == 1 else mean).astype(np.uint8), caption=data.class_names[k], width=64)

st.subheader("Pixel values")
hist = np.bincount(data.x_train.reshape(-1)[:: max(1, data.x_train.size // 2_000_000)], minlength=256)
fig = go.Figure(go.Bar(x=list(range(256)), y=hist))
fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="pixel value",
                  yaxis_title="count", yaxis_type="log")
st.plotly_chart(fig, key="pixel-hist", width="stretch")
