"""FHIR R4 JSON (a Bundle, NDJSON, or one resource) → resources; references and their targets.

`parse_fhir` yields one `FhirEntry` per resource: a Bundle's entries (nested Bundles stay
whole), each line of NDJSON, or the single resource. A bad entry or line becomes a
`Problem` and the rest of the file goes on; a file that is not JSON at all raises.

`ReferenceIndex` resolves every reference style to a `Target(resource_type, key)`, where the
key is the target's *source key* (`source_key`): the string that identifies a resource in
its source and seeds its deterministic id downstream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

import orjson

from medlake.errors import ErrorLevel, ParseError
from medlake.formats.encoding import detect_encoding
from medlake.formats.problems import Problem, quote, report

Container = Literal["bundle", "ndjson", "resource"]


@dataclass(frozen=True)
class FhirEntry:
    """One resource and what its Bundle entry said about it."""

    index: int
    resource: dict[str, Any]
    full_url: str | None = None
    request_method: str | None = None
    request_url: str | None = None
    if_none_exist: str | None = None


@dataclass
class FhirParseResult:
    """The resources of one file, how they were packaged, and the bad entries."""

    container: Container
    bundle_type: str | None
    entries: list[FhirEntry]
    problems: list[Problem]


# ----------------------------------------------------------------------------- parsing


def _json_bytes(data: bytes, name: str) -> bytes:
    """UTF-8 JSON bytes: BOM dropped, UTF-16/32 re-encoded."""
    codec, skip, _label = detect_encoding(data)
    if codec == "utf-8":
        return data[skip:]
    try:
        return data[skip:].decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        raise ParseError(
            f"`{name}`: bytes at offset {offset:,} are not valid {codec.upper()}; "
            "FHIR JSON must be UTF-8 (or UTF-16/32 with a byte-order mark)",
            file=name, offset=offset,
        ) from None


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{0,63}$")


def _not_a_resource(value: Any) -> str | None:
    """Why `value` is not a FHIR resource, or None if it is one."""
    if not isinstance(value, dict):
        return f"expected a FHIR resource (a JSON object), found {_kind(value)}"
    rtype = value.get("resourceType")
    if rtype is None:
        return "the object has no `resourceType`; every FHIR resource needs one"
    if not isinstance(rtype, str) or not rtype:
        found = "empty" if rtype == "" else _kind(rtype)
        return f'`resourceType` is {found}; expected a resource type name such as "Patient"'
    if not RESOURCE_TYPE.match(rtype):
        return f'`resourceType` {quote(rtype)} is not a resource type name (letters only, starting upper-case, e.g. "Patient")'
    return None


def _looks_like_ndjson(raw: bytes) -> bool:
    """NDJSON when one of the first few non-blank lines is a JSON object on its own."""
    seen = 0
    for line in raw.split(b"\n", 64)[:64]:
        if not line.strip():
            continue
        try:
            if isinstance(orjson.loads(line), dict):
                return True
        except orjson.JSONDecodeError:
            pass
        seen += 1
        if seen >= 5:
            break
    return False


def _not_json(raw: bytes, exc: orjson.JSONDecodeError, name: str) -> ParseError:
    line, col = exc.lineno, exc.colno
    doc = exc.doc if isinstance(exc.doc, str) else raw.decode("utf-8", errors="replace")
    near = doc[exc.pos : exc.pos + 30] if exc.pos < len(doc) else ""
    at = f" at {quote(near, 30)}" if near.strip() else ""
    return ParseError(
        f"`{name}`: line {line:,} col {col:,}: not valid JSON ({exc.msg}){at}; expected a FHIR "
        "resource, a Bundle, or NDJSON (one resource per line)",
        file=name, line=line, column=col, position=f"line {line:,} col {col:,}",
    )


def parse_fhir(
    data: bytes, *, name: str = "<bytes>", errors: ErrorLevel = "collect"
) -> FhirParseResult:
    """Parse a FHIR Bundle, NDJSON file or single resource into entries and problems."""
    raw = _json_bytes(data, name)
    if not raw.strip() and name.lower().endswith((".ndjson", ".jsonl")):
        return FhirParseResult("ndjson", None, [], [])  # a bulk export of a type with no resources
    if not raw.strip():
        raise ParseError(f"`{name}`: the file is empty; expected FHIR JSON", file=name)
    problems: list[Problem] = []
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if _looks_like_ndjson(raw):
            return _parse_ndjson(raw, name, errors, problems)
        raise _not_json(raw, exc, name) from None
    why = _not_a_resource(document)
    if why is not None:
        raise ParseError(f"`{name}`: {why}", file=name)
    if document["resourceType"] == "Bundle":
        return _parse_bundle(document, name, errors, problems)
    return FhirParseResult("resource", None, [FhirEntry(0, document)], problems)


def _parse_ndjson(
    raw: bytes, name: str, errors: ErrorLevel, problems: list[Problem]
) -> FhirParseResult:
    entries: list[FhirEntry] = []
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            text = line.decode("utf-8", errors="replace").rstrip("\r")
            why = f"not valid JSON ({exc.msg}) at col {exc.colno:,}: {quote(text)}"
            report(Problem(why, f"line {number:,}", number, number - 1, text), errors, problems, name)
            continue
        not_resource = _not_a_resource(value)
        if not_resource is not None:
            text = line.decode("utf-8", errors="replace").rstrip("\r")
            problem = Problem(not_resource, f"line {number:,}", number, number - 1, text)
            report(problem, errors, problems, name)
            continue
        entries.append(FhirEntry(number, value))
    return FhirParseResult("ndjson", None, entries, problems)


def _parse_bundle(
    bundle: dict[str, Any], name: str, errors: ErrorLevel, problems: list[Problem]
) -> FhirParseResult:
    raw_entries = bundle.get("entry")
    raw_entries = [] if raw_entries is None else raw_entries
    if not isinstance(raw_entries, list):
        raise ParseError(
            f"`{name}`: Bundle.entry is {_kind(raw_entries)}; expected an array of entries",
            file=name,
        )
    bundle_type = bundle.get("type") if isinstance(bundle.get("type"), str) else None
    entries: list[FhirEntry] = []
    for index, entry in enumerate(raw_entries):
        parsed = _bundle_entry(index, entry)
        if isinstance(parsed, FhirEntry):
            entries.append(parsed)
        else:
            report(parsed, errors, problems, name)
    return FhirParseResult("bundle", bundle_type, entries, problems)


def _bundle_entry(index: int, entry: Any) -> FhirEntry | Problem:
    if not isinstance(entry, dict):
        why = f"expected a Bundle entry (a JSON object), found {_kind(entry)}"
        return _entry_problem(why, index, entry)
    request = entry.get("request")
    request = request if isinstance(request, dict) else {}
    resource = entry.get("resource")
    if resource is None:
        said = " ".join(str(request[k]) for k in ("method", "url") if request.get(k))
        said = f" (request: {said})" if said else ""
        why = f"the entry has no `resource`{said}; only entries that carry a resource are read"
        return _entry_problem(why, index, entry)
    not_resource = _not_a_resource(resource)
    if not_resource is not None:
        return _entry_problem(not_resource, index, entry)
    return FhirEntry(
        index,
        resource,
        full_url=_str_or_none(entry.get("fullUrl")),
        request_method=_str_or_none(request.get("method")),
        request_url=_str_or_none(request.get("url")),
        if_none_exist=_str_or_none(request.get("ifNoneExist")),
    )


def _entry_problem(why: str, index: int, entry: Any) -> Problem:
    resource = entry.get("resource") if isinstance(entry, dict) else None
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    position = f"entry {index} ({rtype})" if isinstance(rtype, str) and rtype else f"entry {index}"
    text = orjson.dumps(entry).decode("utf-8")
    return Problem(why, position, None, index, text)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -------------------------------------------------------------------------- references


def is_contained(reference: str) -> bool:
    """True for a reference to a contained resource (`#id`)."""
    return reference.startswith("#")


def iter_references(resource: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object holding a string `reference`, with its dotted path (`participant[0].individual`)."""
    yield from _walk(resource, "")


