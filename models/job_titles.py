"""Seniority and job function from free-text job titles, English and German: the one vocabulary for them.

A mapping's ``job_title`` column becomes ``<name>_seniority``, ``<name>_function`` and
``<name>_is_student_or_intern`` through :func:`classify_title`; the title itself never becomes a feature.
"""

from __future__ import annotations

import functools
import re

import numpy as np


def _words(*keywords: str) -> str:
    """A regex matching any of the keywords as whole words (a trailing \\w* allows German endings)."""
    return r"\b(?:" + "|".join(keywords) + r")\b"


_EXECUTIVE_WORDS = (
    r"ceo",
    r"founder",
    r"co-founder",
    r"gründer\w*",
    r"owner",
    r"inhaber\w*",
    r"geschäftsführ\w*",
    r"geschaeftsfuehr\w*",
    r"managing director",
    r"vorstand\w*",
    r"president",
    r"präsident\w*",
)
# Seniority and function from free-text titles, English and German. Order matters: the first match wins
# (so "Werkstudent IT" is a student, and "Assistenz der Geschäftsführung" is not an executive).
SENIORITY_PATTERNS = (
    (
        "student_intern",
        _words(
            r"intern",
            r"internship",
            r"praktikant\w*",
            r"werkstudent\w*",
            r"working student",
            r"student\w*",
            r"trainee",
            r"azubi",
            r"auszubildende\w*",
            r"apprentice",
            r"ausbildung",
        ),
    ),
    (
        "individual",
        _words(r"assistenz\w*", r"assistant", r"assistent\w*", r"sekretär\w*", r"secretary", r"office manager"),
    ),
    ("c_level", _words(*_EXECUTIVE_WORDS, r"cto", r"cio", r"cfo", r"coo", r"cmo", r"cdo", r"cro", r"cso", r"chief")),
    ("vp", _words(r"vp", r"svp", r"evp", r"vice president", r"bereichsleit\w*", r"general manager")),
    (
        "director",
        # German compounds put the function first ("Vertriebsleiterin", "Marketingleitung"); team and group leads
        # are managers, and "Bereichsleiter" was taken as vp above.
        _words(
            r"director",
            r"direktor\w*",
            r"head of",
            r"head",
            r"(?!team|gruppen|projekt)\w*leiter\w*",
            r"(?!team|gruppen|projekt)\w*leitung",
            r"abteilungsleit\w*",
        ),
    ),
    (
        "manager",
        _words(
            r"manager\w*",
            r"teamleit\w*",
            r"projektleit\w*",
            r"team lead",
            r"lead",
            r"gruppenleit\w*",
            r"supervisor",
            r"koordinator\w*",
            r"coordinator",
        ),
    ),
    (
        "individual",
        _words(
            r"specialist",
            r"spezialist\w*",
            r"engineer",
            r"ingenieur\w*",
            r"developer",
            r"entwickler\w*",
            r"consultant",
            r"berater\w*",
            r"analyst\w*",
            r"architect",
            r"architekt\w*",
            r"administrator",
            r"admin",
            r"referent\w*",
            r"sachbearbeiter\w*",
            r"associate",
            r"mitarbeiter\w*",
            r"officer",
            r"expert\w*",
            r"professional",
            r"representative",
            r"buyer",
            r"einkäufer\w*",
            r"accountant",
            r"buchhalter\w*",
            r"designer",
            r"scientist",
            r"technician",
            r"techniker\w*",
            r"planner",
            r"planer\w*",
        ),
    ),
)
FUNCTION_PATTERNS = (
    (
        "it",
        _words(
            r"it",
            r"cio",
            r"cto",
            r"information",
            r"informatik",
            r"technolog\w*",
            r"software",
            r"developer",
            r"entwickler\w*",
            r"engineer\w*",
            r"devops",
            r"data",
            r"daten",
            r"digital\w*",
            r"system\w*",
            r"infrastructure",
            r"infrastruktur",
            r"security",
            r"sicherheit",
            r"cloud",
            r"architect",
            r"architekt\w*",
            r"admin\w*",
        ),
    ),
    (
        "finance",
        _words(
            r"cfo",
            r"finance",
            r"financial",
            r"finanz\w*",
            r"controlling",
            r"controller",
            r"accounting",
            r"accountant",
            r"buchhalt\w*",
            r"treasury",
            r"kaufmännisch\w*",
        ),
    ),
    (
        "operations",
        _words(
            r"coo",
            r"operations",
            r"operativ\w*",
            r"logisti\w*",
            r"supply chain",
            r"produktion",
            r"production",
            r"betrieb\w*",
            r"werksleit\w*",
            r"plant",
            r"quality",
            r"qualität\w*",
        ),
    ),
    ("procurement", _words(r"procurement", r"purchasing", r"einkauf\w*", r"einkäufer\w*", r"buyer", r"beschaffung")),
    (
        "marketing",
        _words(
            r"cmo",
            r"marketing\w*",
            r"brand",
            r"kommunikation",
            r"communications?",
            r"content",
            r"pr",
            r"growth",
            r"demand",
        ),
    ),
    ("sales", _words(r"cro", r"sales", r"vertrieb\w*", r"account\w*", r"business development", r"verkauf\w*")),
    ("hr", _words(r"hr", r"human resources", r"people", r"personal\w*", r"recruit\w*", r"talent")),
    ("executive", _words(*_EXECUTIVE_WORDS, r"general manager")),
)

STUDENT_OR_INTERN = "student_intern"
OTHER = "other"


@functools.cache
def _compiled(patterns: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((label, re.compile(pattern)) for label, pattern in patterns)


def _classify(text: str, patterns: tuple[tuple[str, str], ...]) -> object:
    return next((label for label, pattern in _compiled(patterns) if pattern.search(text)), OTHER)


TITLES_KEPT = 65_536  # distinct titles whose classes are remembered (a CRM has a few thousand; a lead's ~200 bytes)


@functools.lru_cache(maxsize=TITLES_KEPT)
def classify_title(title: str) -> tuple[object, object]:
    """(seniority, function) of one job title; NaN for both when the title is blank.

    Remembered for the last ``TITLES_KEPT`` distinct titles: a batch of an export (``leadq score``'s chunks, the
    service's requests) mostly repeats the titles of the batches before it, and each costs up to 40 patterns.
    """
    normalised = title.strip().lower()
    if not normalised:
        return np.nan, np.nan
    return _classify(normalised, SENIORITY_PATTERNS), _classify(normalised, FUNCTION_PATTERNS)
