"""The 18 HIPAA Safe Harbor identifier categories, as data.

45 CFR 164.514(b)(2)(i)(A)–(R) lists the identifiers "of the individual or of relatives,
employers, or household members of the individual" that must be removed for health
information to count as de-identified under the Safe Harbor method. Each category here has
the paragraph letter of the rule, a short code (used in the catalogue, the security labels
and the de-identified output), the rule's own name and what Safe Harbor asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

CFR = "45 CFR 164.514(b)(2)(i)"


@dataclass(frozen=True)
class Category:
    """One Safe Harbor identifier category."""

    letter: str  # paragraph of 45 CFR 164.514(b)(2)(i): "A" … "R"
    code: str  # short, stable code: "names", "geographic", …
    name: str
    requirement: str  # what Safe Harbor requires: remove, or the generalization it allows

    @property
    def citation(self) -> str:
        return f"{CFR}({self.letter})"


CATEGORIES: tuple[Category, ...] = (
    Category("A", "names", "Names", "remove"),
    Category(
        "B",
        "geographic",
        "Geographic subdivisions smaller than a state (street address, city, county, precinct, "
        "ZIP code and their geocodes)",
        "remove; the first 3 digits of a ZIP code may stay when the 3-digit area holds more than "
        "20,000 people (else `000`)",
    ),
    Category(
        "C",
        "dates",
        "All elements of dates (except year) directly related to an individual (birth, admission, "
        "discharge, death, service); ages over 89",
        "generalize dates to the year; ages over 89 and the years that reveal them aggregated into "
        "one category of 90 or older",
    ),
    Category("D", "phone", "Telephone numbers", "remove"),
    Category("E", "fax", "Fax numbers", "remove"),
    Category("F", "email", "Electronic mail addresses", "remove"),
    Category("G", "ssn", "Social security numbers", "remove"),
    Category("H", "mrn", "Medical record numbers", "remove"),
    Category("I", "health_plan_id", "Health plan beneficiary numbers", "remove"),
    Category("J", "account", "Account numbers", "remove"),
    Category("K", "license", "Certificate/license numbers", "remove"),
    Category(
        "L", "vehicle", "Vehicle identifiers and serial numbers, including license plate numbers", "remove"
    ),
    Category("M", "device", "Device identifiers and serial numbers", "remove"),
    Category("N", "url", "Web Universal Resource Locators (URLs)", "remove"),
    Category("O", "ip", "Internet Protocol (IP) address numbers", "remove"),
    Category("P", "biometric", "Biometric identifiers, including finger and voice prints", "remove"),
    Category("Q", "photo", "Full face photographic images and any comparable images", "remove"),
    Category(
        "R",
        "other_id",
        "Any other unique identifying number, characteristic, or code",
        "remove; a re-identification code per 164.514(c) may replace it (not derived from the "
        "individual's information in a way that can be reversed, mechanism not disclosed)",
    ),
)
"""The 18 categories in the order of the rule."""

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}

DIRECT: frozenset[str] = frozenset(c.code for c in CATEGORIES) - {"dates", "other_id"}
"""Categories that identify a person on their own (everything but dates and opaque codes):
a resource carrying one of them is labelled Restricted."""


def category(code: str) -> Category:
    """The category with short code `code`, or a `ConfigError` naming the valid codes."""
    found = BY_CODE.get(code)
    if found is None:
        from medlake.errors import ConfigError

        raise ConfigError(
            f"`{code}` is not a Safe Harbor category code; use one of: {', '.join(BY_CODE)}",
            category=code,
        )
    return found
