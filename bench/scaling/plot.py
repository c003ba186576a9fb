#!/usr/bin/env python3
"""Draw gmm-scaling's JSON lines as a 3-panel PNG: time per EM iteration vs n, k and d.

    .venv/bin/python bench/scaling/plot.py [JSONL] [-o PNG] [--machine TEXT] [--date YYYY-MM-DD]

JSONL defaults to target/scaling.jsonl and PNG to docs/img/scaling.png (its folder is
created). Each panel is log-log: the median ms per em_step against the varied size, one line
per case (diag, full) with the min-max range of the timed steps as error bars, and dotted
guide lines of slope 1 (in the d panel, 2 for full: its kernel's d^2) through each line's
last (largest) point, where fixed costs matter least. The title names the machine (the `cpu` field, or --machine) and the date of
the run (`started_unix`, or --date).
"""

import argparse
import datetime
import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

SWEEPS = [
    ("n", "n (samples)", ("d", "k")),
    ("k", "k (components)", ("n", "d")),
    ("d", "d (features)", ("n", "k")),
]
CASES = [("diag", "tab:blue", "o"), ("full", "tab:red", "s")]


def fmt_size(v):
    if v >= 1000 and v % 1000 == 0:
        return f"{v / 1e6:g}e6" if v >= 1_000_000 else f"{v // 1000}k"
    return str(v)


def minor_label(v, _pos):
    """`%g` of a minor log tick whose mantissa is 2, 3 or 5; empty otherwise."""
    mantissa = v / 10 ** math.floor(math.log10(v))
    return f"{v:g}" if any(abs(mantissa - m) < 1e-6 for m in (2, 3, 5)) else ""


def load(path):
    rows = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"plot.py: {path}:{lineno}: not JSON: {e}")
    if not rows:
        sys.exit(f"plot.py: {path} has no points")
    return rows


def guide(ax, xs, x0, y0, slope, label):
    ys = [y0 * (x / x0) ** slope for x in xs]
    style = ":" if slope == 1 else "--"
    ax.plot(xs, ys, style, color="grey", linewidth=1, label=label)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("jsonl", nargs="?", default="target/scaling.jsonl")
    p.add_argument("-o", "--out", default="docs/img/scaling.png")
    p.add_argument("--machine", help="machine text for the title [default: the cpu field]")
    p.add_argument("--date", help="date for the title [default: the run's started_unix]")
    args = p.parse_args()

    rows = load(args.jsonl)
    machine = args.machine or rows[0].get("cpu", "unknown machine")
    if args.date:
        date = args.date
    elif rows[0].get("started_unix"):
        date = datetime.datetime.fromtimestamp(rows[0]["started_unix"]).strftime("%Y-%m-%d")
    else:
        date = datetime.date.today().isoformat()
    threads = rows[0].get("threads", "?")
    dtype = rows[0].get("dtype", "f64")

    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2))
    for ax, (sweep, xlabel, fixed) in zip(axes, SWEEPS):
        points = [r for r in rows if r["sweep"] == sweep]
        if not points:
            ax.set_visible(False)
            continue
        first_slope_done = set()
        for case, color, marker in CASES:
            pts = sorted((r for r in points if r["case"] == case), key=lambda r: r[sweep])
            if not pts:
                continue
            xs = [r[sweep] for r in pts]
            ys = [r["median_ms"] for r in pts]
            lo = [r["median_ms"] - r["min_ms"] for r in pts]
            hi = [r["max_ms"] - r["median_ms"] for r in pts]
            ax.errorbar(xs, ys, yerr=[lo, hi], color=color, marker=marker, capsize=3,
                        label=case)
            slopes = [1] if sweep != "d" else ([1] if case == "diag" else [2])
            for s in slopes:
                label = f"slope {s}" if s not in first_slope_done else None
                first_slope_done.add(s)
                guide(ax, xs, xs[-1], ys[-1], s, label)
        fixed_text = ", ".join(
            f"{name} = {fmt_size(points[0][name])}" for name in fixed
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted({r[sweep] for r in points})
        ax.set_xticks(ticks, [fmt_size(t) for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        # Label some minor ticks (2, 3, 5 x 10^j) only where the data spans little more than
        # a decade, so that the axis has numbers at all.
        lows = [r["min_ms"] for r in points]
        highs = [r["max_ms"] for r in points]
        if max(highs) / min(lows) < 20:
            ax.yaxis.set_minor_formatter(FuncFormatter(minor_label))
        else:
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel)
        ax.set_ylabel("time per EM iteration (ms, median)")
        ax.set_title(f"vs {sweep} ({fixed_text})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(
        f"gmm em_step ({dtype}, {threads} threads): time per EM iteration — {machine}, {date}"
    )
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