def _walk(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        if path and isinstance(value.get("reference"), str):
            yield path, value
        for key, child in value.items():
            if isinstance(child, dict | list):
                yield from _walk(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for k, child in enumerate(value):
            if isinstance(child, dict | list):
                yield from _walk(child, f"{path}[{k}]")


def rewrite_references(resource: dict[str, Any], fn: Callable[[str], str | None]) -> dict[str, Any]:
    """A deep copy of `resource` with each reference replaced by `fn(reference)` unless None.

    Contained references (`#id`) are never passed to `fn`.
    """
    copied = _rewrite(resource, fn, top=True)
    assert isinstance(copied, dict)
    return copied


def _rewrite(value: Any, fn: Callable[[str], str | None], top: bool = False) -> Any:
    if isinstance(value, dict):
        out = {k: _rewrite(v, fn) for k, v in value.items()}
        ref = value.get("reference")
        if not top and isinstance(ref, str) and not is_contained(ref):
            new = fn(ref)
            if new is not None:
                out["reference"] = new
        return out
    if isinstance(value, list):
        return [_rewrite(v, fn) for v in value]
    return value


_REFERENCE_TEXT = re.compile(r'"reference"\s*:\s*"((?:[^"\\]|\\.)*)"')


def rewrite_reference_text(
    text: str, fn: Callable[[str], str | None], cache: dict[str, str] | None = None
) -> str:
    """`rewrite_references` on a resource's JSON text: no parse, no copy of the tree.

    Every `"reference": "<string>"` member is passed to `fn` (contained `#id` references are
    not); the hot path of the silver stage uses this on bronze JSON. With `cache`, a
    reference that `fn` rewrote is rewritten from the cache the next time it occurs without
    calling `fn` again (`fn` must then give the same answer for the same reference, as an
    index lookup does); references `fn` leaves alone are passed to it every time.
    """
    if '"reference"' not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        raw = m.group(1)
        if cache is not None:
            hit = cache.get(raw)
            if hit is not None:
                return hit
        ref = orjson.loads(f'"{raw}"') if "\\" in raw else raw
        if is_contained(ref):
            return m.group(0)
        new = fn(ref)
        if new is None:
            return m.group(0)
        out = '"reference":' + orjson.dumps(new).decode()
        if cache is not None:
            cache[raw] = out
        return out

    return _REFERENCE_TEXT.sub(sub, text)


# ---------------------------------------------------------------------- reference index

_RELATIVE = re.compile(r"^([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_ABSOLUTE_TAIL = re.compile(r"/([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


@dataclass(frozen=True)
class Target:
    """What a reference points at: a resource type and the target's source key."""

    resource_type: str
    key: str


def _identifier_key(search: str) -> str | None:
    """`identifier=SYSTEM|VALUE` (a conditional create or reference) → `identifier:SYSTEM|VALUE`."""
    name, sep, value = search.partition("=")
    if name != "identifier" or not sep or not value or "&" in value:
        return None
    return "identifier:" + unquote(value)


def source_key(entry: FhirEntry) -> str | None:
    """The string that identifies `entry`'s resource in its source, or None if nothing does.

    In order: the `ifNoneExist` identifier of a conditional create (`identifier:SYSTEM|VALUE`),
    the resource `id`, the uuid of a `urn:uuid:` fullUrl, the fullUrl's last path segment.
    """
    rid = entry.resource.get("id")
    return key_of(entry.if_none_exist, rid if isinstance(rid, str) else None, entry.full_url)


def key_of(if_none_exist: str | None, resource_id: str | None, full_url: str | None) -> str | None:
    """`source_key` from the parts it reads: ifNoneExist, the resource id (when a string), fullUrl."""
    if if_none_exist:
        key = _identifier_key(if_none_exist)
        if key is not None:
            return key
    if resource_id:
        return resource_id
    url = full_url
    if not url:
        return None
    if url.startswith("urn:uuid:"):
        return url[len("urn:uuid:") :] or None
    return url.rstrip("/").rsplit("/", 1)[-1] or None


class ReferenceIndex:
    """The resources of one source, found by fullUrl, by type and id, and by identifier."""

    def __init__(self) -> None:
        self.by_full_url: dict[str, Target] = {}
        self.by_id: dict[tuple[str, str], Target] = {}
        self.by_identifier: dict[tuple[str, str], Target] = {}  # (type, "system|value")
        # `from_columns`: per resource type, the (target, JSON text) whose identifiers are
        # not indexed yet; read on the first conditional reference to that type
        self._unread: dict[str, list[tuple[Target, str]]] = {}

    @classmethod
    def build(cls, entries: Iterable[FhirEntry]) -> ReferenceIndex:
        """Index `entries` (all files of a source together); the first resource wins a tie."""
        index = cls()
        for entry in entries:
            key = source_key(entry)
            if key is None:
                continue
            rtype = entry.resource["resourceType"]
            target = Target(rtype, key)
            if entry.full_url:
                index.by_full_url.setdefault(entry.full_url, target)
            rid = entry.resource.get("id")
            if isinstance(rid, str):
                index.by_id.setdefault((rtype, rid), target)
            for token in _identifier_tokens(entry.resource):
                index.by_identifier.setdefault((rtype, token), target)
        return index

    @classmethod
    def from_columns(
        cls,
        resource_types: Sequence[str],
        resource_ids: Sequence[str | None],
        full_urls: Sequence[str | None],
        if_none_exists: Sequence[str | None],
        texts: Sequence[str],
    ) -> ReferenceIndex:
        """`build` from what bronze keeps of each entry: resource type, id (when a string),
        fullUrl, ifNoneExist and the resource's JSON text.

        Nothing is parsed up front: a type's identifiers (the only thing `build` reads from
        the resource itself) are read from the JSON the first time a conditional reference
        to that type is resolved. The index answers exactly as `build` would.
        """
        index = cls()
        by_full_url, by_id, unread = index.by_full_url, index.by_id, index._unread
        for rtype, rid, url, ine, text in zip(resource_types, resource_ids, full_urls, if_none_exists, texts, strict=True):
            key = key_of(ine, rid, url)
            if key is None:
                continue
            target = Target(rtype, key)
            if url:
                by_full_url.setdefault(url, target)
            if rid is not None:
                by_id.setdefault((rtype, rid), target)
            unread.setdefault(rtype, []).append((target, text))
        return index

    def _read_identifiers(self, rtype: str) -> None:
        pending = self._unread.pop(rtype, None)
        for target, text in pending or ():
            for token in _identifier_tokens(orjson.loads(text)):
                self.by_identifier.setdefault((rtype, token), target)

    def resolve(self, reference: str) -> Target | None:
        """The target of `reference`, or None (contained `#id`, unknown `urn:`, unparseable)."""
        if not reference or is_contained(reference):
            return None
        if reference.startswith("urn:"):
            return self.by_full_url.get(reference)
        if reference.startswith(("http://", "https://")):
            found = self.by_full_url.get(reference)
            if found is not None:
                return found
            match = _ABSOLUTE_TAIL.search(reference)
            return self._by_type_id(match[1], match[2]) if match else None
        match = _RELATIVE.match(reference)
        if match:
            return self._by_type_id(match[1], match[2])
        return self._conditional(reference)

    def _by_type_id(self, rtype: str, rid: str) -> Target:
        return self.by_id.get((rtype, rid)) or Target(rtype, rid)

    def _conditional(self, reference: str) -> Target | None:
        rtype, sep, search = reference.partition("?")
        key = _identifier_key(search) if sep and _RELATIVE_TYPE.match(rtype) else None
        if key is None:
            return None
        token = key[len("identifier:") :]
        if rtype in self._unread:
            self._read_identifiers(rtype)
        return self.by_identifier.get((rtype, token)) or Target(rtype, key)


_RELATIVE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")


def _identifier_tokens(resource: dict[str, Any]) -> Iterator[str]:
    """`SYSTEM|VALUE` for each identifier of `resource` (and bare `VALUE` for search without system)."""
    identifiers = resource.get("identifier")
    if isinstance(identifiers, dict):
        identifiers = [identifiers]
    if not isinstance(identifiers, list):
        return
    for identifier in identifiers:
        if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
            continue
        system = identifier.get("system")
        yield f"{system if isinstance(system, str) else ''}|{identifier['value']}"
        yield identifier["value"]
