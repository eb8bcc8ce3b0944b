"""The dashboard in a real browser: headless Debian `chromium` against a live server.

The lake is the synthetic health system (`medlake.synth`, 20 persons, tenant `demo`, built
land → gold) plus a second tenant `north` with the same sources that never ran, so the
matrix has two customers in different states. A failing check is written to
`_meta/check_results` with the quality model's schema; the source page must show it. The
server is `create_app(..., auth=anonymous)` (what `medlake serve --no-auth` runs) under
uvicorn in a thread. Screenshots go to the test's tmp dir, and to docs/img/ when
`MEDLAKE_UPDATE_SCREENSHOTS=1`. Chromium comes from `scripts/install-test-deps`; the test
skips only when it is still missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from medlake.config import ProjectConfig, load_config
from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.pipeline import run
from medlake.quality.model import RESULT_SCHEMA
from medlake.synth.generate import generate

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
CHROMIUM = shutil.which("chromium")
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SENTENCE = "`birth_date` is missing in 7.5% of lab-system patients (3 / 40)"
QUERY = "select id from silver.patient where birth_date is null"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectConfig:
    out = tmp_path_factory.mktemp("ui_browser")
    generate(out, 20, seed=5)
    cfg_path = out / "medlake.yaml"
    data = yaml.safe_load(cfg_path.read_text())
    demo = data["tenants"][0]
    data["tenants"].append({**demo, "name": "north"})
    cfg_path.write_text(yaml.safe_dump(data, sort_keys=False))
    config = load_config(cfg_path)
    run(config, "demo", stages=("land", "bronze", "silver", "identity", "gold"), workers=1)
    source = config.tenant("demo").sources[0].name
    lake = TenantLake.open(config.lake_uri(), "demo")
    row = {
        "run_id": "browser-test", "tenant": "demo", "check_id": "patient.birth_date.not_null", "table_name": "silver.patient",
        "source": source, "category": "completeness", "dimension": "completeness", "severity": "error", "status": "fail",
        "failing_rows": 3, "total_rows": 40, "threshold_pct": 1.0, "sentence": SENTENCE, "query": QUERY,
        "blocks": ["patient_360"], "checked_at": datetime.now(UTC),
    }
    delta.append(lake.meta("check_results"), pa.Table.from_pylist([row], schema=RESULT_SCHEMA), lake.delta_options())
    return config


@pytest.fixture(scope="module")
def base_url(project: ProjectConfig) -> Iterator[str]:
    import uvicorn

    from medlake.serve.app import anonymous, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(project, "demo", auth=anonymous), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def chromium(*args: str) -> str:
    if CHROMIUM is None:
        pytest.skip("Debian `chromium` is not installed; run scripts/install-test-deps (as root) to install it")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(url: str, path: Path, height: int = 900) -> None:
    chromium(f"--screenshot={path}", f"--window-size=1280,{height}", url)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    if os.environ.get("MEDLAKE_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / path.name)


def test_matrix_renders_every_tenant_and_source(project: ProjectConfig, base_url: str, tmp_path: Path) -> None:
    dom = chromium("--dump-dom", f"{base_url}/ui")
    for tenant in ("demo", "north"):
        assert f'href="/ui/{tenant}/quality"' in dom
        for src in project.tenant(tenant).sources:
            assert f'href="/ui/{tenant}/sources/{src.name}"' in dom
    assert 'data-state="untouched"' in dom  # north never ran
    assert 'data-state="testing"' in dom  # demo's failing check
    screenshot(f"{base_url}/ui", tmp_path / "dashboard-matrix.png")


def test_failing_check_appears_on_its_source_page(project: ProjectConfig, base_url: str, tmp_path: Path) -> None:
    source = project.tenant("demo").sources[0].name
    url = f"{base_url}/ui/demo/sources/{source}"
    dom = chromium("--dump-dom", url)
    assert "patient.birth_date.not_null" in dom
    assert "`birth_date` is missing in 7.5% of lab-system patients (3 / 40)" in dom
    assert QUERY in dom
    assert "<svg" in dom
    screenshot(url, tmp_path / "dashboard-source.png", height=1100)


def test_quality_page_renders(base_url: str) -> None:
    dom = chromium("--dump-dom", f"{base_url}/ui/demo/quality")
    assert "Scores by source and dimension" in dom and "<svg" in dom
