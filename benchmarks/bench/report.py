"""What a run shows: a table of results per suite, the checks, the speed targets, the Markdown
table for the project README."""

from __future__ import annotations

import shutil

from .suites import FLOOR, MB, PEAK_LIMIT_MB, TOOLS, Plan, Target, size_label, size_words

TOOL_ORDER = [FLOOR, *TOOLS]


def case_label(r: dict) -> str:
    """'zscore 1,000,000 csv', 'small zscore 200 csv', 'excel zscore 100,000 xlsx', 'wide zscore 2,000x500 csv',
    'group zscore 1,000,000/1,000 keys csv' or 'zscore 12,000,000 csv (big CSV)'."""
    prefix = {"small": "small ", "wide": "wide ", "groups": "group ", "excel": "excel ", "robust": "robust suite "}.get(r["suite"], "")
    return f"{prefix}{r['job']} {size_label(r)} {r['format']}" + (" (big CSV)" if r["suite"] == "big" else "")


def _size_of(r: dict) -> dict:
    return {k: r[k] for k in ("rows", "keys", "cols") if k in r}


def _size_key(r: dict) -> tuple:
    """A size (of a record, a case or a target) as something to compare and look up."""
    return tuple(sorted(_size_of(r).items()))


def _key(r: dict, tool: str | None = None, job: str | None = None) -> tuple:
    return (job or r["job"], _size_key(r), r["format"], tool or r["tool"])


def index(results: list[dict]) -> dict:
    return {_key(r): r for r in results}


def _wall(rec: dict | None) -> float | None:
    return rec["median_wall_s"] if rec else None


def ratio_text(r: float) -> str:
    """r = a tool's wall / softnorm's."""
    return f"{r:.2f} (softnorm {r:.2f}x faster)" if r >= 1 else f"{r:.2f} (softnorm {1 / r:.2f}x slower)"


def _ordered(plan: Plan, results: list[dict]) -> list[dict]:
    sizes = [_size_key(s) for s in plan.sizes]
    return sorted(results, key=lambda r: (sizes.index(_size_key(r)), plan.formats.index(r["format"]),
                                          plan.suite.jobs.index(r["job"]), TOOL_ORDER.index(r["tool"])))


def _table_size(r: dict) -> str:
    if "cols" in r:
        return f"{r['cols']:,} x {r['rows']:,}"
    return f"{r['rows']:,}" + (f" / {r['keys']:,}" if "keys" in r else "")


def table(plan: Plan, results: list[dict]) -> tuple[str, list[str], list[list[str]]]:
    """The title, headers and rows of a suite's table: median wall, peak, against softnorm and the floor."""
    idx = index(results)
    floor = "io" in plan.jobs
    size_head = {"wide": "columns x rows", "groups": "rows / keys"}.get(plan.suite.layout, "rows")
    headers = ["job", size_head, "format", "tool", "median wall s", "peak MiB", "tool/softnorm wall"]
    rows = []
    for r in _ordered(plan, results):
        cells = [r["job"], _table_size(r), r["format"], r["tool"]]
        sn, fl = _wall(idx.get(_key(r, "softnorm"))), _wall(idx.get(_key(r, FLOOR, "io")))
        if r["error"]:
            cells += ["FAILED", "", ""] + ([""] if floor else [])
        else:
            med = r["median_wall_s"]
            cells += [f"{med:.3f}", f"{r['peak_mib']:.0f}", ratio_text(med / sn) if r["tool"] not in ("softnorm", FLOOR) and sn else ""]
            if floor:
                cells.append(f"{med / fl:.2f}" if r["tool"] != FLOOR and fl else "")
        rows.append(cells)
    if floor:
        headers.append("wall/I/O floor")
    runs = (f"median of {plan.runs} timed run(s) after 1 warm-up" if plan.suite.warmup
            else f"{plan.runs} run(s), no warm-up")
    return f"{plan.suite.title} (whole process; {runs}, max peak RSS)", headers, rows


def print_table(title: str, headers: list[str], rows: list[list[str]], plain: bool) -> None:
    right = {i for i, h in enumerate(headers) if h not in ("job", "format", "tool", "tool/softnorm wall")}
    if not plain:
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            plain = True
    if not plain:
        t = Table(title=title)
        for i, h in enumerate(headers):
            t.add_column(h, justify="right" if i in right else "left")
        for r in rows:
            t.add_row(*r)
        Console(width=max(140, shutil.get_terminal_size().columns)).print(t)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    print(title + ":")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    prev = None
    for r in rows:
        if prev is not None and (r[1], r[2]) != prev:
            print()
        prev = (r[1], r[2])
        print(line(r))


