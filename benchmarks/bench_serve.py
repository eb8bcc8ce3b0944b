"""FHIR API latency under load: Patient read and typical searches, N concurrent clients on loopback.

Starts `medlake serve` on a free port with bearer tokens and the audit log on (a `serve.auth`
HS256 section is added to a copy of the project file, a token is minted with PyJWT), waits
for /metadata, then drives it with `--clients` concurrent connections, each sending requests
back to back (a closed loop), and prints p50/p99 latency and requests per second per kind.

The load generator is `wrk` (C, `apt-get install wrk`) when it is on PATH — it leaves the
cores to the server — else N httpx clients in this process (`--tool httpx`), which compete
with the server for CPU. The floor is the same load against a bare ASGI app on the same
uvicorn that returns a fixed ~1 kB FHIR JSON body: no routing, no lake, no auth, no audit.
Ratios are medlake ÷ floor. Usage:

    python benchmarks/bench_serve.py -c /tmp/s10k/medlake.yaml [--clients 50] [--seconds 10]
        [--workers 1] [--no-auth] [--tool wrk|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import yaml

SECRET_ENV = "MEDLAKE_BENCH_JWT_SECRET"
SECRET = "bench-secret-" + "0123456789abcdef" * 3
AUDIENCE = "medlake-bench"

_FLOOR_APP = '''
import orjson
BODY = orjson.dumps({"resourceType": "Patient", "id": "x" * 36, "meta": {"lastUpdated": "2026-01-01T00:00:00Z"},
    "name": [{"family": "Family", "given": ["Given", "Middle"]}], "gender": "female", "birthDate": "1970-01-01",
    "address": [{"line": ["1 Main St"], "city": "City", "state": "MA", "postalCode": "02100"}],
    "identifier": [{"system": "urn:oid:1.2.3", "value": str(i)} for i in range(8)]})
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/fhir+json")]})
    await send({"type": "http.response.body", "body": BODY})
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(proc: subprocess.Popen[bytes], url: str, headers: dict[str, str]) -> None:
    for _ in range(3000):  # a 10k lake's serving copy takes a while to build
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}) before answering {url}")
        try:
            if httpx.get(url, headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def bench_config(config: Path, tenant: str | None) -> tuple[Path, str]:
    """A copy of the project file, next to it (relative paths still resolve), with `serve.auth`."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["serve"] = {"auth": {"audience": AUDIENCE, "algorithms": ["HS256"], "secret_env": SECRET_ENV}}
    name = tenant or data["tenants"][0]["name"]
    out = config.with_name(".bench-serve.yaml")
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out, name


def token(tenant: str) -> str:
    now = int(time.time())
    claims = {"aud": AUDIENCE, "sub": "bench", "tenant": tenant, "scope": "system/*.rs", "iat": now, "exp": now + 86_400}
    return str(jwt.encode(claims, SECRET, algorithm="HS256"))


