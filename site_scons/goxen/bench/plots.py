"""PNG plots of `./scons bench` (matplotlib, Agg backend: no display needed).

    boot_timeline(results, path)   the unikernel's goxen-boot stages and the baseline's
                                   init/net points, in ms, plus xl create -> first reply
    ratios(rows, path)             uni/base per row on a log scale, the target marked
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from goxen.bench import stats  # noqa: E402


def boot_timeline(results, path):
    """Horizontal bars: each side's stages (ms after its origin) and its host-measured
    xl create -> first ping/UDP reply medians. Missing stages are listed, not drawn."""
    boot = results.get("boot", {})
    tl = boot.get("timeline", {})
    fig, ax = plt.subplots(figsize=(9, 4))
    labels, starts, widths, colors, notes = [], [], [], [], []
    uni = tl.get("unikernel", {})
    prev = 0.0
    for stage in stats.BOOT_STAGES:
        v = uni.get(stage)
        if stats.is_number(v):
            labels.append(f"unikernel: {stage}")
            starts.append(prev)
            widths.append(max(v - prev, 0.0))
            colors.append("tab:blue")
            prev = v
        else:
            notes.append(f"unikernel {stage}: {v or 'missing'}")
    base = tl.get("baseline", {})
    prev = 0.0
    for stage in ("init", "net"):
        v = base.get(stage)
        if stats.is_number(v):
            labels.append(f"baseline: {stage}")
            starts.append(prev)
            widths.append(max(v - prev, 0.0))
            colors.append("tab:orange")
            prev = v
        else:
            notes.append(f"baseline {stage}: missing")
    for side, color in (("unikernel", "tab:blue"), ("baseline", "tab:orange")):
        for key, what in (("icmp", "ping"), ("udp", "kvstore UDP")):
            med = boot.get(side, {}).get(key, {}).get("median")
            if stats.is_number(med):
                labels.append(f"{side}: xl create -> {what}")
                starts.append(0.0)
                widths.append(med * 1000.0)
                colors.append(color)
    if labels:
        y = list(range(len(labels)))
        ax.barh(y, widths, left=starts, color=colors, alpha=0.8)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        if max(s + w for s, w in zip(starts, widths)) > 0:
            ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("ms (stages: after the guest's first instruction / the kernel's start)")
    ax.set_title("Boot timeline: unikernel vs Linux baseline")
    if notes:
        fig.text(0.01, 0.01, "; ".join(notes)[:200], fontsize=7)
    fig.tight_layout(rect=(0, 0.05 if notes else 0, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def ratios(rs, path):
    """uni/base per row with a ratio, on a log axis; green where the target is met, red where
    missed, grey without a target; the target drawn as a tick."""
    rs = [r for r in rs if r["ratio"] is not None and r["ratio"] > 0]
    fig, ax = plt.subplots(figsize=(9, max(3, 0.35 * len(rs) + 1)))
    if rs:
        y = list(range(len(rs)))
        color = ["tab:green" if r["met"] else "tab:red" if r["met"] is False else "tab:grey"
                 for r in rs]
        ax.barh(y, [r["ratio"] for r in rs], color=color)
        ax.set_yticks(y, [r["metric"] for r in rs], fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.8)
        for i, r in enumerate(rs):
            t = _target_ratio(r["target"])
            if t is not None:
                ax.plot([t, t], [i - 0.4, i + 0.4], color="black", linewidth=2)
    else:
        ax.text(0.5, 0.5, "no ratios measured", ha="center", transform=ax.transAxes)
    ax.set_xlabel("unikernel / baseline (log scale; black ticks: targets)")
    ax.set_title("Unikernel vs Linux baseline")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _target_ratio(text):
    """The ratio in a row's target text ("<= 1/20 of baseline", ">= 1.5x baseline")."""
    import re
    m = re.match(r"<= 1/([\d.]+) of baseline", text)
    if m:
        return 1 / float(m.group(1))
    m = re.match(r"[<>]= ([\d.]+)x baseline", text)
    if m:
        return float(m.group(1))
    return None
