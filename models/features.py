"""From a lead as the CRM knows it at scoring time to model features.

Only lead columns enter here: nothing from dispositions or deals. PII is used to derive features and then
dropped: the e-mail becomes ``is_freemail``, ``is_competitor`` and ``has_valid_email``; the job title becomes
``seniority``, ``job_function`` and ``is_student_or_intern``. Consent is respected: web-tracking metrics are
treated as unknown when the lead did not consent to tracking, e-mail metrics when it did not consent to
marketing e-mail, whatever the export contains.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from models.contract import SCORING_COLUMNS

FREEMAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.de",
        "yahoo.fr",
        "yahoo.co.uk",
        "ymail.com",
        "hotmail.com",
        "hotmail.de",
        "hotmail.fr",
        "hotmail.co.uk",
        "outlook.com",
        "outlook.de",
        "live.com",
        "live.de",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "aol.de",
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "gmx.ch",
        "gmx.com",
        "gmx.fr",
        "web.de",
        "t-online.de",
        "freenet.de",
        "posteo.de",
        "mailbox.org",
        "protonmail.com",
        "protonmail.ch",
        "proton.me",
        "tutanota.com",
        "tuta.io",
        "fastmail.com",
        "hey.com",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "arcor.de",
        "online.de",
        "1und1.de",
        "email.de",
        "bluewin.ch",
        "hispeed.ch",
        "sunrise.ch",
        "chello.at",
        "aon.at",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "wanadoo.fr",
        "sfr.fr",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "interia.pl",
        "seznam.cz",
        "ziggo.nl",
        "kpnmail.nl",
        "planet.nl",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
    ]
)

TRACKING_COLUMNS = ("website_visits", "pages_per_visit", "time_on_site_s", "pricing_page_visits")
EMAIL_ENGAGEMENT_COLUMNS = ("email_opens", "email_clicks")


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
        _words(r"director", r"direktor\w*", r"head of", r"head", r"leiter\w*", r"leitung", r"abteilungsleit\w*"),
    ),
    (
        "manager",
        _words(
            r"manager\w*",
            r"teamleit\w*",
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
            r"marketing",
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

NUMERIC_FEATURES = (
    "company_size",
    "form_fields_answered",
    "website_visits",
    "pages_per_visit",
    "time_on_site_s",
    "content_downloads",
    "pricing_page_visits",
    "email_opens",
    "email_clicks",
    "email_click_rate",
    "webinar_attended",
    "demo_requested",
    "newsletter_unsubscribed",
    "is_freemail",
    "is_competitor",
    "has_valid_email",
    "is_student_or_intern",
)
CATEGORICAL_FEATURES = (
    "industry",
    "country",
    "lead_source",
    "campaign",
    "budget_stated",
    "seniority",
    "job_function",
)
MODEL_FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
# Who the lead is (explicit fit, including negative identity signals); the rest is what it did (engagement).
FIT_FEATURES = (
    "company_size",
    "industry",
    "country",
    "budget_stated",
    "seniority",
    "job_function",
    "is_student_or_intern",
    "is_freemail",
    "is_competitor",
    "has_valid_email",
)
# Categories shown as the CRM spells them (the model sees them normalised to lower case).
VERBATIM_CATEGORIES = ("industry", "country", "lead_source", "campaign", "budget_stated")


@dataclass(frozen=True)
class FeatureSpec:
    """A model's features: which are numbers, which categories, and which describe fit (the rest engagement).

    The data contract's spec is :data:`CONTRACT_SPEC`; a model trained on a mapped CRM export has its own.
    The booster's columns are ``names``: numeric first, then categorical.
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    fit: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    @property
    def engagement(self) -> tuple[str, ...]:
        return tuple(feature for feature in self.names if feature not in self.fit)


CONTRACT_SPEC = FeatureSpec(NUMERIC_FEATURES, CATEGORICAL_FEATURES, FIT_FEATURES)

_DOMAIN_PATTERN = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"


