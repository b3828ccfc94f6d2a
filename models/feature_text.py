"""Human-readable texts for every model feature and its values, in English and German: the one place for them.

A reason reads "<name>: <value>" ("Company size: 250 employees"), or for a yes/no feature the phrase for the
lead's answer ("Demo requested", "No demo request"). Texts of coded values (seniority, job function, budget
ranges) are translated; other categories (industry, country, campaign) are shown as the CRM spells them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Language = Literal["en", "de"]
LANGUAGES: tuple[Language, ...] = ("en", "de")


@dataclass(frozen=True)
class FeatureText:
    """How one feature is named and its values shown, per language."""

    name: dict[Language, str]
    unit: dict[Language, str] | None = None  # numbers: "250 employees"
    yes: dict[Language, str] | None = None  # yes/no features: the phrase for yes ...
    no: dict[Language, str] | None = None  # ... and for no
    code: bool = False  # a number that names, not counts (a year, a postal code): shown without grouping, "1998"


def _t(en: str, de: str) -> dict[Language, str]:
    return {"en": en, "de": de}


def _yes_no(name: tuple[str, str], yes: tuple[str, str], no: tuple[str, str]) -> FeatureText:
    """A yes/no feature's texts: its name, and the phrases for yes and for no (English, German)."""
    return FeatureText(_t(*name), yes=_t(*yes), no=_t(*no))


FEATURE_TEXTS: dict[str, FeatureText] = {
    "company_size": FeatureText(_t("Company size", "Unternehmensgröße"), unit=_t("employees", "Mitarbeitende")),
    "form_fields_answered": FeatureText(_t("Form fields answered", "Beantwortete Formularfelder")),
    "website_visits": FeatureText(_t("Website visits", "Website-Besuche")),
    "pages_per_visit": FeatureText(_t("Pages per visit", "Seiten pro Besuch")),
    "time_on_site_s": FeatureText(_t("Time on website", "Zeit auf der Website"), unit=_t("seconds", "Sekunden")),
    "content_downloads": FeatureText(_t("Content downloads", "Content-Downloads")),
    "pricing_page_visits": FeatureText(_t("Pricing page visits", "Besuche der Preisseite")),
    "email_opens": FeatureText(_t("E-mails opened", "Geöffnete E-Mails")),
    "email_clicks": FeatureText(_t("E-mail link clicks", "Klicks in E-Mails")),
    "webinar_attended": _yes_no(
        ("Webinar", "Webinar"),
        ("Attended a webinar", "Hat an einem Webinar teilgenommen"),
        ("No webinar attended", "Kein Webinar besucht"),
    ),
    "demo_requested": _yes_no(
        ("Demo request", "Demo-Anfrage"),
        ("Demo requested", "Demo angefragt"),
        ("No demo request", "Keine Demo angefragt"),
    ),
    "newsletter_unsubscribed": _yes_no(
        ("Newsletter", "Newsletter"),
        ("Unsubscribed from the newsletter", "Newsletter abbestellt"),
        ("Still subscribed to the newsletter", "Newsletter nicht abbestellt"),
    ),
    "industry": FeatureText(_t("Industry", "Branche")),
    "country": FeatureText(_t("Country", "Land")),
    "lead_source": FeatureText(_t("Lead source", "Lead-Quelle")),
    "campaign": FeatureText(_t("Campaign", "Kampagne")),
    "budget_stated": FeatureText(_t("Stated budget", "Angegebenes Budget")),
}

# Texts of the features a role derives (``<name>_<suffix>``: e-mail and job-title columns), whatever the column.
DERIVED_TEXTS: dict[str, FeatureText] = {
    "is_freemail": _yes_no(
        ("E-mail provider", "E-Mail-Anbieter"),
        ("Freemail address", "Freemail-Adresse"),
        # not "business address": a lead without an e-mail address is no freemail address either
        ("No freemail address", "Keine Freemail-Adresse"),
    ),
    "is_competitor": _yes_no(
        ("Competitor", "Wettbewerber"),
        ("E-mail domain of a competitor", "E-Mail-Domain eines Wettbewerbers"),
        ("Not a competitor", "Kein Wettbewerber"),
    ),
    "has_valid_email": _yes_no(
        ("E-mail address", "E-Mail-Adresse"),
        ("Valid e-mail address", "Gültige E-Mail-Adresse"),
        ("Missing or invalid e-mail address", "Fehlende oder ungültige E-Mail-Adresse"),
    ),
    "is_student_or_intern": _yes_no(
        ("Student or intern", "Studierende oder Praktikum"),
        ("Student or intern", "Studierende(r) oder Praktikant(in)"),
        ("Not a student or intern", "Keine Studierenden oder Praktikanten"),
    ),
    "seniority": FeatureText(_t("Seniority", "Hierarchieebene")),
    "function": FeatureText(_t("Job function", "Funktion")),
}