def start_medlake(config: Path, tenant: str, port: int, workers: int, no_auth: bool) -> subprocess.Popen[bytes]:
    medlake = Path(sys.executable).with_name("medlake")
    cmd = [str(medlake), "serve", "-c", str(config), "-t", tenant, "--port", str(port), "--workers", str(workers)]
    env = {**os.environ, SECRET_ENV: SECRET}
    return subprocess.Popen([*cmd, *(["--no-auth"] if no_auth else [])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def start_floor(port: int, workers: int, folder: Path) -> subprocess.Popen[bytes]:
    (folder / "bench_floor_app.py").write_text(_FLOOR_APP, encoding="utf-8")
    cmd = [sys.executable, "-m", "uvicorn", "bench_floor_app:app", "--port", str(port), "--workers", str(workers),
           "--no-access-log", "--log-level", "warning"]  # fmt: skip
    return subprocess.Popen(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --------------------------------------------------------------------------- load generators

_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {%s})
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def run_wrk(base: str, paths: list[str], headers: dict[str, str], clients: int, seconds: int, folder: Path) -> tuple[float, float, float, int]:
    """p50 ms, p99 ms, requests/s, non-2xx responses."""
    order = random.Random(1).sample(paths, len(paths))
    script = folder / "paths.lua"
    lua_paths = ", ".join('"' + p.replace('"', '\\"') + '"' for p in order)
    lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    script.write_text(_LUA % (lua_paths, lua_headers), encoding="utf-8")
    cmd = ["wrk", "-t", "1", "-c", str(clients), "-d", f"{seconds}s", "--latency", "-s", str(script), base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return p50, p99, rps, int(bad.group(1)) if bad else 0


def run_httpx(base: str, paths: list[str], headers: dict[str, str], clients: int, seconds: int) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    bad = [0]
    order = random.Random(1).sample(paths, len(paths))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def main() -> float:
        deadline = time.perf_counter() + seconds

        async def worker(client: httpx.AsyncClient, k: int) -> None:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                r = await client.get(order[k % len(order)])
                latencies.append(time.perf_counter() - t)
                bad[0] += r.status_code != 200
                k += clients

        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60, headers=headers) as client:
            await asyncio.gather(*(worker(client, k) for k in range(clients)))
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return p50, p99, len(ordered) / elapsed, bad[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--config", type=Path, required=True)
    ap.add_argument("-t", "--tenant")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-auth", action="store_true", help="Serve without tokens (and so without the per-request token check).")
    ap.add_argument("--tool", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx")
    args = ap.parse_args()

    config, tenant = bench_config(args.config.resolve(), args.tenant)
    headers = {} if args.no_auth else {"Authorization": f"Bearer {token(tenant)}"}
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    port, floor_port = free_port(), free_port()
    proc = start_medlake(config, tenant, port, args.workers, args.no_auth)
    floor = start_floor(floor_port, args.workers, folder)
    base, floor_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"

    def load(url: str, paths: list[str]) -> tuple[float, float, float, int]:
        if args.tool == "wrk":
            return run_wrk(url, paths, headers, args.clients, args.seconds, folder)
        return run_httpx(url, paths, headers, args.clients, args.seconds)

    try:
        wait_up(proc, f"{base}/metadata", {})
        wait_up(floor, floor_base, {})
        bundle: Any = httpx.get(f"{base}/Patient", params={"_count": 1000}, headers=headers, timeout=120).json()
        ids = [e["resource"]["id"] for e in bundle["entry"]]
        families = sorted({e["resource"]["name"][0]["family"][:3].lower() for e in bundle["entry"] if e["resource"].get("name")})
        total = bundle.get("total")
        print(f"{total} patients; {args.clients} clients ({args.tool}), {args.seconds} s per kind, "
              f"{args.workers} worker(s), auth {'off' if args.no_auth else 'on (HS256 JWT) + audit log'}")  # fmt: skip
        kinds = {
            "Patient read": [f"/Patient/{i}" for i in ids],
            "Observation?patient=&_count=50": [f"/Observation?patient={i}&_count=50" for i in ids],
            "Patient?family=&gender=": [f"/Patient?family={quote(f)}&gender=female" for f in families[:200]],
            "Condition?patient=": [f"/Condition?patient={i}" for i in ids],
        }
        floor_p50, floor_p99, floor_rps, _ = load(floor_base, ["/"])
        print(f"{'floor (bare ASGI, fixed body)':<32} p50 {floor_p50:7.2f} ms  p99 {floor_p99:7.2f} ms  {floor_rps:8.0f} req/s")
        for kind, paths in kinds.items():
            p50, p99, rps, bad = load(base, paths)
            print(f"{kind:<32} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  {rps:8.0f} req/s  "
                  f"(p99 {p99 / floor_p99:5.1f}× floor, throughput {floor_rps / rps:5.1f}× below){f'  {bad} non-200' if bad else ''}")  # fmt: skip
    finally:
        for p in (proc, floor):
            p.terminate()
            p.wait(30)
        config.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
