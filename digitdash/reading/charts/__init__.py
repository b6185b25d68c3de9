"""Run data -> Plotly figures (no Streamlit here; pages only place them)."""
from digitdash.reading.charts.digits import class_counts, drawing_counts, pixel_histogram, probability_bars
from digitdash.reading.charts.inside import activation_bars, digit_map, saliency, weight_histograms
from digitdash.reading.charts.runs import (confusion_heatmap, convergence_lines, curves, gap_bars, grouped_bars,
                                           overlay_curves)
from digitdash.reading.charts.style import PALETTE

__all__ = ["PALETTE", "activation_bars", "class_counts", "confusion_heatmap", "convergence_lines", "curves", "digit_map",
           "drawing_counts", "gap_bars", "grouped_bars", "overlay_curves", "pixel_histogram", "probability_bars", "saliency",
           "weight_histograms"]
