"""The scaling benchmark's model of a run's wall time, fitted to its runs by least squares."""

from __future__ import annotations

MODEL = ("wall = startup[engine] + (bytes x per_byte + partitions x per_partition[engine]) / workers"
         " + partitions x merge")


def engine_class(r: dict) -> str:
    if r["engine"] == "dask":
        return "dask, running cluster"
    if r["engine"] == "dask-own":
        return "dask, own cluster"
    return "local, worker processes" if r["workers"] > 1 else "local, one process"


def fit_group(recs: list[dict]) -> dict:
    """Least squares with every constant >= 0 (a negative one is set to 0 and the others fitted again);
    a constant these runs cannot tell apart from the others is left undetermined (None)."""
    import numpy as np

    classes = sorted({engine_class(r) for r in recs})
    kind = {id(r): "dask" if r["engine"] != "local" else "local" for r in recs}
    kinds = sorted(set(kind.values()))
    columns: list[tuple[str, list[float]]] = [(f"startup [{c}]", [float(engine_class(r) == c) for r in recs])
                                              for c in classes]
    columns.append(("per_byte", [r["bytes"] / r["workers"] for r in recs]))
    for k in kinds:
        columns.append((f"per_partition [{k}]", [r["partitions"] / r["workers"] * (kind[id(r)] == k) for r in recs]))
    columns.append(("merge", [float(r["partitions"]) for r in recs]))
    y = np.array([r["wall_s"] for r in recs])
    x = np.array([c[1] for c in columns]).T
    scale = np.linalg.norm(x, axis=0)
    scale[scale == 0] = 1
    xs = x / scale
    kept: list[int] = []  # the columns the runs determine, in order: each must add to the rank
    for j in range(len(columns)):
        if np.linalg.matrix_rank(xs[:, [*kept, j]], tol=1e-9) > len(kept):
            kept.append(j)
    free = list(kept)
    coef = np.zeros(len(columns))
    while free:
        sol, *_ = np.linalg.lstsq(xs[:, free], y, rcond=None)
        if (sol >= 0).all():
            coef[free] = sol / scale[free]
            break
        free.pop(int(np.argmin(sol)))  # the most negative is set to 0
    resid = y - x @ coef
    return {"runs": len(recs), "sizes": len({r["rows"] for r in recs}),
            "constants": {name: (float(coef[j]) if j in kept else None) for j, (name, _) in enumerate(columns)},
            "clipped": [name for j, (name, _) in enumerate(columns) if j in kept and j not in free],
            "rms_residual_s": float(np.sqrt(np.mean(resid**2))),
            "max_relative_residual": float(np.max(np.abs(resid) / y)) if len(y) else None,
            "fitted_walls_s": [float(v) for v in x @ coef]}


def fit(records: list[dict]) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        if r.get("wall_s") is not None:
            groups.setdefault((r["job"], "csv" if r["input"] == "csv" else "parquet"), []).append(r)
    return [{"job": job, "format": fmt, **fit_group(recs)} for (job, fmt), recs in sorted(groups.items())]


def _fmt_constant(name: str, v: float | None, clipped: bool) -> str:
    if v is None:
        return "-"
    if clipped:
        return "0 (clipped)"
    if name == "per_byte":
        return f"{v * 1e9:.2f} s/GB" + (f" ({1 / (v * 1e6):.0f} MB/s a worker)" if v > 0 else "")
    if name.startswith("startup"):
        return f"{v:.2f} s"
    return f"{v * 1e3:.1f} ms"


def print_fit(fits: list[dict]) -> None:
    print(f"\nModel, fitted for each job and input format (Parquet file and parts together): {MODEL}\n")
    order = ("startup", "per_byte", "per_partition", "merge")
    names = sorted(dict.fromkeys(n for f in fits for n in f["constants"]),
                   key=lambda n: (order.index(n.split(" ")[0]), n))
    print("| job | format | runs | sizes | " + " | ".join(names) + " | rms residual s | max relative residual |")
    print("| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in names) + " | ---: | ---: |")
    for f in fits:
        cells = [_fmt_constant(n, f["constants"][n], n in f["clipped"]) if n in f["constants"] else "" for n in names]
        print(f"| {f['job']} | {f['format']} | {f['runs']} | {f['sizes']} | " + " | ".join(cells)
              + f" | {f['rms_residual_s']:.2f} | {f['max_relative_residual']:.0%} |")
    print("\n`-`: not determined by these runs, which cannot tell it from the constants before it (per_partition: "
          "no run of more than one partition; merge: no engine ran partitions with different numbers of workers, "
          "so the driver's cost per partition is in per_partition); a blank: no run of that engine; "
          "`0 (clipped)`: the least-squares value was negative.")
    if any(f["sizes"] < 2 for f in fits):
        print("With one table size, the cost per byte is hardly told from the start-up: fit the runs of several "
              "sizes together (`--fit A.json B.json`).")