# Coded values produced by models.job_titles, translated (keyed like DERIVED_TEXTS).
VALUE_TEXTS: dict[str, dict[str, dict[Language, str]]] = {
    "seniority": {
        "c_level": _t("C-level", "Geschäftsführung / C-Level"),
        "vp": _t("Vice president", "Vice President"),
        "director": _t("Director / head of", "Direktor(in) / Bereichsleitung"),
        "manager": _t("Manager / team lead", "Manager(in) / Teamleitung"),
        "individual": _t("Specialist", "Fachkraft"),
        "student_intern": _t("Student / intern", "Studierende / Praktikum"),
        "other": _t("Other", "Sonstige"),
    },
    "function": {
        "marketing": _t("Marketing", "Marketing"),
        "sales": _t("Sales", "Vertrieb"),
        "it": _t("IT", "IT"),
        "operations": _t("Operations", "Operations"),
        "finance": _t("Finance", "Finanzen"),
        "hr": _t("HR", "Personal"),
        "procurement": _t("Procurement", "Einkauf"),
        "executive": _t("Management", "Geschäftsleitung"),
        "other": _t("Other", "Sonstige"),
    },
}
UNKNOWN: dict[Language, str] = _t("unknown", "unbekannt")

# The activities table's kinds (models.contract.ACTIVITY_KINDS) in words, for its point-in-time features
# (models.engagement): "<kind>_<w>d", "days_since_<kind>" and "<kind>_decayed".
ACTIVITY_TEXTS: dict[str, dict[Language, str]] = {
    "visit": _t("Website visits", "Website-Besuche"),
    "download": _t("Content downloads", "Content-Downloads"),
    "email_open": _t("E-mails opened", "Geöffnete E-Mails"),
    "email_click": _t("E-mail link clicks", "Klicks in E-Mails"),
    "webinar": _t("Webinars attended", "Besuchte Webinare"),
    "event": _t("Events attended", "Besuchte Veranstaltungen"),
    "form": _t("Forms filled in", "Ausgefüllte Formulare"),
    "demo_request": _t("Demo requests", "Demo-Anfragen"),
    "unsubscribe": _t("Unsubscribes", "Abmeldungen"),
}
# "Days since the last ...": the kind in the singular (German with its article's case).
LAST_ACTIVITY_TEXTS: dict[str, dict[Language, str]] = {
    "visit": _t("website visit", "dem letzten Website-Besuch"),
    "download": _t("content download", "dem letzten Download"),
    "email_open": _t("opened e-mail", "der letzten geöffneten E-Mail"),
    "email_click": _t("e-mail link click", "dem letzten Klick in einer E-Mail"),
    "webinar": _t("webinar", "dem letzten Webinar"),
    "event": _t("event", "der letzten Veranstaltung"),
    "form": _t("form filled in", "dem letzten ausgefüllten Formular"),
    "demo_request": _t("demo request", "der letzten Demo-Anfrage"),
    "unsubscribe": _t("unsubscribe", "der letzten Abmeldung"),
}
_WINDOW = re.compile(r"(?P<kind>[a-z_]+)_(?P<days>\d+)d")


