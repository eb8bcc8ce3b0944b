"""A small synthetic lake (15 persons, up to silver) and an API client over it, per session."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medlake.config import ProjectConfig, load_config
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake, run
from medlake.synth.generate import generate

TENANT = "demo"


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectConfig:
    out = tmp_path_factory.mktemp("serve_lake")
    generate(out, 15, seed=7)
    config = load_config(Path(out) / "medlake.yaml")
    run(config, TENANT, stages=("land", "bronze", "silver"), workers=1)
    return config


@pytest.fixture(scope="session")
def client(project: ProjectConfig) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette asks for httpx2, which is not a dependency
        from fastapi.testclient import TestClient
    from medlake.serve.app import create_app

    with TestClient(create_app(project, TENANT)) as c:
        yield c


@pytest.fixture(scope="session")
def sql(project: ProjectConfig) -> Iterator[Any]:
    """The lake through `medlake sql`'s session: the oracle the API's answers are checked against."""
    con = connect(open_lake(project, TENANT), gold=False)
    yield con
    con.close()
