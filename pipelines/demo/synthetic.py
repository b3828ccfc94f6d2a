"""A realistic, seeded synthetic B2B CRM export: leadq's embedded demo data and test bed.

The vendor is a German SaaS company selling to European businesses. Leads come from a universe of companies
(so several contacts can share an account). Each lead has a latent firmographic *fit* (company size, industry,
country, the title's seniority and function, budget) and a latent buying *intent* (partly driven by fit, the
lead source and campaign, and whether the account is in market). The observed fields are noisy, partly missing
views of those latents. The probability of a won deal within the horizon is a smooth function of them on the
logit scale, with a fit x intent interaction, negative signals (freemail, students, competitors, bad data) and
slow drift over the window. Outcomes are sampled from it; the sales funnel (dispositions and deals) is then
simulated consistently with the outcome and cut off at the export date, so recent leads are censored.
A :class:`QuarterDrift` adds abrupt changes from a given day on (a quarter to audit), and :func:`cut_export`
shows what an earlier export would have held.

Everything is vectorised over leads; the few Python loops run over sources, quarters or table rows of
parameters, never over leads.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import pandas as pd

from models.contract import ACTIVITY_KINDS, REJECTION_REASONS, STAGES
from pipelines.settings import DEMO_MAPPING

DEFAULT_COMPETITOR_DOMAINS: tuple[str, ...] = ("rivalsoft.de", "leadmatic.io", "scorewise.com", "pipeforge.eu")

if TYPE_CHECKING:
    from pipelines.crm_export.mapping import ExportMapping
    from pipelines.settings import DEMO_MAPPING, Settings

TABLES = ("leads", "dispositions", "deals", "true_conversion")
LEAD_ID_DIGITS = 7


@dataclass(frozen=True)
class SyntheticCRM:
    """A synthetic CRM export plus the oracle: the probability each lead was sampled with."""

    leads: pd.DataFrame
    dispositions: pd.DataFrame
    deals: pd.DataFrame
    true_conversion: pd.DataFrame  # lead_id, true_conversion_probability
    # lead_id, timestamp, kind, detail: the engagement as dated events (only when asked for: generate_crm(activities=))
    activities: pd.DataFrame | None = None


# ---------------------------------------------------------------------------------------------------------------
# Parameters of the generating process. Pairs (start, end) are linearly interpolated over the window: drift.
# ---------------------------------------------------------------------------------------------------------------


class _Source(NamedTuple):
    share: tuple[float, float]  # relative lead volume
    intent: tuple[float, float]  # shift of the latent intent
    quality: tuple[float, float]  # direct effect on the win logit (lead quality beyond engagement)
    consent_marketing: float
    consent_tracking: float
    form_fields: tuple[int, int]  # mandatory and optional fields of the typical form
    visits: float  # log-shift of website visits (offline sources barely touch the website)
    senior_tilt: float  # log-multiplier of decision-maker personas
    student_tilt: float  # log-multiplier of students and interns
    title_missing: float
    untagged: float  # share of leads without a campaign
    themes: tuple[tuple[str, float], ...] = ()  # campaign themes and their quality


# Fields in order: share, intent, quality, consent_marketing, consent_tracking, form_fields, visits, senior_tilt,
# student_tilt, title_missing, untagged, themes.
SOURCES: dict[str, _Source] = {
    "organic_search": _Source(
        (20, 17), (0.2, 0.2), (0.0, 0.0), 0.55, 0.65, (4, 4), 0.0, 0.0, 0.4, 0.10, 0.7,
        (("seo-blog", 0.0), ("seo-guides", 0.1)),
    ),
    "paid_search": _Source(
        (14, 13), (0.3, 0.3), (0.0, -0.1), 0.5, 0.7, (4, 4), 0.0, 0.0, 0.0, 0.10, 0.05,
        (("brand", 0.4), ("generic", -0.1), ("competitor-kw", -0.2), ("retargeting", 0.1)),
    ),
    # Lead-gen forms on social media get cheaper and worse as the audiences saturate.
    "paid_social": _Source(
        (4, 13), (-0.4, -0.9), (-0.2, -0.9), 0.6, 0.6, (3, 2), 0.0, -0.3, 0.9, 0.20, 0.05,
        (("leadgen-form", -0.4), ("lookalike", -0.1), ("video-awareness", -0.3), ("retargeting", 0.1)),
    ),
    "linkedin": _Source(
        (8, 11), (0.0, 0.0), (0.1, 0.1), 0.6, 0.55, (3, 3), -0.2, 0.5, 0.0, 0.08, 0.05,
        (
            ("cfo-abm", 0.4), ("it-leaders", 0.3), ("ops-awareness", -0.1), ("leadgen-form", -0.3),
            ("abm-enterprise", 0.4),
        ),
    ),
    "webinar": _Source(
        (8, 8), (0.4, 0.4), (0.1, 0.1), 0.85, 0.7, (5, 3), 0.0, 0.0, 0.4, 0.06, 0.03,
        (
            ("product-demo", 0.4),
            ("industry-4-0", 0.1),
            ("nis2-compliance", 0.2),
            ("ai-use-cases", -0.1),
            ("customer-story", 0.2),
        ),
    ),
    "trade_fair": _Source(
        (5, 5), (0.2, 0.2), (0.3, 0.3), 0.5, 0.25, (0, 3), -1.2, 0.3, -0.4, 0.06, 0.02,
        (("hannover-messe", 0.2), ("it-sa", 0.2), ("logimat", 0.3), ("dmexco", -0.3), ("sps-nuernberg", 0.1)),
    ),
    "referral": _Source(
        (5, 4), (0.5, 0.5), (0.9, 0.9), 0.5, 0.6, (3, 3), -0.3, 0.3, -1.0, 0.08, 0.6,
        (("customer-referral", 0.1),),
    ),
    "partner": _Source(
        (5, 6), (0.3, 0.3), (0.6, 0.6), 0.5, 0.5, (3, 3), -0.6, 0.3, -1.0, 0.08, 0.1,
        (("reseller-program", 0.0), ("si-alliance", 0.3), ("marketplace", -0.2)),
    ),
    "content_syndication": _Source(
        (8, 7), (-0.4, -0.4), (-0.4, -0.4), 0.9, 0.3, (5, 2), -0.8, -0.2, 0.4, 0.06, 0.02,
        (("whitepaper-roi", -0.2), ("analyst-report", 0.1), ("ebook-automation", -0.3)),
    ),
    # Bought address lists age: the same lists are re-sold and contacted by everyone.
    "purchased_list": _Source(
        (8, 4), (-0.9, -1.0), (-0.6, -0.9), 0.35, 0.15, (0, 1), -1.5, 0.4, -1.6, 0.03, 0.03,
        (("dach-mittelstand", -0.1), ("eu-enterprise", -0.2), ("trade-directory", -0.4)),
    ),
    "direct": _Source((10, 8), (0.4, 0.4), (0.2, 0.2), 0.45, 0.7, (4, 4), 0.0, 0.0, 0.0, 0.10, 1.0),
}  # fmt: skip
SOURCE_NAMES = tuple(SOURCES)
_SOURCE = {name: code for code, name in enumerate(SOURCE_NAMES)}
# Sources whose form is not on our website: the lead need not have visited it at all.
_OFFSITE_SOURCES = ("trade_fair", "partner", "content_syndication", "purchased_list")
# Relative volume by calendar month (Jan..Dec): trade fairs cluster in spring and autumn, webinars pause in summer.
_SEASON = {
    "trade_fair": np.array([0.3, 0.8, 1.6, 1.8, 1.2, 1.0, 0.3, 0.2, 1.6, 1.9, 1.4, 0.3]),
    "webinar": np.array([1.1, 1.1, 1.1, 1.0, 1.0, 0.9, 0.6, 0.5, 1.1, 1.2, 1.2, 0.6]),
}
_MONTH_VOLUME = np.array([1.05, 1.05, 1.1, 1.0, 1.0, 0.95, 0.85, 0.65, 1.1, 1.1, 1.05, 0.85])
_WEEKDAY_VOLUME = np.array([1.05, 1.1, 1.1, 1.05, 0.85, 0.22, 0.18])
_HOUR_VOLUME = np.array(
    [0.4, 0.3, 0.2, 0.2, 0.3, 0.6, 1.5, 3.5, 6, 7, 7, 6.5, 5.5, 6, 6.5, 6, 5, 3.5, 2.5, 2.2, 2, 1.6, 1.1, 0.7]
)
_VOLUME_GROWTH_PER_YEAR = 0.22

# name: (share at start, share at end, effect at start, effect at end)
INDUSTRIES: dict[str, tuple[float, float, float, float]] = {
    "Software": (14, 13, 0.3, 0.3),
    "Manufacturing": (18, 16, 0.5, 0.2),  # the German industrial downturn
    "Financial Services": (8, 8, 0.2, 0.2),
    "Healthcare": (7, 7, 0.0, 0.1),
    "Retail": (8, 7, -0.2, -0.3),
    "Logistics": (8, 8, 0.5, 0.5),
    "Professional Services": (11, 11, 0.0, 0.0),
    "Education": (5, 5, -0.9, -0.9),
    "Public Sector": (4, 5, -0.8, -0.2),  # public digitalisation budgets open up
    "Telecommunications": (3, 3, 0.1, 0.1),
    "Energy": (5, 9, 0.3, 0.4),
    "Media": (5, 4, -0.4, -0.4),
}
INDUSTRY_NAMES = (*INDUSTRIES, "Renewables")
_ENERGY = INDUSTRY_NAMES.index("Energy")
_RENEWABLES = INDUSTRY_NAMES.index("Renewables")
_RENEWABLE_SHARE_OF_ENERGY = 0.5
_RENEWABLE_EFFECT = 0.3
_RENEWABLES_PICKLIST_DAYS = 182  # the CRM picklist got "Renewables" this many days before the export
_SOFTWARE = INDUSTRY_NAMES.index("Software")

REGIONS = ("DACH", "Europe", "Global")
_REGION_SHARE = ((70, 64), (24, 28), (6, 8))
_DACH, _EUROPE, _GLOBAL = range(3)
# (ISO code, region, weight within region, effect on fit, top-level domain)
COUNTRIES: tuple[tuple[str, int, float, float, str], ...] = (
    ("DE", _DACH, 52, 0.45, "de"),
    ("AT", _DACH, 9, 0.4, "at"),
    ("CH", _DACH, 9, 0.35, "ch"),
    ("NL", _EUROPE, 5, 0.0, "nl"),
    ("FR", _EUROPE, 3.5, -0.4, "fr"),
    ("GB", _EUROPE, 4, -0.2, "co.uk"),
    ("PL", _EUROPE, 3, -0.3, "pl"),
    ("IT", _EUROPE, 3, -0.4, "it"),
    ("ES", _EUROPE, 2, -0.5, "es"),
    ("BE", _EUROPE, 1.5, -0.1, "be"),
    ("SE", _EUROPE, 1, -0.2, "se"),
    ("DK", _EUROPE, 0.8, -0.2, "dk"),
    ("CZ", _EUROPE, 1, -0.3, "cz"),
    ("LU", _EUROPE, 0.3, 0.0, "lu"),
    ("US", _GLOBAL, 3.5, -1.0, "com"),
    ("CA", _GLOBAL, 0.4, -1.0, "ca"),
    ("IN", _GLOBAL, 0.8, -1.5, "in"),
    ("BR", _GLOBAL, 0.4, -1.5, "com.br"),
    ("TR", _GLOBAL, 0.5, -1.0, "com.tr"),
    ("AE", _GLOBAL, 0.3, -0.8, "ae"),
    ("AU", _GLOBAL, 0.3, -1.0, "com.au"),
    ("CN", _GLOBAL, 0.2, -1.8, "cn"),
)
_COMPETITOR_COUNTRIES = np.array([0, 0, 0, 1, 2, 3])  # DE, DE, DE, AT, CH, NL

SALES_TEAMS = ("DACH North", "DACH South", "International", "Key Accounts")
_TEAM_SLA_DAYS = np.array([0.3, 0.8, 1.8, 0.5])  # median time from MQL to acceptance by sales
_KEY_ACCOUNT_SIZE = 5000


class _Persona(NamedTuple):
    weight: float
    fit: float
    senior: bool
    student: bool
    size_multiplier: tuple[float, float, float, float]  # by size band: <50, 50-999, 1000-9999, 10000+
    titles: tuple[str, ...]


PERSONAS: dict[str, _Persona] = {
    "owner": _Persona(7, 0.5, True, False, (3.5, 1.0, 0.25, 0.1), (
        "Geschäftsführer", "Geschäftsführerin", "CEO", "Inhaber", "Inhaberin", "Managing Director", "Founder & CEO",
        "Gründer", "Owner", "GF", "Co-Founder", "Geschäftsführender Gesellschafter", "Vorstand", "General Manager",
    )),
    "it_executive": _Persona(3, 1.0, True, False, (0.5, 1.0, 1.3, 1.3), (
        "CTO", "CIO", "Chief Technology Officer", "Chief Information Officer", "Chief Digital Officer", "CDO",
        "VP IT", "VP Engineering", "Vice President Information Technology", "Bereichsleiter IT",
    )),
    "it_head": _Persona(6, 1.1, True, False, (0.3, 1.2, 1.5, 1.3), (
        "Head of IT", "IT-Leiter", "Leiter IT", "Leiterin IT", "IT Director", "Director IT Infrastructure",
        "Head of Digital Transformation", "Leiter Digitalisierung", "Head of IT Operations", "Abteilungsleiter EDV",
        "Head of Data & Analytics", "Leiter Informationstechnologie", "IT Leiter",
    )),
    "finance_head": _Persona(3, 0.8, True, False, (0.6, 1.2, 1.2, 1.0), (
        "CFO", "Head of Finance", "Leiter Finanzen", "Finance Director", "Kaufmännischer Leiter",
        "Kaufmännische Leiterin", "Leiter Controlling", "Head of Controlling", "Finanzvorstand",
        "Director Finance & Controlling",
    )),
    "operations_head": _Persona(4, 0.9, True, False, (0.5, 1.2, 1.3, 1.1), (
        "Head of Operations", "Leiter Logistik", "Produktionsleiter", "COO", "Werksleiter", "Director Supply Chain",
        "Head of Production", "Betriebsleiter", "VP Operations", "Leiter Qualitätsmanagement",
    )),
    "procurement_head": _Persona(2, 0.4, True, False, (0.2, 1.0, 1.5, 1.6), (
        "Leiter Einkauf", "Leiterin Einkauf", "Head of Procurement", "Purchasing Director", "Einkaufsleiter",
        "Head of Purchasing", "Director Strategic Sourcing",
    )),
    "marketing_head": _Persona(4, 0.0, True, False, (0.8, 1.2, 1.0, 0.8), (
        "Head of Marketing", "Marketingleiter", "Marketingleiterin", "CMO", "VP Marketing", "Marketing Director",
        "Leiter Marketing & Kommunikation", "Head of Growth",
    )),
    "sales_head": _Persona(3, -0.2, True, False, (0.8, 1.2, 1.0, 0.8), (
        "VP Sales", "Vertriebsleiter", "Head of Sales", "Sales Director", "Leiter Vertrieb", "Chief Revenue Officer",
        "Head of Business Development",
    )),
    "it_manager": _Persona(7, 0.5, False, False, (0.4, 1.0, 1.3, 1.4), (
        "IT Manager", "IT-Manager", "Teamleiter IT", "IT Project Manager", "Projektleiter IT", "Product Owner",
        "IT Service Manager", "Team Lead Infrastructure", "IT-Koordinator", "Manager IT Systems",
    )),
    "operations_manager": _Persona(7, 0.3, False, False, (0.4, 1.0, 1.3, 1.3), (
        "Operations Manager", "Logistics Manager", "Supply Chain Manager", "Controller", "Financial Controller",
        "Teamleiter Buchhaltung", "Qualitätsmanager", "Procurement Manager", "Senior Buyer",
        "Strategischer Einkäufer", "Produktionsplaner", "Projektmanager",
    )),
    "marketing_manager": _Persona(9, -0.3, False, False, (0.7, 1.0, 1.1, 1.1), (
        "Marketing Manager", "Sr. Marketing Manager", "Senior Marketing Manager", "Online Marketing Manager",
        "Marketing Specialist", "Content Manager", "Performance Marketing Manager", "Referentin Marketing",
        "Campaign Manager", "Marketing Managerin",
    )),
    "sales_rep": _Persona(6, -0.5, False, False, (0.7, 1.0, 1.1, 1.1), (
        "Account Manager", "Key Account Manager", "Sales Manager", "Business Development Manager",
        "Vertriebsmitarbeiter", "Sales Representative", "Außendienstmitarbeiter", "Inside Sales",
    )),
    "it_specialist": _Persona(9, 0.0, False, False, (0.5, 1.0, 1.3, 1.4), (
        "Software Engineer", "Software Developer", "Softwareentwickler", "Systemadministrator", "IT Administrator",
        "DevOps Engineer", "Data Analyst", "Data Scientist", "Fachinformatiker", "Backend Developer",
        "Cloud Architect", "IT Consultant", "SAP Berater",
    )),
    "consultant": _Persona(6, -0.4, False, False, (2.5, 0.8, 0.6, 0.6), (
        "Consultant", "Senior Consultant", "Unternehmensberater", "Berater", "Freelancer", "Freiberuflicher Berater",
        "Managing Consultant", "Selbstständig", "Interim Manager",
    )),
    "assistant": _Persona(5, -0.7, False, False, (1.0, 1.0, 1.0, 1.0), (
        "Assistenz der Geschäftsführung", "Office Manager", "Executive Assistant", "Sekretariat", "Teamassistenz",
        "Sachbearbeiter", "Sachbearbeiterin", "Kaufmännische Angestellte", "Mitarbeiter Verwaltung",
    )),
    "hr": _Persona(3, -0.6, False, False, (0.7, 1.0, 1.2, 1.2), (
        "HR Manager", "Personalleiter", "Personalleiterin", "Recruiter", "Head of People", "HR Business Partner",
        "Talent Acquisition Specialist",
    )),
    "student": _Persona(5, -2.5, False, True, (1.0, 1.0, 1.0, 1.0), (
        "Student", "Werkstudent Marketing", "Werkstudentin", "Praktikant", "Praktikantin", "Intern",
        "Marketing Intern", "Masterstudent", "Working Student IT", "Trainee", "Azubi", "Auszubildender",
        "Student Wirtschaftsinformatik", "Bachelorand", "Doktorand",
    )),
    "other": _Persona(4, -0.9, False, False, (1.5, 1.0, 0.8, 0.8), (
        "Mitarbeiter", "Other", "Sonstiges", "Employee", "Privat", "Lehrer", "Professor", "Journalist", "Arzt",
        "Rentner",
    )),
    "junk": _Persona(2, -1.2, False, False, (1.5, 1.0, 0.8, 0.8), (
        "-", ".", "n/a", "x", "xxx", "test", "asdf", "keine Angabe", "?", "123",
    )),
}  # fmt: skip
_PERSONA_NAMES = tuple(PERSONAS)
_STUDENT = _PERSONA_NAMES.index("student")
_JUNIOR_FIT = -0.5  # personas at or below this fit are rejected as "wrong_title"
_SIZE_BANDS = np.array([50, 1000, 10_000])

BUDGETS = ("<10k", "10k-50k", "50k-250k", ">250k")
_BUDGET_THRESHOLDS = np.array([-0.9, 0.3, 1.4])
_BUDGET_EFFECT = np.array([-0.8, 0.1, 0.4, 0.3])

# E-mail kinds, in order of precedence when sampled.
_COMPANY, _ROLE, _FREEMAIL, _COMPETITOR, _GARBAGE, _MISSING = range(6)
_EMAIL_EFFECT = np.array([0.0, -0.3, -0.6, -8.0, -2.5, -2.0])
_COMPETITOR_SHARE = 0.006
FREEMAIL_DOMAINS_DACH = (
    ("gmail.com", 26), ("gmx.de", 18), ("web.de", 16), ("t-online.de", 9), ("outlook.com", 6), ("yahoo.com", 3),
    ("hotmail.com", 3), ("icloud.com", 4), ("posteo.de", 2), ("googlemail.com", 4), ("gmx.at", 3), ("gmx.ch", 2),
    ("bluewin.ch", 2), ("aon.at", 1), ("freenet.de", 1),
)  # fmt: skip
FREEMAIL_DOMAINS_INTERNATIONAL = (
    ("gmail.com", 40), ("outlook.com", 12), ("yahoo.com", 10), ("hotmail.com", 10), ("icloud.com", 6),
    ("orange.fr", 3), ("wp.pl", 2), ("libero.it", 2), ("ziggo.nl", 2), ("btinternet.com", 2), ("proton.me", 2),
)  # fmt: skip
GARBAGE_EMAILS = (
    "test@test.de", "test@test.com", "asdf@asdf.de", "a@b.c", "x@x.de", "keine@angabe.de", "noreply@example.com",
    "test", "n/a", "max.mustermann@mustermann.de", "info@", "@gmail.com", "123@123.de", "aaa@aaa", "xxx@xxx.xx",
    "muster@firma.de", "none", "test123@gmail.com", "mail@mail.de", "kein.interesse@web.de",
)  # fmt: skip
ROLE_MAILBOXES = ("info", "kontakt", "office", "sales", "einkauf", "it", "marketing", "hello", "contact", "service")
FIRST_NAMES_DACH = (
    "anna", "thomas", "michael", "andreas", "stefan", "christian", "markus", "julia", "katharina", "sabine", "peter",
    "frank", "sandra", "nicole", "daniel", "tobias", "jan", "lukas", "laura", "lena", "sarah", "alexander",
    "florian", "matthias", "martin", "claudia", "petra", "birgit", "jens", "sven", "maximilian", "felix", "jonas",
    "leonie", "marie", "sophie", "johanna", "kerstin", "ralf", "uwe", "dirk", "holger", "simone", "melanie",
    "philipp", "sebastian", "kai", "tim", "nina", "christina", "juergen", "oezlem", "mehmet", "ursula",
)  # fmt: skip
LAST_NAMES_DACH = (
    "mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz", "hoffmann",
    "schaefer", "koch", "bauer", "richter", "klein", "wolf", "schroeder", "neumann", "schwarz", "zimmermann",
    "braun", "krueger", "hofmann", "hartmann", "lange", "schmitt", "werner", "schmitz", "krause", "meier",
    "lehmann", "schmid", "schulze", "maier", "koehler", "herrmann", "koenig", "walter", "mayer", "huber", "kaiser",
    "fuchs", "peters", "lang", "scholz", "moeller", "weiss", "jung", "hahn", "vogel", "gruber", "steiner", "moser",
    "keller", "frei", "brunner", "yilmaz", "nowak", "von-der-heide",
)  # fmt: skip
FIRST_NAMES_INTERNATIONAL = (
    "james", "john", "emma", "olivia", "pierre", "marie", "sophie", "lucas", "marco", "giulia", "pablo", "lucia",
    "jan", "piotr", "anna", "eva", "lars", "emil", "noah", "liam", "isabella", "chloe", "david", "daniel", "sara",
    "tom", "ana", "mateo", "elena", "ravi", "priya", "ahmet", "wei", "michael", "jennifer",
)  # fmt: skip
LAST_NAMES_INTERNATIONAL = (
    "smith", "jones", "brown", "dubois", "martin", "bernard", "rossi", "russo", "garcia", "martinez", "lopez",
    "devries", "jansen", "bakker", "nowak", "kowalski", "wisniewski", "johansson", "andersson", "nielsen",
    "jensen", "novak", "svoboda", "patel", "sharma", "silva", "santos", "yilmaz", "kaya", "miller", "wilson",
    "taylor", "oconnor", "van-dijk", "li",
)  # fmt: skip
_DOMAIN_PREFIXES = (
    "nord", "sued", "rhein", "alpen", "berg", "elb", "main", "isar", "spree", "weser", "donau", "hansa", "bavaria",
    "saxo", "helvet", "austro", "euro", "inter", "conti", "meyer", "schmidt", "krause", "becker", "wagner", "hoff",
    "stein", "wald", "feld", "sonnen", "blau", "gruen", "klar", "fix", "smart", "neo", "pro", "optima", "vita",
    "terra", "aqua", "lumen", "nova", "prime", "delta", "omega", "kern", "falk", "adler", "loewen", "linden",
)  # fmt: skip
_DOMAIN_STEMS = (
    "tech", "werk", "werke", "systems", "soft", "data", "logistik", "bau", "med", "consult", "solutions",
    "industries", "group", "metall", "plast", "trans", "net", "tronic", "mobil", "haus", "pharma", "foods",
    "textil", "energie", "invest", "partners", "labs", "digital", "automation", "services", "versand", "print",
)  # fmt: skip
_DOMAIN_QUALIFIERS = (
    "", "", "", "", "", "", "", "", "-tec", "-pro", "-plus", "-nord", "-sued", "-west", "-ost", "-international",
    "-service", "-systeme", "-direkt", "-technik",
)  # fmt: skip
_DOMAIN_SUFFIXES = ("", "", "", "", "-gmbh", "-ag", "-group", "-online", "24", "-berlin", "-hamburg", "-muenchen")
_GENERIC_TLDS = ("com", "eu", "io", "net")

# The funnel's codes are leadq's own stages and reasons (models.contract): the demo mapping translates them as is.
REASONS = REJECTION_REASONS
_REASON = {name: code for code, name in enumerate(REASONS)}
_WRONG_SIZE_BELOW = 20
_NOTHING, _WON, _REJECTED, _RECYCLED, _LOST, _STALLED = range(6)

_BASE_LOGIT = -4.45
_BASE_TREND = -0.15  # change of the base logit over the whole window: the market gets tougher
_DEMO_EFFECT = (0.9, 0.45)  # before and after the website relaunch put "book a demo" on every page
_RELAUNCH_AT = 0.45  # fraction of the window
_SECONDS_PER_DAY = 86_400
_MINUTE = 1 / 1440


_LEAD_COLUMNS = (
    "lead_id", "created_at", "email", "job_title", "company_size", "industry", "country", "lead_source", "campaign",
    "consent_marketing", "consent_tracking", "budget_stated", "form_fields_answered", "website_visits",
    "pages_per_visit", "time_on_site_s", "pricing_page_visits", "content_downloads", "webinar_attended",
    "demo_requested", "email_opens", "email_clicks", "newsletter_unsubscribed",
)  # fmt: skip
# Independent random streams, so that changing one step does not reshuffle the others.
_STREAMS = ("calendar", "companies", "leads", "titles", "emails", "intent", "engagement", "outcome", "funnel", "crm")
# The drifted quarter is simulated from streams of its own, so the leads before it keep every draw they had.
_DRIFT_STREAMS = ("profile", "intent", "engagement", "outcome", "funnel", "crm")
# How much worse a drifting source's leads get, on the scale of the latent fit and intent.
_WORSE_SOURCE_FIT_DROP = 1.5
_WORSE_SOURCE_INTENT_DROP = 0.5


@dataclass(frozen=True)
class QuarterDrift:
    """Changes injected into the leads created on or after ``start``: "the next quarter" of an audit.

    Attributes:
        start: the first day of the drift; leads created before it are generated exactly as without drift.
        worse_source: a lead source (from ``SOURCE_NAMES``) that buys volume with worse leads: it takes
            ``worse_source_extra_share`` of the other sources' leads, and all its leads fit worse and want less,
            so sales rejects more of them.
        worse_source_extra_share: share of the leads after ``start`` that move to ``worse_source``.
        new_industry: an industry value the CRM has never held, given to ``new_industry_share`` of the leads.
        new_industry_share: share of the leads after ``start`` recorded with ``new_industry``.
        email_open_inflation: factor on recorded e-mail opens (Apple Mail Privacy Protection prefetches
            mails); conversion does not change.
    """

    start: date
    worse_source: str | None = None
    worse_source_extra_share: float = 0.0
    new_industry: str | None = None
    new_industry_share: float = 0.0
    email_open_inflation: float = 1.0

    def __post_init__(self) -> None:
        if self.worse_source is not None and self.worse_source not in SOURCE_NAMES:
            raise ValueError(f"worse_source must be one of {SOURCE_NAMES}, got {self.worse_source!r}")
        if self.new_industry is not None and self.new_industry in INDUSTRY_NAMES:
            raise ValueError(f"new_industry must be an industry not generated before, got {self.new_industry!r}")
        for name in ("worse_source_extra_share", "new_industry_share"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.email_open_inflation < 1.0:
            raise ValueError(f"email_open_inflation must be >= 1, got {self.email_open_inflation}")

    @classmethod
    def demo(cls, start: date) -> QuarterDrift:
        """A quarter in which a LinkedIn agency floods the funnel, "Defence" appears and Apple inflates opens."""
        return cls(
            start=start,
            worse_source="linkedin",
            worse_source_extra_share=0.2,
            new_industry="Defence",
            new_industry_share=0.08,
            email_open_inflation=3.0,
        )


# ---------------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------------


def generate_crm(
    n_leads: int,
    *,
    seed: int = 42,
    end: date = date(2026, 9, 30),
    months: int = 30,
    horizon_days: int = 180,
    competitor_domains: Sequence[str] = DEFAULT_COMPETITOR_DOMAINS,
    drift: QuarterDrift | None = None,
    activities: bool = False,
) -> SyntheticCRM:
    """Generate a synthetic CRM export of ``n_leads`` leads created over the ``months`` months before ``end``.

    Args:
        n_leads: number of leads (at least 1).
        seed: the same seed gives identical frames.
        end: the export date. The export runs at 00:00 on it: every timestamp in the tables is before that.
        months: length of the lead-creation window, ending with the month of ``end``.
        horizon_days: the oracle is the probability of a won deal within this many days of lead creation.
        competitor_domains: e-mail domains of competitors' employees (empty: no competitor leads).
        drift: changes injected into the leads created on or after ``drift.start`` (None: no extra drift).
            Leads created before it, their true probabilities and their dispositions are the same as without it
            (deal amounts are drawn anew).
        activities: also write the leads' engagement as dated events (``_activities_frame``): the lead row's counts
            before the hand-over to sales, then the activity that sales work brings. The other tables are the same
            either way.

    Returns:
        The leads, dispositions and deals tables as a real export has them, plus the true probabilities.
    """
    if min(n_leads, months, horizon_days) < 1:
        raise ValueError(f"expected n_leads, months and horizon_days >= 1, got {n_leads}, {months}, {horizon_days}")
    root = np.random.SeedSequence(seed)
    rng = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, root.spawn(len(_STREAMS)), strict=True)}
    window = _make_window(end, months, horizon_days)
    created = _sample_created_days(rng["calendar"], n_leads, window)
    calendar = _calendar(created, window)
    profile, campaign_names = _sample_profile(rng, calendar, window, has_competitors=len(competitor_domains) > 0)
    simulated = _simulate_leads(rng, profile, _fit_score(profile), 0.0, created, window)
    if drift is not None:
        drift_rng = {
            name: np.random.default_rng(s)
            for name, s in zip(_DRIFT_STREAMS, root.spawn(1)[0].spawn(len(_DRIFT_STREAMS)), strict=True)
        }
        first_drifted = int(np.searchsorted(created, (pd.Timestamp(drift.start) - window.start).days))
        profile, simulated = _simulate_drift(drift_rng, drift, profile, simulated, first_drifted, created, window)

    engagement, probability, funnel = simulated
    lead_ids = _lead_ids(n_leads)
    identity = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "created_at": _timestamps(created, window),
            "email": _render_emails(rng["emails"], profile, competitor_domains),
            "job_title": _render_titles(rng["titles"], profile.persona, profile.source),
            "lead_source": _pick(SOURCE_NAMES, profile.source),
            "campaign": _pick(campaign_names, profile.campaign),
        }
    )
    firmographics = _observe_firmographics(rng["crm"], profile, created, window)
    if drift is not None and drift.new_industry is not None:
        firmographics["industry"] = _record_new_industry(
            drift_rng["crm"], firmographics["industry"], first_drifted, drift.new_industry, drift.new_industry_share
        )
    reasons = _rejection_reasons(rng["crm"], profile)
    events = None
    if activities:  # its own stream, spawned after all others: asking for activities changes nothing else
        events = _activities_frame(
            np.random.default_rng(root.spawn(1)[0]), engagement, funnel, created, lead_ids, window
        )
    return SyntheticCRM(
        leads=pd.concat([identity, firmographics, engagement], axis=1)[list(_LEAD_COLUMNS)],
        dispositions=_dispositions_frame(rng["crm"], funnel, reasons, lead_ids, profile.sales_team, window),
        deals=_deals_frame(rng["crm"], funnel, profile.size, lead_ids, window),
        true_conversion=pd.DataFrame({"lead_id": lead_ids, "true_conversion_probability": probability}),
        activities=events,
    )


def cut_export(crm: SyntheticCRM, as_of: pd.Timestamp) -> SyntheticCRM:
    """What an export taken at ``as_of`` would have held: only what existed before that moment.

    Deals closed at or after ``as_of`` are still open then (no close date); their amount is already quoted.
    """
    leads = crm.leads[crm.leads["created_at"] < as_of]
    dispositions = crm.dispositions[crm.dispositions["timestamp"] < as_of]
    deals = crm.deals[crm.deals["created_at"] < as_of]
    still_open = deals["closed_at"] >= as_of
    deals = deals.assign(
        closed_at=deals["closed_at"].mask(still_open), outcome=deals["outcome"].mask(still_open, "open")
    )
    true_conversion = crm.true_conversion[crm.true_conversion["lead_id"].isin(leads["lead_id"])]
    activities = None if crm.activities is None else crm.activities[crm.activities["timestamp"] < as_of]
    return SyntheticCRM(
        leads=leads.reset_index(drop=True),
        dispositions=dispositions.reset_index(drop=True),
        deals=deals.reset_index(drop=True),
        true_conversion=true_conversion.reset_index(drop=True),
        activities=None if activities is None else activities.reset_index(drop=True),
    )


def generate_for(settings: Settings, n_leads: int | None = None, seed: int | None = None) -> SyntheticCRM:
    """The synthetic CRM as ``settings`` describe it (``synthetic``, label horizon, competitor domains)."""
    synthetic = settings.synthetic
    return generate_crm(
        n_leads or synthetic.leads,
        seed=synthetic.seed if seed is None else seed,
        end=synthetic.end,
        months=synthetic.months,
        horizon_days=settings.labels.horizon_days,
        competitor_domains=settings.features.competitor_domains or DEFAULT_COMPETITOR_DOMAINS,
    )


def write_crm(crm: SyntheticCRM, directory: Path, fmt: Literal["parquet", "csv"] = "parquet") -> dict[str, Path]:
    """Write the four tables as ``<table>.<fmt>`` into ``directory`` (created if needed).

    Each file is written under a temporary name in the same directory and then renamed over the target, so an
    interrupted run never leaves a half-written table. Returns the path of each table.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"expected fmt 'parquet' or 'csv', got {fmt!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {table: directory / f"{table}.{fmt}" for table in TABLES}
    if crm.activities is not None:
        paths["activities"] = directory / f"activities.{fmt}"
    for table, path in paths.items():
        _write_atomically(getattr(crm, table), path, fmt)
    paths["mapping"] = directory / "mapping.yml"
    paths["mapping"].write_text(demo_mapping_text(fmt), encoding="utf-8")
    return paths


