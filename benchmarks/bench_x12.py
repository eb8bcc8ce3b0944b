"""X12 parsing throughput: medlake vs pyx12 vs linuxforhealth-x12 vs the plain-split floor.

Writes a synthetic 837P of N claims (one interchange, one set, subscribers of 5 claims with
1-3 service lines each) and a synthetic 835 of N CLPs (2 service lines each), then times
tokenizing + loop building with each contender in one run and prints claims/s and ratios.
pyx12 validates against its maps as it builds loops and is slow, so it reads the first
`--peer-claims` claims only (its claims/s is comparable; its time for N is extrapolated).
linuxforhealth-x12 is tried only where it imports (it needs pydantic 1). Usage:

    python benchmarks/bench_x12.py [--claims 50000] [--peer-claims 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import io
import random
import time
from collections.abc import Callable

ISA = (
    "ISA*00*          *00*          *ZZ*BENCHSENDER    *ZZ*BENCHRECEIVER  *240101*1200*^*00501*"
    "000000001*0*P*:~\n"
)


def _envelope(gs01: str, st01: str, guide: str, body: list[str]) -> str:
    seg = [f"GS*{gs01}*BENCHSENDER*BENCHRECEIVER*20240101*1200*1*X*{guide}", f"ST*{st01}*0001*{guide}"]
    seg += body
    seg.append(f"SE*{len(body) + 2}*0001")
    seg += ["GE*1*1", "IEA*1*000000001"]
    return ISA + "".join(s + "~\n" for s in seg)


def make_837p(claims: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    body = [
        "BHT*0019*00*1*20240101*1200*CH",
        "NM1*41*2*BENCH BILLING*****46*BENCH01",
        "PER*IC*BILLING*TE*5555550100",
        "NM1*40*2*CLEARINGHOUSE*****46*CH01",
        "HL*1**20*1",
        "NM1*85*2*BENCH CLINIC*****XX*1234567893",
        "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*62701",
        "REF*EI*123456789",
    ]
    hl = 1
    for c in range(claims):
        if c % 5 == 0:
            hl += 1
            body += [
                f"HL*{hl}*1*22*0",
                "SBR*P*18*******MB",
                f"NM1*IL*1*DOE{hl}*PAT****MI*M{hl:09d}",
                "N3*2 OAK AVE",
                "N4*SPRINGFIELD*IL*62702",
                "DMG*D8*19600101*F",
                "NM1*PR*2*MEDICARE*****PI*MCR",
            ]
        lines = rng.randint(1, 3)
        body += [
            f"CLM*C{c:08d}*{lines * 100}***11:B:1*Y*A*Y*Y",
            "HI*ABK:Z0000",
            "NM1*82*1*SMITH*ANN****XX*1234567890",
        ]
        for n in range(1, lines + 1):
            body += [f"LX*{n}", "SV1*HC:99213*100*UN*1***1", "DTP*472*D8*20240101"]
    return _envelope("HC", "837", "005010X222A1", body)


def make_835(clps: int) -> str:
    body = [
        f"BPR*I*{clps * 150}*C*ACH*CCP*01*071000013*DA*1234567890*1999999999**01*071000039*DA*9876543210*20240101",
        "TRN*1*EFT1*1999999999",
        "DTM*405*20240101",
        "N1*PR*BENCH PAYER",
        "N3*PO BOX 1",
        "N4*CHICAGO*IL*60601",
        "N1*PE*BENCH CLINIC*XX*1234567893",
        "LX*1",
    ]
    for c in range(clps):
        body += [
            f"CLP*C{c:08d}*1*200*150*20*12*ICN{c:010d}*11*1",
            f"NM1*QC*1*DOE*PAT****MI*M{c:09d}",
            "NM1*82*1*SMITH*ANN****XX*1234567890",
            "DTM*050*20240101",
        ]
        for _ in range(2):
            body += ["SVC*HC:99213*100*75**1", "DTM*472*20240101", "CAS*CO*45*15", "CAS*PR*1*10", "AMT*B6*85"]
    return _envelope("HP", "835", "005010X221A1", body)


def cut(text: str, claims: int, trigger: str) -> str:
    """The first `claims` claims of a one-set file, with the trailers after them."""
    k, found = 0, 0
    while found <= claims:
        k = text.find(f"\n{trigger}*", k + 1)
        if k < 0:
            return text
        found += 1
    head = text[: k + 1]
    n = head.count("~") - 1  # segments from ST on, and the SE
    return head + f"SE*{n}*0001~\nGE*1*1~\nIEA*1*000000001~\n"


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - t0)
    return best, count


def medlake(text: str, loop_id: str) -> Callable[[], int]:
    """Tokenizing + envelopes + loop building; claims counted from the loop arrays."""
    from medlake.formats.x12 import parse_x12

    def run() -> int:
        f = parse_x12(text)
        return sum(ts.tree.ids.count(loop_id) for ts in f.transaction_sets())

    return run


def medlake_views(text: str, loop_id: str) -> Callable[[], int]:
    """The same, then a `Loop` view and its trigger segment's elements for every claim."""
    from medlake.formats.x12 import parse_x12

    def run() -> int:
        f = parse_x12(text)
        return sum(1 for ts in f.transaction_sets() for lp in ts.find_all(loop_id) if lp.trigger.get(1))

    return run


