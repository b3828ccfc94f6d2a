"""From a lead as the CRM knows it at scoring time to model features.

Only lead columns enter here: nothing from dispositions or deals. PII is used to derive features and then
dropped: the e-mail becomes ``is_freemail``, ``is_competitor`` and ``has_valid_email``; the job title becomes
``seniority``, ``job_function`` and ``is_student_or_intern``. Consent is respected: web-tracking metrics are
treated as unknown when the lead did not consent to tracking, e-mail metrics when it did not consent to
marketing e-mail, whatever the export contains.
"""

from __future__ import annotations

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

_DOMAIN_PATTERN = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"


def _classify_unique(values: pd.Series, patterns: tuple[tuple[str, str], ...], default: str) -> pd.Series:
    """Label each text by the first matching pattern; parses unique values only, as titles repeat a lot."""
    normalised = values.str.strip().str.lower()
    codes, uniques = pd.factorize(normalised.where(normalised != ""), use_na_sentinel=True)
    unique_texts = pd.Series(uniques, dtype=object).astype(str)
    labels = np.full(len(unique_texts) + 1, np.nan, dtype=object)  # the extra last slot: missing text
    unmatched = np.ones(len(unique_texts), dtype=bool)
    for label, pattern in patterns:
        hit = unmatched & unique_texts.str.contains(pattern, regex=True).to_numpy(dtype=bool)
        labels[:-1][hit] = label
        unmatched &= ~hit
    labels[:-1][unmatched] = default
    return pd.Series(labels[codes], index=values.index, dtype=object)


def parse_job_titles(job_titles: pd.Series) -> pd.DataFrame:
    """Seniority and function of each job title; missing titles give missing values."""
    titles = job_titles.astype("str")
    return pd.DataFrame(
        {
            "seniority": _classify_unique(titles, SENIORITY_PATTERNS, default="other"),
            "job_function": _classify_unique(titles, FUNCTION_PATTERNS, default="other"),
        },
        index=job_titles.index,
    )


def parse_email_domains(
    emails: pd.Series, freemail_domains: frozenset[str], competitor_domains: frozenset[str]
) -> pd.DataFrame:
    """Flags derived from the e-mail domain; the address itself never leaves this function."""
    local_part, at_sign, domain = (
        emails.astype("str").fillna("").str.strip().str.lower().str.rpartition("@").to_numpy().T
    )
    domain_codes, unique_domains = pd.factorize(pd.Series(domain, dtype=object), use_na_sentinel=True)
    domains = pd.Series(unique_domains, dtype=object).astype(str)
    domain_valid = domains.str.fullmatch(_DOMAIN_PATTERN).to_numpy(dtype=bool)
    freemail = domains.isin(freemail_domains).to_numpy()
    competitor = np.array([any(d == c or d.endswith("." + c) for c in competitor_domains) for d in domains], dtype=bool)
    local_valid = pd.Series(local_part, dtype=object).astype("str").str.fullmatch(r"[^@\s]+").fillna(False)

    def per_lead(flags: np.ndarray) -> np.ndarray:
        if len(flags) == 0:
            return np.zeros(len(emails))
        return np.where(domain_codes >= 0, flags[np.maximum(domain_codes, 0)], False).astype(float)

    return pd.DataFrame(
        {
            "is_freemail": per_lead(freemail),
            "is_competitor": per_lead(competitor),
            "has_valid_email": per_lead(domain_valid) * local_valid.to_numpy(dtype=float) * (at_sign == "@"),
        },
        index=emails.index,
    )


def _normalise_category(values: pd.Series) -> pd.Series:
    text = values.astype("str").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    return text.astype(object).where(text.notna() & (text != ""), np.nan)


def _as_float(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def build_features(
    leads: pd.DataFrame,
    freemail_domains: frozenset[str] = FREEMAIL_DOMAINS,
    competitor_domains: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """Model features (columns ``MODEL_FEATURES``) from lead records; the input frame is not modified.

    Columns of ``SCORING_COLUMNS`` that are absent are treated as unknown; other columns are ignored.
    """
    leads = leads.reindex(columns=list(SCORING_COLUMNS))
    features = pd.DataFrame(index=leads.index)
    for column in (
        "company_size",
        "form_fields_answered",
        "content_downloads",
        *TRACKING_COLUMNS,
        *EMAIL_ENGAGEMENT_COLUMNS,
    ):
        features[column] = _as_float(leads[column])
    features.loc[leads["consent_tracking"].astype(float) != 1.0, list(TRACKING_COLUMNS)] = np.nan
    features.loc[leads["consent_marketing"].astype(float) != 1.0, list(EMAIL_ENGAGEMENT_COLUMNS)] = np.nan
    opens = features["email_opens"]
    features["email_click_rate"] = (features["email_clicks"] / opens).where(opens > 0)
    for column in ("webinar_attended", "demo_requested", "newsletter_unsubscribed"):
        features[column] = _as_float(leads[column])
    features = features.join(parse_email_domains(leads["email"], freemail_domains, competitor_domains))
    titles = parse_job_titles(leads["job_title"])
    features["is_student_or_intern"] = (titles["seniority"] == "student_intern").astype(float)
    for column in ("industry", "country", "lead_source", "campaign", "budget_stated"):
        features[column] = _normalise_category(leads[column])
    features["seniority"] = titles["seniority"]
    features["job_function"] = titles["job_function"]
    return features[list(MODEL_FEATURES)]


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

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(MODEL_FEATURES, dtype=object)
