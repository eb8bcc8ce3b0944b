"""Fixtures of the gold suite: the hand-written silver lake, its flat views, one gold build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from gold_silver_fixture import register_silver, write_silver

from medlake.gold.runner import GoldResult, run_gold
from medlake.silver.views import flat

DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


@pytest.fixture(scope="module")
def tenant_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tenant")
    write_silver(root)
    return root


@pytest.fixture(scope="module")
def silver_con(tenant_root: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(config=DUCKDB_CONFIG)
    register_silver(con, tenant_root)
    yield con
    con.close()


@pytest.fixture(scope="module")
def gold(tenant_root: Path, silver_con: duckdb.DuckDBPyConnection) -> GoldResult:
    flat.write_views(silver_con, tenant_root / "silver" / "views")
    return run_gold(tenant_root)


@pytest.fixture(scope="module")
def gold_con(gold: GoldResult) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(config=DUCKDB_CONFIG)
    con.execute("ATTACH ? AS g (READ_ONLY)", [str(gold.gold_path)])
    yield con
    con.close()
