"""From a table of person records (roles as text) to the normalized columns the matcher compares.

Each role is normalized once per distinct value (a dictionary-encoded column), so a million
records with a few thousand distinct family names cost a few thousand function calls, not a
million.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from medlake.silver.identity import normalize as nz
from medlake.silver.identity.nicknames import near_group

Normalizer = Callable[[str | None], str | None]

# prepared column -> (input role, normalizer)
_DERIVED: dict[str, tuple[str, Normalizer]] = {
    "given": ("given_name", nz.given_name),
    "given_key": ("given_name", nz.given_canonical),
    "family": ("family_name", nz.family_name),
    "birth_date": ("birth_date", nz.birth_date),
    "sex": ("sex", nz.sex),
    "address": ("address_line", nz.address_line),
    "city": ("city", nz.city),
    "state": ("state", nz.state),
    "postal": ("postal_code", nz.postal_code),
    "phone": ("phone", nz.phone),
    "email": ("email", nz.email),
    "ssn": ("ssn", nz.ssn),
    "mrn": ("mrn", nz.identifier),
    "source": ("source", nz.identifier),
}
PREPARED_COLUMNS: tuple[str, ...] = ("record_id", *_DERIVED, "given_fix", "given_sx", "family_sx")


def _soundex(value: str | None) -> str | None:
    return nz.soundex(value)


def _near_group(value: str | None) -> str | None:
    return near_group(value) if value else None


def map_distinct(column: pa.ChunkedArray | pa.Array, fn: Normalizer) -> pa.Array:
    """`fn` applied to every value of a string column, calling `fn` once per distinct value."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if len(column) == 0:
        return pa.array([], pa.string())
    encoded = pc.dictionary_encode(column.cast(pa.string()))
    values = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return values.take(encoded.indices)


def prepare(records: pa.Table) -> pa.Table:
    """The prepared table: `record_id` plus every column of `PREPARED_COLUMNS` (null where the
    role is absent or its value unreadable)."""
    n = records.num_rows
    columns: dict[str, pa.Array] = {"record_id": records.column("record_id").combine_chunks().cast(pa.string())}
    for name, (role, fn) in _DERIVED.items():
        if role in records.column_names:
            columns[name] = map_distinct(records.column(role), fn)
        else:
            columns[name] = pa.nulls(n, pa.string())
    columns["given_fix"] = map_distinct(columns["given"], _near_group)
    columns["given_sx"] = map_distinct(columns["given"], _soundex)
    columns["family_sx"] = map_distinct(columns["family"], _soundex)
    return pa.table(columns)


def present(prepared: pa.Table, column: str) -> bool:
    """Whether any record has a value in `column`."""
    return bool(prepared.column(column).null_count < prepared.num_rows)
