"""The error tree: context survives pickling (errors cross worker processes)."""

from __future__ import annotations

import pickle

from medlake.errors import (
    ConfigError,
    MissingExtraError,
    ParseError,
    TableBusyError,
    Terminal,
    Transient,
)


def test_errors_pickle_with_their_context() -> None:
    e = ParseError("f.csv: line 3: expected 3 fields, found 4", file="f.csv", line=3)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is ParseError and str(back) == str(e)
    assert back.context == {"file": "f.csv", "line": 3} and back.line == 3
    m = pickle.loads(pickle.dumps(MissingExtraError("boto3", "s3")))
    assert str(m) == (
        "`boto3` is not installed; it is needed for this feature. Install it with: pip install 'medlake[s3]'"
    )
    assert m.extra == "s3"


def test_retry_markers() -> None:
    assert isinstance(TableBusyError("busy"), Transient)
    assert isinstance(ConfigError("bad"), Terminal)
    assert not isinstance(ConfigError("bad"), Transient)
