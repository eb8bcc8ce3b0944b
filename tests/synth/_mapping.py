"""Parse and map every delimited file of a generated OUT with the shipped specs."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from medlake.config import load_config
from medlake.errors import ParseError
from medlake.formats.delimited import DelimitedOptions, parse_delimited
from medlake.silver.mappings.delimited import MappingContext, load_spec, map_rows


def map_out(out: Path) -> dict[str, Any]:
    """{file: {"rows", "parse_problems", "map_problems", "resources": Counter}} for delimited sources."""
    cfg = load_config(out / "medlake.yaml")
    tenant = cfg.tenant("demo")
    systems = {s.name: tenant.system_of(s) for s in tenant.sources}
    result: dict[str, Any] = {}
    for src in tenant.sources:
        if src.kind != "delimited":
            continue
        assert src.mapping is not None
        spec = load_spec(src.mapping)
        f = src.format
        options = DelimitedOptions(delimiter=f.delimiter, quote=f.quote, header=f.header, encoding=f.encoding)
        ctx = MappingContext(tenant.name, src.name, tenant.system_of(src), tenant.zone_of(src), systems)
        for path in sorted(out.glob(src.location)):
            rel = path.relative_to(out).as_posix()
            kind = spec.kind_for(path.name)
            assert kind is not None, f"no kind of {src.mapping} matches {rel}"
            error = None
            try:
                parsed = parse_delimited(path.read_bytes(), options, name=rel)
            except ParseError as exc:  # the file in an unexpected encoding: read it as it really is
                error = exc
                parsed = parse_delimited(path.read_bytes(), replace(options, encoding="cp1252"), name=rel)
            mapped = map_rows(spec, kind, parsed.table, ctx)
            result[rel] = {
                "rows": parsed.table.num_rows,
                "error": error,
                "parse_problems": parsed.problems,
                "map_problems": mapped.problems,
                "resources": Counter(r.resource_type for r in mapped.resources),
                "encoding": parsed.encoding,
                "sample": mapped.resources[0].resource if mapped.resources else None,
            }
    return result
