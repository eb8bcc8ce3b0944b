"""The lake on S3: landing, manifest and Delta tables against a real moto_server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest

from medlake.lake import delta, manifest
from medlake.lake.catalog import connect
from medlake.lake.landing import LandingStore
from medlake.lake.paths import TenantLake


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_options() -> Iterator[dict[str, str]]:
    exe = shutil.which("moto_server")
    if exe is None:
        pytest.skip("moto_server is not installed (pip install 'medlake[dev]')")
    port = _free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        opts = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
        }
        import boto3

        boto3.client(
            "s3", endpoint_url=opts["AWS_ENDPOINT_URL"], region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        ).create_bucket(Bucket="lake")
        yield opts
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_landing_manifest_and_delta_on_s3(s3_options: dict[str, str]) -> None:
    lake = TenantLake.open("s3://lake/prod", "acme", s3_options)
    store = LandingStore(lake)
    first = store.land("ehr", "a.txt", b"a|b\n1|2\n")
    again = store.land("ehr", "b.txt", b"a|b\n1|2\n")
    store.flush()
    assert first.new and not again.new
    assert lake.storage.read_bytes(first.key) == b"a|b\n1|2\n"
    assert list(lake.storage.list("landing/")) == [first.key]
    objs = manifest.objects(lake, "ehr")
    assert [o.original_name for o in objs.values()] == ["a.txt"]

    uri = lake.bronze("ehr", "patients")
    assert uri == "s3://lake/prod/acme/bronze/ehr__patients"
    delta.append(uri, pa.table({"a": ["1"]}), lake.delta_options())
    delta.merge(uri, pa.table({"a": ["1", "2"]}), on=["a"], update=False, options=lake.delta_options())
    t = delta.read(uri, options=lake.delta_options())
    assert t is not None and sorted(t.column("a").to_pylist()) == ["1", "2"]

    con = connect(lake)
    assert con.execute('select count(*) from bronze."ehr__patients"').fetchone() == (2,)
    assert con.execute("select count(distinct object_sha256) from meta.manifest").fetchone() == (1,)


def test_pipeline_to_silver_on_s3(s3_options: dict[str, str], tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    from medlake.config import parse_config
    from medlake.pipeline import run

    base = Path(str(tmp_path))
    (base / "fhir").mkdir()
    (base / "fhir" / "b.json").write_bytes(
        b'{"resourceType":"Bundle","type":"transaction","entry":['
        b'{"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111","resource":{"resourceType":"Patient","id":"p1"}},'
        b'{"fullUrl":"urn:uuid:22222222-2222-2222-2222-222222222222","resource":{"resourceType":"Observation","id":"o1",'
        b'"status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:11111111-1111-1111-1111-111111111111"}}}]}'
    )
    opts = "\n".join(f"  {k}: {v}" for k, v in s3_options.items())
    cfg = parse_config(
        f"lake: s3://lake/pipeline\nstorage_options:\n{opts}\n"
        f"tenants:\n  - name: t\n    sources:\n      - {{name: f, kind: fhir, location: {base / 'fhir'}}}\n",
        path=str(base / "medlake.yaml"),
    )
    run(cfg, "t", ("land", "bronze", "silver"))
    run(cfg, "t", ("land", "bronze", "silver"))  # idempotent on S3 too
    lake = TenantLake.open("s3://lake/pipeline", "t", s3_options)
    con = connect(lake)
    pid = con.execute("select id from silver.patient").fetchall()
    assert len(pid) == 1
    ref = con.execute("select resource->'subject'->>'reference' from silver.observation").fetchone()
    assert ref == (f"Patient/{pid[0][0]}",)
    assert con.execute("select count(*) from bronze.f__resources").fetchone() == (2,)