@functools.cache
def _compiled(patterns: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((label, re.compile(pattern)) for label, pattern in patterns)


_SMALL_BATCH = 256


def columns_of_frame(leads: pd.DataFrame, names: Sequence[str] = SCORING_COLUMNS) -> dict[str, np.ndarray | None]:
    """The input columns ``names`` as arrays (None: column absent).

    A few leads (online scoring) are converted in one go, which costs a fraction of 21 column look-ups;
    large batches column by column, which keeps numeric columns numeric without an object copy.
    """
    if len(leads) <= _SMALL_BATCH:
        arrays = dict(zip(leads.columns, leads.to_numpy(dtype=object).T, strict=True))
    else:
        arrays = {name: leads[name].to_numpy() for name in names if name in leads}
    return {name: arrays.get(name) for name in names}


def _texts(values: np.ndarray | None, n: int) -> np.ndarray:
    """Object array of the values, None where missing (an absent column is all missing)."""
    if values is None:
        return np.full(n, None, dtype=object)
    texts = values.astype(object)  # a copy: the caller's data is never modified
    texts[pd.isna(texts)] = None
    return texts


_SMALL_BATCH = 64


def factorize_values(values: np.ndarray) -> tuple[np.ndarray, list[object]]:
    """Codes of each value into its list of distinct values (-1: missing), as ``pd.factorize``.

    A scoring request holds one or a few leads, where ``pd.factorize``'s set-up costs more than the work: a
    dict does those directly. Large frames go through pandas' hash table.
    """
    if len(values) > _SMALL_BATCH:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return codes, list(uniques)
    positions: dict[object, int] = {}
    codes = np.empty(len(values), dtype=np.intp)
    for row, value in enumerate(values):
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # NaN != NaN
            codes[row] = -1
        else:
            codes[row] = positions.setdefault(value, len(positions))
    return codes, list(positions)


def per_distinct(values: np.ndarray, derive: Callable[[Any], object], missing: object = np.nan) -> np.ndarray:
    """Apply ``derive`` once per distinct value (CRM columns repeat a lot) and spread the results back.

    Plain Python on the distinct values keeps one lead fast (no vectorisation set-up) and a million leads
    fast too (a few thousand distinct titles or industries). Missing values get ``missing``.
    """
    codes, uniques = factorize_values(values)
    derived = np.empty(len(uniques) + 1, dtype=object)
    for position, value in enumerate(uniques):
        derived[position] = derive(value)
    derived[-1] = missing  # code -1: missing
    return derived[codes]


def _per_unique(texts: np.ndarray, derive: Callable[[str], object], missing: object = np.nan) -> np.ndarray:
    """:func:`per_distinct` on texts: ``derive`` gets each distinct value as a string."""
    return per_distinct(texts, lambda value: derive(str(value)), missing)


def _classify(text: str, patterns: tuple[tuple[str, str], ...], default: str) -> object:
    normalised = text.strip().lower()
    if not normalised:
        return np.nan
    return next((label for label, pattern in _compiled(patterns) if pattern.search(normalised)), default)


def parse_job_titles(job_titles: pd.Series) -> pd.DataFrame:
    """Seniority and function of each job title; missing titles give missing values."""
    texts = _texts(job_titles.to_numpy(), len(job_titles))
    return pd.DataFrame(
        {
            "seniority": _per_unique(texts, lambda t: _classify(t, SENIORITY_PATTERNS, "other")),
            "job_function": _per_unique(texts, lambda t: _classify(t, FUNCTION_PATTERNS, "other")),
        },
        index=job_titles.index,
    )


_DOMAIN = re.compile(_DOMAIN_PATTERN)
_LOCAL_PART = re.compile(r"[^@\s]+")


def email_flags(
    email: str, freemail_domains: frozenset[str], competitor_domains: frozenset[str]
) -> tuple[float, float, float]:
    """is_freemail, is_competitor and has_valid_email of one e-mail address."""
    local_part, at_sign, domain = email.strip().lower().rpartition("@")
    freemail = float(domain in freemail_domains)
    competitor = float(any(domain == c or domain.endswith("." + c) for c in competitor_domains))
    valid = float(
        bool(at_sign) and _DOMAIN.fullmatch(domain) is not None and _LOCAL_PART.fullmatch(local_part) is not None
    )
    return freemail, competitor, valid


def _email_flag_matrix(
    emails: np.ndarray, freemail_domains: frozenset[str], competitor_domains: frozenset[str]
) -> np.ndarray:
    flags = _per_unique(
        emails, lambda email: email_flags(email, freemail_domains, competitor_domains), missing=(0.0, 0.0, 0.0)
    )
    return np.array(flags.tolist(), dtype=float).reshape(len(emails), 3)


def parse_email_domains(
    emails: pd.Series, freemail_domains: frozenset[str], competitor_domains: frozenset[str]
) -> pd.DataFrame:
    """Flags derived from the e-mail domain; the address itself never leaves this function."""
    matrix = _email_flag_matrix(_texts(emails.to_numpy(), len(emails)), freemail_domains, competitor_domains)
    return pd.DataFrame(matrix, columns=["is_freemail", "is_competitor", "has_valid_email"], index=emails.index)


def _normalise_category(text: str) -> object:
    normalised = " ".join(text.split()).lower()
    return normalised or np.nan


def _numbers(values: np.ndarray | None, n: int) -> np.ndarray:
    """Floats, NaN where missing or not a number."""
    if values is None:
        return np.full(n, np.nan)
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def feature_arrays(
    leads: pd.DataFrame,
    freemail_domains: frozenset[str] = FREEMAIL_DOMAINS,
    competitor_domains: frozenset[str] = frozenset(),
) -> dict[str, np.ndarray]:
    """Model features as one array per feature (the container-free core of :func:`build_features`)."""
    return features_from_columns(columns_of_frame(leads), len(leads), freemail_domains, competitor_domains)


def columns_from_records(
    records: Sequence[Mapping[str, object]], names: Sequence[str] = SCORING_COLUMNS
) -> dict[str, np.ndarray | None]:
    """The input columns ``names`` of lead records (dicts, e.g. from a JSON request), without a DataFrame."""
    return {name: np.array([record.get(name) for record in records], dtype=object) for name in names}


def features_from_columns(
    column: Mapping[str, np.ndarray | None],
    n: int,
    freemail_domains: frozenset[str] = FREEMAIL_DOMAINS,
    competitor_domains: frozenset[str] = frozenset(),
) -> dict[str, np.ndarray]:
    """Model features from the scoring columns (None: column absent): the one implementation of the rules."""
    features: dict[str, np.ndarray] = {
        name: _numbers(column[name], n)
        for name in (
            "company_size",
            "form_fields_answered",
            "content_downloads",
            *TRACKING_COLUMNS,
            *EMAIL_ENGAGEMENT_COLUMNS,
            "webinar_attended",
            "demo_requested",
            "newsletter_unsubscribed",
        )
    }
    for consent, masked in (("consent_tracking", TRACKING_COLUMNS), ("consent_marketing", EMAIL_ENGAGEMENT_COLUMNS)):
        withheld = _numbers(column[consent], n) != 1.0
        for name in masked:
            features[name] = np.where(withheld, np.nan, features[name])
    opens, clicks = features["email_opens"], features["email_clicks"]
    with np.errstate(divide="ignore", invalid="ignore"):
        features["email_click_rate"] = np.where(opens > 0, clicks / np.where(opens > 0, opens, 1.0), np.nan)
    email_flags = _email_flag_matrix(_texts(column["email"], n), freemail_domains, competitor_domains)
    for position, name in enumerate(("is_freemail", "is_competitor", "has_valid_email")):
        features[name] = email_flags[:, position]
    titles = _texts(column["job_title"], n)
    features["seniority"] = _per_unique(titles, lambda t: _classify(t, SENIORITY_PATTERNS, "other"))
    features["job_function"] = _per_unique(titles, lambda t: _classify(t, FUNCTION_PATTERNS, "other"))
    features["is_student_or_intern"] = (features["seniority"] == "student_intern").astype(float)
    for name in ("industry", "country", "lead_source", "campaign", "budget_stated"):
        features[name] = _per_unique(_texts(column[name], n), _normalise_category)
    return {name: features[name] for name in MODEL_FEATURES}


def build_features(
    leads: pd.DataFrame,
    freemail_domains: frozenset[str] = FREEMAIL_DOMAINS,
    competitor_domains: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """Model features (columns ``MODEL_FEATURES``) from lead records; the input frame is not modified.

    Columns of ``SCORING_COLUMNS`` that are absent are treated as unknown; other columns are ignored.
    """
    return pd.DataFrame(feature_arrays(leads, freemail_domains, competitor_domains), index=leads.index)


class LeadFeatureBuilder(TransformerMixin, BaseEstimator):
    """sklearn step wrapping :func:`build_features`, so feature building travels inside the model."""

    def __init__(self, extra_freemail_domains: tuple[str, ...] = (), competitor_domains: tuple[str, ...] = ()):
        self.extra_freemail_domains = extra_freemail_domains
        self.competitor_domains = competitor_domains

    def fit(self, X: pd.DataFrame, y: object = None) -> LeadFeatureBuilder:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.freemail_domains_ = FREEMAIL_DOMAINS | {d.lower() for d in self.extra_freemail_domains}
        self.competitor_domains_ = frozenset(d.lower() for d in self.competitor_domains)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return build_features(X, self.freemail_domains_, self.competitor_domains_)

    def arrays(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """What ``transform`` returns, as arrays: the online path skips building a DataFrame."""
        return feature_arrays(X, self.freemail_domains_, self.competitor_domains_)

    def arrays_from_columns(self, columns: Mapping[str, np.ndarray | None], n: int) -> dict[str, np.ndarray]:
        """The same features from scoring columns (see :func:`columns_from_records`)."""
        return features_from_columns(columns, n, self.freemail_domains_, self.competitor_domains_)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(MODEL_FEATURES, dtype=object)

    # What explanations and serving need to know of any features step (see models.mapped_features too).
    @property
    def feature_spec(self) -> FeatureSpec:
        return CONTRACT_SPEC

    @property
    def input_columns(self) -> tuple[str, ...]:
        """The lead fields this step reads (the data contract's scoring columns)."""
        return SCORING_COLUMNS

    @property
    def verbatim_columns(self) -> dict[str, str]:
        """Categorical feature -> the input column whose spelling reasons show."""
        return {feature: feature for feature in VERBATIM_CATEGORIES}
