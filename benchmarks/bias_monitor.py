"""Validate the bias and pretext monitor on synthetic nations with known truth (TF IV rec. 5).

    PYTHONPATH=src .venv/bin/python benchmarks/bias_monitor.py [--seeds 3] [--rhos 0,0.5,0.8]

Null nations (no effect anywhere), one per (rho, seed): the share of tested jurisdictions with
p < 0.05 (the false positive rate at the nominal level) and the flags after Benjamini-Hochberg.
Effect nations, one per (rho, seed): a pretext effect injected in 10 % of the jurisdictions
(chosen at random), sizes 2, 5, 10, 15 points at random: power (flagged / injected) by effect x
jurisdiction size (minor-offense arrests a month), false discovery rate (false flags / flags).
Every arrest of every county is generated (sample fraction 1), the whole window. Seeds fixed:
the same command prints the same figures. Runtime: about 10 s a nation on 2 shared cores.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from securecomm.oversight.bias import load_bias_params, monitor_bias, panel_from_counts
from securecomm.synth.arrests import ArrestSpec, generate_arrests, load_arrest_params
from securecomm.synth.jurisdictions import jurisdictions_table
from securecomm.synth.params import load_params

EFFECTS = (2.0, 5.0, 10.0, 15.0)
SIZES = ((0, 10), (10, 50), (50, 200), (200, 10**9))  # minor-offense arrests a month


def _run(seed: int, rho: float, inject: dict[str, float], nparams, aparams, bparams):
    r = generate_arrests(ArrestSpec(seed=seed, sample_fraction=1.0, rho=rho, inject=inject),
                         params=aparams, nation_params=nparams)  # fmt: skip
    a = r.arrests
    # the generator's output is valid by construction: convert, do not re-validate (docs: the
    # validation of a file costs ~10 s for the 2.5 million cells of a national file)
    month = pc.strptime(pc.binary_join_element_wise(a["month"], "01", "-"), format="%Y-%m-%d",
                        unit="s").cast(pa.date32())  # fmt: skip
    table = a.set_column(1, "month", month)
    acts = dict(zip(r.activations["ori"].to_pylist(), r.activations["activated_on"].to_pylist(),
                    strict=True))  # fmt: skip
    started = time.perf_counter()
    results = monitor_bias(panel_from_counts(table, acts), bparams)
    return results, time.perf_counter() - started


def _size_label(lo: int, hi: int) -> str:
    return f">= {lo}" if hi >= 10**9 else f"{lo}-{hi}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="nations per setting (seeds 1..N)")
    ap.add_argument("--rhos", default="0,0.5,0.8", help="AR(1) autocorrelations")
    ap.add_argument("--share-injected", type=float, default=0.10)
    ap.add_argument("--json", help="also write the figures as JSON")
    args = ap.parse_args()
    rhos = [float(x) for x in args.rhos.split(",")]
    nparams, aparams, bparams = load_params(), load_arrest_params(), load_bias_params()
    out: dict = {"null": [], "effect": [], "fdr_target": bparams["fdr"]}
    print("## Null nations (no effect)\n")
    print("| rho | seed | tested | p < 0.05 | p < 0.01 | flagged (BH q <= 0.10) | monitor time |")
    print("|---|---|---|---|---|---|---|")
    for rho in rhos:
        for seed in range(1, args.seeds + 1):
            res, secs = _run(seed, rho, {}, nparams, aparams, bparams)
            p = np.array([r.p_value for r in res if r.status == "tested"])
            flagged = sum(r.flagged for r in res)
            row = {"rho": rho, "seed": seed, "tested": len(p), "fpr05": float((p < 0.05).mean()),
                   "fpr01": float((p < 0.01).mean()), "flagged": flagged, "seconds": secs}  # fmt: skip
            out["null"].append(row)
            print(f"| {rho} | {seed} | {len(p):,} | {row['fpr05']:.3f} | {row['fpr01']:.4f} | "
                  f"{flagged} | {secs:.1f} s |", flush=True)  # fmt: skip
    print("\n## Effect nations (pretext effect in a random 10 % of jurisdictions)\n")
    print("| rho | seed | injected | flagged | true flags | false flags | FDR |")
    print("|---|---|---|---|---|---|---|")
    cells: dict[tuple[float, float, str], list[int]] = {}
    for rho in rhos:
        for seed in range(1, args.seeds + 1):
            rng = np.random.default_rng([seed, 0xB1A5])
            oris = sorted(jurisdictions_table(nparams, seed)["ori"].to_pylist())
            chosen = rng.choice(len(oris), size=int(args.share_injected * len(oris)),
                                replace=False)  # fmt: skip
            inject = {oris[i]: float(rng.choice(EFFECTS)) for i in chosen}
            res, _ = _run(seed, rho, inject, nparams, aparams, bparams)
            flags = [r for r in res if r.flagged]
            true = sum(r.ori in inject for r in flags)
            fdr = (len(flags) - true) / len(flags) if flags else 0.0
            out["effect"].append({"rho": rho, "seed": seed, "injected": len(inject),
                                  "flagged": len(flags), "true": true, "fdr": fdr})  # fmt: skip
            print(f"| {rho} | {seed} | {len(inject)} | {len(flags)} | {true} | "
                  f"{len(flags) - true} | {fdr:.3f} |", flush=True)  # fmt: skip
            for r in res:
                if r.ori not in inject:
                    continue
                size = next(_size_label(lo, hi) for lo, hi in SIZES
                            if lo <= r.minor_arrests_per_month < hi)  # fmt: skip
                cell = cells.setdefault((rho, inject[r.ori], size), [0, 0, 0])
                cell[0] += 1
                cell[1] += r.flagged
                cell[2] += r.status == "tested"
    print("\n## Power: flagged / injected (tested / injected in brackets)\n")
    sizes = [_size_label(lo, hi) for lo, hi in SIZES]
    print("| rho | effect (points) | " + " | ".join(f"{s} minor arrests/month" for s in sizes)
          + " |")  # fmt: skip
    print("|---|---|" + "---|" * len(sizes))
    for rho in rhos:
        for e in EFFECTS:
            parts = []
            for s in sizes:
                n, f, t = cells.get((rho, e, s), [0, 0, 0])
                parts.append(f"{f / n:.2f} ({t}/{n})" if n else "-")
                out.setdefault("power", []).append(
                    {"rho": rho, "effect": e, "size": s, "injected": n, "flagged": f, "tested": t}
                )
            print(f"| {rho} | +{e:g} | " + " | ".join(parts) + " |")
    # the DESIGN target: +10 points, >= 50 minor-offense arrests a month
    for rho in rhos:
        n = sum(cells.get((rho, 10.0, s), [0])[0] for s in sizes[2:])
        f = sum(cells.get((rho, 10.0, s), [0, 0])[1] for s in sizes[2:])
        t = sum(cells.get((rho, 10.0, s), [0, 0, 0])[2] for s in sizes[2:])
        print(f"\npower at +10 points, >= 50 minor arrests/month, rho {rho}: "
              f"{f}/{n} = {f / max(n, 1):.2f} of injected; {f}/{t} = {f / max(t, 1):.2f} "
              "of tested")  # fmt: skip
    null_fpr = [r["fpr05"] for r in out["null"]]
    print(f"\nmean false positive rate at p < 0.05 over the null nations: "
          f"{np.mean(null_fpr):.3f} (max {np.max(null_fpr):.3f}); "
          f"flags in null nations: {sum(r['flagged'] for r in out['null'])}; "
          f"FDR mean {np.mean([r['fdr'] for r in out['effect']]):.3f} "
          f"(max {np.max([r['fdr'] for r in out['effect']]):.3f})")  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
