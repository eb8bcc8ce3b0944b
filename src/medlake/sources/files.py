"""The file connector: finds a source's files (a folder, a file or a glob) and lands their bytes.

A connector never parses. Every file is read and hashed on each scan; a file whose name and
bytes were landed before is skipped without writing anything, new or changed files land by
content.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from medlake.errors import SourceError
from medlake.lake.landing import Landed, LandingStore, sha256_hex


@dataclass(frozen=True)
class FoundFile:
    path: Path
    name: str  # relative to the source location, `/`-separated
    size: int


def find_files(location: str) -> Iterator[FoundFile]:
    """Files under a folder (recursive), a single file, or a glob; hidden files skipped; sorted."""
    if "://" in location:
        raise SourceError(
            f"source location `{location}`: only local paths are supported by the file connector yet",
            location=location,
        )
    p = Path(location)
    if p.is_file():
        yield FoundFile(p, p.name, p.stat().st_size)
        return
    if p.is_dir():
        paths = sorted(x for x in p.rglob("*") if x.is_file())
        base = p
    else:
        matches = sorted(Path(x) for x in glob.glob(location, recursive=True))
        if not matches and not any(ch in location for ch in "*?["):
            raise SourceError(
                f"source location `{location}` does not exist; check `location` in medlake.yaml "
                "(relative paths are relative to the config file)",
                location=location,
            )
        paths = [x for x in matches if x.is_file()]
        prefix = re.split(r"[*?\[]", location, maxsplit=1)[0]
        # names are relative to the folder before the first wildcard, as in folder mode
        base = Path(prefix) if prefix.endswith(("/", "\\")) else Path(prefix).parent
    for x in paths:
        rel = x.relative_to(base).as_posix() if x.is_relative_to(base) else x.name
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        yield FoundFile(x, rel, x.stat().st_size)


def land_files(
    store: LandingStore,
    source: str,
    location: str,
    on_file: Callable[[FoundFile], None] | None = None,
) -> list[Landed]:
    """Land every new file of one source; returns what was landed (new or duplicate).

    A file seen before under the same name with the same bytes is skipped silently (a re-scan);
    the same bytes under another name are recorded as a `duplicate` arrival.
    """
    out: list[Landed] = []
    for f in find_files(location):
        if on_file:
            on_file(f)
        data = f.path.read_bytes()
        if store.seen(source, f.name, sha256_hex(data)):
            continue
        out.append(store.land(source, f.name, data))
    return out
