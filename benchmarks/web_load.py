"""Web service load benchmark (DESIGN 7: 50 concurrent users in mixed roles, p95 < 300 ms,
0 errors, on SQLite and PostgreSQL).

Seeds the demo store (``securecomm.web.demo``: a synthetic world through the real pipeline and
a user for every role) in a fresh database, starts ``securecomm serve`` (uvicorn, the pipeline
worker in-process) on 127.0.0.1 in a subprocess, and runs a bounded asyncio/httpx client: each
of ``--users`` virtual users has a role and loops over that role's requests for ``--duration``
seconds, with ``--think`` seconds between requests. Booking systems submit new bookings (each
a new TCN), which the server's worker processes while the others read.

    .venv/bin/python benchmarks/web_load.py --backend sqlite --users 50 --duration 60
    .venv/bin/python benchmarks/web_load.py --backend postgresql --users 50 --duration 60

Measured: latency p50 / p95 / p99 overall and per operation, errors (any 5xx, or a 401 / 403 /
404 / 422 to a legitimate request), requests/s and accepted bookings/s. Tokens are issued
before the measured window (password hashing with argon2 is deliberately slow; logins are not
the steady state). Writes ``benchmarks/results/web-load-<backend>-<utc time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pipeline import PG_DEFAULT, _database  # noqa: E402 -- one fresh-database helper for benchmarks

#: role -> share of the virtual users
MIX = {"lea": 0.24, "lea_system": 0.16, "ice_officer": 0.2, "ice_supervisor": 0.1,
       "crcl": 0.1, "panel": 0.06, "public": 0.14}  # fmt: skip
USER_OF_ROLE = {"lea": "police.demo", "ice_officer": "officer.demo",
                "ice_supervisor": "supervisor.demo", "crcl": "crcl.demo", "panel": "panel.demo"}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _booking(ori: str, n: int) -> dict:
    from securecomm.interop.messages import TEMPLATE_DIM

    rng = random.Random(n)
    return {
        "format": "booking/1", "tcn": f"LOAD-{uuid.uuid4().hex[:16]}", "ori": ori,
        "booked_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat(),
        "biographics": {"names": [{"first": "LOAD", "last": f"TEST{n}"}], "birth_date": "1990-01-01"},
        "charges": [{"ncic": "5499", "literal": "DRIVING WITHOUT A LICENSE", "severity": "misdemeanor"}],
        "template": [rng.gauss(0, 1) for _ in range(TEMPLATE_DIM)], "template_quality": 0.9,
    }  # fmt: skip


async def _user(client, role: str, headers: dict, ids: dict, until: float, think: float,
                results: list, counters: dict, seq: int) -> None:  # fmt: skip
    rng = random.Random(seq)
    n = 0
    while time.perf_counter() < until:
        n += 1
        if role == "public":
            op, method, path, kw = rng.choice([
                ("public.policy", "GET", "/api/v1/public/policy?language=es", {}),
                ("public.stats", "GET", "/api/v1/public/statistics", {}),
                ("page.public", "GET", "/public", {}),
            ])  # fmt: skip
        elif role == "lea_system":
            if n % 2:
                doc = _booking(ids["ori"], seq * 100000 + n)
                op, method, path, kw = "booking.submit", "POST", "/api/v1/bookings", {"json": doc}
            else:
                op, method, path, kw = "booking.list", "GET", "/api/v1/bookings?limit=50", {}
        elif role == "lea":
            op, method, path, kw = rng.choice([
                ("detainer.list", "GET", "/api/v1/detainers", {}),
                ("booking.list", "GET", "/api/v1/bookings?limit=50", {}),
                ("notice.list", "GET", "/api/v1/notices?limit=50", {}),
            ])  # fmt: skip
        elif role in ("ice_officer", "crcl", "panel"):
            if rng.random() < 0.5:
                op, method, path, kw = "case.worklist", "GET", "/api/v1/worklist?limit=50", {}
            else:
                op, method, path, kw = (
                    "case.read",
                    "GET",
                    f"/api/v1/cases/{rng.choice(ids['cases'])}",
                    {},
                )
        else:  # ice_supervisor
            op, method, path, kw = rng.choice([
                ("case.approvals", "GET", "/api/v1/approvals", {}),
                ("case.read", "GET", f"/api/v1/cases/{rng.choice(ids['cases'])}", {}),
            ])  # fmt: skip
        t0 = time.perf_counter()
        try:
            r = await client.request(method, path, headers=headers, **kw)
            status = r.status_code
            if op == "booking.submit" and status == 200:
                counters["accepted"] += r.json().get("accepted", 0)
        except Exception as exc:  # a refused connection or a timeout is an error of the run
            status = f"{type(exc).__name__}"
        results.append((op, time.perf_counter() - t0, status))
        if think:
            await asyncio.sleep(rng.uniform(0, 2 * think))


async def _run_clients(base: str, users: int, duration: float, think: float, tokens: dict,
                       ids: dict) -> tuple[list, dict, float]:  # fmt: skip
    import httpx

    roles: list[str] = []
    for role, share in MIX.items():
        roles += [role] * round(share * users)
    roles = (roles + ["lea"] * users)[:users]
    results: list = []
    counters = {"accepted": 0}
    limits = httpx.Limits(max_connections=users + 10, max_keepalive_connections=users + 10)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        start = time.perf_counter()
        until = start + duration
        await asyncio.gather(*[
            _user(client, role, tokens.get(role, {}), ids, until, think, results, counters, i)
            for i, role in enumerate(roles)
        ])  # fmt: skip
        elapsed = time.perf_counter() - start
    return results, counters, elapsed


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument(
        "--pg-url", default=os.environ.get("SECURECOMM_TEST_POSTGRES_URL") or PG_DEFAULT
    )
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds (bounded: <= 600)")
    ap.add_argument("--think", type=float, default=0.5, help="mean think time between requests (s)")
    args = ap.parse_args(argv)
    if not 1 <= args.users <= 500 or not 1 <= args.duration <= 600:
        ap.error("--users 1..500 and --duration 1..600")

    import httpx

    from securecomm.users import service as users
    from securecomm.users.areas import aor_of_county
    from securecomm.web.demo import DEMO_PASSWORD, seed_demo

    workdir = Path(tempfile.mkdtemp(prefix="securecomm-webload-"))
    url, drop = _database(args.backend, args.pg_url, workdir)
    proc = None
    try:
        t0 = time.perf_counter()
        demo = seed_demo(url, data_dir=workdir / "data", users=users, aor_of_county=aor_of_county)
        seed_s = time.perf_counter() - t0
        port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "SECURECOMM_DATA_DIR": str(workdir / "data"),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "securecomm.cli", "serve", "--url", url, "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start: " + proc.stderr.read().decode()[-2000:])
        tokens = {}
        for role, name in USER_OF_ROLE.items():
            r = httpx.post(
                f"{base}/api/v1/auth/token", data={"username": name, "password": DEMO_PASSWORD}
            )
            r.raise_for_status()
            tokens[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        tokens["lea_system"] = {"Authorization": f"Bearer {demo.api_key}"}
        cases = [c["case_id"] for c in httpx.get(f"{base}/api/v1/worklist?limit=200",
                                                  headers=tokens["ice_officer"]).json()]  # fmt: skip
        cases += [c["case_id"] for c in httpx.get(f"{base}/api/v1/approvals",
                                                   headers=tokens["ice_officer"] | tokens["ice_supervisor"]).json()]  # fmt: skip
        ids = {"ori": demo.ori, "cases": cases}
        results, counters, elapsed = asyncio.run(
            _run_clients(base, args.users, args.duration, args.think, tokens, ids)
        )
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:  # requests still queued: stop it hard
                proc.kill()
                proc.wait(10)
        drop()

    lat = [r[1] for r in results]
    errors = [r for r in results if not (isinstance(r[2], int) and r[2] < 400)]
    by_op: dict[str, list[float]] = defaultdict(list)
    for op, t, _ in results:
        by_op[op].append(t)
    report = {
        "benchmark": "web_load",
        "backend": args.backend,
        "users": args.users,
        "duration_s": round(elapsed, 1),
        "think_s": args.think,
        "seed_s": round(seed_s, 1),
        "requests": len(results),
        "requests_per_s": round(len(results) / elapsed, 1),
        "p50_ms": round(_pct(lat, 50) * 1000, 1),
        "p95_ms": round(_pct(lat, 95) * 1000, 1),
        "p99_ms": round(_pct(lat, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        "errors": len(errors),
        "error_examples": sorted({f"{op}: {st}" for op, _, st in errors})[:10],
        "bookings_accepted": counters["accepted"],
        "bookings_per_s": round(counters["accepted"] / elapsed, 2),
        "per_operation": {
            op: {
                "n": len(v),
                "p50_ms": round(_pct(v, 50) * 1000, 1),
                "p95_ms": round(_pct(v, 95) * 1000, 1),
            }
            for op, v in sorted(by_op.items())
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "target": "p95 < 300 ms, 0 errors (DESIGN 7)",
        "target_met": bool(lat) and _pct(lat, 95) < 0.3 and not errors,
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"web-load-{args.backend}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