def _cases(plan: Plan, results: list[dict], jobs=None) -> list[dict]:
    """The (job, size, format) cases of a suite but its I/O floor, in the table's order, with softnorm's
    record, the polars one-liner's and the floor's (None where not run)."""
    idx = index(results)
    cases = []
    for r in _ordered(plan, [r for r in results if r["tool"] == "softnorm" and r["job"] != "io"]):
        if jobs is None or r["job"] in jobs:
            cases.append({**{k: r[k] for k in ("suite", "job", "format")}, **_size_of(r), "name": case_label(r),
                          "softnorm": r, "polars": idx.get(_key(r, "polars")), FLOOR: idx.get(_key(r, FLOOR, "io"))})
    return cases


def _target(title: str, met: list[str], not_met: list[str], not_measured: list[str], suite: str | None) -> dict:
    status = "NOT MET" if not_met else "MET" if met else "NOT MEASURED"
    return {"suite": suite, "target": title, "status": status, "met": met, "not_met": not_met, "not_measured": not_measured}


def _peak_text(mib: float) -> str:
    return f"{mib:.1f} MiB = {mib / MB:.1f} MB"


def _limit_text(limit: float) -> str:
    """'1.1', '1.0', or '1.05' where a tenth does not say it."""
    return f"{limit:.1f}" if round(limit, 1) == limit else f"{limit:.2f}"


def evaluate(plan: Plan, target: Target, results: list[dict]) -> dict:
    """MET (every case listed), NOT MET (every case that misses, and every case where softnorm failed)
    or NOT MEASURED; a case whose reference failed or was not run is 'not measured', unless
    softnorm's peak alone misses."""
    ref_name = "the I/O floor" if target.against == FLOOR else "polars"
    subject, ratio_name = "softnorm", f"softnorm/{target.against}"
    if target.against_job:  # softnorm against itself on another job: 'softnorm maxabs / softnorm minmax'
        ref_name, subject = f"softnorm {target.against_job}", f"softnorm {'/'.join(target.jobs)}"
        ratio_name = f"{subject}/{ref_name}"
    limits = " and ".join(f"<= {_limit_text(limit)} at {size_words(s)}" for s, limit in target.limits if limit is not None)
    peak_only = " at " + " and ".join(size_words(s) for s, limit in target.limits if limit is None)
    title = f"{target.what}: " + "; ".join(
        ([f"{subject} / {ref_name} {limits}"] if limits else [])
        + ([f"softnorm peak <= {target.peak_mb:g} MB ({target.peak_mb * MB:.1f} MiB)"
            + (peak_only if peak_only != " at " else "")] if target.peak_mb else []))
    met, not_met, not_measured, idx = [], [], [], index(results)
    for c in _cases(plan, results, target.jobs):
        size_limits = [lim for s, lim in target.limits if _size_key(s) == _size_key(c)]
        if not size_limits or (target.formats is not None and c["format"] not in target.formats):
            continue
        limit = size_limits[0]
        sn = c["softnorm"]
        ref = idx.get(_key(c, "softnorm", target.against_job)) if target.against_job else c[target.against]
        if sn["median_wall_s"] is None:
            not_met.append(f"{c['name']}: softnorm failed")
            continue
        peak_ok = target.peak_mb is None or sn["peak_mib"] <= target.peak_mb * MB
        peak = "" if target.peak_mb is None else f", softnorm peak {_peak_text(sn['peak_mib'])}"
        if limit is None:  # the peak alone
            (met if peak_ok else not_met).append(f"{c['name']}: {peak[2:]}")
            continue
        if ref is None or ref["median_wall_s"] is None:
            (not_measured if peak_ok else not_met).append(f"{c['name']}: {ref_name} " + ("not run" if ref is None else "failed") + peak)
            continue
        r = sn["median_wall_s"] / ref["median_wall_s"]
        shown = f"{r:.3f}" if round(r, 2) <= limit < r else f"{r:.2f}"  # 1.004 is not "1.00 <= 1.0"
        (met if r <= limit and peak_ok else not_met).append(f"{c['name']}: {ratio_name} = {shown} (limit {_limit_text(limit)})" + peak)
    run = [_size_key(s) for s in plan.sizes]
    not_measured += [f"{size_words(s)}: not in {plan.suite.size_option}" for s, _ in target.limits if _size_key(s) not in run]
    if target.formats and not set(target.formats) & set(plan.formats):
        not_measured.append(f"{', '.join(target.formats)}: not in --formats")
    return _target(title, met, not_met, not_measured, plan.suite.name)


