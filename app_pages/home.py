import streamlit as st

st.title("DigitDash")
st.markdown(
    "Learn how neural networks read handwritten digits. Pick a network and its knobs, train it and "
    "watch it learn live, then compare runs.\n\n"
    "**A first run in three steps**\n"
    "1. Keep the dataset **mnist-5k** in the sidebar (5,000 real MNIST digits, works offline).\n"
    "2. Open **Train**, pick the preset **mlp-512** and press **Train**.\n"
    "3. Watch the accuracy and loss curves, and the gap bars that warn of overfitting. Then draw "
    "your own digits for it on **Draw**.")
st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
st.page_link("app_pages/compare.py", label="Go to Compare", icon=":material/compare:")
st.page_link("app_pages/draw.py", label="Go to Draw", icon=":material/draw:")
st.page_link("app_pages/data.py", label="Go to Data", icon=":material/dataset:")
