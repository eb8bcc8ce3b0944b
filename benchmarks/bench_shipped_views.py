"""Materializing the shipped views: hand-written SQL (flat.py) against the compiled ViewDefinitions.

    .venv/bin/python benchmarks/bench_shipped_views.py [persons] [workdir]

Builds a synthetic lake of `persons` (default 200) up to silver, then times, per view that has
both, `flat.materialize` (hand SQL) and the compiled shipped ViewDefinition over the same
`silver.<type>`, each to an Arrow table, best of 3. Prints one line per view and the totals.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from medlake.config import load_config
    from medlake.lake.catalog import connect
    from medlake.pipeline import open_lake, run
    from medlake.silver.views import flat, registry
    from medlake.silver.views.materialize import materialize_definition
    from medlake.synth.generate import generate

    persons = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="bench-views-"))
    if not (out / "medlake.yaml").exists():
        generate(out, persons, seed=11)
        run(load_config(out / "medlake.yaml"), "demo", stages=("land", "bronze", "silver"), workers=2)
    con = connect(open_lake(load_config(out / "medlake.yaml"), "demo"), gold=False)
    flat.install_macros(con)
    flat.ensure_silver_tables(con)

    def best(fn: object) -> tuple[float, int]:
        times, rows = [], 0
        for _ in range(3):
            t0 = time.perf_counter()
            rows = fn().num_rows  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        return min(times), rows

    total_hand = total_vd = 0.0
    print(f"{'view':<24}{'rows':>9}{'hand SQL s':>12}{'ViewDef s':>12}")
    for name in registry.SHIPPED:
        if name in registry.COMPILED:
            continue
        view = registry.shipped_view(name)
        hand, rows = best(lambda n=name: flat.materialize(con, n))
        compiled, vd_rows = best(lambda n=name, v=view: materialize_definition(con, n, v))
        assert rows == vd_rows, (name, rows, vd_rows)
        total_hand += hand
        total_vd += compiled
        print(f"{name:<24}{rows:>9}{hand:>12.3f}{compiled:>12.3f}")
    print(f"{'total':<24}{'':>9}{total_hand:>12.3f}{total_vd:>12.3f}")
    for name in registry.COMPILED:
        took, rows = best(lambda n=name: materialize_definition(con, n, registry.shipped_view(n)))
        print(f"{name + ' (compiled only)':<33}{rows:>9}{took:>12.3f}")


if __name__ == "__main__":
    main()
