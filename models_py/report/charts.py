"""The report's charts: matplotlib figures turned into PNG data URIs, so the page stands alone."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # no display here; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from models_py.report.data import Histogram  # noqa: E402

INK = "#1f2933"
ACCENT = "#d6336c"
BAR = "#4263eb"
FAMILY_COLOURS = {
    "oracle": "#868e96",
    "model": "#4263eb",
    "baseline": "#f59f00",
    "faithful": "#ae3ec9",
    "popularity": "#2b8a3e",
}

plt.rcParams.update(
    {
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": INK,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "svg.hashsalt": "reelrec",
    }
)


def data_uri(fig: Figure) -> str:
    """PNG bytes of `fig` as a data: URI (metadata stripped so identical data → identical page)."""
    buffer = io.BytesIO()
    # Constrained layout (set at creation) instead of bbox_inches="tight": one draw, not two.
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float = 6.4, height: float = 3.2) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def distribution(
    hist: Histogram,
    title: str,
    xlabel: str,
    lines: list[tuple[float, str]] | None = None,
) -> str:
    """A histogram with labelled reference lines (thresholds, tier cut-offs)."""
    fig, ax = _figure()
    edges = 10**hist.edges if hist.log else hist.edges
    ax.stairs(hist.counts, edges, fill=True, color=BAR, alpha=0.85)
    if hist.log:
        ax.set_xscale("log")
    for value, label in lines or []:
        ax.axvline(value, color=ACCENT, linestyle="--", linewidth=1.2)
        ax.annotate(
            label,
            (value, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            va="top",
            color=ACCENT,
            fontsize=8,
        )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    return data_uri(fig)


def likes_vs_comments(cells: pd.DataFrame, bins: int = 40) -> str:
    """Reels on a log–log grid: how comments scale with likes."""
    fig, ax = _figure(5.2, 4.0)
    grid = np.zeros((bins, bins))
    if len(cells):
        grid[cells["bin_y"].to_numpy(), cells["bin_x"].to_numpy()] = cells["reels"].to_numpy()
        max_x, max_y = float(cells["max_x"].iloc[0]), float(cells["max_y"].iloc[0])
    else:
        max_x = max_y = 1.0
    x = 10 ** np.linspace(0, max(max_x, 1e-9), bins + 1)
    y = 10 ** np.linspace(0, max(max_y, 1e-9), bins + 1)
    masked = np.ma.masked_equal(grid, 0)
    mesh = ax.pcolormesh(x, y, masked, norm=LogNorm(vmin=1), cmap="viridis")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("likes + 1")
    ax.set_ylabel("comments + 1")
    ax.set_title("Likes vs comments per reel")
    fig.colorbar(mesh, ax=ax, label="reels")
    return data_uri(fig)


# Longest bar label drawn whole: longer song titles would squeeze the bars to nothing.
MAX_LABEL = 42


def short_label(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def horizontal_bars(labels: list[str], values: list[float], title: str, xlabel: str) -> str:
    return data_uri(bars_figure(labels, values, title, xlabel))


def bars_figure(labels: list[str], values: list[float], title: str, xlabel: str) -> Figure:
    """Labelled horizontal bars. The title is the figure's, centred on the whole figure: over
    the axes alone, long labels pushed it past the right edge."""
    fig, ax = _figure(6.4, 0.32 * max(len(labels), 3) + 0.8)
    positions = np.arange(len(labels))
    ax.barh(positions, values, color=BAR)
    ax.set_yticks(positions, [short_label(str(label)) for label in labels])
    ax.invert_yaxis()
    for pos, value in zip(positions, values, strict=True):
        ax.annotate(
            f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}",
            (value, pos),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.margins(x=0.12)
    fig.suptitle(title, fontsize=plt.rcParams["axes.titlesize"], fontweight="bold")
    ax.set_xlabel(xlabel)
    return fig


def method_bars(
    methods: pd.DataFrame, metric: str, title: str, xlabel: str, lower_is_better: bool
) -> str:
    """One bar per method coloured by family; the oracle's value drawn as the line to reach."""
    rows = methods.dropna(subset=[metric]).sort_values(metric, ascending=lower_is_better)
    fig, ax = _figure(6.4, 0.3 * max(len(rows), 3) + 0.9)
    positions = np.arange(len(rows))
    colours = [FAMILY_COLOURS.get(f, INK) for f in rows["family"]]
    ax.barh(positions, rows[metric], color=colours)
    ax.set_yticks(positions, rows["method"])
    ax.invert_yaxis()
    oracle = rows.loc[rows["method"] == "oracle", metric]
    if len(oracle):
        ax.axvline(float(oracle.iloc[0]), color=ACCENT, linestyle="--", linewidth=1.2)
    for pos, value in zip(positions, rows[metric], strict=True):
        ax.annotate(
            f"{value:.4f}", (value, pos), xytext=(3, 0), textcoords="offset points", va="center"
        )
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=c)
        for f, c in FAMILY_COLOURS.items()
        if f in set(rows["family"])
    ]
    labels = [f for f in FAMILY_COLOURS if f in set(rows["family"])]
    ax.margins(x=0.12)  # room for the value labels
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), frameon=False)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return data_uri(fig)