def demo_mapping_text(fmt: Literal["parquet", "csv"] = "parquet") -> str:
    """The shipped mapping of the synthetic CRM (``pipelines/demo/synthetic_crm.yml``) for tables in ``fmt``."""
    text = DEMO_MAPPING.read_text(encoding="utf-8")
    return text.replace(".parquet", f".{fmt}")


# The lead row's engagement columns that the activities table counts, and the kind each counts.
COUNTED_BY_ACTIVITIES = {
    "website_visits": "visit",
    "content_downloads": "download",
    "webinar_attended": "webinar",
    "demo_requested": "demo_request",
    "email_opens": "email_open",
    "email_clicks": "email_click",
    "newsletter_unsubscribed": "unsubscribe",
}


def activities_mapping(mapping: ExportMapping, fmt: Literal["parquet", "csv"] = "parquet") -> ExportMapping:
    """The synthetic CRM's mapping read with its activities table: the lead row's columns the activities count are
    ignored (with the monotone constraints and the points rule that name them), their kinds' point-in-time features
    used instead, gated by the consents that gated the columns."""
    from pipelines.crm_export.mapping import ActivitiesSpec, ExportMapping

    counted = COUNTED_BY_ACTIVITIES
    data = mapping.model_dump(mode="json", exclude_none=True)
    for column in counted:
        data["columns"][column] = {"role": "ignore"}
    kinds = {kind: kind for kind in counted.values()}
    activities = {
        "file": f"activities.{fmt}",
        "moment": "first_disposition",
        "kind": {"column": "kind", "values": kinds},
    }
    data["tables"]["activities"] = activities
    windows = ActivitiesSpec.model_validate(activities).windows()
    for spec in data["columns"].values():
        gates = spec.get("gates") if isinstance(spec, dict) else None
        if gates:
            gated = {counted[column] for column in gates if column in counted}
            spec["gates"] = [column for column in gates if column not in counted] + [
                name for kind in windows.kinds if kind in gated for name in windows.features_of(kind)
            ]
    data["monotone_constraints"] = {k: v for k, v in data["monotone_constraints"].items() if k not in counted}
    data["points_rule"] = None  # its lines read the counted columns
    return ExportMapping.model_validate(data)


