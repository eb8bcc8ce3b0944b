"""Standardize person-record values before matching: one pure function per role.

Every function takes the source text (or None) and returns the normalized text, or None when
the value is empty, unreadable or a known placeholder (`000-00-0000`, `1900-01-01`,
`0000000000`). None means "unknown" to the matcher, never "different".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from medlake.silver.identity.nicknames import canonical_given

_NOT_NAME = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v", "md", "phd", "dds", "rn", "esq", "mr", "mrs", "ms", "dr"})


def fold(text: str) -> str:
    """Lower case, accents removed (`Muñoz` → `munoz`), whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", ascii_text.lower()).strip()


def _name_tokens(text: str | None) -> list[str]:
    if not text:
        return []
    cleaned = _NOT_NAME.sub(" ", fold(text).replace("'", "").replace("-", " "))
    return [t for t in cleaned.split() if t not in _SUFFIXES]


def family_name(text: str | None) -> str | None:
    """`O'Brien-Smith Jr.` → `obriensmith`: letters only, joined, suffixes dropped."""
    tokens = _name_tokens(text)
    return "".join(tokens) or None


def given_name(text: str | None) -> str | None:
    """The first given name, letters only: `Mary-Ann` → `mary`, `José Luis` → `jose`."""
    tokens = _name_tokens(text)
    return tokens[0] if tokens else None


def given_canonical(text: str | None) -> str | None:
    """The given name's nickname group (`Bobby` → the key shared with `Robert`)."""
    name = given_name(text)
    return canonical_given(name) if name else None


_SOUNDEX_CODES = {c: str(d) for d, letters in enumerate(("aeiouyhw", "bfpv", "cgjkqsxz", "dt", "l", "mn", "r")) for c in letters}


def soundex(name: str | None) -> str | None:
    """American Soundex of a normalized name (`robert` → `R163`); h and w do not separate codes."""
    if not name:
        return None
    letters = [c for c in name if c in _SOUNDEX_CODES]
    if not letters:
        return None
    out = [letters[0].upper()]
    last = _SOUNDEX_CODES[letters[0]]
    for c in letters[1:]:
        code = _SOUNDEX_CODES[c]
        if code != "0" and code != last:
            out.append(code)
        if c not in "hw":
            last = code
    return "".join(out)[:4].ljust(4, "0")


_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{4,6})?$")
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_US = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_MON = re.compile(r"^(\d{1,2})[- ]([a-z]{3})[a-z]*[- ,]+(\d{4})$")
_MON_FIRST = re.compile(r"^([a-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4})$")
_PLACEHOLDER_DATES = frozenset({"1900-01-01", "1800-01-01", "1901-01-01", "9999-12-31"})


def _ymd(text: str) -> tuple[str, str, str] | None:
    for pattern, order in ((_ISO, (0, 1, 2)), (_COMPACT, (0, 1, 2)), (_YMD_SLASH, (0, 1, 2)), (_US, (2, 0, 1))):
        m = pattern.match(text)
        if m:
            g = m.groups()
            return g[order[0]], g[order[1]], g[order[2]]
    m = _MON.match(text) or _MON_FIRST.match(text)
    if m:
        day, mon, year = (m.group(1), m.group(2), m.group(3)) if m.re is _MON else (m.group(2), m.group(1), m.group(3))
        if mon[:3] in _MONTHS:
            return year, str(_MONTHS[mon[:3]]), day
    return None


def birth_date(text: str | None, *, today: date | None = None) -> str | None:
    """A birth date in ISO form from YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD, MM/DD/YYYY, M/D/YYYY,
    DD-Mon-YYYY or `Mon D, YYYY`. US order is assumed for `nn/nn/yyyy`. Impossible dates,
    dates before 1850 or in the future, and placeholders (1900-01-01) give None."""
    if not text:
        return None
    parts = _ymd(fold(text))
    if parts is None:
        return None
    try:
        d = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    iso = d.isoformat()
    if d.year < 1850 or d > (today or date.today()) or iso in _PLACEHOLDER_DATES:
        return None
    return iso


_SEX = {"m": "M", "male": "M", "man": "M", "boy": "M", "f": "F", "female": "F", "woman": "F", "girl": "F"}


def sex(text: str | None) -> str | None:
    """`M`/`F` from M, F, male, female, Male, man, woman …; unknown, other and blank give None."""
    if not text:
        return None
    return _SEX.get(fold(text).strip(". "))


