"""The decision charts render, labelled, for a run with several strategies."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from test_decision import deterministic

from simulator.decision import acceptability, incremental_table, value_grid
from simulator.decision_charts import acceptability_chart, ce_plane_chart


def test_the_curve_marks_the_switch_and_the_value_and_the_plane_its_means():
    runs = deterministic()
    table = incremental_table(runs)
    fig = acceptability_chart(acceptability(runs, value_grid(runs)), table, 30.0)
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert r"\$20" in texts and r"your value: \$30" in texts
    assert r"paid over free above \$20" in ax.get_title(loc="left")
    assert ax.get_xlim()[0] == 0 and ax.get_ylim() == (0, 1.02)
    plane = ce_plane_chart(runs, 30.0)
    FigureCanvasAgg(plane).draw()
    crosses = [c for c in plane.axes[0].collections if len(c.get_offsets()) == 1]
    assert np.allclose(crosses[0].get_offsets()[0], [5, 100])  # 5 more meetings for $100
