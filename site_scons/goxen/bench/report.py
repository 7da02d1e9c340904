"""Reading committed bench results: the README's table and the comparison of two runs.

    python -m goxen.bench.report table RESULTS.json [MORE.json ...]
        the table (Markdown) of the results; later files replace the parts they measured
        (a kv-only rerun after a full run, a pvh-only run)
    python -m goxen.bench.report readme README.md RESULTS.json [MORE.json ...]
        rewrite the table between README.md's `<!-- bench-table -->` and
        `<!-- /bench-table -->` lines with that table
    python -m goxen.bench.report compare NEW.json OLD.json
        every row whose ratio moved beyond the two runs' spread, rows measured now and not
        before, and targets that changed between met and missed; rows NEW did not measure (a
        partial run) are left out; exit status 1 when any changed

A ratio's spread is what its sides' [min-max] allow (uni_min/base_max .. uni_max/base_min);
a value with one run has none. A change counts when the two runs' ranges do not overlap and
the medians' ratios differ by more than TOLERANCE (5%: the smallest change worth a look on
this emulated machine, whose runs differ by tens of percent).
"""

import json
import sys
from pathlib import Path

from goxen.bench import stats

TOLERANCE = 0.05
BEGIN, END = "<!-- bench-table -->", "<!-- /bench-table -->"

#: Top-level keys of a results file that are measurements (the rest: meta, method, rows, ...).
PARTS = ("image", "boot", "memory", "throughput", "lifecycle", "boot_pvh", "lifecycle_pvh",
         "host", "smp", "idle", "atmin")


def load(path):
    return json.loads(Path(path).read_text())


def merge(results_list):
    """One results dict from several runs: a later run's parts replace an earlier run's; the
    memory and throughput parts are merged key by key. meta.sources names the files' dates."""
    out = {"meta": {"sources": []}, "errors": {}}
    for res in results_list:
        out["meta"]["sources"].append(res.get("meta", {}).get("date", "?"))
        for part in PARTS:
            if part not in res:
                continue
            if part in ("memory", "throughput") and isinstance(res[part], dict):
                out.setdefault(part, {}).update(res[part])
            else:
                out[part] = res[part]
        out["errors"].update(res.get("errors", {}))
    return out


def ratio_range(row):
    """(lo, hi) of the row's ratio from its sides' [min, max], or (ratio, ratio) without
    spread; None when the row has no ratio."""
    r = row.get("ratio")
    if r is None:
        return None
    us, bs = row.get("unikernel_spread"), row.get("baseline_spread")
    u_lo, u_hi = (us["min"], us["max"]) if us else (row["unikernel"], row["unikernel"])
    b_lo, b_hi = (bs["min"], bs["max"]) if bs else (row["baseline"], row["baseline"])
    if not all(stats.is_number(x) and x > 0 for x in (u_lo, u_hi, b_lo, b_hi)):
        return (r, r)
    return (u_lo / b_hi, u_hi / b_lo)


def compare(new_rows, old_rows, tolerance=TOLERANCE):
    """[(metric, what changed)] between two runs' rows."""
    old = {r["metric"]: r for r in old_rows}
    new = {r["metric"]: r for r in new_rows}
    out = []
    for metric, r in new.items():
        if r.get("ratio") is None and not stats.is_number(r.get("unikernel")):
            continue    # not measured now (a partial run): nothing to compare
        o = old.get(metric)
        if o is None:
            out.append((metric, "new row"))
            continue
        if o["met"] is not None and r["met"] is not None and o["met"] != r["met"]:
            out.append((metric, f"target {'now met' if r['met'] else 'now MISSED'} "
                                f"({o['ratio']:.3g} -> {r['ratio']:.3g})"))
            continue
        a, b = ratio_range(r), ratio_range(o)
        if a is None or b is None:
            if a is not None:
                out.append((metric, "not measured before, measured now"))
            continue    # not measured now (a partial run): nothing to compare
        disjoint = a[1] < b[0] or b[1] < a[0]
        change = abs(r["ratio"] - o["ratio"]) / max(abs(o["ratio"]), 1e-12)
        if disjoint and change > tolerance:
            out.append((metric, f"ratio {o['ratio']:.3g} -> {r['ratio']:.3g} "
                                f"({'+' if r['ratio'] > o['ratio'] else '-'}{change:.0%}; "
                                f"ranges {b[0]:.3g}-{b[1]:.3g} and {a[0]:.3g}-{a[1]:.3g})"))
    return out


def replace_block(text, table):
    """text with the lines between BEGIN and END replaced by table."""
    lines = text.splitlines(keepends=True)
    try:
        i = next(n for n, line in enumerate(lines) if line.strip() == BEGIN)
        j = next(n for n, line in enumerate(lines) if line.strip() == END and n > i)
    except StopIteration:
        raise ValueError(f"no {BEGIN} ... {END} block") from None
    return "".join(lines[:i + 1]) + table + "".join(lines[j:])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) >= 2 and argv[0] == "table":
        sys.stdout.write(stats.markdown(stats.rows(merge([load(p) for p in argv[1:]]))))
        return 0
    if len(argv) >= 3 and argv[0] == "readme":
        readme = Path(argv[1])
        table = stats.markdown(stats.rows(merge([load(p) for p in argv[2:]])))
        try:
            readme.write_text(replace_block(readme.read_text(), table))
        except ValueError as e:
            print(f"{readme}: {e}", file=sys.stderr)
            return 2
        print(f"{readme}: table rewritten from {', '.join(argv[2:])}")
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        new, old = (stats.rows(merge([load(p)])) for p in argv[1:])
        changes = compare(new, old)
        for metric, what in changes:
            print(f"{metric}: {what}")
        print(f"{len(changes)} change(s) beyond the spread" if changes else
              "no ratio moved beyond its spread")
        return 1 if changes else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
