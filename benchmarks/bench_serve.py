"""FHIR API latency under load: Patient read and a typical search, N concurrent clients on loopback.

Starts `medlake serve` on a free port (one uvicorn worker), waits for /metadata, then runs
`--clients` concurrent httpx clients, each sending requests back to back, and prints p50/p99
latency and requests per second for each kind. Usage:

    python benchmarks/bench_serve.py -c /tmp/s500/medlake.yaml [--clients 50] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(config: Path, port: int) -> subprocess.Popen[bytes]:
    medlake = Path(sys.executable).with_name("medlake")
    proc = subprocess.Popen([str(medlake), "serve", "-c", str(config), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/metadata").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


async def load(base: str, paths: list[str], clients: int, total: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    errors: list[str] = []
    queue = iter(random.Random(1).choices(paths, k=total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient) -> None:
        for path in queue:
            t = time.perf_counter()
            try:
                r = await client.get(path)
            except httpx.TransportError:
                errors.append(path)  # a dropped connection under load: counted, not fatal
                continue
            latencies.append(time.perf_counter() - t)
            assert r.status_code == 200, r.status_code

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    if errors:
        print(f"  {len(errors)} requests failed with a transport error")
    return latencies, time.perf_counter() - started


def report(kind: str, latencies: list[float], seconds: float) -> None:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{kind:<28} n={len(ordered):>5}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  {len(ordered) / seconds:7.0f} req/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-c", "--config", type=Path, required=True)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    port = free_port()
    proc = start(args.config, port)
    base = f"http://127.0.0.1:{port}"
    try:
        bundle: Any = httpx.get(f"{base}/Patient", params={"_count": 1000}).json()
        ids = [e["resource"]["id"] for e in bundle["entry"]]
        print(f"{len(ids)} patients (first page), {args.clients} clients, {args.requests} requests per kind")
        kinds = {
            "Patient read": [f"/Patient/{i}" for i in ids],
            "Observation?patient=&_count=50": [f"/Observation?patient={i}&_count=50" for i in ids],
            "Patient?family=&gender=": [f"/Patient?family={f}&gender=female" for f in ("gar", "smi", "jo", "mar", "w")],
        }
        for kind, paths in kinds.items():
            latencies, seconds = asyncio.run(load(base, paths, args.clients, args.requests))
            report(kind, latencies, seconds)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