_PLACEHOLDER_PHONES = frozenset({"1234567890", "0123456789", "9876543210"})


def phone(text: str | None) -> str | None:
    """Ten NANP digits: punctuation and a leading country code 1 removed; extensions dropped.
    Area or exchange codes starting with 0/1, all-same digits and 1234567890 give None."""
    if not text:
        return None
    head = re.split(r"(?i)\s*(?:x|ext\.?|extension)\s*\d+\s*$", text.strip())[0]
    digits = "".join(c for c in head if c.isdigit())
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        return None
    if len(set(digits)) == 1 or digits in _PLACEHOLDER_PHONES:
        return None
    return digits


_EMAIL = re.compile(r"^[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def email(text: str | None) -> str | None:
    """Lower case, trimmed; None unless it looks like `local@domain.tld`."""
    if not text:
        return None
    value = text.strip().lower()
    return value if _EMAIL.match(value) else None


def postal_code(text: str | None) -> str | None:
    """The 5-digit ZIP: `60601-1234` → `60601`; 4 digits get their lost leading zero back; 00000 → None."""
    if not text:
        return None
    digits = "".join(c for c in text.split("-")[0] if c.isdigit())
    if len(digits) == 9:
        digits = digits[:5]
    if len(digits) == 4:
        digits = "0" + digits
    if len(digits) != 5 or digits == "00000":
        return None
    return digits


_ADDRESS_WORDS = {
    "street": "st", "str": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr", "boulevard": "blvd",
    "lane": "ln", "court": "ct", "place": "pl", "terrace": "ter", "parkway": "pkwy", "highway": "hwy",
    "circle": "cir", "square": "sq", "trail": "trl", "way": "way", "apartment": "apt", "unit": "apt",
    "suite": "ste", "north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne", "northwest": "nw",
    "southeast": "se", "southwest": "sw", "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th",
    "fifth": "5th", "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
    "mount": "mt", "saint": "st", "fort": "ft", "floor": "fl", "number": "apt", "no": "apt",
}
_NOT_ADDRESS = re.compile(r"[^a-z0-9 ]+")


def address_line(text: str | None) -> str | None:
    """`123 North Main Street, Apt. #4` → `123 n main st apt 4`; `P.O. Box 7` → `po box 7`."""
    if not text:
        return None
    folded = fold(text).replace("p.o.", "po").replace("#", " apt ")
    tokens = _NOT_ADDRESS.sub(" ", folded).split()
    out: list[str] = []
    for t in tokens:
        word = _ADDRESS_WORDS.get(t, t)
        if word == "apt" and out and out[-1] == "apt":
            continue
        out.append(word)
    return " ".join(out) or None


def city(text: str | None) -> str | None:
    """Lower case, letters and spaces, `Saint`/`St.` → `st`: `St. Louis` → `st louis`."""
    if not text:
        return None
    words = _NOT_NAME.sub(" ", fold(text)).split()
    return " ".join("st" if w == "saint" else "ft" if w == "fort" else w for w in words) or None


_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR", "guam": "GU",
    "virgin islands": "VI", "american samoa": "AS", "northern mariana islands": "MP",
}
_STATE_CODES = frozenset(_STATES.values())


def state(text: str | None) -> str | None:
    """The 2-letter USPS code from a code or a full name: `Illinois` → `IL`; unknown → None."""
    if not text:
        return None
    value = " ".join(_NOT_NAME.sub(" ", fold(text)).split())
    if value.upper() in _STATE_CODES:
        return value.upper()
    return _STATES.get(value)


_PLACEHOLDER_SSNS = frozenset({"123456789", "987654321", "078051120", "219099999"})


def ssn(text: str | None) -> str | None:
    """Nine digits, or None for impossible or placeholder numbers: area 000, 666 or 900–999,
    group 00, serial 0000, all-same digits, 123456789 and the famous advertising numbers."""
    if not text:
        return None
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) != 9 or len(text.strip()) > 11:
        return None
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    if len(set(digits)) == 1 or digits in _PLACEHOLDER_SSNS:
        return None
    return digits


def identifier(text: str | None) -> str | None:
    """An MRN or source name: trimmed; blank → None."""
    value = (text or "").strip()
    return value or None
