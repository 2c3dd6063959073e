"""The colours every figure uses, static (matplotlib) or interactive (plotly.js): one place, no imports."""

PALETTE = {"train": "#4c72b0", "val": "#dd8452", "lr": "#55a868", "test": "#c44e52"}

#: one colour per run or student in overlays (matplotlib's tab10)
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf")
