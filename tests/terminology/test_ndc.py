"""NDC normalization: every written form, bad inputs with their exact messages, idempotence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medlake.silver.terminology.ndc import NdcResult, normalize_ndc

# (as written, 11 digits, form) — 0006-0740-31 is simvastatin 20 mg (Merck), 68180-513-01
# lisinopril (Lupin), 63653-1171-1 clopidogrel (Bristol-Myers Squibb / Sanofi)
GOOD = [
    ("0006-0740-31", "00006074031", "4-4-2"),
    ("68180-513-01", "68180051301", "5-3-2"),
    ("63653-1171-1", "63653117101", "5-4-1"),
    ("00006-0740-31", "00006074031", "5-4-2"),
    ("00006074031", "00006074031", "11"),
    ("  0006-0740-31 ", "00006074031", "4-4-2"),
]


@pytest.mark.parametrize(("text", "ndc11", "form"), GOOD)
def test_every_form_becomes_11_digits(text: str, ndc11: str, form: str) -> None:
    r = normalize_ndc(text)
    assert (r.ndc11, r.form, r.ambiguous, r.error) == (ndc11, form, False, None)


def test_hyphenated_5_4_2_form() -> None:
    assert normalize_ndc("0006-0740-31").hyphenated == "00006-0740-31"
    assert normalize_ndc("63653-1171-1").hyphenated == "63653-1171-01"


def test_ten_digits_without_hyphens_is_ambiguous_not_guessed() -> None:
    r = normalize_ndc("0006074031")
    assert r.ndc11 is None and r.ambiguous and r.form == "10"
    # 4-4-2 0006-0740-31, 5-3-2 00060-740-31, 5-4-1 00060-7403-1
    assert r.candidates == ("00006074031", "00060074031", "00060740301")
    assert r.error == (
        "10-digit NDC `0006074031` without hyphens is ambiguous (4-4-2, 5-3-2 or 5-4-1); "
        "send it hyphenated or as 11 digits"
    )


BAD = [
    ("", "empty NDC"),
    ("   ", "empty NDC"),
    ("0006-0740", "NDC `0006-0740` must be three groups of digits separated by hyphens"),
    ("0006--31", "NDC `0006--31` must be three groups of digits separated by hyphens"),
    ("0006-07a0-31", "NDC `0006-07a0-31` must be three groups of digits separated by hyphens"),
    ("006-0740-31", "NDC `006-0740-31` is 3-4-2 digits; expected 4-4-2, 5-3-2, 5-4-1 or 5-4-2"),
    ("0006-740-31", "NDC `0006-740-31` is 4-3-2 digits; expected 4-4-2, 5-3-2, 5-4-1 or 5-4-2"),
    ("000060740311", "NDC `000060740311` has 12 digits; expected 10 (hyphenated) or 11"),
    ("123456789", "NDC `123456789` has 9 digits; expected 10 (hyphenated) or 11"),
    ("0006 0740 31", "NDC `0006 0740 31` has characters other than digits and hyphens"),
    ("٠٠٠٠٦٠٧٤٠٣١", "NDC `٠٠٠٠٦٠٧٤٠٣١` has characters other than digits and hyphens"),
    ("00000-1234-56", "NDC `00000123456` has labeler 00000, which the FDA never assigns"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_inputs_say_why(text: str, message: str) -> None:
    r = normalize_ndc(text)
    assert r == NdcResult(None, "", error=message)


_digits = st.text(alphabet="0123456789", min_size=1, max_size=6)
_written = st.one_of(
    st.tuples(_digits, _digits, _digits).map("-".join),
    st.text(alphabet="0123456789", min_size=9, max_size=12),
    st.text(max_size=14),
)


@given(_written)
def test_normalizing_twice_is_normalizing_once(text: str) -> None:
    first = normalize_ndc(text)
    if first.ndc11 is not None:
        again = normalize_ndc(first.ndc11)
        assert again.ndc11 == first.ndc11
        assert normalize_ndc(first.hyphenated or "").ndc11 == first.ndc11


@given(st.sampled_from(["4-4-2", "5-3-2", "5-4-1"]), st.integers(1, 99999), st.integers(0, 9999), st.integers(0, 99))
def test_padding_puts_the_zero_in_the_short_segment(layout: str, lab: int, prod: int, pack: int) -> None:
    a, b, c = (int(x) for x in layout.split("-"))
    lab, prod, pack = lab % 10**a or 1, prod % 10**b, pack % 10**c
    written = f"{lab:0{a}d}-{prod:0{b}d}-{pack:0{c}d}"
    assert normalize_ndc(written).ndc11 == f"{lab:05d}{prod:04d}{pack:02d}"
