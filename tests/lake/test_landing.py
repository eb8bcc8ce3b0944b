"""Landing: content-addressed, never overwritten; duplicates are recorded no-ops."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from medlake.lake import manifest
from medlake.lake.landing import LandingStore, sha256_hex
from medlake.lake.paths import TenantLake
from medlake.sources.files import land_files


def _lake(tmp_path: Path) -> TenantLake:
    return TenantLake.open(str(tmp_path / "lake"), "acme")


def test_object_is_named_by_its_sha256_under_source_and_date(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    store = LandingStore(lake)
    when = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    got = store.land("ehr", "patients.txt", b"a|b\n1|2\n", when)
    store.flush()
    sha = sha256_hex(b"a|b\n1|2\n")
    assert got.new and got.sha256 == sha
    assert got.key == f"landing/ehr/2026/03/04/{sha}"
    assert (tmp_path / "lake" / "acme" / got.key).read_bytes() == b"a|b\n1|2\n"


def test_landing_the_same_bytes_twice_is_a_recorded_no_op(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    store = LandingStore(lake)
    first = store.land("ehr", "a.txt", b"same bytes")
    store.flush()
    store2 = LandingStore(lake)  # a later run
    second = store2.land("ehr", "copy-of-a.txt", b"same bytes")
    store2.flush()
    assert not second.new and second.key == first.key
    files = [p for p in (tmp_path / "lake" / "acme" / "landing").rglob("*") if p.is_file()]
    assert len(files) == 1
    t = manifest.objects(lake, "ehr")
    assert list(t) == [f"ehr/{first.sha256}"]
    info = t[f"ehr/{first.sha256}"]
    assert info.status == "landed" and info.original_name == "a.txt"
    events = manifest.names(lake)
    assert ("ehr", "copy-of-a.txt", first.sha256) in events


def test_rescanning_an_unchanged_folder_records_nothing_new(tmp_path: Path) -> None:
    src = tmp_path / "feed"
    src.mkdir()
    (src / "one.csv").write_bytes(b"x\n1\n")
    (src / "two.csv").write_bytes(b"x\n2\n")
    (src / ".hidden").write_bytes(b"ignored")
    lake = _lake(tmp_path)
    store = LandingStore(lake)
    assert [x.original_name for x in land_files(store, "feed", str(src))] == ["one.csv", "two.csv"]
    store.flush()
    store = LandingStore(lake)
    assert land_files(store, "feed", str(src)) == []
    (src / "two.csv").write_bytes(b"x\n2\n3\n")  # changed content under the same name lands anew
    (src / "three.csv").write_bytes(b"x\n1\n")  # same bytes as one.csv under another name
    got = {x.original_name: x.new for x in land_files(store, "feed", str(src))}
    assert got == {"three.csv": False, "two.csv": True}


def test_landed_objects_are_never_overwritten(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    store = LandingStore(lake)
    got = store.land("ehr", "a.txt", b"original")
    path = tmp_path / "lake" / "acme" / got.key
    mtime = path.stat().st_mtime_ns
    LandingStore(lake).land("ehr", "a.txt", b"original")
    assert path.stat().st_mtime_ns == mtime


def test_glob_and_folder_locations_name_files_alike(tmp_path: Path) -> None:
    from medlake.sources.files import find_files

    src = tmp_path / "ehr"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"x")
    (src / "sub" / "b.txt").write_bytes(b"y")
    assert [f.name for f in find_files(str(src))] == ["a.txt", "sub/b.txt"]
    assert [f.name for f in find_files(f"{src}/*.txt")] == ["a.txt"]
    assert [f.name for f in find_files(f"{src}/**/*.txt")] == ["a.txt", "sub/b.txt"]
