"""Helpers for end-to-end tests: write a config, run stages, read silver back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from medlake.config import ProjectConfig, load_config
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake

REF = re.compile(r'"reference":"([A-Za-z]+)/([0-9a-f-]{36})"')


def write_config(tmp: Path, body: str) -> ProjectConfig:
    (tmp / "medlake.yaml").write_text(body, encoding="utf-8")
    return load_config(tmp / "medlake.yaml")


def query(project: ProjectConfig, tenant: str, sql: str) -> list[tuple[Any, ...]]:
    con = connect(open_lake(project, tenant))
    try:
        return list(con.execute(sql).fetchall())
    finally:
        con.close()


def silver_resources(project: ProjectConfig, tenant: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(resource_type, id, resource) of every current silver resource."""
    con = connect(open_lake(project, tenant))
    names = [r[0] for r in con.execute(
        "select view_name from duckdb_views() where schema_name = 'silver' and view_name not like '%_history'"
    ).fetchall()]
    out = []
    for n in names:
        for rtype, rid, res in con.execute(f"select resource_type, id, resource from silver.{n}").fetchall():
            out.append((rtype, rid, orjson.loads(res)))
    con.close()
    return out


def dangling_references(resources: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    ids = {(t, i) for t, i, _ in resources}
    bad = []
    for _t, rid, res in resources:
        for m in REF.finditer(orjson.dumps(res).decode()):
            if (m.group(1), m.group(2)) not in ids:
                bad.append(f"{rid} -> {m.group(1)}/{m.group(2)}")
    return bad