def _activity_text(feature: str) -> FeatureText | None:
    """Texts of an activities feature: "Website visits in the last 30 days", "Days since the last demo request"."""
    window = _WINDOW.fullmatch(feature)
    if window and window["kind"] in ACTIVITY_TEXTS:
        kind, days = ACTIVITY_TEXTS[window["kind"]], window["days"]
        return FeatureText(_t(f"{kind['en']} in the last {days} days", f"{kind['de']} der letzten {days} Tage"))
    kind_name = feature.removeprefix("days_since_")
    if kind_name != feature and kind_name in ACTIVITY_TEXTS:
        last = LAST_ACTIVITY_TEXTS[kind_name]
        return FeatureText(_t(f"Days since the last {last['en']}", f"Tage seit {last['de']}"), unit=_t("days", "Tage"))
    kind_name = feature.removesuffix("_decayed")
    if kind_name != feature and kind_name in ACTIVITY_TEXTS:
        kind = ACTIVITY_TEXTS[kind_name]
        return FeatureText(
            _t(f"{kind['en']}, recent ones weighted most", f"{kind['de']}, jüngste am stärksten gewichtet")
        )
    return None


def _number(value: float, language: Language) -> str:
    """Whole numbers and those of 100 or more without decimals, others with one, and values below 1 with two
    significant digits ("Exit rate: 0.023", not "0.0")."""
    if abs(value - round(value)) < 1e-9 or abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:,.1f}"
    else:
        decimals = min(6, 1 - math.floor(math.log10(abs(value))))
        text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text.translate(_GERMAN_SEPARATORS) if language == "de" else text


_GERMAN_SEPARATORS = str.maketrans({",": ".", ".": ","})  # 1,234.5 -> 1.234,5


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _derived_key(feature: str) -> str | None:
    return next((suffix for suffix in DERIVED_TEXTS if feature == suffix or feature.endswith("_" + suffix)), None)


# Column names of numbers that name rather than count: "Year Established: 1998", "PLZ: 80331", not "1,998"
_CODE_NUMBER_NAME = re.compile(
    r"(^|[^a-z])(years?|jahr|zip|zip_?code|plz|postal_?code|postcode|postleitzahl|area_?code|vorwahl)([^a-z]|$)"
    r"|(gr(ue|ü)ndungs|bau)jahr",
    re.IGNORECASE,
)
_PER_YEAR = re.compile(r"(^|[^a-z])(per|pro|je|a)[\s_]+(year|jahr)|/\s*(year|jahr)", re.IGNORECASE)  # an amount a year


_CUSTOM_FIELD_SUFFIX = re.compile(r"__c$")
# A JSON export's path to a field ("custom_fields.Requested Demo", "address.city"): its containers are read as words
# before the field's own name, and a container that only says "custom" is left out ("Requested Demo", "Address city")
_FIELD_PATH = re.compile(r"^((?:[A-Za-z_][A-Za-z0-9_]*\.)+)(?=\S)")
_CUSTOM_CONTAINER = re.compile(r"^(custom_?fields?|custom|fields|properties|attributes|cf)$", re.IGNORECASE)
# A code a float column wrote ("28.0" for region 28): the features step reads it as "28", and so it is shown
INTEGRAL_DECIMAL = re.compile(r"-?\d+\.0+")
_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z])")  # "MntMeatProducts" -> "Mnt Meat Products"
# names spelt with a capital inside, kept whole when an API name's words are set apart ("LinkedInClicks")
_INNER_CAPITAL_NAMES = (
    "LinkedIn", "YouTube", "HubSpot", "iPhone", "iPad", "iOS", "macOS", "PayPal", "WhatsApp", "SharePoint",
    "PowerPoint", "GitHub", "DocuSign", "TikTok", "WordPress", "MailChimp", "JavaScript", "DevOps", "SaaS", "eMail",
    "eCommerce", "McKinsey", "AdWords", "DoubleClick", "SalesForce", "ZoomInfo", "SEMrush",
)  # fmt: skip


def column_text(column: str, yes_no: bool = False) -> FeatureText:
    """The texts of a feature that is an export column as it is: the column's own name as the CRM spells it
    ("Anzahl Mitarbeiter", "Do Not Email"), and for a yes/no column its answer in words ("Do Not Email: yes")."""
    # Salesforce's custom fields end in "__c" (API names in a Data Loader export): "CurrentGenerators__c" reads as
    # "CurrentGenerators", not "CurrentGenerators c"
    name = _CUSTOM_FIELD_SUFFIX.sub("", column)
    if path := _FIELD_PATH.match(name):
        containers = [part for part in path.group(1).split(".") if part and not _CUSTOM_CONTAINER.match(part)]
        name = " ".join([*(part.replace("_", " ") for part in containers), name[path.end() :]])
    if not any(character.isspace() for character in name):  # an API name: its words run together or by "_"
        name = _WORD_START.sub(" ", name)
        for whole in _INNER_CAPITAL_NAMES:
            name = name.replace(_WORD_START.sub(" ", whole), whole)
    name = " ".join(name.replace("_", " ").split()) or column
    name = name[:1].upper() + name[1:]
    if not yes_no:
        return FeatureText(_t(name, name), code=_names_a_code(column))
    return _yes_no((name, name), (f"{name}: yes", f"{name}: ja"), (f"{name}: no", f"{name}: nein"))