def floor(text: str, trigger: str, collect: bool = True) -> Callable[[], int]:
    """Every segment split into its elements, nothing else. With `collect=False` the cyclic
    garbage collector is paused meanwhile (it otherwise walks the half million lists made)."""

    def run() -> int:
        was = gc.isenabled()
        if not collect:
            gc.disable()
        try:
            segs = [s.lstrip("\r\n").split("*") for s in text.split("~")]
            return sum(1 for s in segs if s[0] == trigger)
        finally:
            if was:
                gc.enable()

    return run


def pyx12_reader(text: str, trigger: str, loops: bool) -> Callable[[], int] | str:
    try:
        import pyx12.error_handler  # type: ignore[import-untyped]
        import pyx12.params  # type: ignore[import-untyped]
        import pyx12.x12context  # type: ignore[import-untyped]
        import pyx12.x12file  # type: ignore[import-untyped]
    except ImportError:
        return "not installed (pip install 'medlake[bench]')"

    def segments_only() -> int:
        return sum(1 for seg in pyx12.x12file.X12Reader(io.StringIO(text)) if seg.get_seg_id() == trigger)

    def with_loops() -> int:
        param = pyx12.params.params()
        errh = pyx12.error_handler.errh_null()
        reader = pyx12.x12context.X12ContextReader(param, errh, io.StringIO(text))
        return sum(1 for node in reader.iter_segments() if node.seg_data.get_seg_id() == trigger)

    return with_loops if loops else segments_only


def lfh_reader(text: str, trigger: str) -> Callable[[], int] | str:
    try:
        from linuxforhealth.x12.io import X12ModelReader  # type: ignore[import-untyped]
    except ModuleNotFoundError:
        return "not installed (pip install linuxforhealth-x12: 0.57 needs pydantic 1, so it does not import beside pydantic 2)"
    except Exception as exc:  # pydantic 2 raises its own import errors
        return f"does not import ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"

    def run() -> int:
        with X12ModelReader(text) as reader:
            return sum(1 for _ in reader.models())

    return run


def bench(label: str, text: str, peer_text: str, claims: int, peer_claims: int,
          trigger: str, loop_id: str, repeat: int) -> None:
    print(f"\n{label}: {claims:,} claims, {len(text) / 1e6:,.1f} MB; peers read the first {peer_claims:,}")
    rows: dict[str, float] = {}
    for name, fn, n in (
        ("medlake parse_x12 (+ loops)", medlake(text, loop_id), claims),
        ("medlake + a Loop view per claim", medlake_views(text, loop_id), claims),
        ("plain str.split floor", floor(text, trigger), claims),
        ("plain str.split floor, gc paused", floor(text, trigger, collect=False), claims),
        ("pyx12 X12ContextReader (loops)", pyx12_reader(peer_text, trigger, True), peer_claims),
        ("pyx12 X12Reader (segments only)", pyx12_reader(peer_text, trigger, False), peer_claims),
        ("linuxforhealth-x12", lfh_reader(peer_text, trigger), peer_claims),
    ):
        if isinstance(fn, str):
            print(f"  {name:<34} {fn}")
            continue
        secs, count = timed(fn, repeat if n == claims else 1)
        rows[name] = n / secs
        print(f"  {name:<34} {secs:8.3f} s  {n / secs:10,.0f} claims/s  ({count:,} counted)")
    base = rows["medlake parse_x12 (+ loops)"]
    print("  ratios (medlake claims/s ÷ other claims/s; >1 means medlake is faster):")
    for name, rate in rows.items():
        if name != "medlake parse_x12 (+ loops)":
            print(f"    vs {name:<34} {base / rate:8.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--claims", type=int, default=50_000)
    ap.add_argument("--peer-claims", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    p837 = make_837p(args.claims)
    bench("837P", p837, cut(p837, args.peer_claims, "CLM"), args.claims, args.peer_claims,
          "CLM", "2300", args.repeat)
    r835 = make_835(args.claims)
    bench("835", r835, cut(r835, args.peer_claims, "CLP"), args.claims, args.peer_claims,
          "CLP", "2100", args.repeat)


if __name__ == "__main__":
    main()
