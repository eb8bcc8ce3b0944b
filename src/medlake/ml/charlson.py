"""A Charlson-style comorbidity index from ICD-10-CM code prefixes.

The categories and weights are Charlson's (1987); the ICD-10 prefixes follow the coding
algorithm of Quan et al. (Medical Care 2005), shortened to prefixes that ICD-10-CM shares with
ICD-10. Codes are compared without dots (`E11.22` → `E1122`). Three pairs follow the usual
hierarchy: the severe form replaces the mild one (complicated over uncomplicated diabetes,
severe over mild liver disease, metastatic over other cancer).

    rows()            (category, weight, prefix) for a SQL join
    score_sql(alias)  the index as a SQL expression over boolean columns `has_<category>`
"""

from __future__ import annotations


def _rng(letter: str, low: int, high: int) -> tuple[str, ...]:
    """`_rng("C", 0, 3)` → C00, C01, C02, C03."""
    return tuple(f"{letter}{n:02d}" for n in range(low, high + 1))


def _diabetes(fourth: str) -> tuple[str, ...]:
    return tuple(f"{block}{d}" for block in ("E08", "E09", "E10", "E11", "E13") for d in fourth)


CATEGORIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "myocardial_infarction": (1, ("I21", "I22", "I252")),
    "heart_failure": (1, ("I50", "I110", "I130", "I132", "I42", "I43", "I099", "I255")),
    "peripheral_vascular": (1, ("I70", "I71", "I731", "I738", "I739", "I771", "I790", "I792", "K551", "K558", "K559", "Z958", "Z959")),
    "cerebrovascular": (1, (*_rng("I", 60, 69), "G45", "G46", "H340")),
    "dementia": (1, ("F01", "F02", "F03", "G30", "G311")),
    "chronic_pulmonary": (1, (*_rng("J", 40, 47), *_rng("J", 60, 67), "J684", "J701", "J703")),
    "rheumatic": (1, ("M05", "M06", "M315", "M32", "M33", "M34", "M351", "M353", "M360")),
    "peptic_ulcer": (1, ("K25", "K26", "K27", "K28")),
    "liver_mild": (1, ("B18", "K700", "K701", "K702", "K703", "K709", "K713", "K714", "K715", "K717", "K73", "K74", "K760", "K762", "K763", "K764", "K768", "K769", "Z944")),
    "diabetes": (1, _diabetes("01689")),
    "diabetes_complicated": (2, _diabetes("23457")),
    "hemiplegia": (2, ("G041", "G114", "G801", "G802", "G81", "G82", "G830", "G831", "G832", "G833", "G834", "G839")),
    "renal": (2, ("I120", "I131", "N032", "N033", "N034", "N035", "N036", "N037", "N052", "N053", "N054", "N055", "N056", "N057", "N18", "N19", "N250", "Z490", "Z491", "Z492", "Z940", "Z992")),
    "cancer": (2, (*_rng("C", 0, 26), *_rng("C", 30, 34), *_rng("C", 37, 41), "C43", *_rng("C", 45, 58), *_rng("C", 60, 76), *_rng("C", 81, 85), "C88", *_rng("C", 90, 97))),
    "liver_severe": (3, ("I850", "I859", "I864", "I982", "K704", "K711", "K721", "K729", "K765", "K766", "K767")),
    "metastatic_tumor": (6, ("C77", "C78", "C79", "C80")),
    "hiv_aids": (6, ("B20", "B21", "B22", "B24")),
}
"""category -> (Charlson weight, ICD-10 prefixes without dots)."""

SUPERSEDED_BY: dict[str, str] = {
    "diabetes": "diabetes_complicated",
    "liver_mild": "liver_severe",
    "cancer": "metastatic_tumor",
}
"""The mild category counts only when its severe form is absent."""


def rows() -> list[tuple[str, int, str]]:
    """One (category, weight, prefix) row per prefix."""
    return [(cat, w, p) for cat, (w, prefixes) in CATEGORIES.items() for p in prefixes]


def score_sql() -> str:
    """The index as SQL over boolean columns `has_<category>` (NULL counts as absent)."""
    terms = []
    for cat, (weight, _) in CATEGORIES.items():
        cond = f"coalesce(has_{cat}, false)"
        if cat in SUPERSEDED_BY:
            cond += f" and not coalesce(has_{SUPERSEDED_BY[cat]}, false)"
        terms.append(f"{weight} * ({cond})::int")
    return " + ".join(terms)
