"""Cost of security per request: checking a bearer token (HS256, RS256) and appending one
audit entry (one thread, several threads), against the API's read budget (p99 ≤ 20 ms).

Prints microseconds per operation and the share of a 20 ms budget. Usage:

    python benchmarks/bench_security.py [--n 2000] [--threads 4]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from medlake.lake.audit import AuditEvent, AuditLog, verify
from medlake.lake.paths import TenantLake
from medlake.serve.auth import AuthConfig, authenticate

BUDGET_US = 20_000.0


def timed(label: str, n: int, fn: Callable[[], object]) -> None:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    us = (time.perf_counter() - t0) / n * 1e6
    print(f"{label:<40} {us:9.1f} µs/op   {us / BUDGET_US:6.1%} of a 20 ms read")


def tokens(n: int, folder: Path) -> None:
    claims = {"iss": "i", "aud": "a", "sub": "s", "tenant": "acme", "scope": "system/*.rs", "exp": int(time.time()) + 3600}
    secret = "x" * 40
    hs = AuthConfig(issuer="i", audience="a", algorithms=("HS256",), secret=secret)
    hs_token = "Bearer " + jwt.encode(claims, secret, "HS256")
    timed("authenticate HS256 (same token)", n, lambda: authenticate(hs_token, hs, "acme"))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = folder / "pub.pem"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    rs = AuthConfig(issuer="i", audience="a", algorithms=("RS256",), public_key_file=pub)
    token = "Bearer " + jwt.encode(claims, key, "RS256")
    timed("authenticate RS256 (same token)", n, lambda: authenticate(token, rs, "acme"))


def audit(n: int, threads: int, folder: Path) -> None:
    lake = TenantLake.open(str(folder / "lake"), "acme")
    log = AuditLog(lake)
    event = AuditEvent("clinician-7", "search", "Observation", 12, client="app-3", query={"code": "4548-4"})
    timed("audit append, 1 thread (fsync each)", n, lambda: log.append(event))

    def work() -> None:
        for _ in range(n // threads):
            log.append(event)

    t0 = time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    total = n // threads * threads
    print(f"audit append, {threads} threads: {total / (time.perf_counter() - t0):,.0f} entries/s")
    batch = [event] * 50
    t0 = time.perf_counter()
    for _ in range(n // 50):
        log.append_many(batch)
    print(f"audit append_many, batches of 50: {n // 50 * 50 / (time.perf_counter() - t0):,.0f} entries/s")
    t0 = time.perf_counter()
    result = verify(lake)
    print(f"verify {result.entries:,} entries: {time.perf_counter() - t0:.2f} s, ok={result.ok}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tokens(args.n, Path(tmp))
        audit(args.n, args.threads, Path(tmp))


if __name__ == "__main__":
    main()
