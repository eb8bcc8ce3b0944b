"""MLLP listener throughput with durable acknowledgments, and ACK latency.

Starts `medlake listen` (a subprocess, its real micro-batches running: land → bronze → silver
every `--batch-seconds`) on a fresh project in a temporary folder, then drives it from this
process over loopback: `--connections` concurrent MLLP connections, each keeping up to
`--window` messages in flight (1 = send, wait for the ACK, send the next: what most interface
engines do). Reports sustained messages/s from the first send to the last ACK, ACK latency
p50/p99/max (send → AA received), then stops the listener gracefully and counts the bronze
rows, to show every acknowledged message went all the way. Usage:

    python benchmarks/bench_mllp.py [--messages 30000] [--connections 8 32] [--window 1 10] [--tls] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CONFIG = """\
lake: ./lake
tenants:
  - name: bench
    sources:
      - {name: adt, kind: hl7v2, location: ./inbox}
"""


def message(i: int) -> bytes:
    """A synthetic ADT^A01 of about 600 bytes (made-up values), control id `B<i>`."""
    h = f"{i % 24:02d}{i % 60:02d}"
    return (
        f"MSH|^~\\&|REGADT|GENHOSP|MEDLAKE|ACME|20240301{h}00||ADT^A01^ADT_A01|B{i}|P|2.5.1\r"
        f"EVN|A01|20240301{h}00|||OP{i % 97:03d}^CLERK^ALEX\r"
        f"PID|1||MRN{i:08d}^^^GENHOSP^MR~{900000000 + i}^^^USSSA^SS||SYNTH^PAT{i}^Q^^^^L||19{50 + i % 50}0{1 + i % 9}1{i % 10}|"
        f"{'FM'[i % 2]}|||{i % 9999} MAIN ST^^SPRINGFIELD^IL^627{i % 100:02d}^USA^H||(217)555-{i % 10000:04d}^PRN^PH|||S||ACCT{i:09d}\r"
        f"NK1|1|SYNTH^KIN{i}|SPO^Spouse^HL70063|{i % 9999} MAIN ST^^SPRINGFIELD^IL^627{i % 100:02d}^USA|(217)555-{(i + 7) % 10000:04d}\r"
        f"PV1|1|I|WARD{i % 12}^{i % 40}^{i % 4 + 1}^GENHOSP||||1234^ATTEND^ANNA^^^DR|||MED||||ADM|||||VN{i:09d}|||||||||||||||||||||||||20240301{h}00\r"
        f"AL1|1|DA|70618^Penicillin^RXNORM|MO|Rash\r"
        f"DG1|1||I10^Essential hypertension^I10||20240301|A\r"
    ).encode()


def frame(payload: bytes) -> bytes:
    return b"\x0b" + payload + b"\x1c\r"


def self_signed(folder: Path) -> tuple[Path, Path]:
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    c, k = folder / "cert.pem", folder / "key.pem"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return c, k


def start_listener(root: Path, batch_seconds: float, tls: tuple[Path, Path] | None) -> tuple[subprocess.Popen[str], int]:
    cmd = [sys.executable, "-m", "medlake.cli.main", "listen", "-c", str(root / "medlake.yaml"), "--source", "adt",
           "--port", "0", "--batch-seconds", str(batch_seconds)]
    if tls:
        cmd += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "250"}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert p.stdout is not None
    for line in p.stdout:
        if "listening on " in line:
            return p, int(line.rsplit(":", 1)[1].split()[0])
    raise SystemExit(f"the listener did not start (exit {p.wait()})")


async def drive(port: int, ids: list[int], frames: dict[int, bytes], window: int, lat: list[float],
                codes: dict[str, int], tls: ssl.SSLContext | None) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    sent: dict[str, float] = {}
    nxt, buf = 0, b""
    while nxt < len(ids) or sent:
        while nxt < len(ids) and len(sent) < window:
            i = ids[nxt]
            writer.write(frames[i])
            sent[f"B{i}"] = time.perf_counter()
            nxt += 1
        await writer.drain()
        chunk = await reader.read(65536)
        if not chunk:
            raise ConnectionError("the listener closed the connection")
        buf += chunk
        while (end := buf.find(b"\x1c\r")) >= 0:
            ack, buf = buf[buf.find(b"\x0b") + 1 : end], buf[end + 2 :]
            msa = next(s for s in ack.split(b"\r") if s.startswith(b"MSA")).split(b"|")
            now = time.perf_counter()
            lat.append(now - sent.pop(msa[2].decode()))
            codes[msa[1].decode()] = codes.get(msa[1].decode(), 0) + 1
    writer.close()
    await writer.wait_closed()


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of the listener and of its micro-batch worker (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")

    def one(p: int) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick

    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children += [int(x) for x in (task / "children").read_text().split()]
    return {"listener": one(pid), "worker": sum(one(c) for c in children)}


def bronze_rows(root: Path) -> int:
    from medlake.lake import delta
    from medlake.lake.paths import TenantLake

    t = delta.read(TenantLake.open(str(root / "lake"), "bench").bronze("adt", "messages"), columns=["control_id"])
    return 0 if t is None else t.num_rows


def scenario(messages: int, connections: int, window: int, batch_seconds: float, use_tls: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "medlake.yaml").write_text(CONFIG, encoding="utf-8")
        tls_files = self_signed(root) if use_tls else None
        client_tls = ssl.create_default_context(cafile=str(tls_files[0])) if tls_files else None
        proc, port = start_listener(root, batch_seconds, tls_files)
        frames = {i: frame(message(i)) for i in range(messages)}
        share = [list(range(k, messages, connections)) for k in range(connections)]
        lat: list[float] = []
        codes: dict[str, int] = {}

        async def all_connections() -> None:
            await asyncio.gather(*(drive(port, ids, frames, window, lat, codes, client_tls) for ids in share))

        cpu0 = cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        try:
            asyncio.run(all_connections())
        except BaseException:
            proc.send_signal(signal.SIGTERM)
            print(proc.communicate(timeout=600)[0][-5000:], file=sys.stderr)  # the listener's counts-only log
            raise
        seconds = time.perf_counter() - t0
        cpu = {k: v - cpu0.get(k, 0.0) for k, v in cpu_seconds(proc.pid).items()}
        t1 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=600)
        stop_s = time.perf_counter() - t1
        lat.sort()
        pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        return {
            "messages": messages, "connections": connections, "window": window, "tls": use_tls,
            "seconds": seconds, "msg_s": messages / seconds, "p50": pct(0.50), "p99": pct(0.99),
            "max": lat[-1] * 1000, "codes": codes, "exit": proc.returncode, "stop_s": stop_s,
            "bronze": bronze_rows(root), "pipelines": out.count(" pipeline "), "internal": out.count("internal error"),
            "listener_cpu": cpu.get("listener", 0.0) / seconds, "worker_cpu": cpu.get("worker", 0.0) / seconds,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=30_000)
    ap.add_argument("--connections", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--window", type=int, nargs="+", default=[1, 10], help="messages in flight per connection")
    ap.add_argument("--batch-seconds", type=float, default=2.0)
    ap.add_argument("--tls", action="store_true", help="also run each scenario over TLS")
    ap.add_argument("--repeat", type=int, default=1, help="runs per scenario; the fastest is reported, with the range")
    args = ap.parse_args()
    print(f"{args.messages:,} messages of ~{len(message(0))} bytes; listener micro-batches every {args.batch_seconds} s")
    print("| connections | in flight each | TLS | msg/s (durable ACKs) | ACK p50 (ms) | p99 (ms) | max (ms) | all AA | "
          "listener CPU | batch worker CPU | graceful stop (s) | bronze rows |")
    print("|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for tls in ([False, True] if args.tls else [False]):
        for conns in args.connections:
            for window in args.window:
                runs = [scenario(args.messages, conns, window, args.batch_seconds, tls) for _ in range(args.repeat)]
                r = max(runs, key=lambda x: x["msg_s"])
                spread = f" ({min(x['msg_s'] for x in runs):,.0f}–{r['msg_s']:,.0f})" if len(runs) > 1 else ""
                all_aa = r["codes"] == {"AA": args.messages} and r["exit"] == 0 and not r["internal"]
                print(f"| {conns} | {window} | {'yes' if tls else 'no'} | {r['msg_s']:,.0f}{spread} | {r['p50']:.1f} | {r['p99']:.1f} | "
                      f"{r['max']:.0f} | {'yes' if all_aa else r['codes']} | {r['listener_cpu']:.0%} | {r['worker_cpu']:.0%} | "
                      f"{r['stop_s']:.1f} | {r['bronze']:,} |", flush=True)


if __name__ == "__main__":
    main()
