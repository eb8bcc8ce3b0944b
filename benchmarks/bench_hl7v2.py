"""HL7 v2 throughput: medlake vs python-hl7 vs the plain `str.split` floor, and HL7 → FHIR.

The messages are the synthetic health system's HL7 feeds (`medlake synth --patients 1000
--seed 42`: `lab/oru_*.hl7` and `adt/adt_*.hl7`): ORU^R01 and ADT^A0x messages, taken
alternately (one ADT, one ORU) and repeated until there are `--messages` of them, written as
one file with `<CR>` terminators. Every contender gets that file's bytes and does the same
work: decode, split into messages, and extract PID-3.1, PID-5.1, PID-5.2, PID-7 and, of every
OBX, OBX-3.1 and OBX-5 (unescaped; the floor does not unescape). The values are compared
between contenders before anything is timed. python-hl7 and the FHIR mapping are slow, so
they run on the first `--peer-messages` / `--fhir-messages` messages; all rates are per
second. Each contender's best of `--repeat` runs, in one process, with the garbage collector
on (as a caller would have it), timed both by this process's CPU time (what the parser costs,
whatever else the machine is doing) and by the wall clock. Usage:

    pip install 'medlake[bench]'   # python-hl7
    python benchmarks/bench_hl7v2.py [--messages 50000] [--patients 1000] [--synth DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from itertools import cycle
from pathlib import Path
from typing import Any

Values = list[tuple[Any, ...]]


def build_messages(synth: Path, n: int) -> tuple[bytes, int, int]:
    """`n` messages, ADT and ORU alternately, as one `<CR>` file; (bytes, ADT count, OBX count)."""
    from medlake.formats.hl7v2 import parse_hl7

    pools: dict[str, list[str]] = {"ADT": [], "ORU": []}
    for path in sorted(synth.glob("lab/*.hl7")) + sorted(synth.glob("adt/*.hl7")):
        for m in parse_hl7(path.read_bytes(), name=path.name).messages:
            if m.message_type in pools:
                pools[m.message_type].append("\r".join(m.segments) + "\r")
    adt, oru = cycle(pools["ADT"]), cycle(pools["ORU"])
    chosen = [next(adt) if i % 2 else next(oru) for i in range(n)]
    text = "".join(chosen)
    return text.encode("utf-8"), n // 2, text.count("\rOBX|")


def medlake(data: bytes) -> Values:
    from medlake.formats.hl7v2 import parse_hl7

    out = []
    for m in parse_hl7(data).messages:
        out.append((m.first("PID", "3.1", "5.1", "5.2", "7"), m.rows("OBX", "3.1", "5")))
    return out


def python_hl7(data: bytes) -> Values:
    import hl7

    out = []
    for text in hl7.split_file(data.decode("utf-8")):
        m = hl7.parse(text)
        pid = tuple(m.extract_field("PID", 1, *path) or None for path in ((3, 1, 1), (5, 1, 1), (5, 1, 2), (7, 1, 1)))
        try:
            count = len(m.segments("OBX"))
        except KeyError:  # python-hl7's way of saying there is none
            count = 0
        obx = [(m.extract_field("OBX", i, 3, 1, 1) or None, m.extract_field("OBX", i, 5) or None) for i in range(1, count + 1)]
        out.append((pid, obx))
    return out


def floor(data: bytes) -> Values:
    """Split and index, nothing else: no unescaping, no checks, no objects."""
    out = []
    for part in data.decode("utf-8").split("\rMSH"):
        pid: tuple[Any, ...] | None = None
        obx = []
        for seg in part.split("\r"):
            sid = seg[:3]
            if sid == "PID":
                f = seg.split("|")
                name = f[5].split("^")
                pid = (f[3].split("^")[0], name[0], name[1] if len(name) > 1 else "", f[7] if len(f) > 7 else "")
            elif sid == "OBX":
                f = seg.split("|")
                obx.append((f[3].split("^")[0], f[5]))
        out.append((pid, obx))
    return out


def _blank_to_none(values: Values) -> Values:
    fix = lambda row: tuple(v or None for v in row)  # noqa: E731
    return [(fix(pid) if pid else pid, [fix(o) for o in obx]) for pid, obx in values]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best CPU seconds of this process, best wall-clock seconds, the result)."""
    cpu, wall, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        cpu, wall = min(cpu, time.process_time() - c0), min(wall, time.perf_counter() - w0)
    return cpu, wall, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--patients", type=int, default=1000, help="size of the synthetic health system")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--synth", type=Path, help="an existing `medlake synth` output folder (else one is made)")
    ap.add_argument("--peer-messages", type=int, default=5_000, help="messages for python-hl7")
    ap.add_argument("--fhir-messages", type=int, default=5_000, help="messages for HL7 → FHIR")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        synth = args.synth
        if synth is None:
            from medlake.synth.generate import generate

            synth = Path(tmp) / "synth"
            generate(synth, args.patients, args.seed)
        data, adt, obx = build_messages(synth, args.messages)
    peer = _head(data, args.peer_messages)
    print(
        f"{args.messages:,} messages ({adt:,} ADT, {args.messages - adt:,} ORU, {obx:,} OBX), "
        f"{len(data) / 1e6:,.1f} MB, from `medlake synth --patients {args.patients} --seed {args.seed}`"
    )

    assert medlake(data) == _blank_to_none(floor(data)), "medlake and the floor disagree"
    ours = medlake(peer)
    try:
        import hl7  # noqa: F401
    except ImportError:
        print("python-hl7 is not installed (pip install 'medlake[bench]'): skipped")
        has_peer = False
    else:
        assert python_hl7(peer) == ours, "medlake and python-hl7 disagree"
        has_peer = True
    print("the extracted values agree between contenders")

    rates: dict[str, tuple[float, float]] = {}  # (msg/s by CPU time, msg/s by wall clock)
    rows: list[tuple[str, int, float, float]] = []
    for name, fn, payload, count in [
        ("medlake parse + extract", medlake, data, args.messages),
        ("python-hl7 parse + extract", python_hl7, peer, min(args.peer_messages, args.messages)),
        ("plain str.split floor", floor, data, args.messages),
    ]:
        if fn is python_hl7 and not has_peer:
            continue
        cpu, wall, _ = timed(lambda fn=fn, payload=payload: fn(payload), args.repeat)
        rates[name] = (count / cpu, count / wall)
        rows.append((name, count, cpu, wall))
    cpu, wall, resources = _fhir(data, args.fhir_messages, args.repeat)
    fhir_count = min(args.fhir_messages, args.messages)
    rates["HL7 → FHIR (map_messages)"] = (fhir_count / cpu, fhir_count / wall)
    rows.append(("HL7 → FHIR (map_messages)", fhir_count, cpu, wall))

    print(f"{'contender':<30} {'messages':>9} {'CPU s':>7} {'msg/s':>9} {'wall s':>7} {'msg/s':>9}")
    for name, count, cpu, wall in rows:
        print(f"{name:<30} {count:>9,} {cpu:>7.3f} {rates[name][0]:>9,.0f} {wall:>7.3f} {rates[name][1]:>9,.0f}")
    print(f"HL7 → FHIR made {resources:,} resources ({resources / fhir_count:.1f} per message)")
    ml = rates["medlake parse + extract"]
    print("ratios of msg/s (by CPU time; by wall clock):")
    for other, label in (("python-hl7 parse + extract", "python-hl7"), ("plain str.split floor", "str.split floor")):
        if other in rates:
            print(f"  medlake ÷ {label:<16} {ml[0] / rates[other][0]:8.2f}×  {ml[1] / rates[other][1]:8.2f}×")


def _head(data: bytes, n: int) -> bytes:
    """The first `n` messages of `data`."""
    parts = data.split(b"\rMSH")
    return b"\rMSH".join(parts[:n]) + (b"\r" if n < len(parts) else b"")


def _fhir(data: bytes, n: int, repeat: int) -> tuple[float, float, int]:
    """CPU and wall seconds to map the first `n` messages (parsed beforehand) to FHIR, and
    the resources made."""
    from medlake.formats.hl7v2 import parse_hl7
    from medlake.silver.mappings.hl7v2 import map_messages
    from medlake.silver.mappings.hl7v2_common import Hl7Context

    ctx = Hl7Context("bench", "hl7", "https://example.org/fhir/hl7-feed", "America/Chicago")
    messages = list(enumerate(parse_hl7(_head(data, n)).messages))
    cpu, wall, mapping = timed(lambda: map_messages(messages, ctx), repeat)
    return cpu, wall, len(mapping.resources)


if __name__ == "__main__":
    main()
