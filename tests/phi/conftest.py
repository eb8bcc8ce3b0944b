"""Fixtures of the PHI suite: a small lake with every shipped view and gold mart.

The silver data is the hand-written gold-suite fixture (`tests/gold/gold_silver_fixture.py`,
no real or generated person); the views and marts are built from it by the real code, so
their column lists are the ones that ship.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gold.gold_silver_fixture import register_silver, write_silver
from medlake.lake.catalog import duckdb_connect
from medlake.lake.paths import TenantLake

TENANT = "acme"


@pytest.fixture(scope="session")
def phi_lake(tmp_path_factory: pytest.TempPathFactory) -> TenantLake:
    from medlake.gold.runner import run_gold
    from medlake.silver.views import flat

    lake_root = tmp_path_factory.mktemp("phi_lake")
    root = lake_root / TENANT
    write_silver(root)
    con = duckdb_connect()
    register_silver(con, root)
    flat.write_views(con, root / "silver" / "views")
    con.close()
    run_gold(root)
    return TenantLake.open(str(lake_root), TENANT)


@pytest.fixture(scope="session")
def lake_dir(phi_lake: TenantLake) -> Path:
    return Path(phi_lake.root).parent
