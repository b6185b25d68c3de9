"""What every figure shares: the colours and one layout (margins, height, title room)."""
from __future__ import annotations

import html
import zlib

TRAIN, VAL, BATCH, OVER = "#1f77b4", "#ff7f0e", "rgba(31,119,180,0.35)", "#d62728"
AHEAD = "#9e9e9e"          # a gap bar where validation is ahead of training
CHANGE = "#2ca02c"         # where a change asked while it trained took effect
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


def run_colors(keys: list) -> list[str]:
    """One colour per run, chosen from its run id (`keys`), so that a run keeps its colour in every
    view and chart. Runs drawn together never share a colour while the palette lasts: where two
    want the same one, the older run (ids begin with their creation time) keeps it and the other
    takes the next free one."""
    keys = [str(k) for k in keys]
    colors: list[str | None] = [None] * len(keys)
    free = list(range(len(PALETTE)))
    for i in sorted(range(len(keys)), key=lambda i: (keys[i], i)):
        want = zlib.crc32(keys[i].encode("utf-8")) % len(PALETTE)
        slot = next((s for s in (*range(want, len(PALETTE)), *range(want)) if s in free), want)
        if slot in free:
            free.remove(slot)
        if not free:                       # more runs than colours: the palette starts over
            free = list(range(len(PALETTE)))
        colors[i] = PALETTE[slot]
    return colors


def layout(fig, height: int, titled: bool = True, edge: int = 10, top: int | None = None, **more):
    """The house layout: a small margin (`edge` px), room above for a title when there is one."""
    top = top if top is not None else (40 if titled else edge)
    fig.update_layout(height=height, margin=dict(l=edge, r=edge, t=top, b=edge), **more)
    return fig


def label(text) -> str:
    """People's text (a run's name) for a figure: Plotly reads tags in titles and legends (a link, a
    line break), so its <, > and & are written as entities, which Plotly shows as typed."""
    return html.escape(str(text), quote=False)