def _write_atomically(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")  # same folder: rename is atomic
    try:
        if fmt == "parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------------------------
# Small numeric helpers
# ---------------------------------------------------------------------------------------------------------------


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1.0 - p))


def _interpolate(pair: tuple[float, float], t: np.ndarray) -> np.ndarray:
    return pair[0] + (pair[1] - pair[0]) * t


def _drifting(pairs: Sequence[tuple[float, float]], t: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Per row: parameter ``pairs[code]`` interpolated at the row's elapsed fraction ``t``."""
    start, stop = np.array(pairs, dtype=float).T
    return start[code] + (stop[code] - start[code]) * t


def _sample_grouped(rng: np.random.Generator, probabilities: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One category per row, drawn from the distribution in row ``groups[i]`` of ``probabilities``.

    Rows are normalised; a row of zeros must not be used. All rows are searched at once by shifting row ``g``
    of the cumulative table to ``(g, g + 1]``.
    """
    totals = probabilities.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(probabilities / np.where(totals > 0, totals, 1.0), axis=1)
    cumulative[:, -1] = 1.0
    shifted = (cumulative + np.arange(len(probabilities))[:, None]).ravel()
    positions = np.searchsorted(shifted, groups + rng.random(len(groups)), side="right")
    return positions - groups * probabilities.shape[1]


def _gumbel_argmax(rng: np.random.Generator, scores: np.ndarray) -> np.ndarray:
    """A category per row, with probabilities softmax(scores)."""
    return np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)


def _pick(words: Sequence[str], codes: np.ndarray) -> pd.Series:
    """Strings by code (-1 gives a missing value), as a string Series."""
    return pd.Series(pd.array(list(words), dtype="str").take(codes, allow_fill=True))


def _counts(values: np.ndarray, missing: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    mask = np.zeros(len(values), dtype=bool) if missing is None else missing
    return pd.arrays.IntegerArray(values.astype(np.int64), mask)


# ---------------------------------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """The export window; times inside the generator are float days since ``start``."""

    start: pd.Timestamp
    cutoff: pd.Timestamp  # the moment of the export: nothing exists at or after it
    horizon_days: int

    @property
    def days(self) -> int:
        return (self.cutoff - self.start).days


def _make_window(end: date, months: int, horizon_days: int) -> _Window:
    cutoff = pd.Timestamp(end)
    start = (cutoff + pd.Timedelta(days=1) - pd.DateOffset(months=months)).normalize()
    return _Window(start=start, cutoff=cutoff, horizon_days=horizon_days)


def _sample_created_days(rng: np.random.Generator, n: int, window: _Window) -> np.ndarray:
    """Sorted creation times: volume grows, dips in August and over Christmas, on weekends and at night."""
    days = pd.date_range(window.start, periods=window.days, freq="D")
    month, weekday = days.month.to_numpy() - 1, days.day_of_week.to_numpy()
    holidays = ((month == 11) & (days.day >= 22)) | ((month == 0) & (days.day <= 2))
    weights = (
        np.exp(_VOLUME_GROWTH_PER_YEAR * np.arange(window.days) / 365.25)
        * _MONTH_VOLUME[month]
        * np.where(holidays, 0.3, 1.0)
        * _WEEKDAY_VOLUME[weekday]
        * rng.lognormal(0.0, 0.15, window.days)
    )
    day = rng.choice(window.days, size=n, p=weights / weights.sum())
    hour = rng.choice(24, size=n, p=_HOUR_VOLUME / _HOUR_VOLUME.sum())
    return np.sort(day + (hour + rng.random(n)) / 24)


class _Calendar(NamedTuple):
    t: np.ndarray  # fraction of the window elapsed at creation, in [0, 1)
    month_index: np.ndarray  # months since the window's first month
    month_of_year: np.ndarray  # 0 = January
    quarter_index: np.ndarray  # calendar quarters since the window's first quarter
    months: int  # calendar months the window touches
    quarters: int  # calendar quarters the window touches
    first_quarter: tuple[int, int]  # (year, quarter 1-4)


def _calendar(created_days: np.ndarray, window: _Window) -> _Calendar:
    start_month = int(np.datetime64(window.start, "M").astype(np.int64))
    last_month = int(np.datetime64(window.cutoff - pd.Timedelta(seconds=1), "M").astype(np.int64))
    dates = np.datetime64(window.start.date(), "D") + np.floor(created_days).astype("timedelta64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return _Calendar(
        t=created_days / window.days,
        month_index=month - start_month,
        month_of_year=month % 12,
        quarter_index=month // 3 - start_month // 3,
        months=last_month - start_month + 1,
        quarters=last_month // 3 - start_month // 3 + 1,
        first_quarter=(1970 + start_month // 12, start_month % 12 // 3 + 1),
    )


def _month_midpoints(calendar: _Calendar, window: _Window) -> tuple[np.ndarray, np.ndarray]:
    """For each month of the window: the elapsed fraction at its middle, and its calendar month (0 = January)."""
    periods = pd.period_range(window.start.to_period("M"), periods=calendar.months, freq="M")
    middle = (periods.to_timestamp() + pd.Timedelta(days=15) - window.start).days.to_numpy()
    return np.clip(middle / window.days, 0.0, 1.0), periods.month.to_numpy() - 1


def _to_office_hours(days: np.ndarray, start_weekday: int) -> np.ndarray:
    """Sales works Monday to Friday, 06:00-17:00 UTC: weekend events move to Monday, times into office hours."""
    day = np.floor(days)
    weekday = (start_weekday + day.astype(np.int64)) % 7
    shift = np.select([weekday == 5, weekday == 6], [2, 1], default=0)
    return day + shift + (6 + 11 * (days - day)) / 24


def _timestamps(days: np.ndarray, window: _Window) -> np.ndarray:
    """Float days since the window start to datetime64[ns] in whole seconds; NaN becomes NaT."""
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    known = ~np.isnan(days)
    seconds = np.floor(days[known] * _SECONDS_PER_DAY).astype(np.int64)
    out[known] = window.start.to_datetime64() + (seconds * 1_000_000_000).astype("timedelta64[ns]")
    return out


# ---------------------------------------------------------------------------------------------------------------
# Companies, sources, campaigns: who the leads are
# ---------------------------------------------------------------------------------------------------------------


class _Companies(NamedTuple):
    size: np.ndarray
    industry: np.ndarray
    region: np.ndarray
    country: np.ndarray
    renewable: np.ndarray
    domain: pd.Series
    sales_team: np.ndarray
    account_intent: np.ndarray
    buying_window: np.ndarray  # centre of the account's buying window (elapsed fraction); NaN if none
    popularity: np.ndarray  # relative number of leads the company produces


def _make_companies(rng: np.random.Generator, n: int) -> _Companies:
    component = rng.choice(3, size=n, p=[0.55, 0.35, 0.10])  # small businesses, Mittelstand, enterprises
    log_size = rng.normal(np.array([1.05, 2.55, 3.75])[component], np.array([0.5, 0.55, 0.55])[component])
    size = np.clip(np.round(10 ** np.clip(log_size, 0.0, 5.05)), 1, 110_000).astype(np.int64)
    industry_share = np.array([np.mean(v[:2]) for v in INDUSTRIES.values()])
    industry = rng.choice(len(INDUSTRIES), size=n, p=industry_share / industry_share.sum())
    region_share = np.array([np.mean(v) for v in _REGION_SHARE])
    region = rng.choice(len(REGIONS), size=n, p=region_share / region_share.sum())
    within_region = np.array([[c[2] if c[1] == r else 0.0 for c in COUNTRIES] for r in range(len(REGIONS))])
    country = _sample_grouped(rng, within_region, region)
    team = np.select(
        [(region == _DACH) & (size >= _KEY_ACCOUNT_SIZE), country == 0, region == _DACH],
        [3, rng.integers(0, 2, n), 1],  # Germany is split between North and South
        default=2,
    )
    return _Companies(
        size=size,
        industry=industry,
        region=region,
        country=country,
        renewable=(industry == _ENERGY) & (rng.random(n) < _RENEWABLE_SHARE_OF_ENERGY),
        domain=_company_domains(rng, country),
        sales_team=team,
        account_intent=rng.normal(0.0, 0.45, n),
        buying_window=np.where(rng.random(n) < 0.35, rng.uniform(-0.2, 1.2, n), np.nan),
        popularity=size**0.25 * rng.lognormal(0.0, 0.8, n),
    )


def _company_domains(rng: np.random.Generator, country: np.ndarray) -> pd.Series:
    """Unique fictional domains such as "rheinlogistik-gmbh.de" (a number is appended once names run out)."""
    n = len(country)
    parts = (len(_DOMAIN_PREFIXES), len(_DOMAIN_STEMS), 2, len(_DOMAIN_QUALIFIERS), len(_DOMAIN_SUFFIXES))
    names = int(np.prod(parts))
    key = rng.permutation(max(n, names))[:n]
    prefix, stem, joiner, qualifier, suffix = np.unravel_index(key % names, parts)
    repeat = key // names
    tlds = [c[4] for c in COUNTRIES] + list(_GENERIC_TLDS)
    tld = np.where(rng.random(n) < 0.2, len(COUNTRIES) + rng.integers(0, len(_GENERIC_TLDS), n), country)
    numbered = pd.Series(np.where(repeat > 0, (repeat + 1).astype(str), ""), dtype="str")
    return (
        _pick(_DOMAIN_PREFIXES, prefix)
        + _pick(("", "-"), joiner)
        + _pick(_DOMAIN_STEMS, stem)
        + _pick(_DOMAIN_QUALIFIERS, qualifier)
        + _pick(_DOMAIN_SUFFIXES, suffix)
        + numbered
        + "."
        + _pick(tlds, tld)
    )


def _assign_companies(
    rng: np.random.Generator, companies: _Companies, calendar: _Calendar, window: _Window
) -> np.ndarray:
    """A company per lead: the (industry, region) segment by its drifting share, then a company by popularity."""
    segment = companies.industry * len(REGIONS) + companies.region
    n_segments = len(INDUSTRIES) * len(REGIONS)
    occupied = np.bincount(segment, minlength=n_segments) > 0
    month_t, _ = _month_midpoints(calendar, window)
    industry_share = np.column_stack([_interpolate(v[:2], month_t) for v in INDUSTRIES.values()])
    region_share = np.column_stack([_interpolate(v, month_t) for v in _REGION_SHARE])
    segment_share = (industry_share[:, :, None] * region_share[:, None, :]).reshape(len(month_t), -1) * occupied
    lead_segment = _sample_grouped(rng, segment_share, calendar.month_index)

    # Within a segment: companies sorted by segment, cumulative popularity scaled to (segment, segment + 1].
    order = np.argsort(segment, kind="stable")
    sorted_segment = segment[order]
    cumulative = np.cumsum(companies.popularity[order])
    first = np.searchsorted(sorted_segment, np.arange(n_segments), side="left")
    last = np.searchsorted(sorted_segment, np.arange(n_segments), side="right") - 1
    before = np.where(first > 0, cumulative[np.maximum(first - 1, 0)], 0.0)
    total = np.where(last >= first, cumulative[np.maximum(last, 0)] - before, 1.0)
    within = (cumulative - before[sorted_segment]) / total[sorted_segment]
    within[last[occupied]] = 1.0
    position = np.searchsorted(sorted_segment + within, lead_segment + rng.random(len(lead_segment)), side="right")
    return order[np.minimum(position, len(order) - 1)]


def _sample_sources(rng: np.random.Generator, calendar: _Calendar, window: _Window) -> np.ndarray:
    month_t, month_of_year = _month_midpoints(calendar, window)
    shares = np.column_stack(
        [
            _interpolate(source.share, month_t) * (_SEASON[name][month_of_year] if name in _SEASON else 1.0)
            for name, source in SOURCES.items()
        ]
    )
    return _sample_grouped(rng, shares, calendar.month_index)


class _Campaigns(NamedTuple):
    name: list[str]
    source: np.ndarray
    launched: np.ndarray  # quarter index
    ended: np.ndarray  # first quarter index in which it no longer runs
    quality: np.ndarray
    budget: np.ndarray  # relative lead volume while it runs


def _make_campaigns(rng: np.random.Generator, calendar: _Calendar) -> _Campaigns:
    """One or two campaigns launched per source and quarter, each running one to three quarters."""
    rows: list[tuple[str, int, int, int, float]] = []
    first_year, first_quarter = calendar.first_quarter
    for source_code, (source_name, source) in enumerate(SOURCES.items()):
        for quarter in range(calendar.quarters if source.themes else 0):
            year, q = first_year + (first_quarter - 1 + quarter) // 4, (first_quarter - 1 + quarter) % 4 + 1
            launches = min(1 + int(rng.random() < 0.5), len(source.themes))
            for theme in rng.choice(len(source.themes), size=launches, replace=False):
                name, quality = source.themes[theme]
                duration = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
                label = f"{year}Q{q}-{source_name.replace('_', '-')}-{name}"
                rows.append((label, source_code, quarter, quarter + duration, quality + rng.normal(0.0, 0.25)))
    return _Campaigns(
        name=[r[0] for r in rows],
        source=np.array([r[1] for r in rows], dtype=np.int64),
        launched=np.array([r[2] for r in rows], dtype=np.int64),
        ended=np.array([r[3] for r in rows], dtype=np.int64),
        quality=np.array([r[4] for r in rows]),
        budget=rng.lognormal(0.0, 0.5, len(rows)),
    )


def _assign_campaigns(
    rng: np.random.Generator, campaigns: _Campaigns, source: np.ndarray, calendar: _Calendar
) -> tuple[np.ndarray, np.ndarray]:
    """The campaign of each lead (-1: untagged) and its quality, which fades as the campaign ages."""
    n_sources, quarters = len(SOURCES), np.arange(calendar.quarters)
    running = (campaigns.launched[None, :] <= quarters[:, None]) & (quarters[:, None] < campaigns.ended[None, :])
    own_source = campaigns.source[None, :] == np.arange(n_sources)[:, None]
    weights = (own_source[:, None, :] & running[None, :, :]) * campaigns.budget  # source x quarter x campaign
    weights = weights.reshape(n_sources * calendar.quarters, -1)
    group = source * calendar.quarters + calendar.quarter_index
    untagged = rng.random(len(source)) < np.array([s.untagged for s in SOURCES.values()])[source]
    tagged = (weights.sum(axis=1)[group] > 0) & ~untagged
    campaign = np.full(len(source), -1)
    campaign[tagged] = _sample_grouped(rng, weights, group[tagged])
    known = np.maximum(campaign, 0)
    fatigue = 0.2 * (calendar.quarter_index - campaigns.launched[known])
    return campaign, np.where(campaign >= 0, campaigns.quality[known] - fatigue, 0.0)


def _size_band(size: np.ndarray) -> np.ndarray:
    return np.searchsorted(_SIZE_BANDS, size, side="right")


def _sample_personas(rng: np.random.Generator, size: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Who filled in the form: depends on company size (owners run small firms) and the source's audience."""
    weights = np.array(
        [
            [
                p.weight * p.size_multiplier[band] * np.exp(s.senior_tilt * p.senior + s.student_tilt * p.student)
                for p in PERSONAS.values()
            ]
            for band in range(len(_SIZE_BANDS) + 1)
            for s in SOURCES.values()
        ]
    )
    return _sample_grouped(rng, weights, _size_band(size) * len(SOURCES) + source)


def _budget_band(rng: np.random.Generator, size: np.ndarray) -> np.ndarray:
    level = 0.9 * (np.log10(size) - 2.4) + rng.normal(0.0, 0.8, len(size))
    return np.searchsorted(_BUDGET_THRESHOLDS, level)


class _Profile(NamedTuple):
    """What is true about each lead, whether the CRM records it or not."""

    t: np.ndarray
    month_of_year: np.ndarray
    source: np.ndarray
    campaign: np.ndarray  # index into the campaign names, -1 when untagged
    campaign_quality: np.ndarray
    size: np.ndarray
    industry: np.ndarray
    renewable: np.ndarray
    region: np.ndarray
    country: np.ndarray
    domain: pd.Series  # the company's e-mail domain
    persona: np.ndarray
    budget: np.ndarray
    email_kind: np.ndarray
    account_intent: np.ndarray
    sales_team: np.ndarray


def _sample_profile(
    rng: dict[str, np.random.Generator], calendar: _Calendar, window: _Window, has_competitors: bool
) -> tuple[_Profile, list[str]]:
    """The true attributes of every lead, and the names of the campaigns they may carry."""
    n = len(calendar.t)
    companies = _make_companies(rng["companies"], max(20, n // 2))
    company = _assign_companies(rng["companies"], companies, calendar, window)
    leads = rng["leads"]
    source = _sample_sources(leads, calendar, window)
    campaigns = _make_campaigns(leads, calendar)
    campaign, campaign_quality = _assign_campaigns(leads, campaigns, source, calendar)
    # Competitors' employees fill in our forms too; they come from a handful of mid-sized software firms.
    competitor = leads.random(n) < (_COMPETITOR_SHARE if has_competitors else 0.0)
    competitor_size = np.clip(np.round(leads.lognormal(np.log(150.0), 0.7, n)), 5, 2000).astype(np.int64)
    competitor_country = _COMPETITOR_COUNTRIES[leads.integers(0, len(_COMPETITOR_COUNTRIES), n)]
    country = np.where(competitor, competitor_country, companies.country[company])
    size = np.where(competitor, competitor_size, companies.size[company])
    persona = _sample_personas(rng["titles"], size, source)
    in_market = np.nan_to_num(np.exp(-(((calendar.t - companies.buying_window[company]) / 0.12) ** 2)))
    return (
        _Profile(
            t=calendar.t,
            month_of_year=calendar.month_of_year,
            source=source,
            campaign=campaign,
            campaign_quality=campaign_quality,
            size=size,
            industry=np.where(competitor, _SOFTWARE, companies.industry[company]),
            renewable=companies.renewable[company] & ~competitor,
            region=np.array([c[1] for c in COUNTRIES])[country],
            country=country,
            domain=companies.domain.iloc[company].reset_index(drop=True),
            persona=persona,
            budget=_budget_band(leads, size),
            email_kind=_sample_email_kinds(rng["emails"], competitor, calendar.t, size, persona, source),
            account_intent=np.where(competitor, 0.0, companies.account_intent[company] + 0.9 * in_market),
            sales_team=np.where(competitor, 0, companies.sales_team[company]),
        ),
        campaigns.name,
    )


# ---------------------------------------------------------------------------------------------------------------
# Job titles and e-mail addresses
# ---------------------------------------------------------------------------------------------------------------


def _render_titles(rng: np.random.Generator, persona: np.ndarray, source: np.ndarray) -> pd.Series:
    """Free-text job titles with the noise of web forms: casing, stray spaces, blanks."""
    titles = [title for p in PERSONAS.values() for title in p.titles]
    counts = np.array([len(p.titles) for p in PERSONAS.values()])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # A few spellings of each role dominate, a long tail of variants follows (Zipf-like).
    ranks = np.arange(1, counts.max() + 1)
    popularity = np.where(ranks[None, :] <= counts[:, None], ranks[None, :] ** -0.9, 0.0)
    n = len(persona)
    variant = offsets[persona] + _sample_grouped(rng, popularity, persona)
    missing = rng.random(n) < np.array([s.title_missing for s in SOURCES.values()])[source]
    text = _pick(titles, np.where(missing, -1, variant))
    noise = rng.random(n)
    text = text.where(~(noise < 0.07), text.str.lower())
    text = text.where(~((noise >= 0.07) & (noise < 0.085)), text.str.upper())
    text = text.where(~((noise >= 0.085) & (noise < 0.125)), text + " ")
    return text.where(~((noise >= 0.125) & (noise < 0.135)), " " + text)


def _sample_email_kinds(
    rng: np.random.Generator,
    competitor: np.ndarray,
    t: np.ndarray,
    size: np.ndarray,
    persona: np.ndarray,
    source: np.ndarray,
) -> np.ndarray:
    n = len(t)
    form_spam = np.isin(source, [_SOURCE["paid_social"], _SOURCE["content_syndication"]])
    freemail_logit = (
        -2.6
        + 0.9 * t  # private addresses become more common on forms
        + 1.1 * (size < 50)
        + 2.0 * (persona == _STUDENT)
        + 0.6 * (persona == _PERSONA_NAMES.index("consultant"))
        + 0.5 * (source == _SOURCE["paid_social"])
    )
    return np.select(
        [
            competitor,
            rng.random(n) < 0.003 + 0.015 * (source == _SOURCE["purchased_list"]),
            rng.random(n) < 0.008 + 0.012 * form_spam,
            rng.random(n) < _expit(freemail_logit),
            rng.random(n) < 0.025,
        ],
        [_COMPETITOR, _MISSING, _GARBAGE, _FREEMAIL, _ROLE],
        default=_COMPANY,
    )


def _render_emails(rng: np.random.Generator, profile: _Profile, competitor_domains: Sequence[str]) -> pd.Series:
    """Addresses by kind: first.last@company, private freemail, role mailboxes, competitors, junk, blanks."""
    kind, n = profile.email_kind, len(profile.email_kind)
    first, last = _person_names(rng, profile.region == _DACH)

    def rows(wanted: int) -> np.ndarray:
        return np.flatnonzero(kind == wanted)

    def personal(wanted: int, private: bool) -> pd.Series:
        return _local_parts(rng, first.iloc[rows(wanted)], last.iloc[rows(wanted)], private) + "@"

    domains_of = _pick(competitor_domains, rng.integers(0, max(len(competitor_domains), 1), len(rows(_COMPETITOR))))
    mailbox = _pick(ROLE_MAILBOXES, rng.integers(0, len(ROLE_MAILBOXES), len(rows(_ROLE))))
    garbage = _pick(GARBAGE_EMAILS, rng.integers(0, len(GARBAGE_EMAILS), len(rows(_GARBAGE))))
    parts = [
        personal(_COMPANY, private=False) + profile.domain.iloc[rows(_COMPANY)].to_numpy(),
        personal(_FREEMAIL, private=True) + _freemail_domains(rng, profile.region[rows(_FREEMAIL)]).to_numpy(),
        personal(_COMPETITOR, private=False) + domains_of.to_numpy(),
        (mailbox + "@").set_axis(rows(_ROLE)) + profile.domain.iloc[rows(_ROLE)].to_numpy(),
        garbage.set_axis(rows(_GARBAGE)),
    ]
    emails = pd.concat(parts).reindex(pd.RangeIndex(n))  # missing addresses stay empty
    return emails.where(~(rng.random(n) < 0.01), emails + " ")


def _person_names(rng: np.random.Generator, dach: np.ndarray) -> tuple[pd.Series, pd.Series]:
    n = len(dach)

    def names(dach_names: Sequence[str], international_names: Sequence[str]) -> pd.Series:
        local = rng.integers(0, len(dach_names), n)
        foreign = len(dach_names) + rng.integers(0, len(international_names), n)
        return _pick([*dach_names, *international_names], np.where(dach, local, foreign))

    first = names(FIRST_NAMES_DACH, FIRST_NAMES_INTERNATIONAL)
    last = names(LAST_NAMES_DACH, LAST_NAMES_INTERNATIONAL)
    capitalised = rng.random(n) < 0.04
    return first.where(~capitalised, first.str.capitalize()), last.where(~capitalised, last.str.capitalize())


def _local_parts(rng: np.random.Generator, first: pd.Series, last: pd.Series, private: bool) -> pd.Series:
    """first.last, f.last, firstlast, last, first_last; private addresses often carry a number."""
    n = len(first)
    style = rng.choice(5, size=n, p=[0.55, 0.15, 0.12, 0.08, 0.10])
    head = first.where(style != 1, first.str.slice(0, 1))
    separator = _pick((".", "", "_"), np.select([style == 2, style == 4], [1, 2], default=0)).set_axis(first.index)
    local = (head + separator + last).where(style != 3, last)
    if not private:
        return local
    number = pd.Series(rng.integers(60, 106, n) % 100, index=first.index).astype("str").str.zfill(2)
    return local.where(~(rng.random(n) < 0.45), local + number)


def _freemail_domains(rng: np.random.Generator, region: np.ndarray) -> pd.Series:
    dach_weights = np.array([w for _, w in FREEMAIL_DOMAINS_DACH], dtype=float)
    intl_weights = np.array([w for _, w in FREEMAIL_DOMAINS_INTERNATIONAL], dtype=float)
    n = len(region)
    local = rng.choice(len(dach_weights), size=n, p=dach_weights / dach_weights.sum())
    foreign = len(dach_weights) + rng.choice(len(intl_weights), size=n, p=intl_weights / intl_weights.sum())
    names = [d for d, _ in FREEMAIL_DOMAINS_DACH] + [d for d, _ in FREEMAIL_DOMAINS_INTERNATIONAL]
    return _pick(names, np.where(region == _DACH, local, foreign))


# ---------------------------------------------------------------------------------------------------------------
# Latent fit and intent, what the CRM records, and the true probability
# ---------------------------------------------------------------------------------------------------------------


def _size_fit(size: np.ndarray) -> np.ndarray:
    """Best around 1,000 employees: micro businesses cannot afford the product, conglomerates buy slowly."""
    log_size = np.log10(size)
    width = np.where(log_size < 3.0, 0.75, 1.1)
    return np.maximum(1.0 - 0.7 * ((log_size - 3.0) / width) ** 2, -2.0)


def _fit_score(profile: _Profile) -> np.ndarray:
    industry_effect = _drifting([v[2:] for v in INDUSTRIES.values()], profile.t, profile.industry)
    return (
        _size_fit(profile.size)
        + industry_effect
        + _RENEWABLE_EFFECT * profile.renewable
        + np.array([c[3] for c in COUNTRIES])[profile.country]
        + np.array([p.fit for p in PERSONAS.values()])[profile.persona]
        + _BUDGET_EFFECT[profile.budget]
    )


def _intent_score(rng: np.random.Generator, profile: _Profile, fit: np.ndarray) -> np.ndarray:
    return (
        0.3 * fit
        + _drifting([s.intent for s in SOURCES.values()], profile.t, profile.source)
        + profile.campaign_quality
        + profile.account_intent
        + 1.0 * (profile.email_kind == _COMPETITOR)  # competitors study our product closely
        + 0.3 * (profile.persona == _STUDENT)  # thesis research
        + rng.normal(0.0, 0.85, len(fit))
    )


def _observe_engagement(
    rng: np.random.Generator, profile: _Profile, fit: np.ndarray, intent: np.ndarray, email_open_inflation: float = 1.0
) -> pd.DataFrame:
    """Consents, web tracking, e-mail engagement, forms and hand-raises, counted before the hand-over.

    ``email_open_inflation`` multiplies the recorded opens only: prefetched mails count as opened though nobody
    read them, so clicks and conversion follow the real opens.
    """
    n, source, params = len(intent), profile.source, list(SOURCES.values())
    marketing_logit = _logit(np.array([s.consent_marketing for s in params]))[source]
    tracking_logit = _logit(np.array([s.consent_tracking for s in params]))[source]
    consent_marketing = rng.random(n) < _expit(marketing_logit + 0.2 * intent)
    consent_tracking = rng.random(n) < _expit(tracking_logit - 0.6 * profile.t)  # cookie banners get stricter

    on_website = ~np.isin(source, [_SOURCE[s] for s in _OFFSITE_SOURCES])
    visit_rate = np.exp(0.7 + 0.55 * intent + np.array([s.visits for s in params])[source]) * rng.gamma(2.0, 0.5, n)
    visits = np.where(on_website, np.maximum(rng.poisson(visit_rate), 1), rng.poisson(visit_rate))
    pages = np.where(visits > 0, np.round(1.0 + rng.gamma(2.0, np.exp(0.35 + 0.2 * intent) / 2.0), 1), 0.0)
    time_on_site = np.round(visits * pages * rng.lognormal(np.log(35.0) + 0.15 * intent, 0.6))
    pricing = rng.binomial(visits, _expit(-2.3 + 0.8 * intent))

    demo = rng.random(n) < _expit(-4.2 + 1.1 * intent + 0.3 * fit + 0.9 * (profile.t >= _RELAUNCH_AT))
    is_webinar = source == _SOURCE["webinar"]
    webinar = rng.random(n) < np.where(is_webinar, _expit(0.5 + 0.5 * intent), _expit(-3.4 + 0.7 * intent))
    downloads = rng.poisson(np.exp(-1.1 + 0.45 * intent)) + (source == _SOURCE["content_syndication"])

    sent = 1 + rng.poisson(2.0 + 10.0 * rng.random(n))  # nurture e-mails received before the hand-over
    opens = rng.binomial(sent, _expit(-0.5 + 0.45 * intent))
    clicks = rng.binomial(opens, _expit(-1.7 + 0.5 * intent))
    unsubscribed = consent_marketing & (rng.random(n) < _expit(-2.8 - 0.5 * intent))

    mandatory, optional = (np.array([s.form_fields[i] for s in params])[source] for i in (0, 1))
    fields = mandatory + rng.binomial(optional, _expit(0.3 + 0.4 * intent)) + 2 * demo
    states_budget = rng.random(n) < _expit(-2.6 + 1.8 * demo + 0.3 * intent) * (source != _SOURCE["purchased_list"])
    untracked, unmailed = ~consent_tracking, ~consent_marketing
    return pd.DataFrame(
        {
            "consent_marketing": consent_marketing,
            "consent_tracking": consent_tracking,
            "budget_stated": _pick(BUDGETS, np.where(states_budget, profile.budget, -1)),
            "form_fields_answered": _counts(fields),
            "website_visits": np.where(untracked, np.nan, visits),
            "pages_per_visit": np.where(untracked, np.nan, pages),
            "time_on_site_s": np.where(untracked, np.nan, time_on_site),
            "pricing_page_visits": np.where(untracked, np.nan, pricing),
            "content_downloads": _counts(downloads),
            "webinar_attended": webinar,
            "demo_requested": demo,
            "email_opens": np.where(unmailed, np.nan, np.round(opens * email_open_inflation)),
            "email_clicks": np.where(unmailed, np.nan, clicks),
            "newsletter_unsubscribed": unsubscribed,
        }
    )


def _observe_firmographics(
    rng: np.random.Generator, profile: _Profile, created: np.ndarray, window: _Window
) -> pd.DataFrame:
    """Size, industry and country as the CRM has them: enrichment fails for private and junk addresses."""
    n, kind = len(created), profile.email_kind
    size_missing = rng.random(n) < np.array([0.07, 0.07, 0.45, 0.1, 0.6, 0.6])[kind]
    industry_missing = rng.random(n) < np.array([0.05, 0.05, 0.35, 0.05, 0.5, 0.5])[kind]
    country_missing = rng.random(n) < np.array([0.03, 0.03, 0.1, 0.02, 0.3, 0.3])[kind]
    picklist_has_renewables = created >= window.days - _RENEWABLES_PICKLIST_DAYS
    relabelled = profile.renewable & picklist_has_renewables & (rng.random(n) < 0.85)
    industry = np.where(relabelled, _RENEWABLES, profile.industry)
    return pd.DataFrame(
        {
            "company_size": _counts(_report_size(rng, profile.size), size_missing),
            "industry": _pick(INDUSTRY_NAMES, np.where(industry_missing, -1, industry)),
            "country": _pick([c[0] for c in COUNTRIES], np.where(country_missing, -1, profile.country)),
        }
    )


def _report_size(rng: np.random.Generator, size: np.ndarray) -> np.ndarray:
    """Enrichment providers often report head counts rounded to one significant digit."""
    magnitude = 10.0 ** np.floor(np.log10(size))
    rounded = np.maximum(np.round(size / magnitude) * magnitude, 1)
    return np.where((rng.random(len(size)) < 0.35) & (size >= _WRONG_SIZE_BELOW), rounded, size).astype(np.int64)


def _true_logit(
    profile: _Profile, fit: np.ndarray, intent: np.ndarray, demo_requested: np.ndarray, unsubscribed: np.ndarray
) -> np.ndarray:
    """A won deal within the horizon, on the logit scale: intent pays off mostly for leads that fit."""
    year_end_budget = np.isin(profile.month_of_year, [9, 10])  # leftover budgets are spent in October, November
    demo_effect = np.where(profile.t < _RELAUNCH_AT, _DEMO_EFFECT[0], _DEMO_EFFECT[1])
    return (
        _BASE_LOGIT
        + _BASE_TREND * profile.t
        + 0.15 * year_end_budget
        + 0.5 * fit
        + intent * (0.2 + 0.5 * _expit(2.0 * (fit - 0.5)))
        + demo_effect * demo_requested
        + _drifting([s.quality for s in SOURCES.values()], profile.t, profile.source)
        + 0.5 * profile.campaign_quality
        + _EMAIL_EFFECT[profile.email_kind]
        - 0.7 * unsubscribed
        - 1.0 * (profile.persona == _STUDENT)
    )


# ---------------------------------------------------------------------------------------------------------------
# The sales funnel
# ---------------------------------------------------------------------------------------------------------------


def _obviously_unqualified(profile: _Profile) -> np.ndarray:
    return (profile.persona == _STUDENT) | np.isin(profile.email_kind, [_COMPETITOR, _GARBAGE, _MISSING])


def _choose_paths(
    rng: np.random.Generator,
    won: np.ndarray,
    fit: np.ndarray,
    intent: np.ndarray,
    demo_requested: np.ndarray,
    unqualified: np.ndarray,
) -> np.ndarray:
    """How far each lead gets. Won leads go all the way; most others never become MQLs."""
    n = len(won)
    path = np.where(won, _WON, _NOTHING)
    reached = ~won & (rng.random(n) < _expit(-2.1 + 0.8 * intent + 0.3 * fit + 1.8 * demo_requested))
    scores = np.column_stack(
        [
            0.3 - 0.8 * fit + 2.5 * unqualified,  # rejected
            -0.2 + 0.2 * fit - 0.2 * intent,  # recycled to nurture
            -0.5 + 0.6 * fit + 0.5 * intent - 3.0 * unqualified,  # an opportunity, lost
            np.full(n, -1.2),  # stalled: nobody followed up
        ]
    )[reached]
    path[reached] = np.array([_REJECTED, _RECYCLED, _LOST, _STALLED])[_gumbel_argmax(rng, scores)]
    return path


class _Funnel(NamedTuple):
    """Event times in days since the window start (NaN: the event does not happen)."""

    path: np.ndarray
    mql: np.ndarray
    sal: np.ndarray
    sql: np.ndarray
    deal: np.ndarray
    closed: np.ndarray
    rejected: np.ndarray
    recycled: np.ndarray
    returned: np.ndarray  # a recycled lead that nurturing brings back as an MQL


def _simulate_funnel(
    rng: np.random.Generator,
    path: np.ndarray,
    created: np.ndarray,
    demo_requested: np.ndarray,
    profile: _Profile,
    window: _Window,
) -> _Funnel:
    """MQL within hours to weeks, acceptance within the team's SLA, rejections within days, deals over weeks to
    months (longer for bigger companies); wins close within the horizon."""
    n = len(path)
    won, has_deal = path == _WON, np.isin(path, [_WON, _LOST])
    accepted = has_deal | (path == _RECYCLED) & (rng.random(n) < 0.7) | (path == _REJECTED) & (rng.random(n) < 0.35)
    nurtured = np.where(rng.random(n) < 0.5, rng.exponential(1.5, n), rng.exponential(20.0, n))
    mql = np.where(demo_requested, rng.exponential(0.2, n), nurtured)
    sal = mql + rng.lognormal(np.log(_TEAM_SLA_DAYS[profile.sales_team]), 0.8)
    sql = sal + 1.0 + rng.exponential(7.0, n)
    deal = sql + rng.exponential(1.5, n)
    cycle = np.where(won, rng.lognormal(np.log(40.0), 0.5, n), rng.lognormal(np.log(55.0), 0.8, n))
    closed = deal + cycle * (profile.size / 500) ** 0.15
    # A win was sampled as "won within the horizon": squeeze a chain that would run past it.
    room = np.maximum(window.horizon_days * rng.uniform(0.45, 0.97, n) - 3.0, 0.05 * window.horizon_days)
    squeeze = np.where(won & (closed > room), room / closed, 1.0)
    mql, sal, sql, deal, closed = (created + offset * squeeze for offset in (mql, sal, sql, deal, closed))

    weekday = window.start.day_of_week
    sal = np.maximum(_to_office_hours(sal, weekday), mql + _MINUTE)
    sql = np.maximum(_to_office_hours(sql, weekday), sal + _MINUTE)
    deal = np.maximum(_to_office_hours(deal, weekday), sql + _MINUTE)
    closed = np.maximum(_to_office_hours(closed, weekday), deal + _MINUTE)
    closed = np.where(won, np.minimum(closed, created + window.horizon_days - 1 / _SECONDS_PER_DAY), closed)
    deal, sql, sal, mql = (np.where(won, np.minimum(event, closed), event) for event in (deal, sql, sal, mql))

    decided_after = np.where(accepted, sal, mql)
    rejected = decided_after + np.where(accepted, rng.exponential(8.0, n), rng.exponential(2.5, n)) + 0.05
    recycled = decided_after + rng.exponential(10.0, n) + 0.5
    rejected = np.maximum(_to_office_hours(rejected, weekday), decided_after + _MINUTE)
    recycled = np.maximum(_to_office_hours(recycled, weekday), decided_after + _MINUTE)
    comes_back = (path == _RECYCLED) & (rng.random(n) < 0.15)

    def when(happens: np.ndarray, days: np.ndarray) -> np.ndarray:
        return np.where(happens, days, np.nan)

    return _Funnel(
        path=path,
        mql=when(path != _NOTHING, mql),
        sal=when(accepted, sal),
        sql=when(has_deal, sql),
        deal=when(has_deal, deal),
        closed=when(has_deal, closed),
        rejected=when(path == _REJECTED, rejected),
        recycled=when(path == _RECYCLED, recycled),
        returned=when(comes_back, recycled + rng.uniform(60.0, 240.0, n)),
    )


def _rejection_reasons(rng: np.random.Generator, profile: _Profile) -> np.ndarray:
    """The reason a sales rep would pick from what the lead shows; reps are a little sloppy with judgement calls."""
    kind = profile.email_kind
    persona_fit = np.array([p.fit for p in PERSONAS.values()])[profile.persona]
    obvious = [
        (kind == _COMPETITOR, "competitor"),
        (profile.persona == _STUDENT, "student_intern"),
        (np.isin(kind, [_GARBAGE, _MISSING]), "bad_data"),
    ]
    judged = [
        (profile.region == _GLOBAL, "wrong_geography"),
        (profile.size < _WRONG_SIZE_BELOW, "wrong_size"),
        (persona_fit <= _JUNIOR_FIT, "wrong_title"),
        (kind == _FREEMAIL, "bad_data"),
    ]
    rules = obvious + judged
    reason = np.select([c for c, _ in rules], [_REASON[r] for _, r in rules], default=_REASON["no_budget"])
    loose = np.array([_REASON[r] for r in ("no_budget", "wrong_timing", "wrong_size", "wrong_title")])
    sloppy = ~np.logical_or.reduce([c for c, _ in obvious]) & (rng.random(len(kind)) < 0.15)
    return np.where(sloppy, loose[rng.integers(0, len(loose), len(kind))], reason)


# ---------------------------------------------------------------------------------------------------------------
# From profile to outcome, and the drifted quarter
# ---------------------------------------------------------------------------------------------------------------


class _Simulated(NamedTuple):
    engagement: pd.DataFrame
    probability: np.ndarray
    funnel: _Funnel


def _simulate_leads(
    rng: dict[str, np.random.Generator],
    profile: _Profile,
    fit: np.ndarray,
    intent_shift: np.ndarray | float,
    created: np.ndarray,
    window: _Window,
    email_open_inflation: float = 1.0,
) -> _Simulated:
    """Intent, engagement, the true probability, the sampled outcome and the funnel that leads to it."""
    intent = _intent_score(rng["intent"], profile, fit) + intent_shift
    engagement = _observe_engagement(rng["engagement"], profile, fit, intent, email_open_inflation)
    demo, unsubscribed = engagement["demo_requested"].to_numpy(), engagement["newsletter_unsubscribed"].to_numpy()
    probability = np.clip(_expit(_true_logit(profile, fit, intent, demo, unsubscribed)), 1e-9, 1 - 1e-9)
    won = rng["outcome"].random(len(created)) < probability
    path = _choose_paths(rng["funnel"], won, fit, intent, demo, _obviously_unqualified(profile))
    return _Simulated(engagement, probability, _simulate_funnel(rng["funnel"], path, created, demo, profile, window))


def _simulate_drift(
    rng: dict[str, np.random.Generator],
    drift: QuarterDrift,
    profile: _Profile,
    undrifted: _Simulated,
    first_drifted: int,
    created: np.ndarray,
    window: _Window,
) -> tuple[_Profile, _Simulated]:
    """Simulate all leads again in the drifted world and keep that world from ``first_drifted`` on.

    Samplers such as Poisson draw a varying number of random numbers, so changing the later leads in the main
    streams would reshuffle the earlier ones; a second world with its own streams leaves them untouched.
    """
    drifted_profile, worse = profile, np.zeros(len(created), dtype=bool)
    if drift.worse_source is not None:
        worse_source = _SOURCE[drift.worse_source]
        drifted_profile = _move_to_source(
            rng["profile"], profile, first_drifted, worse_source, drift.worse_source_extra_share
        )
        worse = (np.arange(len(created)) >= first_drifted) & (drifted_profile.source == worse_source)
    fit = _fit_score(drifted_profile) - _WORSE_SOURCE_FIT_DROP * worse
    drifted = _simulate_leads(
        rng, drifted_profile, fit, -_WORSE_SOURCE_INTENT_DROP * worse, created, window, drift.email_open_inflation
    )
    return drifted_profile, _splice(undrifted, drifted, first_drifted)


def _move_to_source(rng: np.random.Generator, profile: _Profile, first: int, source: int, share: float) -> _Profile:
    """Move ``share`` of the leads from row ``first`` on to ``source``; they carry no campaign tag there."""
    n = len(profile.source)
    moved = (np.arange(n) >= first) & (rng.random(n) < share) & (profile.source != source)
    return profile._replace(
        source=np.where(moved, source, profile.source),
        campaign=np.where(moved, -1, profile.campaign),
        campaign_quality=np.where(moved, 0.0, profile.campaign_quality),
    )


def _splice(before: _Simulated, after: _Simulated, first: int) -> _Simulated:
    """Rows before ``first`` from ``before``, the rest from ``after``."""

    def join(head: np.ndarray, tail: np.ndarray) -> np.ndarray:
        return np.concatenate([head[:first], tail[first:]])

    return _Simulated(
        engagement=pd.concat([before.engagement.iloc[:first], after.engagement.iloc[first:]]),
        probability=join(before.probability, after.probability),
        funnel=_Funnel(*(join(head, tail) for head, tail in zip(before.funnel, after.funnel, strict=True))),
    )


def _record_new_industry(
    rng: np.random.Generator, industry: pd.Series, first: int, new_industry: str, share: float
) -> pd.Series:
    """The CRM picklist gains a value that enrichment assigns to ``share`` of the leads from row ``first`` on."""
    chosen = (np.arange(len(industry)) >= first) & (rng.random(len(industry)) < share)
    return industry.mask(chosen, new_industry)


# ---------------------------------------------------------------------------------------------------------------
# The exported tables
# ---------------------------------------------------------------------------------------------------------------


def _lead_ids(n: int) -> pd.Series:
    return "L" + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(max(LEAD_ID_DIGITS, len(str(n))))


# Activities after the hand-over, per lead by where it went: sales sequences, proposals and pricing checks follow a
# deal, not the lead's first interest. They are what export-time counts add, and what a live lead does not have yet.
_AFTER_CONTACT_RATE = {_NOTHING: 0.5, _WON: 8.0, _REJECTED: 0.3, _RECYCLED: 1.0, _LOST: 5.0, _STALLED: 2.0}
_AFTER_CONTACT_KINDS = ("visit", "email_open", "email_click", "download")
_AFTER_CONTACT_SHARES = (0.4, 0.3, 0.2, 0.1)
_TRACKED_BEFORE_CREATION_DAYS = 14.0  # a tracked visitor's history joins the lead when it fills in a form
_UNTOUCHED_HANDOVER_DAYS = 7.0  # a lead sales never saw: its engagement falls within a week of creation
_AFTER_CONTACT_DAYS = 90.0


def _activities_frame(
    rng: np.random.Generator,
    engagement: pd.DataFrame,
    funnel: _Funnel,
    created: np.ndarray,
    lead_ids: pd.Series,
    window: _Window,
) -> pd.DataFrame:
    """The leads' engagement as dated events, in time order per lead.

    The lead row's counts (visits, downloads, webinar, demo request, e-mail opens and clicks, unsubscribe) happen
    before the hand-over (the first MQL; for a lead sales never saw, within a week of creation), from two weeks
    before creation on. After it, sales work brings more activity, most for leads on their way to a deal
    (``_AFTER_CONTACT_RATE``), until the deal closes or 90 days pass. Events after the export are not in it.
    """
    n = len(created)
    handover = np.where(np.isnan(funnel.mql), created + _UNTOUCHED_HANDOVER_DAYS, funnel.mql)
    before = {
        "visit": engagement["website_visits"],
        "download": engagement["content_downloads"],
        "webinar": engagement["webinar_attended"],
        "demo_request": engagement["demo_requested"],
        "email_open": engagement["email_opens"],
        "email_click": engagement["email_clicks"],
        "unsubscribe": engagement["newsletter_unsubscribed"],
    }
    leads, days, kinds = [], [], []
    for word, counts in before.items():
        lead = np.repeat(np.arange(n), np.nan_to_num(counts.to_numpy(dtype=float)).astype(np.int64))
        start = created[lead] - _TRACKED_BEFORE_CREATION_DAYS
        leads.append(lead)
        days.append(start + rng.random(len(lead)) * (handover[lead] - start))
        kinds.append(np.full(len(lead), ACTIVITY_KINDS.index(word)))
    rates = np.array([_AFTER_CONTACT_RATE[path] for path in range(len(_AFTER_CONTACT_RATE))])
    lead = np.repeat(np.arange(n), rng.poisson(rates[funnel.path]))
    until = np.fmin(funnel.closed, handover + _AFTER_CONTACT_DAYS)[lead]
    leads.append(lead)
    days.append(handover[lead] + rng.random(len(lead)) * (until - handover[lead]))
    picked = rng.choice(len(_AFTER_CONTACT_KINDS), len(lead), p=_AFTER_CONTACT_SHARES)
    kinds.append(np.array([ACTIVITY_KINDS.index(k) for k in _AFTER_CONTACT_KINDS])[picked])
    lead, day, kind = np.concatenate(leads), np.concatenate(days), np.concatenate(kinds)
    exported = day < window.days
    order = np.lexsort((day[exported], lead[exported]))
    lead, day, kind = lead[exported][order], day[exported][order], kind[exported][order]
    return pd.DataFrame(
        {
            "lead_id": lead_ids.iloc[lead].reset_index(drop=True),
            "timestamp": _timestamps(day, window),
            "kind": _pick(ACTIVITY_KINDS, kind),
            "detail": None,
        }
    )


def _dispositions_frame(
    rng: np.random.Generator,
    funnel: _Funnel,
    reasons: np.ndarray,
    lead_ids: pd.Series,
    sales_team: np.ndarray,
    window: _Window,
) -> pd.DataFrame:
    """One row per funnel event that happened before the export, in time order per lead."""
    no_reason = np.full(len(reasons), -1)
    events = [
        (funnel.mql, "mql", no_reason),
        (funnel.sal, "sal", no_reason),
        (funnel.sql, "sql", no_reason),
        (funnel.rejected, "rejected", reasons),
        (funnel.recycled, "recycled", np.full(len(reasons), _REASON["wrong_timing"])),
        (funnel.returned, "mql", no_reason),
    ]
    happened = [np.flatnonzero(days < window.days) for days, _, _ in events]  # NaN compares False
    lead = np.concatenate(happened)
    day = np.concatenate([days[rows] for rows, (days, _, _) in zip(happened, events, strict=True)])
    stage = np.concatenate(
        [np.full(len(rows), STAGES.index(s)) for rows, (_, s, _) in zip(happened, events, strict=True)]
    )
    reason = np.concatenate([codes[rows] for rows, (_, _, codes) in zip(happened, events, strict=True)])
    order = np.lexsort((stage, day, lead))
    lead, day, stage, reason = lead[order], day[order], stage[order], reason[order]
    team = np.where(rng.random(len(lead)) < 0.01, -1, sales_team[lead])
    return pd.DataFrame(
        {
            "lead_id": lead_ids.iloc[lead].reset_index(drop=True),
            "timestamp": _timestamps(day, window),
            "stage": _pick(STAGES, stage),
            "reason": _pick(REASONS, reason),
            "sales_team": _pick(SALES_TEAMS, team),
        }
    )


def _deals_frame(
    rng: np.random.Generator, funnel: _Funnel, size: np.ndarray, lead_ids: pd.Series, window: _Window
) -> pd.DataFrame:
    """Deals created before the export, in creation order; those not closed by then are open."""
    lead = np.flatnonzero(funnel.deal < window.days)
    lead = lead[np.lexsort((lead, funnel.deal[lead]))]
    won = funnel.path[lead] == _WON
    closed = funnel.closed[lead]
    still_open = closed >= window.days
    median_amount = 9000.0 * (size[lead] / 100.0) ** 0.45 * np.where(won, 1.0, 1.15)  # big quotes lose more often
    amount = np.maximum(np.round(median_amount * rng.lognormal(0.0, 0.5, len(lead)) / 50.0) * 50.0, 500.0)
    deal_ids = "D" + pd.Series(np.arange(1, len(lead) + 1)).astype("str").str.zfill(
        max(LEAD_ID_DIGITS, len(str(len(lead))))
    )
    return pd.DataFrame(
        {
            "deal_id": deal_ids,
            "lead_id": lead_ids.iloc[lead].reset_index(drop=True),
            "created_at": _timestamps(funnel.deal[lead], window),
            "closed_at": _timestamps(np.where(still_open, np.nan, closed), window),
            "amount_eur": amount,
            "outcome": _pick(("won", "lost", "open"), np.select([still_open, won], [2, 0], default=1)),
        }
    )
