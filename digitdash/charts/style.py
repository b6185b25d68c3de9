"""What every figure shares: the colours and one layout (margins, height, title room)."""
from __future__ import annotations

import html

TRAIN, VAL, BATCH, OVER = "#1f77b4", "#ff7f0e", "rgba(31,119,180,0.35)", "#d62728"
AHEAD = "#9e9e9e"          # a gap bar where validation is ahead of training
CHANGE = "#2ca02c"         # where a change asked while it trained took effect
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


def layout(fig, height: int, titled: bool = True, edge: int = 10, top: int | None = None, **more):
    """The house layout: a small margin (`edge` px), room above for a title when there is one."""
    top = top if top is not None else (40 if titled else edge)
    fig.update_layout(height=height, margin=dict(l=edge, r=edge, t=top, b=edge), **more)
    return fig


def label(text) -> str:
    """People's text (a run's name) for a figure: Plotly reads tags in titles and legends (a link, a
    line break), so its <, > and & are written as entities, which Plotly shows as typed."""
    return html.escape(str(text), quote=False)
