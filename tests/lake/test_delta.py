"""Delta helpers: append with schema evolution, merge, and retry when commits race."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa

from medlake.lake import delta


def test_append_adds_new_columns(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    delta.append(uri, pa.table({"a": ["1"], "b": ["x"]}))
    delta.append(uri, pa.table({"a": ["2"], "c": ["new"]}))
    t = delta.read(uri)
    assert t is not None
    rows = sorted(t.to_pylist(), key=lambda r: r["a"])
    assert rows == [{"a": "1", "b": "x", "c": None}, {"a": "2", "b": None, "c": "new"}]


def test_merge_upserts_on_key_and_respects_predicate(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    delta.merge(uri, pa.table({"id": ["a", "b"], "h": ["1", "1"], "v": [1, 1]}), on=["id"])
    delta.merge(
        uri,
        pa.table({"id": ["a", "b", "c"], "h": ["1", "2", "1"], "v": [9, 2, 1]}),
        on=["id"],
        update_when="t.h <> s.h",
    )
    t = delta.read(uri)
    assert t is not None
    assert sorted((r["id"], r["v"]) for r in t.to_pylist()) == [("a", 1), ("b", 2), ("c", 1)]


def test_concurrent_merges_all_land(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    delta.merge(uri, pa.table({"id": ["seed"], "v": [0]}), on=["id"])
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            delta.merge(uri, pa.table({"id": [f"w{i}"], "v": [i]}), on=["id"])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    t = delta.read(uri)
    assert t is not None
    assert sorted(t.column("id").to_pylist()) == ["seed"] + [f"w{i}" for i in range(6)]


def test_read_missing_table_is_none(tmp_path: Path) -> None:
    assert delta.read(str(tmp_path / "nope")) is None


def test_concurrent_merges_that_create_the_table_all_land(tmp_path: Path) -> None:
    for trial in range(4):
        uri = str(tmp_path / f"t{trial}")
        errors: list[BaseException] = []

        def worker(i: int, uri: str = uri, errors: list[BaseException] = errors) -> None:
            try:
                delta.merge(uri, pa.table({"id": [f"w{i}", "shared"], "v": [i, 0]}), on=["id"], update=False)
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        t = delta.read(uri)
        assert t is not None
        assert sorted(t.column("id").to_pylist()) == ["shared"] + [f"w{i}" for i in range(6)]