def free_text_texts(column: str) -> dict[str, FeatureText]:
    """The texts of a free-text column's two features by their kind, its length (``text_length``) and whether it
    was filled in (``text_answered``), named by the column as the CRM spells it ("Titre de l'affaire length", not
    "Titre de l affaire length" from the feature's name)."""
    name = column_text(column).name["en"]
    return {
        "text_length": FeatureText(_t(f"{name} length", f"{name} Länge"), unit=_t("characters", "Zeichen")),
        "text_answered": _yes_no(
            (f"{name} filled in", f"{name} ausgefüllt"),
            (f"{name}: filled in", f"{name}: ausgefüllt"),
            (f"{name}: empty", f"{name}: leer"),
        ),
    }


def option_text(column: str, option: str) -> FeatureText:
    """The texts of one option of a multi-select column: "Interessen: ERP" where the lead chose it, "Interessen:
    not ERP" where it did not; the option as the export spells it."""
    name = column_text(column).name["en"]
    chosen = f"{name}: {option}"
    return _yes_no((chosen, chosen), (chosen, chosen), (f"{name}: not {option}", f"{name}: nicht {option}"))


def text_of(feature: str, texts: Mapping[str, FeatureText] | None = None) -> FeatureText:
    """The feature's texts: leadq's own for the features it knows, else the model's (``texts``, from its export's
    column names: ``FeatureSpec.texts``), else its name in words."""
    known = FEATURE_TEXTS.get(feature)
    if known is not None:
        return known
    derived = _derived_key(feature)
    if derived is not None:
        return DERIVED_TEXTS[derived]
    activity = _activity_text(feature)
    if activity is not None:
        return activity
    if texts and feature in texts:
        return texts[feature]
    words = feature.replace("_", " ").strip().capitalize() or feature
    return FeatureText(_t(words, words), code=_names_a_code(feature))


def _names_a_code(column: str) -> bool:
    """Whether a number column's name says its numbers name rather than count ("Year established", "PLZ")."""
    return bool(_CODE_NUMBER_NAME.search(column)) and not _PER_YEAR.search(column)


def format_value(
    feature: str, value: object, language: Language = "en", texts: Mapping[str, FeatureText] | None = None
) -> str:
    """The lead's value as shown in a reason: numbers with units, coded values translated, missing as unknown."""
    text = text_of(feature, texts)
    if _is_missing(value):
        return UNKNOWN[language]
    if text.yes is not None and text.no is not None:
        return (text.yes if float(value) >= 0.5 else text.no)[language]  # type: ignore[arg-type]
    if isinstance(value, str):
        coded = VALUE_TEXTS.get(_derived_key(feature) or feature, {}).get(value)
        if coded:
            return coded[language]
        return value[: value.index(".")] if INTEGRAL_DECIMAL.fullmatch(value) else value
    number = float(value)  # type: ignore[arg-type]
    if text.code:
        return f"{number:.0f}" if number.is_integer() else f"{number:g}"
    return f"{_number(number, language)} {text.unit[language]}" if text.unit else _number(number, language)


def describe(
    feature: str, value: object, language: Language = "en", texts: Mapping[str, FeatureText] | None = None
) -> str:
    """One reason's text: "Company size: 250 employees", "Demo requested", "Industry: software"."""
    text = text_of(feature, texts)
    if text.yes is not None and not _is_missing(value):
        return format_value(feature, value, language, texts)
    return f"{text.name[language]}: {format_value(feature, value, language, texts)}"


def feature_name(feature: str, language: Language = "en", texts: Mapping[str, FeatureText] | None = None) -> str:
    """The feature's name alone, for charts and tables."""
    return text_of(feature, texts).name[language]
