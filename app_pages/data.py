"""Data: what the chosen dataset holds, what the models see of it, and the class's own
handwriting beside it."""
import numpy as np
import streamlit as st

from app_pages.parts import language, server, sidebar, student
from digitdash.digits.datasets import DatasetError, digit_shaped
from digitdash.i18n import Problem
from digitdash.reading import charts, handwriting

t = language.t
# Session-state keys used on this page only
SAMPLE_SEED = "sample-seed"          # the samples' shuffle, one more on each Reshuffle
DROP_REFUSED = "drop-mine-refused"   # why the student's drawing could not be dropped, said once after the rerun
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
m1.metric(t("data.train_images"), language.number(len(data.x_train)), help=t("data.train_images_help"))
m2.metric(t("data.test_images"), language.number(len(data.x_test)), help=t("data.test_images_help"))
m3.metric(t("data.image_size"), f"{w}x{h} " + t("data.rgb" if c == 3 else "data.gray"))
m4.metric(t("data.pixel_values_of", dtype=data.x_train.dtype), f"{int(data.x_train.min())}..{int(data.x_train.max())}")
st.caption(t("data.normalization"))

st.subheader(t("data.samples"))
if st.button(t("data.reshuffle"), key="reshuffle", help=t("data.reshuffle_help")):
    st.session_state[SAMPLE_SEED] = st.session_state.get(SAMPLE_SEED, 0) + 1
rng = np.random.default_rng(st.session_state.get(SAMPLE_SEED, 0))
pick = rng.choice(len(data.x_train), min(24, len(data.x_train)), replace=False)
cols = st.columns(12)
for i, idx in enumerate(pick):
    img = data.x_train[idx]
    server.image(cols[i % 12], img[..., 0] if c == 1 else img, caption=data.class_names[data.y_train[idx]], width=64)

st.subheader(t("data.per_class"))
st.plotly_chart(server.kept(("class-counts", data.name, language.lang()), lambda: charts.class_counts(
    facts["train_counts"], facts["test_counts"], data.class_names, language.lang())), key="class-counts", width="stretch")

st.subheader(t("data.means"))
st.caption(t("data.means_note"))
cols = st.columns(data.num_classes)
for k, col in enumerate(cols):
    mean = facts["means"][k]
    server.image(col, mean[..., 0] if c == 1 else mean, caption=data.class_names[k], width=64)

st.subheader(t("data.pixels"))
st.plotly_chart(server.kept(("pixel-hist", data.name, language.lang()), lambda: charts.pixel_histogram(
    facts["histogram"], language.lang())), key="pixel-hist", width="stretch")
st.caption(t("data.pixels_note"))


def handwriting_ui() -> None:
    """The digits the class drew and labelled on Draw: how many of each, the newest, the mean
    drawing of each digit above the dataset's, and the student's own to take back."""
    st.subheader(t("data.ours"))
    if DROP_REFUSED in st.session_state:       # the click's answer, after the page is drawn again without it
        st.error(language.say(st.session_state.pop(DROP_REFUSED)))
    ids, images, labels = handwriting.arrays(server.store())
    if not len(ids):
        st.info(t("data.ours_none"))
        return
    owners = handwriting.listing(server.store())
    writers = len({d["owner"] for d in owners})
    a, b = st.columns(2)
    a.metric(t("data.ours_count"), language.number(len(ids)), help=t("data.ours_count_help"))
    b.metric(t("data.ours_writers"), writers)
    counts = np.bincount(labels, minlength=10)
    st.plotly_chart(server.kept(("drawing-counts", tuple(counts.tolist()), language.lang()),
                                lambda: charts.drawing_counts(counts, language.lang())),
                    key="drawing-counts", width="stretch")
    st.caption(t("data.ours_newest"))
    cols = st.columns(12)
    for i, n in enumerate(range(len(ids) - 1, max(-1, len(ids) - 25), -1)):
        server.image(cols[i % 12], images[n], caption=str(labels[n]), width=56)
    st.caption(t("data.ours_means"))
    ours = handwriting.means(images, labels)
    cols = st.columns(10)
    for d, col in enumerate(cols):
        if d in ours:
            server.image(col, ours[d], caption=t("data.ours_mean", digit=d), width=56)
        if digit_shaped(data.image_shape, data.class_names):
            server.image(col, facts["means"][d][..., 0], caption=t("data.theirs_mean", digit=d), width=56)
    mine = [d for d in owners if d["owner"] == student.owner()]
    with st.expander(t("data.mine", n=len(mine))):
        by_id = dict(zip(ids.tolist(), images))
        cols = st.columns(10)
        for i, drawing in enumerate(mine[-60:]):
            with cols[i % 10]:
                server.image(st, by_id[drawing["id"]], caption=str(drawing["label"]), width=56)
                if st.button("✕", key=f"drop-mine-{drawing['id']}", help=t("data.drop_mine_help")):
                    try:
                        handwriting.delete(server.store(), drawing["id"], by=student.owner())
                    except Problem as exc:                      # not found, not theirs, store unwritable
                        st.session_state[DROP_REFUSED] = exc.message
                    st.rerun()


handwriting_ui()
