"""Benchmark: 1:N biometric search throughput, recall@1 against exact search, FMR / FNMR.

One command::

    .venv/bin/python benchmarks/biometric_search.py                      # 1M gallery
    .venv/bin/python benchmarks/biometric_search.py --gallery 10000000   # full scale

What it does, all in one run and on the same data:

1. generates the synthetic enrolment captures of identities ``0 .. N-1``
   (:class:`securecomm.identity.templates.TemplateModel`, session 0) in chunks and builds a
   :class:`~securecomm.identity.gallery.BiometricGallery` with
   :meth:`~securecomm.identity.gallery.BiometricGallery.rebuild` -- build time;
2. builds the baseline: an exact ``faiss.IndexFlatIP`` over the same vectors;
3. queries: ``Q/2`` *genuine* probes (session-1 captures of random enrolled identities) and
   ``Q/2`` *impostor* probes (captures of identities never enrolled), searched in batches of
   ``--batch`` with 2 threads, by the gallery and by exact search -- searches/s for both;
4. recall@1 against exact search: over all probes, genuine, impostor, and over the
   *decision-relevant* probes (exact best score at or above the verification band, i.e. the
   ones whose result can open a task or trigger an action), plus the rate at which the gallery's
   decision (match / verify / no_match) equals the decision on the exact result;
5. error rates at the policy's thresholds: per-comparison FNMR (genuine enrolment-vs-probe
   scores) and FMR (exact tail count from the impostor probes' exact top-10 over the gallery,
   and from random impostor pairs), and the per-search FNIR / FPIR of the gallery; the
   threshold for a per-comparison FMR of 1e-6.

Prints a Markdown table and writes ``benchmarks/results/biometric_search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from securecomm.identity.gallery import BiometricGallery, DecisionPolicy, IndexParams
from securecomm.identity.metrics import (
    error_rates,
    identification_rates,
    tail_fmr_from_topk,
    threshold_for_fmr,
)
from securecomm.identity.templates import TemplateModel

RESULTS = Path(__file__).resolve().parent / "results" / "biometric_search.json"


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _timed_search(
    search, x: np.ndarray, k: int, batch: int
) -> tuple[np.ndarray, np.ndarray, float]:
    ids, scores = [], []
    t0 = time.perf_counter()
    for lo in range(0, x.shape[0], batch):
        i, s = search(x[lo : lo + batch], k)
        ids.append(i)
        scores.append(s)
    dt = time.perf_counter() - t0
    return np.concatenate(ids), np.concatenate(scores), dt


def _decisions(scores: np.ndarray, policy: DecisionPolicy) -> np.ndarray:
    return np.where(
        scores >= policy.match_threshold,
        2,
        np.where(scores >= policy.verification_band_low, 1, 0),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gallery", type=int, default=1_000_000, help="enrolled identities")
    p.add_argument("--queries", type=int, default=20_000, help="probes (half genuine)")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=1000, help="queries per search call")
    p.add_argument("--exact-batch", type=int, default=0, help="exact search batch (0 = all)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--kind", default=None, help="override IndexParams.kind")
    p.add_argument("--nlist", type=int, default=None)
    p.add_argument("--nprobe", type=int, default=None)
    p.add_argument("--tables", type=int, default=None)
    p.add_argument("--quantizer", default=None, choices=["flat", "hnsw"])
    p.add_argument("--train-size", type=int, default=None)
    p.add_argument("--ef-search", type=int, default=None)
    p.add_argument("--hnsw-m", type=int, default=None)
    p.add_argument("--pairs", type=int, default=4_000_000, help="random impostor pairs for FMR")
    p.add_argument("--sweep", default="", help="extra nprobe (or efSearch) values to time")
    p.add_argument("--out", type=Path, default=RESULTS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    a = parse_args(argv)
    faiss.omp_set_num_threads(a.threads)
    n, q = a.gallery, a.queries
    model = TemplateModel(a.dim, seed=a.seed)
    base = IndexParams.for_gallery_size(n)
    overrides = {
        k: v
        for k, v in {
            "kind": a.kind, "nlist": a.nlist, "nprobe": a.nprobe, "tables": a.tables,
            "quantizer": a.quantizer, "train_size": a.train_size, "ef_search": a.ef_search,
            "hnsw_m": a.hnsw_m,
        }.items()
        if v is not None
    }  # fmt: skip
    params = IndexParams(**{**base.to_dict(), **overrides})
    policy = DecisionPolicy()
    print(f"gallery {n:,} x {a.dim}-d, {q:,} queries, index {params}", file=sys.stderr, flush=True)

    # 1. build
    gallery = BiometricGallery(a.dim, params, policy, threads=a.threads)
    t0 = time.perf_counter()
    gallery.rebuild(model.iter_enrolment(n, chunk_size=500_000))
    build_s = time.perf_counter() - t0
    print(f"built in {build_s:.1f}s", file=sys.stderr, flush=True)

    # 2. exact baseline on the same vectors
    t0 = time.perf_counter()
    exact = faiss.IndexFlatIP(a.dim)
    for _, vecs in model.iter_enrolment(n, chunk_size=500_000):
        exact.add(vecs)
    exact_build_s = time.perf_counter() - t0

    # 3. probes
    rng = np.random.default_rng(a.seed + 1)
    n_gen = q // 2
    gen_ids = np.sort(rng.choice(n, n_gen, replace=False)).astype(np.int64)
    imp_ids = np.arange(n + 10_000_000, n + 10_000_000 + (q - n_gen), dtype=np.int64)
    gen = model.captures(gen_ids, session=1)
    imp = model.captures(imp_ids, session=1)
    x = np.concatenate([gen.vectors, imp.vectors])
    enrolled = np.r_[np.ones(n_gen, bool), np.zeros(q - n_gen, bool)]
    true_ids = np.r_[gen_ids, np.full(q - n_gen, -1)]

    gallery.search(x[: a.batch], 1)  # warm-up (first-touch page faults), not timed
    load_before_search = os.getloadavg()
    g_ids, g_sc, g_s = _timed_search(gallery.search, x, 1, a.batch)
    print(f"gallery search {q / g_s:,.0f} q/s", file=sys.stderr, flush=True)

    def exact_search(xb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        s, i = exact.search(xb, k)
        return i, s

    # exact search gets its best batch (BLAS over the whole query set: one pass over the data)
    exact_batch = a.exact_batch or q
    e_ids, e_sc, e_s = _timed_search(exact_search, x, 1, exact_batch)
    print(f"exact search {q / e_s:,.0f} q/s (batch {exact_batch})", file=sys.stderr, flush=True)
    # impostors' exact top-10 for the far-tail FMR count (not timed)
    tail_sc = exact_search(x[~enrolled], 10)[1]

    # 4. recall@1 against exact search
    same = g_ids[:, 0] == e_ids[:, 0]
    relevant = e_sc[:, 0] >= policy.verification_band_low
    dec_g = _decisions(g_sc[:, 0], policy)
    dec_e = _decisions(e_sc[:, 0], policy)
    recall = {
        "all": float(same.mean()),
        "genuine": float(same[enrolled].mean()),
        "impostor": float(same[~enrolled].mean()),
        "decision_relevant": float(same[relevant].mean()) if relevant.any() else None,
        "decision_relevant_n": int(relevant.sum()),
        "decision_agreement": float((dec_g == dec_e).mean()),
        "exact_top1_is_true_identity_genuine": float((e_ids[enrolled, 0] == gen_ids).mean()),
    }

    # optional sweep of the search-time knob on the same index
    sweep = []
    for v in [int(s) for s in a.sweep.split(",") if s.strip()]:
        gallery.set_search_params(nprobe=v, ef_search=v)
        s_ids, s_sc, s_s = _timed_search(gallery.search, x, 1, a.batch)
        ok = s_ids[:, 0] == e_ids[:, 0]
        sweep.append(
            {
                "value": v,
                "qps": q / s_s,
                "recall_all": float(ok.mean()),
                "recall_genuine": float(ok[enrolled].mean()),
                "recall_decision_relevant": float(ok[relevant].mean()),
                "decision_agreement": float((_decisions(s_sc[:, 0], policy) == dec_e).mean()),
            }
        )
        print(f"sweep {v}: {sweep[-1]}", file=sys.stderr, flush=True)
    gallery.set_search_params(nprobe=params.nprobe, ef_search=params.ef_search)

    # 5. error rates
    enrol_caps = model.captures(gen_ids, session=0)
    genuine_scores = np.einsum("ij,ij->i", enrol_caps.vectors, gen.vectors)
    # impostor pairs: identities drawn from the first million (the score distribution does not
    # depend on which identities; a contiguous range keeps capture generation cheap)
    span = min(n, 1_000_000)
    pa = rng.integers(0, span, a.pairs)
    pb = rng.integers(0, span, a.pairs)
    keep = pa != pb
    pair_scores = []
    for lo in range(0, int(keep.sum()), 500_000):
        ia, ib = pa[keep][lo : lo + 500_000], pb[keep][lo : lo + 500_000]
        va = model.captures(ia, 0).vectors
        vb = model.captures(ib, 1).vectors
        pair_scores.append(np.einsum("ij,ij->i", va, vb))
    impostor_pairs = np.concatenate(pair_scores)
    thresholds = [policy.verification_band_low, policy.match_threshold]
    tail = tail_fmr_from_topk(tail_sc, n, thresholds)
    rates = {}
    for t in thresholds:
        er = error_rates(genuine_scores, impostor_pairs, t)
        ident = identification_rates(true_ids, g_ids[:, 0], g_sc[:, 0], t, enrolled)
        ident_exact = identification_rates(true_ids, e_ids[:, 0], e_sc[:, 0], t, enrolled)
        rates[f"{t:g}"] = {
            "fnmr_1to1": er.fnmr,
            "fmr_1to1_random_pairs": er.fmr,
            "fmr_1to1_tail": float(tail["fmr"][thresholds.index(t)]),
            "tail_count": int(tail["counts"][thresholds.index(t)]),
            "fnir_gallery": ident["fnir"],
            "fpir_gallery": ident["fpir"],
            "fnir_exact": ident_exact["fnir"],
            "fpir_exact": ident_exact["fpir"],
        }
    in_band = dec_g == 1
    workload = {
        "genuine_verify_rate": float(in_band[enrolled].mean()),
        "impostor_verify_rate": float(in_band[~enrolled].mean()),
        "genuine_match_rate": float((dec_g == 2)[enrolled].mean()),
        "impostor_match_rate": float((dec_g == 2)[~enrolled].mean()),
    }
    t_fmr6 = threshold_for_fmr(impostor_pairs, 1e-6)

    result = {
        "gallery_size": n,
        "queries": q,
        "dim": a.dim,
        "threads": a.threads,
        "batch": a.batch,
        "exact_batch": exact_batch,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "faiss": faiss.__version__,
        },
        "index": params.to_dict(),
        "index_factory": params.factory_string(),
        "policy": {
            "match_threshold": policy.match_threshold,
            "verification_band_low": policy.verification_band_low,
        },
        "build_seconds": build_s,
        "exact_build_seconds": exact_build_s,
        "searches_per_second": q / g_s,
        "exact_searches_per_second": q / e_s,
        "speedup_vs_exact": e_s / g_s,
        "recall_at_1": recall,
        "error_rates": rates,
        "workload": workload,
        "threshold_for_fmr_1e-6_random_pairs": t_fmr6,
        "impostor_pairs": int(impostor_pairs.size),
        "tail_truncation": tail["truncation"],
        "sweep": sweep,
        "peak_rss_gb": _rss_gb(),
        # other work on the machine distorts timings: the 1-minute load average before the
        # timed gallery search and at the end (2 cores: ~2 means this benchmark alone)
        "load_average_before_search": load_before_search[0],
        "load_average_at_end": os.getloadavg()[0],
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    return result


def markdown(r: dict[str, Any]) -> str:
    rec = r["recall_at_1"]
    lines = [
        f"### Biometric 1:N search — {r['gallery_size']:,} identities × {r['dim']}-d, "
        f"{r['queries']:,} queries, {r['threads']} threads",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| index | `{r['index_factory']}` nprobe={r['index']['nprobe']} tables={r['index']['tables']} efSearch={r['index']['ef_search']} |",
        f"| build (gallery) | {r['build_seconds']:.1f} s |",
        f"| searches/s (gallery, batch {r['batch']}) | {r['searches_per_second']:,.0f} |",
        f"| searches/s (exact IndexFlatIP, same run, batch {r['exact_batch']:,}) | {r['exact_searches_per_second']:,.0f} |",
        f"| speed-up vs exact | {r['speedup_vs_exact']:.1f}× |",
        f"| recall@1 vs exact — all probes | {rec['all']:.4f} |",
        f"| recall@1 vs exact — genuine probes | {rec['genuine']:.4f} |",
        f"| recall@1 vs exact — impostor probes | {rec['impostor']:.4f} |",
        f"| recall@1 vs exact — decision-relevant (exact score ≥ band, n={rec['decision_relevant_n']}) | {rec['decision_relevant']:.4f} |",
        f"| decision agreement with exact | {rec['decision_agreement']:.4f} |",
        f"| exact top-1 is the true identity (genuine) | {rec['exact_top1_is_true_identity_genuine']:.4f} |",
    ]
    for t, e in r["error_rates"].items():
        lines.append(
            f"| threshold {t}: FNMR 1:1 / FMR 1:1 (tail, random pairs) | {e['fnmr_1to1']:.4f} / "
            f"{e['fmr_1to1_tail']:.2e} ({e['tail_count']} of {r['queries'] // 2:,}×{r['gallery_size']:,}), "
            f"{e['fmr_1to1_random_pairs']:.2e} |"
        )
        lines.append(
            f"| threshold {t}: FNIR / FPIR per search (gallery; exact) | {e['fnir_gallery']:.4f} / "
            f"{e['fpir_gallery']:.4f}; {e['fnir_exact']:.4f} / {e['fpir_exact']:.4f} |"
        )
    w = r["workload"]
    lines += [
        f"| verify band: genuine / impostor searches | {w['genuine_verify_rate']:.4f} / {w['impostor_verify_rate']:.4f} |",
        f"| threshold for FMR 1e-6 (random pairs, n={r['impostor_pairs']:,}) | {r['threshold_for_fmr_1e-6_random_pairs']:.4f} |",
        f"| peak RSS | {r['peak_rss_gb']:.1f} GB |",
        f"| machine load (1-min avg) before search / at end, 2 cores | {r['load_average_before_search']:.1f} / {r['load_average_at_end']:.1f} |",
    ]
    for s in r["sweep"]:
        lines.append(
            f"| sweep {s['value']}: q/s, recall all / genuine / relevant, agreement | {s['qps']:,.0f}, "
            f"{s['recall_all']:.4f} / {s['recall_genuine']:.4f} / {s['recall_decision_relevant']:.4f}, "
            f"{s['decision_agreement']:.4f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