def memory_targets(plans: list[Plan], results: list[dict]) -> list[dict]:
    """softnorm's peak on every job, size and format of every suite that ran: at most 300 MB (the
    target), and, as the unit is easy to mix up, at most 300 MiB too."""
    cases = [c for plan in plans for c in _cases(plan, [r for r in results if r["suite"] == plan.suite.name])]
    targets = []
    for limit_mib, title in ((PEAK_LIMIT_MB * MB, f"{PEAK_LIMIT_MB:g} MB ({PEAK_LIMIT_MB * MB:.1f} MiB)"),
                             (PEAK_LIMIT_MB, f"{PEAK_LIMIT_MB:g} MiB ({PEAK_LIMIT_MB / MB:.1f} MB)")):
        met, not_met = [], []
        for c in cases:
            sn, pol = c["softnorm"], c["polars"]
            if sn["peak_mib"] is None:
                not_met.append(f"{c['name']}: softnorm failed")
                continue
            peer = f" (polars {pol['peak_mib']:.0f} MiB)" if pol and pol["peak_mib"] is not None else ""
            (met if sn["peak_mib"] <= limit_mib else not_met).append(f"{c['name']}: softnorm {_peak_text(sn['peak_mib'])}{peer}")
        targets.append(_target(f"softnorm peak memory <= {title} on every job, size and format of every suite run",
                               met, not_met, [], None))
    return targets


def evaluate_targets(plans: list[Plan], results: list[dict]) -> list[dict]:
    """Each suite's targets, then the memory targets over all of them."""
    out = [evaluate(plan, t, [r for r in results if r["suite"] == plan.suite.name]) for plan in plans for t in plan.suite.targets]
    return out + (memory_targets(plans, results) if plans else [])


def print_targets(targets: list[dict]) -> None:
    if not targets:
        return
    print()
    print("Speed targets, in this run (ratios of median walls: softnorm / the polars one-liner, or / the I/O floor; "
          "MB = 10^6 bytes, MiB = 2^20):")
    shown = None
    for t in targets:
        print(f"  [{t['status']}] {t['target']}")
        for item in t["not_met"]:
            print(f"      not met: {item}")
        for item in t["not_measured"]:
            print(f"      not measured: {item}")
        if t["status"] == "MET" and t["met"] == shown:  # the memory target in MiB, after the one in MB
            print(f"      met: the same {len(shown)} cases as above")
        elif t["status"] == "MET":
            for item in t["met"]:
                print(f"      met: {item}")
            shown = t["met"]


def markdown(plans: list[Plan], results: list[dict]) -> str:
    """softnorm against its reference (the polars one-liner; for the wide tables the I/O floor), one
    row per job, size and format: the standard suite and the big CSV in the first table (the one in
    the project README), then one table for each other suite that ran."""
    def secs(r):
        if r is None:
            return "-"
        return "FAILED" if r["median_wall_s"] is None else f"{r['median_wall_s']:.2f}"

    def mib(r):
        return "-" if r is None or r["peak_mib"] is None else f"{r['peak_mib']:.0f}"

    by_suite = {p.suite.name: p for p in plans}
    sections = [  # heading, suites, columns of the size, reference
        ("", ["standard", "big"], ["rows"], "polars"),
        ("Small table (the standard table's first rows, CSV):", ["small"], ["rows"], "polars"),
        ("Group jobs (`-g grp`):", ["groups"], ["rows", "keys"], "polars"),
        ("Excel workbook in (`.xlsx`), CSV out:", ["excel"], ["rows"], "polars"),
        ("Robust scaling and the other scalers:", ["robust"], ["rows"], "polars"),
        ("Wide tables, against the I/O floor (polars reads the file, as text, and writes it back):",
         ["wide"], ["cols", "rows"], FLOOR),
    ]
    lines = []
    for heading, names, size_keys, ref in sections:
        ran = [by_suite[n] for n in names if n in by_suite]
        if not ran:
            continue
        ref_head = "I/O floor" if ref == FLOOR else "polars"
        size_heads = [{"cols": "columns"}.get(k, k) for k in size_keys]
        lines += [*([""] if lines else []), *([heading, ""] if heading else []),
                  "| " + " | ".join(["job", *size_heads, "format", "softnorm s", f"{ref_head} s", "ratio", "softnorm peak MiB",
                                     f"{ref_head} peak MiB"]) + " |",
                  "| --- | " + " | ".join("---:" for _ in size_keys) + " | --- | ---: | ---: | ---: | ---: | ---: |"]
        for p in ran:
            for c in _cases(p, [r for r in results if r["suite"] == p.suite.name]):
                sn, other = c["softnorm"], c[ref]
                ratio = (f"{sn['median_wall_s'] / other['median_wall_s']:.2f}"
                         if other and sn["median_wall_s"] and other["median_wall_s"] else "-")
                cells = [c["job"], *(f"{c[k]:,}" for k in size_keys), c["format"], secs(sn), secs(other), ratio, mib(sn), mib(other)]
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
