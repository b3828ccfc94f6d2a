"""``leadq inspect``: profile a raw CRM export and propose a mapping file for the user to review.

Reading keeps every cell as the text in the file (a German "1.200" stays "1.200", an ID "00123" keeps its
zeros); the profile says what each column looks like, and :func:`propose_mapping` guesses each column's role
(and each feature's group, fit or engagement) from its name and content: e-mail columns become ``email`` and
job titles ``job_title`` (only derived features), consent columns ``consent`` gating the columns their name
speaks of, non-negative whole numbers named like counts ``count``. The outcome is the column the user names
(``--outcome``) or the best candidate by name and values (yes/no, a stage with won and lost words, an amount),
marked for review; dates get ``created_at``, ``outcome_at`` or ``after_contact`` by what their name means.
Example values of e-mail, name and phone columns are redacted: raw PII is never printed or written.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, cast

import numpy as np
import pandas as pd
from pydantic import ValidationError
from scipy.stats import mannwhitneyu
from sklearn.model_selection import train_test_split

from models.cleaning import (
    DAY_MONTH_DATE,
    DEFAULT_PLACEHOLDERS,
    EXCEL_SERIAL_RANGE,
    FALSE_WORDS,
    ISO_DATE,
    MONTH_NAME_DATE,
    TRUE_WORDS,
    UNIX_SECONDS_RANGE,
    CleaningError,
    NumberReading,
    clean_column,
    group_rare,
    mark_missing,
    read_number,
)
from models.features import option_flags, placeholder_keys
from models.job_titles import OTHER, classify_title
from models.labels import MIN_DATED_SHARE
from pipelines.crm_export.leakage import (
    CALENDAR_PARTS,
    MIN_SALES_VALUES,
    OBJECTION_NAME,
    PICKLIST_REPEATS,
    RECORD_PREFIX,
    RELATED_RECORD_PREFIX,
    SALES_VALUE,
    SCORE_WORDS,
    Finding,
    LeakagePolicy,
    check_leakage,
    days_to_the_export_finding,
    filled_after_contact,
    filled_beyond_rest,
    grown_after_contact,
    is_objection,
    is_outreach,
    objected_after_contact,
    sales_words_in_name,
    sales_words_in_values,
    shown_sales_values,
    worked_alongside,
)
from pipelines.crm_export.mapping import (
    FEATURE_ROLES,
    OPTION_SEPARATORS,
    RARE_CATEGORY_SHARE,
    ROW_NUMBER_ID,
    ColumnSpec,
    ExportMapping,
    MappingError,
    Role,
    guess_group,
    normalize_value,
    option_label,
    to_snake_case,
)
from pipelines.crm_export.prepare import MIN_ID_FILLED_SHARE, untouched_leads
from serving.pii import personal_kind

Kind = Literal[
    "empty",
    "id-like",
    "date",
    "number",
    "number-as-text",
    "boolean-like",
    "category",
    "free text",
    "e-mail",
    "person name",
    "phone",
    "personal data",
    "web address",
]
# A person's data, by the column's name: never a feature, never shown (inspect prints "***")
PERSONAL_KINDS: tuple[Kind, ...] = ("person name", "phone", "personal data")
PROPOSAL_HEADER = (
    "proposed by leadq inspect: review every line\n"
    "roles: id, created_at, outcome, outcome_at, won_at, stage, reason (which lead, when, how it ended: never\n"
    "  features; won_at: a win date, empty = lost once the label horizon has passed);\n"
    "  numeric, count, categorical, multi_select, boolean, text, email, job_title (features; group: fit = who the\n"
    "  lead is, engagement = what it did); consent (gates: columns used only where the lead said a clear yes);\n"
    "  pii, account (the company's id: its leads are rolled up), after_contact, ignore (never features)\n"
    "email, job_title: only derived features (freemail, competitor, seniority, function...); never the text itself\n"
    "multi_select: a picklist of several options per cell ('ERP; CRM'): one yes/no per option listed in options\n"
    "after_contact: known only after sales touched the lead (status, owner, last activity): never a feature"
)
KIND_SAMPLE = 50_000  # rows the kind is inferred from (missing share and cardinality use every row)
MAX_CATEGORIES = 50
LONG_TEXT_CHARS = 30
MAX_PICKLIST_LABELS, MIN_LEADS_PER_LABEL = 20, 50  # long values this few, this often each: a picklist, not prose
_PROSE_NAME = re.compile(
    r"(^|_)(notes?|descriptions?|comments?|messages?|remarks?|notiz(en)?|beschreibung|kommentare?|bemerkungen?|"
    r"nachricht)(_|$)"
)
MIN_LEADS_PER_CODE = 5  # leads per distinct code, on average, for a column of codes to be a category
MIN_ID_DISTINCT_SHARE = 0.9  # of a column named like an id: below, it is no lead id (an account's, a campaign's)

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DOT_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")
_BOOLEAN_TRUE, _BOOLEAN_FALSE = set(TRUE_WORDS), set(FALSE_WORDS)  # the cleaning's: inspect proposes what it reads
# a checkbox's tick: a column of these and blanks is a checkbox, whose blank is no (a lone "Yes" or "1" may be a
# question left unanswered)
_CHECK_MARKS = frozenset({"x", "✓", "✔", "☑", "checked"}) & TRUE_WORDS
# HubSpot's lifecycle stage "evangelist": a customer who became an advocate
_WON = _BOOLEAN_TRUE | {
    *("won", "closed won", "closed - won", "gewonnen", "converted", "customer", "kunde", "evangelist"),
    *("client", "cliente"),  # a French or Spanish lifecycle stage's customer
    *("klant", "kund"),  # ... a Dutch or Swedish one
    "closedwon",  # HubSpot's internal deal stage values (an export of the API's names)
}
_LOST = _BOOLEAN_FALSE | {
    "lost",
    "closed lost",
    "closed - lost",
    "verloren",
    "not converted",
    "disqualified",
    "closedlost",
    "loss",  # IBM's sales win-loss sample: Opportunity Result Won / Loss
    "closed loss",
}

# Names, as snake_case, of columns the heuristics look for.
# ... and ids whose name glues a short prefix to it (Mailchimp's LEID and EUID, a UID, a GUID, an SFID)
# "Identyfikator", "Identifiant", "Identificador", "Identificativo", "Kennung", "Tunniste", "Azonosító": an id in
# Polish, French, Spanish and Portuguese, Italian, German, Finnish, Hungarian
_ID_NAME = re.compile(
    r"(^|_)(id|key|nr|no|nummer|numer|number|identifier|identyfikator|identifiant|identificador|identificativo|"
    r"identificatore|identifikator|identifikation|kennung|tunniste|tunnus|azonosito)$|^id_|^(le|eu|u|gu|uu|sf|hs|mc)id$"
)
# A GUID is an id whatever the column's name (Dynamics 365 exports a lead's as "Lead", "(Do Not Modify) Lead")
_GUID = re.compile(r"\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?", re.IGNORECASE)
# Dates by their meaning. When the lead came in, earliest meaning first: created or received, then first
# contact, then engaged; the earliest-meaning one is created_at (the moment a lead is scored as of).
_CREATED_NAMES = (
    re.compile(
        # "Erstellt am", "Erstelldatum", "Erstellungsdatum"; not another record's creation ("Angebotserstellung")
        r"creat|erstellt|(^|_)erstell(ungs)?datum|(^|_)erstellung(_|$)|angelegt|(^|_)added(_|$)|(^|_)add_(time|date)(_|$)|first_seen|eingang|eingegangen|"
        r"anfrage|"
        r"(^|_)(received|submitted|sign_?up|signed_up|registered|registration|registriert|inquiry|enquiry)(_|$)|"
        r"creacion|creado|(^|_)cree(_|$)|(^|_)fecha_(de_)?alta(_|$)|"  # Spanish "Creado el", French "Créé le"
        # French "Date d'ajout", "Ajouté le", "Date d'inscription", "Inscrit le" (Brevo's DATE D'AJOUT)
        r"(^|_)(d_)?ajout(e|ee)?(_|$)|(^|_)(d_)?inscri(ption|t|te)(_|$)|"
        # Dutch, Portuguese, Polish, Italian: Aangemaakt op, Aanmaakdatum, Toegevoegd, Criado em, Data de criação,
        # Data de cadastro, Data utworzenia, Utworzono, Data dodania, Data di creazione, Data inserimento
        r"aangemaakt|aanmaak|toegevoegd|criado|criacao|cadastr|utworz|dodani|creazione|inserimento|"
        # Swedish, Danish, Norwegian, Finnish, Czech, Turkish: Skapad, Oprettet, Opprettet, Luotu, Vytvořeno,
        # Oluşturulma tarihi
        r"skapa[dt]|oprett|(^|_)luotu|(^|_)luonti|vytvoren|olustur|"
        # Russian, in Latin letters as to_snake_case writes it: Дата создания, Создан, Дата добавления
        r"sozdan|dobavlen|"
        # the date of the record itself: "Dt_Customer", "Lead Date", "Datum Interessent"
        r"(^|_)(dt|date|datum)_(lead|customer|prospect|kunde|interessent)(_|$)|"
        r"(^|_)(lead|prospect|interessent)_(dt|date|datum)(_|$)"
    ),
    # ... or subscribed (a newsletter tool's audience: Mailchimp's OPTIN_TIME): a consent may come after creation
    re.compile(
        r"(^|_)first_|erstkontakt|erster_kontakt|kontaktaufnahme|(^|_)opt_?in_(time|date|at|datum|zeit|timestamp)$|"
        # HubSpot's lifecycle dates before sales: "Became a Lead Date", "Became a Marketing Qualified Lead Date"
        r"became_an?_(subscriber|lead|marketing_qualified_lead|mql)(_|$)|"
        r"(^|_)(subscribed|subscription|anmeldung)_(at|on|date|time|datum)$|^date_subscribed$"
    ),
    re.compile(r"engag"),
)
# Names that say a date; only such a column of numbers is read as Excel day numbers ("Close Value" is an amount).
_DATE_WORD_NAME = re.compile(r"(^|_)(date|datum|fecha|timestamp|zeitpunkt|zeitstempel)(_|$)|_(at|on|am)$")
_LONE_DATE_NAME = re.compile(r"(date|datum|timestamp|zeitstempel|time|zeit|day|tag)")  # fullmatch: a bare "Date"
# Later moments: never created_at (a lead scored as of its last update would be scored with hindsight).
_LATER_DATE_NAME = re.compile(
    r"(^|_)(last|latest|recent|letzte[rsn]?|zuletzt|modified|updated|changed|geaendert|aenderung|bearbeitet|next|"
    r"naechste[rsn]?|laatst[a-z]*|ultim[oa]|ostatni[a-z]*)(_|$)|modif|update|aktualisiert|"
    # HubSpot's lifecycle dates once sales works the lead ("Became a Sales Qualified Lead Date", "... an Opportunity
    # ...", "... an Evangelist ..."): any but a start's and the customer's (the win's)
    r"became_(?!(an?_)?(subscriber|lead|marketing_qualified_lead|mql|customer)(_|$))|"
    # Dutch, Portuguese, Polish, Italian: Gewijzigd op, Atualizado em, Zaktualizowano, Aggiornato il
    r"gewijzigd|bijgewerkt|atualiz|alterad|zaktualiz|zmodyfik|zmienion|aggiornat|"
    # Swedish, Danish, Norwegian, Finnish, Czech, Turkish: Senast ändrad, Seneste kontakt, Sist endret, Viimeksi
    # muokattu, Naposledy upraveno, Son güncelleme
    r"senast|seneste|sidst|(^|_)siste(_|$)|viimeksi|muokattu|paeivitetty|upraven|zmenen|naposledy|gu(e)?ncelle|"
    # Russian: Дата изменения, Обновлено, Последний контакт, Следующий звонок
    r"izmenen|obnovlen|posledn|sleduyushch"
)
# The moment the lead was won or lost: the leakage guard checks other dates against it.
# Dates that say a lead was won (a win date is an outcome where no column says won or lost).
_BECAME_A_CUSTOMER = (
    r"became_(a_)?customer|customer_since|kunde_seit|wurde_(zu_|zum_)?kunde|(zum_)?kunden?_geworden|devenu_client|"
    r"client_depuis|cliente_desde|convirtio_en_cliente"
)
_WIN_DATE_NAME = re.compile(
    rf"(^|_)(won|gewonnen|converted|{_BECAME_A_CUSTOMER}|closed_won|first_purchase|first_order|erstkauf)(_|$)"
)
# Closing words ("Deal closed on"): of either outcome, not a win's or a loss's only
_CLOSING_WORDS = (
    r"(^|_)(clos(e|ed|ing)|abgeschlossen|cloture|fermeture|cierre|"
    # Dutch, Italian, Portuguese: Afgesloten op, Afsluitdatum, Sluitingsdatum, Data di chiusura, Data de fechamento
    r"afgesloten|afsluitdatum|sluitingsdatum|chiusura|chiuso|fechamento|fechado|"
    # Swedish, Norwegian, Danish, Finnish, Polish, Czech, Turkish: Stängd, Avslutad, Avsluttet, Lukket, Suljettu,
    # Zamknięta, Uzavřeno, Kapanış
    r"staengd|stangd|avslutad|avsluttet|afsluttet|lukket|suljettu|zamkniet[aey]|zamkniecia|uzavreno|kapanis)(_|$)|"
    r"closedate|"
    r"abschluss"
)
_OUTCOME_AT_NAME = re.compile(
    rf"{_CLOSING_WORDS}|(^|_)(won|lost|convert(ed)?|conversion|signed|unterschrieben|gewonnen|verloren|"
    rf"vertrag[a-z]*|{_BECAME_A_CUSTOMER})(_|$)|"
    # a customer's date is its win only as "customer since" or "customer date" ("Dt_Customer": the record's date)
    r"(^|_)(customer|kunde)_(since|seit|date|datum|at|on)(_|$)|neukunde"
)
_CLOSING_DATE_NAME = re.compile(_CLOSING_WORDS)
# Outcome columns by name: exact names in order of preference, then names that hold an outcome word.
_OUTCOME_NAMES = (
    "converted",
    "is_converted",
    "konvertiert",
    "is_won",
    "won",
    "gewonnen",
    "outcome",
    "status",
    "result",
    "ergebnis",
    "statut",  # French and Spanish: Statut, Estado, Résultat, Resultado
    "estado",
    "resultat",
    "resultado",
    "y",
    "target",
    "label",
    "class",
    "abschluss",
    "deal_stage",
    "deal_status",
    "opportunity_stage",
    "stage",
    "won_lost",
    "conversion",
    "revenue",
    "purchase",
    "purchased",
    "sale",
    "sold",
    "verkauft",
    "gekauft",
    "response",  # a campaign's answer (insurance cross-sell, direct marketing): only as the whole name
    "responded",
    "is_lead",  # a bank's customer who became a lead for a product (Analytics Vidhya's credit-card leads)
    "interested",
    "is_interested",
)
_OUTCOME_WORD_NAME = re.compile(
    r"(^|_)(outcome|result|ergebnis|convert[a-z]*|konvertiert|won|gewonnen|lost|verloren|abschluss|stage|status|"
    r"phase|pipeline|revenue|purchase[ds]?|gekauft|deal|opportunity|"
    # a status or stage in Finnish, Czech, Turkish, Swedish: Tila, Vaihe, Stav, Fáze, Durum, Aşama, Fas
    r"tila|vaihe|stav|faze|durum|durumu|asama|asamasi|fas|"
    # ... in Spanish, French, Italian, Portuguese, Dutch: Etapa, Estado, Étape, Statut, Stato, Estágio, Fase; a
    # result: Resultado, Résultat, Risultato, Esito
    r"etapa|estado|etape|statut|stato|estagio|fase|resultado|resultat|risultato|esito|"
    # ... in Russian: Стадия, Результат, Сделка
    r"stadiya|rezultat|sdelka|"
    # ... in Polish, Hungarian, Romanian: Etap (transakcji), Transakcja, Szansa sprzedaży, Állapot, Szakasz,
    # Stadiu
    r"etap|transakcj[a-z]*|szansa|allapot|szakasz|stadiu|"
    # what the contact is to the company: Keap's "Person Type" (Lead, Prospect, Customer) says who bought
    r"person_type|contact_type)(_|$)"
)
# Numeric columns that may hold a deal's amount: an outcome only as won when > 0, which the user must confirm.
_AMOUNT_NAMES = ("revenue", "amount", "deal_value", "deal_amount", "close_value", "won_amount", "umsatz", "betrag")
# Values by their words: negation of a won word ("Not Converted", "kein Abschluss") and lost words mean lost.
_WON_WORD = re.compile(
    r"(^|\W)(won(?!['’]t)|gewonnen|converted|customer|kunde|evangelist|purchased|bought(?![\s-]in)|gekauft|signed|unterschrieben|"
    r"success|successful|erfolgreich|booked|gebucht|paid|bezahlt|abschluss|abgeschlossen|sold|verkauft|"
    # French and Spanish: Gagné, Signé, Vendu; Ganado, Firmado, Vendido ("Decision Maker Bought-In" is open)
    r"gagn[eé]e?|sign[eé]e?|vendue?|ganad[oa]|firmad[oa]|vendid[oa]|"
    # converted in German, French, Spanish and Portuguese, Italian, Dutch: Konvertiert (SAP's lead status),
    # Umgewandelt (Salesforce's), Converti, Convertido, Convertito, Geconverteerd
    r"konvertiert|umgewandelt|convertie?|convertid[oa]|convertit[oa]|geconverteerd|"
    # Portuguese, Italian, Polish, Swedish, Danish and Norwegian, Finnish, Czech, Turkish, Russian, Japanese: Ganho,
    # Vinto, Wygrana, Vunnen (a group of them: Vunna, Vundne), Vundet, Vunnet, Voitettu, Vyhráno, Kazanıldı,
    # Выиграна, Сделка успешна, 受注, 成約
    r"ganh[oa]|vint[oa]|wygran[aey]|vunne[nt]|vunna|vundne|vundet|voitettu|vyhr[aá]n[oaý]|kazan[ıi]ld[ıi]|kazan[ıi]lan|"
    r"выигран[аоы]?|успешн[аоы]?|реализован[аоы]?|受注|成約)(\W|$)"
)
_LOST_WORD = re.compile(
    r"(^|\W)(lost|verloren|disqualified|disqualifiziert|unqualified|rejected|abgelehnt|abgesagt|absage|"
    r"cancel+ed|storniert|declined|dead|junk|churned|failed|gescheitert|won['’]t|bad[\s_-]fit|not[\s_-]a[\s_-]fit|"
    r"poor[\s_-]fit|"
    # an outbound sequence's end without a reply, or the lead's wish to hear no more (Apollo.io's Stage:
    # Unresponsive, Do Not Contact)
    r"unresponsive|do[\s_-]not[\s_-]contact|"
    # Dynamics 365's reasons a lead is disqualified (Status Reason: Cannot Contact, No Longer Interested)
    r"cannot[\s_-]contact|no[\s_-]longer[\s_-]interested|"
    r"perdue?|refus[eé]e?|annul[eé]e?|abandonn[eé]e?|perdid[oa]|rechazad[oa]|cancelad[oa]|descartad[oa]|"
    # Italian, Polish, Swedish, Danish and Norwegian, Finnish, Czech, Turkish, Russian, Japanese: Perso, Przegrana,
    # Förlorad, Tabt, Tapt, Hävitty, Prohráno, Kaybedildi, Проиграна, Провалена, 失注
    r"perso|przegran[aey]|f[oö]rlora[dt]e?|tabt|tapt|h[aä]vitty|h[aä]vinnyt|prohr[aá]n[oaý]|kaybedil(di|en)|"
    r"проигран[аоы]?|провален[аоы]?|失注)(\W|$)"
)
# A meeting, demo or call booked is a stage of the pipeline, no win (a course or a plan booked is)
_BOOKED_MEETING = re.compile(
    r"(meeting|demo|call|termin|appointment|gespraech|gespräch|beratung|consultation|discovery|erstgespraech)s?"
    r"\W+(booked|gebucht|scheduled|vereinbart)"
)
_DISQUALIFIED = re.compile(r"^(dis|un)(?=qualifi)")
# A value that is a qualification alone, in English, German, French, Italian, Spanish, Portuguese, Dutch
_QUALIFIED_ALONE = re.compile(
    r"qualified|qualifiziert|qualifi[ée]e?|qualificat[oa]|c(u)?alificad[oa]|qualificad[oa]|gekwalificeerd|"
    # Swedish, Danish, Norwegian, Polish, Czech
    r"kvalificerad|kvalificeret|kvalifisert|zakwalifikowan[ya]|kvalifikovan[ýáa]"
)
# A value's leading negation of a qualification, interest or conversion ("Not Interested", "Nicht qualifiziert",
# "Non qualifié"): what is left is its counterpart; not "No Show" or "No Answer" (a "Show" is no win)
_LEADING_NEGATION = re.compile(r"^(not|nicht|non|no)[\s_-]+(?=qualif|interes|convert|umgewandelt|konvertiert)")
# A qualification or interest negated right before it says lost ("Nicht qualifiziert", "Not interested", "Kein
# Interesse"); not yet ("Noch nicht qualifiziert", "Not yet qualified") and alone they are no outcome
_NEGATED_QUALIFIED = re.compile(
    r"(^|(?<=\W))(?<!noch )(?<!still )(not|nicht|kein[a-z]*|non)[\s_-]+(qualified|qualifiziert|interested|"
    r"interessiert|interesse)(\W|$)"
)
_NEGATION_WORD = re.compile(
    r"(^|\W)(not|non|no|nicht|kein[a-z]*|never|nie|pas|jamais|sin|nunca|niet|ikke|inte|ej|ei|не|değil|nem)(\W|$)"
)
# a negation that waits ("not yet signed", "pas encore signé", "noch nicht", "todavía no"): still open, no outcome
_NOT_YET = re.compile(r"(^|\W)(yet|encore|noch|todav[ií]a|a[uú]n)(\W|$)")
_ZERO_OR_ONE = re.compile(r"([01])(\.0+)?")
_AMOUNT = re.compile(r"[€$£]?\s*\d[\d.,' ]*\s*(€|eur|usd|\$)?", re.IGNORECASE)
# Dutch, Italian, Portuguese and Polish words as whole words ("Metaplan" is no "etap", "Credentials" no "reden")
_STAGE_NAME = re.compile(r"status|stage|phase|(^|_)(fase|etapa|etape|estagio|etap|stadiya|stato|statut|estado)(_|$)")
_REASON_NAME = re.compile(r"reason|grund|orsak|(^|_)(reden|motivo|raison|powod|arsag|syy|duvod|neden|prichina)(_|$)")
# A person's protected attributes (the German AGG's and the GDPR's special categories): a B2B lead's gender,
# salutation or marital status says nothing about the company's need, and scoring by it discriminates.
_PROTECTED_NAME = re.compile(
    r"(^|_)(gender|geschlecht|sex|anrede|salutation|marital|marital_status|familienstand|religion|religious|"
    r"konfession|ethnicity|ethnic_origin|race|nationality|staatsangehoerigkeit|disability|behinderung)(_|$)|"
    # Dutch, Portuguese, Polish, Italian, as the whole name (a "Gênero musical" is a music genre): Geslacht, Aanhef,
    # Aanspreekvorm, Sexo, Gênero, Płeć, Sesso, Genere
    r"^(geslacht|aanhef|aanspreekvorm|aanspreektitel|sexo|genero|plec|sesso|genere|zwrot_grzecznosciowy|"
    r"forma_grzecznosciowa|burgerlijke_staat|estado_civil|stan_cywilny|stato_civile|nationaliteit|nacionalidade|"
    r"narodowosc|nazionalita|"
    # Swedish, Danish, Norwegian, Finnish, Czech, Turkish: Kön, Køn, Kjønn, Sukupuoli, Pohlaví, Cinsiyet; a salutation
    r"koen|kon|kjonn|sukupuoli|pohlavi|cinsiyet|tilltal|osloveni|hitap|puhuttelu|civilstand|sivilstand|"
    r"siviilisaeaety|rodinny_stav|medeni_durum|medeni_hal|"
    # Russian: Пол, Обращение, Семейное положение
    r"pol|obrashchenie|semeynoe_polozhenie)$"
)
# A person's age, an AGG ground too, where a B2B score has no use for it (an insurer's pricing may: the review says
# how to map it); a year of birth is an age
_AGE_NAME = re.compile(
    r"^((customer|contact|person|lead|client|kunden?|applicant|member|user|respondent)_)?"
    r"(age|age_group|age_range|alter|altersgruppe|edad|year_of_birth|birth_year|geburtsjahr|jahrgang)$"
)
_OF_A_COMPANY = re.compile(r"^(company|firm|firma|firmen|business|account|unternehmens?|organi[sz]ation)_")
# A person's own money (not the company's revenue): personal data a B2C score may read, a B2B one need not
_PERSONAL_MONEY_NAME = re.compile(
    r"(^|_)(income|personal_income|household_income|salary|gehalt|einkommen|haushaltseinkommen|net_worth|"
    r"vermoegen|wealth|credit_score|schufa)$"
)
_PERSON_NAME = re.compile(
    r"(^|_)(first|last|full|given|family|sur|vor|nach|contact|kontakt|customer|kunden)_?name$|^name$|"
    # another person's name beside the lead's (Keap's Spouse Name, Salesforce's Assistant), or another of the lead's
    r"(^|_)(spouse|assistant|middle|maiden|nick)_?name$|"
    # French and Spanish: Prénom, Nom, Nom de famille, Nombre, Apellidos, Nom du contact, Nombre del contacto
    r"^(prenom|nom|nom_de_famille|nom_complet|nombre|nombre_completo|apellidos?)$|"
    r"^(nom|nombre)_(du|de_la|del|de)_(contact|contacto|client|cliente|prospect|prospecto|lead)$|"
    # Dutch, Portuguese, Polish, Italian: Voornaam, Achternaam, Tussenvoegsel, Naam, Nome, Sobrenome, Nome completo,
    # Imię, Nazwisko, Imię i nazwisko, Cognome, Nome e cognome
    r"^(voornaam|achternaam|tussenvoegsel|naam|volledige_naam|roepnaam|contactpersoon|nome|primeiro_nome|sobrenome|"
    r"ultimo_nome|apelido|nome_completo|nome_do_contato|imie|nazwisko|imie_i_nazwisko|cognome|nome_e_cognome|"
    # Swedish, Danish, Norwegian, Finnish, Czech, Turkish: Förnamn, Efternamn, Fornavn, Etunimi, Jméno, Soyad
    r"foernamn|efternamn|fornavn|efternavn|mellemnavn|etunimi|sukunimi|jmeno|prijmeni|soyad|soyadi|ad_soyad|"
    # ... and their bare name (monday.com's item column "Namn" holds the contact's name), a contact person; Turkish
    # İsim; Hungarian Név; Romanian Nume, Prenume (not the Turkish "Ad": an English ad is the lead's source)
    r"namn|navn|nimi|fullstaendigt_namn|fullt_navn|kontaktperson|yhteyshenkilo|isim|nev|nume|prenume|"
    # Russian: Имя, Фамилия, Отчество, ФИО, Контактное лицо, Полное имя
    r"imya|familiya|otchestvo|fio|kontaktnoe_litso|polnoe_imya)$"
)
# Telefoon, Telefono, Móvil, Puhelin; as the name's first word, Italian and Portuguese Cellulare, Celular, the
# Belgian GSM (not a product's "Tipo de celular")
_PHONE_NAME = re.compile(r"phone|telef|mobil|movil|handy|fax|puhelin|^(cellulare|celular|gsm)(_|$)")
# Where a person lives, banks, connects from, was born or shows a profile: identifying, never a feature. The name
# ends in the identifying field ("Mailing Street", "Billing Zip/Postal Code"); one that only speaks of it is an
# attribute ("Zip Code Region", "Address Type", "IP Country", "Twitter Followers"). (A year of birth, an age, is
# left to review as age is; a company's web address is a web address, not personal data.)
_PERSONAL_DATA_NAME = re.compile(
    r"(^|_)(street|strasse|address|adresse|anschrift|hausnummer|house_number|postal_code|post_code|postcode|postalcode|"
    # Dutch, Portuguese, Polish, Italian: Straat, Huisnummer, Adres, Woonplaats, Rua, Endereço, CEP, Ulica, Kod
    # pocztowy, Indirizzo, Data di nascita, Geboortedatum, Data de nascimento, Data urodzenia
    r"straat|huisnummer|adres|woonplaats|rua|endereco|cep|ulica|kod_pocztowy|indirizzo|numero_civico|"
    r"geboortedatum|data_de_nascimento|data_urodzenia|data_di_nascita|"
    # Swedish, Danish, Norwegian, Finnish, Czech, Turkish: Postnummer, Postinumero, PSČ, Posta kodu, Adress, Osoite,
    # Födelsedatum, Fødselsdato, Syntymäaika, Datum narození, Doğum tarihi
    r"postnummer|postnr|postinumero|psc|posta_kodu|adress|osoite|adresa|ulice|gatuadress|katuosoite|foedelsedatum|fodselsdato|syntymaeaika|"
    r"datum_narozeni|dogum_tarihi|"
    # Russian: Улица, Почтовый индекс, Дата рождения, День рождения (Адрес reads as the Dutch "adres")
    r"ulitsa|pochtovyy_indeks|data_rozhdeniya|den_rozhdeniya|"
    r"postleitzahl|plz|zip|zip_code|zipcode|code_postal|codigo_postal|c_p|cp|"
    # Italian: Codice postale, Codice di avviamento postale (CAP: below)
    r"codice_postale|codice_di_avviamento_postale|codice_avviamento_postale|iban|bic|bank_account|kontonummer|bankverbindung|ip|ip_address|"
    r"ip_adresse|date_of_birth|birth_date|birthdate|birthday|dob|geburtsdatum|geburtstag|linked_in|linkedin|xing|"
    # where the person is: a sign-up's geolocation (Mailchimp's LATITUDE, LONGITUDE, from the IP address)
    r"latitude|longitude|lat|lng|lon|geo_?location|coordinates|breitengrad|laengengrad|koordinaten|"
    r"(linked_in|linkedin|xing|facebook|instagram|twitter|social)(_(profil|profile|public_profile))?_(profil|profile|url|link)|"
    r"social_profile|"
    # a person's handle on a network or messenger: "Twitter Username", "Skype ID" (a bare "Twitter" may be a flag)
    r"(twitter|instagram|facebook|tiktok|git_?hub|skype|telegram|whats_?app|linked_?in|xing)_(handle|user_?name|user|id))$"
    # the Italian postal code, as the whole name (not a company's "Market Cap", a "Cap Rate")
    r"|^cap$"
    # a person's national, tax or passport number: Brazil's CPF, Spain's DNI/NIE, Mexico's CURP, Chile's RUT,
    # the US SSN, Poland's PESEL, the UK's NI number, the Dutch BSN, Italy's codice fiscale, the Nordic personal
    # numbers, Czech rodné číslo, Turkish TC kimlik, Russian СНИЛС, a passport or ID card
    r"|(^|_)(cpf|dni|nie|curp|rut|ssn|social_security(_number)?|pesel|nino|national_insurance(_number)?|bsn|"
    r"burgerservicenummer|codice_fiscale|personnummer|personnr|henkilotunnus|hetu|cpr(_nummer)?|rodne_cislo|tckn|"
    r"tc_kimlik(_no)?|kimlik_no|snils|passport(_number|_no)?|pasaporte|passaporte|reisepass(nummer)?|"
    r"personalausweis(nummer)?|id_card(_number)?|carte_d_identite|documento_de_identidad|rg)$"
)
_NOT_A_HOME_ADDRESS = re.compile(
    r"(^|_)(e_?mail|web|website|site|url|homepage)_(address|adresse|adres|endereco|indirizzo)$"
)
# A company's or account's name: who, not what (an account's leads learnt by name); accounts come from the e-mail
# domain or the CRM's account id
_COMPANY_NAME = re.compile(
    r"((associated|parent|primary)_)?(company|company_name|company_account|firma|firmenname|unternehmen|"
    r"unternehmensname|organi[sz]ation|organi[sz]ation_name|account|account_name|"
    # other languages' company names: Société, Empresa, Azienda, Ragione sociale, Bedrijf(snaam), Nazwa firmy,
    # Företag, Virksomhed, Yritys, Společnost, Název firmy, Şirket (adı)
    r"societe|nom_de_l_entreprise|entreprise|empresa|nome_da_empresa|nombre_de_la_empresa|azienda|ragione_sociale|"
    r"bedrijf|bedrijfsnaam|organisatie|nazwa_firmy|foeretag|foeretagsnamn|virksomhed|virksomhedsnavn|bedrift|yritys|"
    r"yrityksen_nimi|spolecnost|nazev_firmy|sirket|sirket_adi|"
    # the account's name as Spanish, Portuguese, French, Italian CRMs label it: Nombre de la cuenta, Nome da conta,
    # Razão social, Razón social, Raison sociale, Nom du compte, Nome dell'account
    r"nombre_de_la_cuenta|nome_da_conta|razao_social|razon_social|raison_sociale|nom_du_compte|"
    r"nome_dell_account|nome_azienda|"
    # Russian: Компания, Название компании, Организация
    r"kompaniya|nazvanie_kompanii|organizatsiya|nazvanie_organizatsii)"
)
# ... and the phrase of a company's name inside a longer header (Apollo's "Company Name for Emails", "Legal Company
# Name", "Firmenname (kurz)"): a company's or account's name too, not its size or industry
_COMPANY_NAME_PHRASE = re.compile(
    r"(^|_)(company_name|account_name|organi[sz]ation_name|firmenname|unternehmensname|bedrijfsnaam|"
    r"nom_de_l_entreprise|nombre_de_la_empresa|nome_da_empresa|ragione_sociale|nazwa_firmy|foeretagsnamn|"
    r"virksomhedsnavn|yrityksen_nimi|nazev_firmy|sirket_adi|nombre_de_la_cuenta|nome_da_conta|razao_social|"
    r"razon_social|raison_sociale|nom_du_compte)(_|$)"
)


def is_company_name(column: str) -> bool:
    """Named as a company's or account's name ("Company", "Firma", "Account Name", "Company Name for Emails")."""
    name = to_snake_case(column)
    return bool(_COMPANY_NAME.fullmatch(name) or _COMPANY_NAME_PHRASE.search(name))


# a web page's address as written out ("https://acme.de", "www.acme.de"); a bare domain ("acme.de", an e-mail's
# domain, a referrer) may be a feature
_WEB_ADDRESS = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
# Job titles: names that can only mean one, and names that may (then the values must read as titles).
_JOB_TITLE_NAME = re.compile(
    r"job_?tit(le|el)|(^|_)(berufsbezeichnung|stellenbezeichnung|job_position|job_role|job_function|dolzhnost)(_|$)"
)
_MAYBE_JOB_TITLE_NAME = re.compile(
    r"(^|_)(title|titel|position|role|rolle|funktion|function|job|beruf|designation|cargo|puesto|poste|fonction)$"
)
MIN_TITLE_SHARE = 0.5  # of the rows: values in which the job-title vocabulary finds a seniority or a function
# A consent: yes = the lead agreed. Its opposite (yes = the lead objected) is a plain feature, never a gate.
# consent in English, German, French and Spanish (consentement, consentimiento), Italian (consenso), Dutch
# (toestemming), Polish (zgoda), Czech (souhlas), Nordic (samtycke, samtykke, suostumus), Hungarian
# (hozzájárulás); the GDPR's own names (DSGVO, RGPD, RODO)
_CONSENT_NAME = re.compile(
    r"(^|_)(consent[a-z]*|consens[oi]|opt_?in|opted_in|permission[a-z]*|einwilligung[a-z]*|zustimmung[a-z]*|"
    r"toestemming[a-z]*|zgod[aey]|souhlas[a-z]*|samtyck[a-z]*|samtykke[a-z]*|suostumu[a-z]*|hozzajarulas[a-z]*|"
    # Russian and Ukrainian Согласие, Згода, as to_snake_case writes them
    r"soglasi[a-z]*|zghod[a-z]*|"
    # a yes to receiving: Spanish, Portuguese, Italian, French "Acepta comunicaciones", "Aceita receber", "Accetta",
    # "Accepte"; Brazil's data-protection law (LGPD)
    r"acepta|aceita|accetta|accepte|akzeptiert|lgpd|"
    r"gdpr|dsgvo|rgpd|rodo)(_|$)"
)
_TRACKING_CONSENT_NAME = re.compile(r"track|cookie|web|analytic|site|visit|besuch")
# Feature columns a consent gates, by what their name speaks of (snake_case words, optionally inflected).
_TRACKED_NAME = re.compile(
    r"(^|_)(visit|website|web|site|time|spent|page|pageview|view|session|besuch|seite|seitenaufruf|aufruf|zeit|"
    r"pricing)(s|es|e|en|ed)?(_|$)"
)
_EMAIL_ENGAGEMENT_NAME = re.compile(r"(^|_)(open|click|klick|oeffnung|geoeffnet)(s|es|e|en|ed|ungen)?(_|$)")
# Counts: non-negative whole numbers named like one, and not a rate or score ("Page Views Per Visit").
_COUNT_NAME = re.compile(
    r"(^|_)(count|counts|anzahl|number_of|num_of|no_of|nr_of|visits|views|pageviews|downloads|opens|clicks|"
    r"sessions|submissions|besuche|aufrufe|seitenaufrufe|klicks|oeffnungen|employees|mitarbeiter[a-z]*)(_|$)"
)
_RATE_NAME = re.compile(r"(^|_)(per|pro|avg|average|mean|rate|ratio|share|percent|pct|score|index|durchschnitt)(_|$)")
_WHOLE_NUMBER = re.compile(r"\d+(\.0+)?|\d{1,3}([.,' ]\d{3})+")
# Whole numbers named as a code, a type, a region, a channel or a system label things, they count nothing
# (Region_Code 28, TrafficType 3, OperatingSystems 2, an SIC code): categories, each with its own rate.
_CODE_NAME = re.compile(
    r"(^|_)(codes?|types?|typ|regions?|channels?|kanal|browsers?|operating_systems?|os|categor(y|ies)|kategorie|"
    r"segments?|class|classes|klasse|zip|plz)(_|$)"
)
_CODE_NUMBER = re.compile(r"\d+(\.0+)?")
_OTHER_RECORDS_ID = re.compile(r"(^|_)(id|ids|key)$")  # a number column named so (not the lead's id) holds ids
# Export value (as normalize_value gives it) -> leadq stage, checked in this order (disqualified before qualified).
# An open value that says sales has not touched the lead yet (not "Open": an open deal is one sales works; an
# outbound tool's "Cold": not reached yet)
_UNTOUCHED_VALUE = re.compile(
    r"^cold$|"  # an outbound tool's "Cold" as the whole value: not "Cold called", "Gone cold"
    r"\b(not contacted|nicht kontaktiert|uncontacted|untouched|unworked|new|neu|"
    r"nieuw|niet gecontacteerd|novo|nova|nao contatado|nowy|nowa|nuovo|nuova|non contattato|ny|nya|nye|uusi|yeni|nový|"
    r"nouveau|nouvelle|non contacté|nuevo|nueva|no contactado|sin contactar|"
    r"новый|новая)\b"
)  # Dutch, Portuguese, Polish, Italian too
# A record deleted or merged into another (Pipedrive's deal status "deleted", German "Gelöscht"): no lead, in
# English, German, French, Spanish, Italian, Dutch, Polish, Swedish, Danish and Norwegian, Finnish, Czech, Turkish,
# Russian; not "archived" (Odoo archives its lost leads)
_DELETED_VALUE = re.compile(
    r"deleted|gel(ö|oe)scht|supprim(é|e)e?|eliminad[oa]|eliminat[oa]|verwijderd|usuni(ę|e)t[ya]|raderad|slettet|"
    r"poistettu|smaz(á|a)n[oýa]|silindi|удален[оа]?|merged|zusammengef(ü|ue)hrt|fusionn(é|e)e?|samengevoegd"
)
_STAGE_WORDS: tuple[tuple[str, str], ...] = (
    # wrong timing, first: "Not now - recontact Q3", "On hold", Polish "Wstrzymane - wrócić w Q3", German "Später",
    # French "Plus tard", Spanish "Más adelante", Italian "In futuro"
    ("not now", "recycled"),
    ("recontact", "recycled"),
    ("re-contact", "recycled"),
    ("on hold", "recycled"),
    ("wstrzyman", "recycled"),
    ("wrócić", "recycled"),
    ("später", "recycled"),
    ("zurückgestellt", "recycled"),
    ("plus tard", "recycled"),
    ("más adelante", "recycled"),
    ("más tarde", "recycled"),
    ("in futuro", "recycled"),
    ("future", "recycled"),
    ("отложен", "recycled"),  # Russian: postponed, come back later, call back later
    ("вернуться позже", "recycled"),
    ("перезвонить позже", "recycled"),
    ("recontacter", "recycled"),  # French: "A recontacter T3"
    ("retomar contato", "recycled"),  # Portuguese and Spanish: "Pausado - retomar contato em 90 dias"
    ("retomar contacto", "recycled"),
    ("pausad", "recycled"),
    ("em pausa", "recycled"),
    ("en pausa", "recycled"),
    ("en pause", "recycled"),
    # Swedish, Danish, Norwegian, Finnish, English: come back later, parked, dormant ("Återkom senare")
    ("senare", "recycled"),
    ("senere", "recycled"),
    ("myöhemmin", "recycled"),
    ("parkera", "recycled"),
    ("parkeret", "recycled"),
    ("parkert", "recycled"),
    ("vilande", "recycled"),
    ("contact later", "recycled"),  # not a bare "later": "Collateral sent" holds it
    ("call later", "recycled"),
    ("call back later", "recycled"),
    ("try later", "recycled"),
    # Dynamics 365's status reasons (Cannot Contact, No Longer Interested, Canceled), Zoho's "Contact in Future",
    # HubSpot's German lead statuses (Versuchter Kontakt, Verbunden, Schlechtes Timing, Offener Deal)
    ("cannot contact", "rejected"),
    ("unable to contact", "rejected"),  # ... and contact tried, before "to contact" (where new leads land)
    ("not able to contact", "rejected"),
    ("failed to contact", "sal"),
    ("tried to contact", "sal"),
    ("trying to contact", "sal"),
    ("no longer interested", "rejected"),
    ("not interested", "rejected"),
    ("kein interesse", "rejected"),
    ("cancel", "rejected"),
    ("storniert", "rejected"),
    ("in future", "recycled"),
    ("schlechtes timing", "recycled"),
    ("falscher zeitpunkt", "recycled"),
    ("versuchter kontakt", "sal"),
    ("kontaktversuch", "sal"),
    ("versuch der kontaktaufnahme", "sal"),  # HubSpot's German "Attempted to contact" as its UI says it
    # Dynamics 365's German status reasons: Kontakt nicht möglich, Kein Interesse mehr (above), Abgebrochen
    ("kontakt nicht möglich", "rejected"),
    ("nicht erreichbar", "rejected"),
    ("abgebrochen", "rejected"),
    # Pipedrive's German default pipeline: Lead eingegangen, Kontakt hergestellt, Demo vereinbart, Angebot gemacht,
    # Verhandlungen begonnen (the offer and the negotiation read as sql below)
    ("kontakt hergestellt", "sal"),
    ("demo vereinbart", "sal"),
    ("termin vereinbart", "sal"),
    ("lead eingegangen", "mql"),
    ("verbunden", "sal"),
    ("offener deal", "sql"),
    ("not convert", "rejected"),
    ("nicht umgewandelt", "rejected"),  # Salesforce's German lead statuses: "Geschlossen - Nicht umgewandelt"
    # HubSpot's lead statuses in Spanish, Portuguese, French, Italian and Dutch: bad timing, unqualified (before
    # "qualifi", which would read "No calificado" and "Não qualificado" as qualified), an open deal (before "open")
    ("mal momento", "recycled"),
    ("momento inadequado", "recycled"),
    ("momento ruim", "recycled"),
    ("mauvais timing", "recycled"),
    ("mauvais moment", "recycled"),
    ("tempistica sbagliata", "recycled"),
    ("momento sbagliato", "recycled"),
    ("slechte timing", "recycled"),
    ("no calificad", "rejected"),
    ("no cualificad", "rejected"),
    ("descalificad", "rejected"),
    ("não qualificad", "rejected"),
    ("nao qualificad", "rejected"),
    ("desqualificad", "rejected"),
    ("niet gekwalificeerd", "rejected"),
    ("negocio abierto", "sql"),
    ("trato abierto", "sql"),
    ("oportunidad abierta", "sql"),
    ("opportunité ouverte", "sql"),
    ("découverte", "sal"),  # the French discovery call (before "ouvert", which it holds)
    ("decouverte", "sal"),
    ("negócio aberto", "sql"),
    ("negocio aberto", "sql"),
    ("transaction ouverte", "sql"),
    ("affaire ouverte", "sql"),
    ("intentando contactar", "sal"),
    ("intento de contacto", "sal"),
    ("tentativa de contato", "sal"),
    ("tentando contato", "sal"),
    ("tentative de contact", "sal"),
    ("poging tot contact", "sal"),
    ("conectado", "sal"),
    ("connecté", "sal"),
    ("connesso", "sal"),
    ("en curso", "sal"),
    ("in corso", "sal"),
    ("not contacted", "mql"),
    ("nicht kontaktiert", "mql"),
    ("niet gecontacteerd", "mql"),  # Dutch, French, Spanish, Italian, Portuguese: not contacted
    ("non contacté", "mql"),
    ("no contactado", "mql"),
    ("non contattato", "mql"),
    ("nao contatado", "mql"),
    ("não contatado", "mql"),
    ("disqualif", "rejected"),
    ("unqualif", "rejected"),
    ("not qualified", "rejected"),
    ("non qualifi", "rejected"),  # Italian, French: Non qualificato, Non qualifié
    ("lead perso", "rejected"),  # Italian (Zoho)
    ("nicht qualifiziert", "rejected"),
    # not qualified in Dutch, Spanish, Swedish, Danish and Norwegian, Polish, Czech
    ("niet gekwalificeerd", "rejected"),
    ("no calificado", "rejected"),
    ("no cualificado", "rejected"),
    ("inte kvalificerad", "rejected"),
    ("ikke kvalificeret", "rejected"),
    ("ikke kvalifisert", "rejected"),
    ("niezakwalifikowan", "rejected"),
    ("nekvalifikovan", "rejected"),
    ("verloren", "rejected"),
    ("umgewandelt", "sql"),
    ("reject", "rejected"),
    ("abgelehnt", "rejected"),
    ("junk", "rejected"),
    ("dead", "rejected"),
    ("lost", "rejected"),
    ("nurtur", "recycled"),
    ("bad timing", "recycled"),  # HubSpot's default lead statuses: Attempted to contact, Connected, Bad timing
    ("recycl", "recycled"),
    ("wiedervorlage", "recycled"),
    # a deal's later steps: a proposal or quote sent, a negotiation, in English, German, Dutch, French, Spanish,
    # Italian, Portuguese (Pipedrive's "Proposal Made", Teamleader's "Offerte verstuurd", "Onderhandeling"); before
    # "sal", which "proposal" holds
    ("proposal", "sql"),
    ("quote", "sql"),
    ("negotiat", "sql"),
    ("angebot", "sql"),
    ("verhandlung", "sql"),
    ("offerte", "sql"),
    ("onderhandel", "sql"),
    ("devis", "sql"),
    ("négociation", "sql"),
    ("negociación", "sql"),
    ("negociação", "sql"),
    ("propuesta", "sql"),
    ("proposta", "sql"),
    ("trattativa", "sql"),
    ("negoziazione", "sql"),
    ("offerta", "sql"),
    ("marketing qualified", "mql"),  # an MQL: marketing handed it over (HubSpot's "marketingqualifiedlead")
    ("marketingqualified", "mql"),
    ("qualifi", "sql"),
    ("kwalifi", "sql"),  # qualified in Dutch, Nordic and Czech, Spanish, Polish
    ("kvalifi", "sql"),
    ("calificad", "sql"),
    ("cualificad", "sql"),
    ("zakwalifikowan", "sql"),
    ("sql", "sql"),
    ("convert", "sql"),
    ("working", "sal"),
    ("scheduled", "sal"),  # a demo, meeting or presentation scheduled (ActiveCampaign, HubSpot's deal stages)
    ("demo booked", "sal"),
    ("meeting booked", "sal"),
    ("contacted", "sal"),
    ("attempted", "sal"),
    ("connected", "sal"),
    ("kontaktiert", "sal"),
    ("accepted", "sal"),
    ("in progress", "sal"),
    ("in process", "sal"),  # SugarCRM and SuiteCRM: New, Assigned, In Process, Converted, Recycled, Dead
    ("in bearbeitung", "sal"),
    # Dutch, French, Spanish, Italian, Portuguese: contacted, in progress (Teamleader's "Contact gelegd")
    ("contact gelegd", "sal"),
    ("gecontacteerd", "sal"),
    ("in behandeling", "sal"),
    ("contacté", "sal"),
    ("en cours", "sal"),
    ("contactado", "sal"),
    ("en proceso", "sal"),
    ("contattato", "sal"),
    ("tentativo di contatto", "sal"),  # Zoho's Italian lead statuses: Tentativo di contatto, Da ricontattare
    ("ricontattare", "recycled"),
    ("in lavorazione", "sal"),
    ("contatado", "sal"),
    ("em andamento", "sal"),
    ("sal", "sal"),
    # not contacted yet, said as what is to be done (ActiveCampaign's first deal stage "To Contact"; after
    # "attempted", which "Attempted to contact" holds), in English, French, Spanish, Italian, Swedish, German, Dutch
    ("to contact", "mql"),
    ("to be contacted", "mql"),
    ("à contacter", "mql"),
    ("a contacter", "mql"),
    ("por contactar", "mql"),
    ("da contattare", "mql"),
    ("att kontakta", "mql"),
    ("zu kontaktieren", "mql"),
    ("te contacteren", "mql"),
    ("assigned", "mql"),  # to a rep, who has not worked it yet (SugarCRM's "Assigned")
    ("new", "mql"),
    ("neu", "mql"),
    ("nieuw", "mql"),  # Dutch, Portuguese, Polish, Italian: new
    ("novo", "mql"),
    ("nowy", "mql"),
    ("nuovo", "mql"),
    ("nouveau", "mql"),  # French, Spanish
    ("nuevo", "mql"),
    ("uusi", "mql"),  # Finnish, Turkish, Czech, Russian: new (not the Nordic "ny": compared as a part of the value)
    ("yeni", "mql"),
    ("nový", "mql"),
    ("новый", "mql"),
    ("open deal", "sql"),  # HubSpot's lead status: a deal is open, sales works the lead
    ("open", "mql"),
    ("offen", "mql"),
    ("abierto", "mql"),  # Spanish, Portuguese, French, Italian: open
    ("aberto", "mql"),
    ("ouvert", "mql"),
    ("aperto", "mql"),
    ("mql", "mql"),
)
_REASON_WORDS: tuple[tuple[str, str], ...] = (
    # timing first: "Decision maker - call later" is about when, not who
    ("timing", "wrong_timing"),
    ("not now", "wrong_timing"),
    ("later", "wrong_timing"),
    ("mal momento", "wrong_timing"),  # Spanish, Portuguese, French, Italian, German: not the right moment
    ("momento inadequado", "wrong_timing"),
    ("momento ruim", "wrong_timing"),
    ("bon moment", "wrong_timing"),
    ("mauvais moment", "wrong_timing"),
    ("momento sbagliato", "wrong_timing"),
    ("wrong moment", "wrong_timing"),
    ("bad moment", "wrong_timing"),
    ("más adelante", "wrong_timing"),
    ("plus tard", "wrong_timing"),
    ("später", "wrong_timing"),
    ("zeitpunkt", "wrong_timing"),
    # postponed, in English, German, French, Spanish, Italian, Dutch: a project put off is not lost
    ("postponed", "wrong_timing"),
    ("verschoben", "wrong_timing"),
    ("reporté", "wrong_timing"),
    ("pospuesto", "wrong_timing"),
    ("aplazado", "wrong_timing"),
    ("rinviato", "wrong_timing"),
    ("uitgesteld", "wrong_timing"),
    ("budget", "no_budget"),
    ("competitor", "competitor"),
    ("wettbewerb", "competitor"),
    ("student", "student_intern"),
    ("intern", "student_intern"),
    ("praktikant", "student_intern"),
    ("size", "wrong_size"),
    ("small", "wrong_size"),
    ("groesse", "wrong_size"),
    ("größe", "wrong_size"),
    ("geograph", "wrong_geography"),
    ("country", "wrong_geography"),
    ("region", "wrong_geography"),
    ("title", "wrong_title"),
    ("role", "wrong_title"),
    ("position", "wrong_title"),
    ("decision maker", "wrong_title"),  # not the one who decides, in English, Spanish, Portuguese, German, French
    ("tomador de decis", "wrong_title"),
    ("decisor", "wrong_title"),
    ("entscheider", "wrong_title"),
    ("décideur", "wrong_title"),
    ("spam", "bad_data"),
    ("fake", "bad_data"),
    ("invalid", "bad_data"),
    ("bad data", "bad_data"),
    ("duplicate", "bad_data"),
    # the same reasons in Spanish, Portuguese, French, Italian, Dutch, Polish and Russian (Zoho's "Motivo da perda":
    # Duplicado; HubSpot's "Motivo de descalificación": Sin presupuesto, Datos falsos)
    ("presupuesto", "no_budget"),
    ("orçamento", "no_budget"),
    ("orcamento", "no_budget"),
    ("budżet", "no_budget"),
    ("бюджет", "no_budget"),
    ("competencia", "competitor"),
    ("concorrên", "competitor"),
    ("concorren", "competitor"),
    ("concurren", "competitor"),
    ("konkurenc", "competitor"),
    ("конкурент", "competitor"),
    ("estudiante", "student_intern"),
    ("estudante", "student_intern"),
    ("étudiant", "student_intern"),
    ("duplica", "bad_data"),
    ("doublon", "bad_data"),
    ("dublette", "bad_data"),
    ("dubbel", "bad_data"),
    ("duplikat", "bad_data"),
    ("дубл", "bad_data"),
    ("falso", "bad_data"),
    ("faux", "bad_data"),
    ("inválid", "bad_data"),
)


def _placeholders() -> frozenset[str]:
    return frozenset(normalize_value(token) for token in DEFAULT_PLACEHOLDERS)


def _present(series: pd.Series, placeholders: frozenset[str]) -> pd.Series:
    """The non-missing values as stripped text; placeholders ("N/A", "Select", ...) count as missing."""
    text = series.dropna().astype(str).str.strip()
    return text[~text.str.casefold().isin(placeholders)]


def _share(values: pd.Series, pattern: re.Pattern[str]) -> float:
    return float(values.str.fullmatch(pattern).mean()) if len(values) else 0.0


def _share_read_as_numbers(values: pd.Series) -> float:
    """The share of values the cleaning's number reader reads ("1.200", "ca. 50", "50-249", "> 1000", "€ 10k")."""
    distinct = values.unique()
    readable = {value for value in distinct if read_number(value) is not None}
    return float(values.isin(readable).mean()) if len(values) else 0.0


def _reads_as_numbers(values: pd.Series) -> bool:
    """Whether the cleaning reads every value as a number (so that check-export will, too)."""
    try:
        clean_column(values, "numeric", "inspect", [])
    except CleaningError:
        return False
    return True


# A person's record named before the field ("Контакт: Имя", "Contact - First Name", "Ansprechpartner: Nachname"):
# the field after it is the person's
_PERSON_RECORD_PREFIX = re.compile(
    r"^\s*(contact|kontakt|контакт|контактное лицо|person|persona|personne|lead|лид|client|клиент|customer|kunde|"
    r"cliente|contacto|contato|osoba|ansprechpartner|ansprechperson)\s*[:\-–/|]\s*",
    re.IGNORECASE,
)


def _infer_kind(column: str, values: pd.Series, distinct: int) -> Kind:
    name = to_snake_case(column)
    field_name = to_snake_case(_PERSON_RECORD_PREFIX.sub("", column))
    folded = values.str.casefold()
    if values.empty:
        return "empty"
    if _share(values, _EMAIL) >= 0.8:
        return "e-mail"
    if _PERSON_NAME.search(name) or _PERSON_NAME.search(field_name):
        return "person name"
    if _PHONE_NAME.search(name):
        return "phone"
    if _PERSONAL_DATA_NAME.search(name) and not _NOT_A_HOME_ADDRESS.search(name):
        return "personal data"
    if (personal := personal_values(column, values)) is not None:
        return personal[0]
    unique = distinct == len(values) and len(values) > 1
    if unique and (_names_or_holds_ids(column, values) or _counts_rows(values)):
        return "id-like"
    yes_no = (folded.isin(_BOOLEAN_TRUE | _BOOLEAN_FALSE) | folded.str.fullmatch(_ZERO_OR_ONE)).all()
    # "1.0" and "0.0" too: a flag a float column or a spreadsheet wrote; and several spellings mixed (Yes, Y,
    # TRUE, ja, Wahr: a form changed over the years) when both answers are there
    if yes_no and (distinct <= 2 or (folded.isin(_BOOLEAN_TRUE).any() and folded.isin(_BOOLEAN_FALSE).any())):
        return "boolean-like"
    # as the cleaning reads dates: ISO (also 2024/01/03), 01.03.2026, 03/01/2026, "5 Jan 2026", "3-Jan-24"
    dated = folded.str.fullmatch(ISO_DATE) | folded.str.fullmatch(DAY_MONTH_DATE)
    dated |= folded.str.fullmatch(MONTH_NAME_DATE)
    if dated.any() and _DATE_WORD_NAME.search(name):  # cells Excel kept as day numbers among text dates
        dated |= pd.to_numeric(values, errors="coerce").between(*EXCEL_SERIAL_RANGE)
    if len(values) and float(dated.mean()) >= 0.95:
        return "date"
    if _share(values, _PLAIN_NUMBER) == 1.0:
        if _DATE_WORD_NAME.search(name) and _day_numbers(values):
            return "date"  # "Created Date" as Excel day numbers (45123) or Unix times: a system's raw dates
        dotted = values[values.str.contains(".", regex=False)]
        thousands = len(dotted) > 0 and bool(dotted.str.fullmatch(_DOT_THOUSANDS).all())
        return "number-as-text" if thousands else "number"
    if _share_read_as_numbers(values) >= 0.95 and _reads_as_numbers(values):
        return "number-as-text"
    if unique and not values.str.contains(r"\s").any() and values.str.contains(r"\d").mean() >= 0.9:
        return "id-like"  # codes such as 00Q5g000001abcD or L-1042
    if _share(values, _WEB_ADDRESS) >= 0.8:
        return "web address"
    repeated = distinct < len(values) or len(values) < MAX_CATEGORIES  # small exports: every value may be rare
    # One word, however long, is a code (a landing page's or a rep's hashed id): a category, never prose. Codes
    # that repeat are categories by the hundred (Olist's 8,000 MQLs came through 495 landing pages): their
    # conversion rates carry the signal, where prose's many values do not.
    code = not values.str.contains(r"\s").any()
    short = code or values.str.len().mean() < LONG_TEXT_CHARS
    many_allowed = len(values) // (MIN_LEADS_PER_CODE if code else 20)
    if repeated and short and distinct <= max(MAX_CATEGORIES, many_allowed):
        return "category"
    # a picklist of long labels (HubSpot's "First Conversion": "Request a demo: Demo request form"): a few values,
    # each chosen by many leads, where prose hardly repeats
    prose = _PROSE_NAME.search(name)  # notes and descriptions stay text, however often a template repeats
    if distinct <= MAX_PICKLIST_LABELS and len(values) >= distinct * MIN_LEADS_PER_LABEL and not prose:
        return "category"
    return "free text"


def _counts_rows(values: pd.Series) -> bool:
    """Whether the values number the rows (0, 1, 2... or 1, 2, 3... by row position, as a file saved with its
    index has them, often under an empty header): an id, never a feature (it knows only the row's place)."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any() or not pd.api.types.is_integer_dtype(values.index):
        return False
    offsets = numbers.to_numpy(dtype=float) - values.index.to_numpy(dtype=float)
    return bool((offsets == offsets[0]).all())


def _day_numbers(values: pd.Series) -> bool:
    """Whether the values read as dates as the cleaning reads a date column's numbers: all Excel day numbers of
    1970-2099, or all Unix times of 2000-2099 in seconds or in milliseconds."""
    numbers = pd.to_numeric(values, errors="coerce")
    if not numbers.notna().all():
        return False
    low, high = UNIX_SECONDS_RANGE
    ranges = (EXCEL_SERIAL_RANGE, (low, high), (low * 1000, high * 1000))
    return any(bool(numbers.between(*bounds).all()) for bounds in ranges)


# A column is personal data by its values when this share of its filled rows are phone numbers (a "Work number"),
# or people's names under a name that speaks of a person (an owner's "Nadia Petrova" under "Salesperson"): two
# capitalised words are also a campaign ("Black Friday"), a plan or a country ("Royaume Uni").
MIN_PERSONAL_SHARE = 0.8
_PERSON_COLUMN_NAME = re.compile(
    r"(^|_)(person|persona|personne|owner|rep|salesperson|agent|user|assigned|assignee|responsible|responsable|"
    r"proprietaire|propietario|verantwortlich[a-z]*|zustaendig[a-z]*|manager|by|von|ansprechpartner|berater|"
    r"vendedor|vendeur|"
    # Dutch, Portuguese, Polish, Italian: Eigenaar, Accountmanager, Verantwoordelijke, Dono do lead, Responsável,
    # Opiekun, Handlowiec, Właściciel, Proprietario, Commerciale, Referente
    r"eigenaar|accountmanager|verantwoordelijke|verkoper|dono|responsavel|opiekun|handlowiec|wlasciciel|"
    r"proprietario|commerciale|venditore|referente|"
    # Swedish, Danish, Norwegian, Finnish, Czech, Turkish: Ansvarig säljare, Ejer, Eier, Myyjä, Obchodník, Sorumlu
    r"ansvarig|saeljare|ejer|eier|myyjae|vastuuhenkilo|obchodnik|vlastnik|sorumlu|temsilci[a-z]*|"
    # Russian: Ответственный, Менеджер, Владелец, Продавец
    r"otvetstvennyy|menedzher|vladelets|prodavets)(_|$)|besitzer|betreuer|bearbeiter"
)
_PHONE_VALUE = re.compile(r"\+?[\d\s()./-]{7,24}")  # digits and a phone's separators only (never a UUID's letters)


_IDENTIFYING_VALUES = frozenset(["profile", "bank account", "IP address"])  # whatever the column's name
# A street and house number, whatever the column's name: "Dorpsstraat 118", "Rua Augusta, 27", "ul. Długa 5",
# "Via Roma 12", "12 Main St, Apt 4", "Hauptstraße 5, 10115 Berlin", "Kerkstraat 12 bis". A street word (a Dutch or
# German one ends the name) and a house number that is no year ("Road Show 2024", "Marktplatz 2024" are events).
_STREET_WORD = (
    r"((straat|weg|laan|plein|gracht|kade|dijk|singel|straße|strasse|str|gasse|allee|platz|damm|ufer|"
    r"gatan|gata|v[äa]gen|gade|gate|veien|vei|katu|tie|sokak|soka[gğ][ıi]|caddesi)\b"
    r"|\b(rua|avenida|av|travessa|largo|ulica|ul|aleja|al|plac|via|viale|piazza|corso|vicolo|rue|avenue|chemin|bd|"
    r"calle|carrer|plaza|paseo|street|st|road|rd|ave|lane|ln|drive|boulevard|blvd|way|str|ул|улица|пр|проспект)\b)"
)
_HOUSE_NUMBER = r"(?!(19|20)\d\d\b)\d{1,5}\s?[a-z]?(\s*[-/]\s*\d+[a-z]?)?(\s+(bis|ter|[a-z]))?"
_STREET_ADDRESS = re.compile(
    rf"^(?=[^,]*{_STREET_WORD})"
    rf"([^\W\d_][\w .'/-]*?,?\s{_HOUSE_NUMBER}|\d{{1,5}}[a-z]?,?\s[^\W\d_][\w .'-]*?)(\s*,.*)?$",
    re.IGNORECASE,
)
MIN_DISTINCT_ADDRESSES = 20  # or half the rows that read so: people live apart, an event's name repeats


# A person's gender or salutation, whatever the column's name or language: a protected attribute (the German AGG's).
# A value is one where each of its words is such a word ("Herr Dr.", "De heer", "Sig.ra"); a column is one where
# nearly every row is, and three in five say a man or a woman: a "D/W/M" frequency (daily, weekly, monthly) mostly
# daily, a country column of "DE", a title of "Dr"/"Prof" say neither.
MALE_WORDS = frozenset(
    [
        "m",
        "male",
        "man",
        "men",
        "mann",
        "herr",
        "männlich",
        "mr",
        "dhr",
        "heer",
        "mannelijk",
        "masculino",
        "homem",
        "hombre",
        "sr",
        "senhor",
        "señor",
        "mężczyzna",
        "pan",
        "maschio",
        "uomo",
        "sig",
        "signor",
        "homme",
        "monsieur",
        "mister",
        "mand",
        "mies",
        "muž",
        "erkek",
        "bay",
        "hr",
        "мужской",
        "мужчина",
        "м",
        "г-н",
        "господин",
        "男性",
        "男",
    ]
)
FEMALE_WORDS = frozenset(
    [
        "f",
        "w",
        "female",
        "woman",
        "women",
        "frau",
        "weiblich",
        "mrs",
        "ms",
        "miss",
        "vrouw",
        "mevr",
        "mevrouw",
        "mw",
        "vrouwelijk",
        "feminino",
        "mulher",
        "mujer",
        "sra",
        "srta",
        "senhora",
        "señora",
        "dra",
        "kobieta",
        "pani",
        "femmina",
        "donna",
        "sig.ra",
        "sig.na",
        "signora",
        "femme",
        "madame",
        "mme",
        "mademoiselle",
        "mlle",
        "kvinna",
        "kvinde",
        "kvinne",
        "fru",
        "nainen",
        "žena",
        "paní",
        "kadın",
        "bayan",
        "женский",
        "женщина",
        "ж",
        "г-жа",
        "госпожа",
        "女性",
        "女",
    ]
)
_OTHER_GENDER_WORDS = frozenset(
    [
        "d",
        "x",
        "divers",
        "diverse",
        "other",
        "non-binary",
        "nonbinary",
        "mx",
        "de",
        "anders",
        "outro",
        "outra",
        "otro",
        "otra",
        "inna",
        "inne",
        "altro",
        "onbekend",
        "desconhecido",
        "desconocido",
        "nieznana",
        "nieznany",
        "sconosciuto",
        "okänt",
        "okänd",
        "ukendt",
        "ukjent",
        "tuntematon",
        "neznámé",
        "bilinmiyor",
        "неизвестно",
        "不明",
    ]
)
# A person's academic or honorific title, the words it is made of ("Dr.", "Prof. Dr.", "Dr. med.", "Mag.",
# "Dipl.-Ing.", "Ph.D.", "Ir.", "Drs.", "Dott.ssa", "Lic."): personal data beside the salutation, never a feature
ACADEMIC_TITLE_WORDS = frozenset(
    [
        *("dr", "prof", "professor", "profin", "priv", "doz", "univ", "habil", "hc", "em"),
        *("med", "dent", "vet", "rer", "nat", "phil", "jur", "oec", "pol", "pharm", "theol", "techn", "sc"),
        *("mag", "ing", "dipl", "kfm", "oek", "di", "ddr", "mmag"),  # German, Austrian: Mag., Dipl.-Ing., DI, DDr.
        *("phd", "dphil", "md", "mba", "msc", "bsc", "ma", "ba", "llm", "meng"),
        *("ir", "drs", "ing", "ingenieur"),  # Dutch and Belgian: Ir., Drs., Ing.
        *("dott", "dott.ssa", "dottore", "dottoressa", "avv", "arch", "geom"),  # Italian
        *("lic", "licenciado", "licenciada", "ingeniero", "ingeniera", "mgr", "inż", "doc"),  # Spanish, Polish, Czech
    ]
)
_DEGREE_WORDS = frozenset(["phd", "dphil", "md", "mba", "msc", "bsc", "ma", "ba", "llm", "meng", "em", "hc"])
_ADDRESSED_TITLE_WORDS = ACADEMIC_TITLE_WORDS - _DEGREE_WORDS
_OTHER_GENDER_WORDS = _OTHER_GENDER_WORDS | ACADEMIC_TITLE_WORDS  # "Herr Dr.", "Frau Prof.": still a salutation
MIN_GENDER_SHARE, MIN_MALE_OR_FEMALE_SHARE = 0.95, 0.6


def _gendered(value: str) -> str | None:
    """ "male", "female" or "other" where every word of ``value`` is a gender's or salutation's word, else None."""
    words = [word.strip(".,") for word in value.casefold().split()]
    if not words or not all(word in MALE_WORDS | FEMALE_WORDS | _OTHER_GENDER_WORDS for word in words):
        return None
    return "male" if set(words) & MALE_WORDS else "female" if set(words) & FEMALE_WORDS else "other"


def is_gender_or_salutation(values: pd.Series) -> bool:
    """Whether a column's values (filled rows) are a person's gender or salutation: two to twelve distinct values,
    nearly every row one (Man, Vrouw; M, F; Sr., Sra.; Herr, Frau; Dhr., Mw.), most a man's or a woman's."""
    counts = values.astype(str).str.strip().value_counts()
    if not 2 <= len(counts) <= 12:
        return False
    said = pd.Series([_gendered(value) for value in counts.index], index=counts.index)
    rows = float(counts.sum())
    known = float(counts[said.notna().to_numpy()].sum())
    either = float(counts[said.isin(["male", "female"]).to_numpy()].sum())
    return known >= MIN_GENDER_SHARE * rows and either >= MIN_MALE_OR_FEMALE_SHARE * rows and said.nunique() >= 2


def _is_academic_title(value: str) -> bool:
    """Whether every word of ``value`` is an academic title's ("Dr. med.", "Dipl.-Ing.", "Ph.D.", "Prof. Dr.")."""
    words = [word.strip(".") for word in re.split(r"[\s,/-]+", value.casefold()) if word.strip(".")]

    def known(word: str) -> bool:
        parts = [part for part in word.split(".") if part]  # "dr.med" -> dr, med; "ph.d" -> phd
        return (
            word in ACADEMIC_TITLE_WORDS
            or word.replace(".", "") in ACADEMIC_TITLE_WORDS
            or (len(parts) > 1 and all(part in ACADEMIC_TITLE_WORDS for part in parts))
        )

    return bool(words) and all(known(word) for word in words)


def is_academic_title(values: pd.Series) -> bool:
    """Whether a column's values (filled rows) are a person's academic titles: nearly every row one ("Dr.",
    "Prof.", "Dr. med.", "Mag.", "Dipl.-Ing."), a handful of distinct values; a job title's "Dr." among "Head of
    Sales" and "CEO" is none."""
    counts = values.astype(str).str.strip().value_counts()
    if counts.empty or len(counts) > 30:
        return False
    titled = pd.Series([_is_academic_title(value) for value in counts.index], index=counts.index)
    # a title one is addressed by (Dr., Prof., Mag.) for most: a column of degrees alone (BA, MSc, PhD, MBA) is an
    # education level, which a course provider's leads may honestly be scored by
    addressed = pd.Series([_addressed_by(value) for value in counts.index], index=counts.index)
    total = float(counts.sum())
    return (
        float(counts[titled.to_numpy()].sum()) >= MIN_GENDER_SHARE * total
        and float(counts[addressed.to_numpy()].sum()) >= 0.5 * total
    )


def _addressed_by(value: str) -> bool:
    """Whether ``value`` holds a title one is addressed by ("Dr.", "Prof.", "Mag.", "Dipl.-Ing."), not a degree
    alone ("MSc", "PhD")."""
    words = {part for word in re.split(r"[\s,/.-]+", value.casefold()) for part in [word.strip(".")] if part}
    return bool(words & _ADDRESSED_TITLE_WORDS)


# A company's legal form closing its name ("Verhoeven Bouw BV", "Müller GmbH & Co. KG", "Acme, Inc.", "Sp. z o.o."):
# a column whose names mostly end so holds companies' names, whatever its header ("Klant", "Kunde", "Customer")
_LEGAL_FORM = re.compile(
    r"[\s,](?:gmbh(?:\s*&\s*co\.?\s*kg)?|ag|kg|ohg|gbr|ug|e\.\s?k\.|se|ges\.?m\.?b\.?h\.?|b\.?v\.?|n\.?v\.?|bvba|bv\s?ba|"
    r"vof|comm\.?v|srl|s\.r\.l\.|sprl|sa|s\.a\.|sas|s\.a\.s\.|sarl|s\.a\.r\.l\.|s\.?p\.?a\.?|s\.?l\.?|s\.?l\.?u\.?|"
    r"ltda\.?|lda\.?|ltd\.?|limited|llc|l\.l\.c\.|inc\.?|incorporated|corp\.?|corporation|plc|llp|"
    r"eireli|epp|mei|s/a|"
    r"oy|oyj|ab|as|a/s|asa|aps|a\.s\.|s\.r\.o\.|sp\.\s?z\s?o\.\s?o\.?|kft\.?|zrt\.?|pty\.?(?:\s+ltd\.?)?|a\.?ş\.?)$",
    re.IGNORECASE,
)
_QUANTITY_BEFORE_LEGAL_FORM = re.compile(r"[\d\s.,]+\S+", re.IGNORECASE)
MIN_LEGAL_FORM_SHARE = 0.6  # of a column's filled rows: names with a legal form; the rest are names without one
MIN_LEGAL_FORM_NAMES = 5  # distinct names with a legal form: one "Acme GmbH" among picklist values is no column


def holds_company_names(values: pd.Series) -> bool:
    """Whether most of a column's filled values are companies' names, read by the legal form they end in ("GmbH",
    "BV", "NV", "BVBA", "SA", "SRL", "S.p.A.", "Ltd", "LLC", "Inc", "Oy", "AB", "Sp. z o.o.")."""
    counts = values.astype(str).str.strip().value_counts().head(500)  # the common names decide, as for job titles
    if counts.empty:
        return False
    # a name before the legal form, not a quantity ("5 kg", "500 AG" are no companies)
    formal = counts.index.str.contains(_LEGAL_FORM) & ~counts.index.str.fullmatch(_QUANTITY_BEFORE_LEGAL_FORM)
    return int(formal.sum()) >= MIN_LEGAL_FORM_NAMES and float(counts[formal].sum()) >= MIN_LEGAL_FORM_SHARE * float(
        counts.sum()
    )


def personal_values(column: str, values: pd.Series, sample: int = 200) -> tuple[Kind, float] | None:
    """The kind (phone, personal data: profiles, bank accounts, IP addresses; or person name) most of a column's
    values look like, and the share of its filled rows, or None. Read from its ``sample`` most frequent values."""
    if values.empty:
        return None
    counts = values.value_counts().head(sample)
    text = counts.index.astype(str)
    phones = text.str.fullmatch(_PHONE_VALUE) & text.map(lambda value: personal_kind(value) == "phone number")
    if (share := float(counts[phones].sum() / counts.sum())) >= MIN_PERSONAL_SHARE:
        return "phone", share
    # a person's profile (LinkedIn, XING), bank account or IP address whatever the column's name: unique, it
    # would otherwise be proposed as the lead id and key the scores and the scoring log
    identifying = text.map(lambda value: personal_kind(value, names=False) in _IDENTIFYING_VALUES)
    addresses = text.str.fullmatch(_STREET_ADDRESS)  # where the person lives, at many addresses
    if addresses.sum() >= min(MIN_DISTINCT_ADDRESSES, counts[addresses].sum() / 2):
        identifying |= addresses
    # an e-mail address inside a longer value (HubSpot's "Associated Contact": "Jane Smith (jane@acme.com)"; a column
    # of whole addresses is the e-mail column), where they vary as people do: a shared mailbox ("Web form
    # (sales@acme.com)") is no one's
    mailed = text.map(lambda value: _EMAIL.search(value) is not None).to_numpy(dtype=bool)
    mailboxes = len({found.group().casefold() for value in text[mailed] if (found := _EMAIL.search(value))})
    if mailboxes >= min(MIN_DISTINCT_ADDRESSES, counts[mailed].sum() / 2):
        identifying |= mailed
    if (share := float(counts[identifying].sum() / counts.sum())) >= MIN_PERSONAL_SHARE:
        return "personal data", share
    if not _PERSON_COLUMN_NAME.search(to_snake_case(column)):
        return None
    names = text.map(lambda value: personal_kind(value) == "name")
    if (share := float(counts[names].sum() / counts.sum())) >= MIN_PERSONAL_SHARE:
        return "person name", share
    return None


def _redact(value: str, kind: Kind) -> str:
    if kind == "person name":
        return " ".join(f"{word[:1]}***" for word in value.split())
    if kind == "phone":
        return f"{value[:3]}***"
    if kind == "personal data":
        return "***"
    # E-mail addresses anywhere (an e-mail column, or one inside a description): keep the first letter and domain.
    shown = _EMAIL.sub(lambda m: f"{m.group()[:1]}***@{m.group().split('@', 1)[1]}", value)
    if shown == value and personal_kind(value) is not None:  # a phone, IBAN, profile or name inside a note
        return "***"
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _redacted(counts: pd.Series, kind: Kind, limit: int) -> list[str]:
    """The ``limit`` most frequent values of ``counts`` (value counts) as shown, personal data redacted. A value
    many leads hold (``PICKLIST_REPEATS`` or more) in a column whose values are mostly no person's names is the
    column's vocabulary, shown whole though it reads like a name ("Do Not Contact", "Changed Job" in a Stage); a
    name one lead holds, an e-mail address or a phone number never is."""
    text = counts.index.astype(str)
    names = text.map(lambda value: personal_kind(value) == "name")
    vocabulary = float(counts[names].sum()) < MIN_PERSONAL_SHARE * float(counts.sum()) if len(counts) else False
    shown = []
    for value, count, name in zip(text[:limit], counts.to_numpy()[:limit], names[:limit], strict=True):
        redacted = _redact(value, kind)
        whole = vocabulary and name and count >= PICKLIST_REPEATS and kind in ("category", "boolean-like")
        shown.append(value if whole and not _EMAIL.search(value) else redacted)
    return shown


def profile_export(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: column, dtype (as read), kind, missing_share, cardinality, examples (PII redacted).

    Placeholders such as "", "N/A", "Select" or "--None--" count as missing.
    """
    placeholders = _placeholders()
    rows = []
    for column in frame.columns:
        values = _present(frame[column], placeholders)
        counts = values.value_counts()
        sample = values.sample(KIND_SAMPLE, random_state=0) if len(values) > KIND_SAMPLE else values
        kind = _infer_kind(str(column), sample, sample.nunique())
        rows.append(
            {
                "column": str(column),
                "dtype": str(frame[column].dtype),
                "kind": kind,
                "missing_share": 1 - len(values) / len(frame) if len(frame) else 1.0,
                "cardinality": len(counts),
                "examples": tuple(_redacted(counts, kind, 3)),
            }
        )
    return pd.DataFrame(rows, columns=["column", "dtype", "kind", "missing_share", "cardinality", "examples"])


def _match_words(value: str, words: tuple[tuple[str, str], ...]) -> str | None:
    token = normalize_value(value).replace("_", " ")  # HubSpot's internal values: IN_PROGRESS, BAD_TIMING
    return next((target for word, target in words if word in token), None)


def outcome_of_value(value: str) -> Literal["won", "lost"] | None:
    """How a value reads as an outcome: "1", "yes", "Closed Won", "gewonnen" won; "Not Converted", "verloren",
    "Nicht qualifiziert", "Not interested" lost.

    None for values that say neither ("Negotiation", "Open - Not Contacted"): open, or not an outcome at all.
    """
    token = normalize_value(value)
    zero_or_one = _ZERO_OR_ONE.fullmatch(token)
    if token in _WON or (zero_or_one and zero_or_one.group(1) == "1"):
        return "won"
    if token in _LOST or (zero_or_one and zero_or_one.group(1) == "0"):
        return "lost"
    if _BOOKED_MEETING.search(token):
        return None  # "Meeting booked", "Termin gebucht": a step on the way, open
    negated = bool(_NEGATION_WORD.search(token))
    if negated and _NOT_YET.search(token) and not _LOST_WORD.search(token):
        return None
    if _LOST_WORD.search(token) or (negated and _WON_WORD.search(token)) or _NEGATED_QUALIFIED.search(token):
        return "lost"
    return "won" if _WON_WORD.search(token) else None


@dataclass(frozen=True)
class OutcomeCandidate:
    """A column that can be read as the outcome, how it reads, and how sure the reading is.

    ``reading``: "yes/no" (every value won or lost), "ticked" (only the wins are marked, "Yes" or "x"; the rest
    empty), "stage" (some values won or lost, the rest ``open``), "amount" (numbers: won when > 0, an assumption
    the user must confirm), "win date" (a date column: won when it has a date, mapped as ``won_at``).
    """

    column: str
    spec: ColumnSpec
    reading: Literal["yes/no", "ticked", "stage", "amount", "win date"]
    open: tuple[str, ...] = ()


def _is_amount(values: pd.Series) -> bool:
    return bool(len(values)) and bool(values.str.fullmatch(_AMOUNT).all())


def read_outcome(
    column: str,
    values: pd.Series,
    kind: str,
    wins_only: bool = False,
    some_empty: bool = False,
    named_like_outcome: bool = False,
) -> OutcomeCandidate | None:
    """The column read as an outcome from its values (placeholders removed), or None when it cannot be.

    Numbers are read as yes/no only when they are 0 and 1, as an amount when they are 0 and positive amounts.
    With ``wins_only`` (an outcome the user named), values that say who won and none who lost (a lifecycle stage:
    "Customer" among "Lead", "Opportunity"...; a box ticked "Y" for wins, empty otherwise) read as ``lost: []``:
    the rest lost once the label horizon has passed (``created_at`` needed). ``some_empty``: the column is empty
    on some rows (``values`` holds the others). ``named_like_outcome`` (a "Status"), as ``wins_only``: the won
    counterpart of a lost "Disqualified" is "Qualified".
    """
    observed = sorted(set(values.str.strip()))
    if kind in ("number", "number-as-text") and not all(_ZERO_OR_ONE.fullmatch(normalize_value(v)) for v in observed):
        zero = [v for v in observed if not re.search(r"[1-9]", v)]
        if not _is_amount(values) or not zero or len(zero) == len(observed):
            return None
        won = [v for v in observed if v not in zero]
        return OutcomeCandidate(column, ColumnSpec(role="outcome", won=won, lost=zero), "amount")
    read = {value: outcome_of_value(value) for value in observed}
    if some_empty and len(observed) == 1 and normalize_value(observed[0]) in _CHECK_MARKS:
        read[observed[0]] = "won"  # a tick ("x", "✓") in a column named like an outcome
    won = [v for v, outcome in read.items() if outcome == "won"]
    lost = [v for v, outcome in read.items() if outcome == "lost"]
    still_open = tuple(v for v, outcome in read.items() if outcome is None)
    if (wins_only or named_like_outcome) and lost and not won:
        # the user named it: the won counterpart of a lost "Disqualified"/"Unqualified" is "Qualified" (a Dynamics
        # lead's Status: Open, Qualified, Disqualified; the lead became an opportunity), and of a negated value its
        # bare self: "Interested" beside "Not Interested" (an Apollo contact's Stage), "Qualified" beside "Not
        # Qualified"
        counterparts = {_counterpart(value) for value in lost}
        won = [value for value in still_open if normalize_value(value) in counterparts]
        # ... and without one, a bare qualification (Dynamics 365's Status Reason: New, Contacted, Qualified, Lost,
        # Canceled: a qualified lead became an opportunity)
        won = won or [value for value in still_open if _QUALIFIED_ALONE.fullmatch(normalize_value(value))]
        still_open = tuple(value for value in still_open if value not in won)
    if won and not lost and not still_open and some_empty:
        return OutcomeCandidate(column, ColumnSpec(role="outcome", won=won, lost=[]), "ticked")
    excluded = [value for value in still_open if _DELETED_VALUE.fullmatch(normalize_value(value))] or None
    still_open = tuple(value for value in still_open if value not in (excluded or ()))
    untouched = [value for value in still_open if _UNTOUCHED_VALUE.search(normalize_value(value))] or None
    recycled = [value for value in still_open if _match_words(value, _STAGE_WORDS) == "recycled"] or None
    if wins_only and won and not lost and still_open:
        spec = ColumnSpec(role="outcome", won=won, lost=[], untouched=untouched, recycled=recycled, excluded=excluded)
        return OutcomeCandidate(column, spec, "stage", still_open)
    if not won or not lost:
        return None
    spec = ColumnSpec(role="outcome", won=won, lost=lost, untouched=untouched, recycled=recycled, excluded=excluded)
    return OutcomeCandidate(column, spec, "stage" if still_open else "yes/no", still_open)


def _says_won_and_lost_in_words(spec: ColumnSpec) -> bool:
    """Whether an outcome reading has a won and a lost value that are words, not a bare yes or no (a country's "SI"
    and "NO", a language's "da" and "ne" read as yes/no)."""
    yes_no = TRUE_WORDS | FALSE_WORDS
    return any(normalize_value(v) not in yes_no for v in spec.won or ()) and any(
        normalize_value(v) not in yes_no for v in spec.lost or ()
    )


def _counterpart(lost: str) -> str:
    """The normalised value a lost value negates: "qualified" for "Disqualified", "Unqualified", "Not Qualified" or
    "Nicht qualifiziert"'s "qualifiziert", "interested" for "Not Interested"; else the value itself."""
    token = normalize_value(lost)
    return _LEADING_NEGATION.sub("", _DISQUALIFIED.sub("", token))


def _outcome_name_tier(name: str) -> int:
    """0: an outcome's name ("converted", "deal_stage"), 1: a name with an outcome's word ("Lead Status"), 2: none."""
    return 0 if name in _OUTCOME_NAMES else 1 if _OUTCOME_WORD_NAME.search(name) else 2


def _outcome_rank(candidate: OutcomeCandidate, position: int, labelled: int = 0) -> tuple[int, int, int, int, int]:
    """Sort key, best first: named like an outcome, then yes/no before stage before amount, then the one that labels
    more leads (``labelled``, :func:`_labelled_leads`), then rightmost. A record's prefix ("Deal - Demo requested")
    names no outcome."""
    name = to_snake_case(RECORD_PREFIX.sub("", candidate.column))
    exact = _OUTCOME_NAMES.index(name) if name in _OUTCOME_NAMES else len(_OUTCOME_NAMES)
    tier = _outcome_name_tier(name)
    reading = ("yes/no", "ticked", "stage", "amount", "win date").index(candidate.reading)
    return tier, exact, reading, -labelled, -position


def _labelled_leads(candidate: OutcomeCandidate, values: pd.Series, rows: int, dated: bool) -> int:
    """How many of the export's ``rows`` leads the candidate labels (``values``: its cells, placeholders removed).

    Its won and lost values; open ones too where nearly every lead has a creation date (they age into lost by the
    label horizon); an empty cell never (unlabelled). A box ticked only for wins labels every lead (the rest lost
    by the horizon, or ``blank: lost``). A lead's own status beside its opportunity's, empty where it never got one
    (Close's "status_label" and "primary_opportunity_status"): the lead's labels more leads.
    """
    if candidate.spec.lost == []:
        return rows
    if dated:
        return len(values)
    return int(values.str.strip().map(candidate.spec.outcome_reader()).notna().sum())


# A yes/no flag of a product's use ("Is Active", "Integrations", "Project"): what the lead does, no outcome, though
# these words alone do not make a column engagement ("Number of Active Users" is fit)
_IN_USE_NAME = re.compile(
    r"(?:^|_)(?:is_)?(?:in)?active(?:_|$)|(?:^|_)(?:projects?|integrations?)(?:_|$)|"
    # Odoo's archive flag in Spanish, French, German, Italian, Portuguese, Dutch: Activo, Actif, Aktiv, Attivo, Ativo
    r"(?:^|_)(?:in)?(?:activo|activa|actif|active|aktiv|attivo|ativo|actief)(?:_|$)"
)


def outcome_candidates(
    kinds: Mapping[str, str], present: Mapping[str, pd.Series], rows: int, dated: bool = False
) -> list[OutcomeCandidate]:
    """Columns that can be the outcome, best first (see :func:`_outcome_rank`); ``kinds`` by column, ``rows`` the
    export's, ``dated``: nearly every lead has a creation date (:func:`_labelled_leads`).

    Unnamed columns count only when every value reads as won or lost, and not when named like a consent, an
    objection or engagement ("Newsletter", "Do Not Email": features); amounts only under an amount's name.
    """
    ranked = []
    for position, column in enumerate(kinds):
        if kinds[column] not in ("boolean-like", "category", "number", "number-as-text"):
            continue
        some_empty = len(present[column]) < rows
        named_so = _outcome_name_tier(to_snake_case(RECORD_PREFIX.sub("", column))) < 2
        candidate = read_outcome(column, present[column], kinds[column], False, some_empty, named_so)
        if candidate is None:
            continue
        key = _outcome_rank(candidate, position, _labelled_leads(candidate, present[column], rows, dated))
        name = to_snake_case(column)
        if candidate.reading == "amount" and name not in _AMOUNT_NAMES:
            continue
        if is_outreach(column):
            continue  # "Email Sent", "Replied", "Demoed": outreach done to the lead, whichever leads sales reached
        unnamed = key[0] == 2
        feature_like = (
            is_consent(column, kinds[column])
            or is_objection(column)
            or guess_group(column) == "engagement"
            or bool(_IN_USE_NAME.search(name))
        )
        # a pipeline under a name of no language leadq knows still says its wins and losses in its values
        # ("Etap transakcji": Nowy, Oferta, Wygrana, Przegrana): a stage holding both a won and a lost word counts
        says_both = candidate.reading == "stage" and _says_won_and_lost_in_words(candidate.spec)
        if unnamed and ((candidate.reading != "yes/no" and not says_both) or feature_like):
            continue
        ranked.append((key, candidate))
    return [candidate for _, candidate in sorted(ranked, key=lambda pair: pair[0])]


def wins_only_candidates(
    kinds: Mapping[str, str], present: Mapping[str, pd.Series], id_column: str | None = None
) -> list[OutcomeCandidate]:
    """Where no column reads as won and lost: the categories named like an outcome whose values say who won and
    none who lost ("Stage": New, Qualified, Proposition, Won: Odoo's pipeline, where a lost opportunity is archived
    and keeps its stage), read as ``lost: []`` (the rest lost once the label horizon has passed), best first."""
    ranked = []
    for position, column in enumerate(kinds):
        if column == id_column or kinds[column] != "category":
            continue
        if _outcome_name_tier(to_snake_case(RECORD_PREFIX.sub("", column))) == 2:
            continue
        candidate = read_outcome(column, present[column], kinds[column], wins_only=True)
        if candidate is not None and candidate.spec.lost == [] and candidate.reading == "stage":
            ranked.append((_outcome_rank(candidate, position), candidate))
    return [candidate for _, candidate in sorted(ranked, key=lambda pair: pair[0])]


def _stage_spec(values: pd.Series) -> ColumnSpec | None:
    mapped = {value: _match_words(value, _STAGE_WORDS) for value in sorted(set(values.str.strip()))}
    if "mql" in mapped.values():
        # a status beside the outcome that says which leads are new (Teamleader's "Fase": Nieuw ... Gewonnen):
        # its won values are final, the outcome's to say, and need no leadq stage; the rest must still be placed
        mapped = {value: stage for value, stage in mapped.items() if stage or outcome_of_value(value) != "won"}
    if not mapped or None in mapped.values():
        return None  # a value we cannot place: after_contact is the safe proposal
    return ColumnSpec(role="stage", values={k: v for k, v in mapped.items() if v})


MIN_ENTRY_STAGE_LEADS = 20  # open leads with a creation date that the entry stage must hold
MIN_STAGE_VALUES = 3  # a pipeline has steps; two values are a state ("Active"/"Inactive"), not where leads land
YOUNGEST_OPEN_SHARE = 0.1  # of the open leads with a creation date: the youngest, most of whom are untouched
MAX_ENTRY_STAGE_P_VALUE = 0.001  # its open leads younger than the other open leads, one-sided Mann-Whitney ...
MIN_ENTRY_STAGE_YOUTH = 0.6  # ... and by this much: of a pair of open leads, one its and one not, its is younger


@dataclass(frozen=True)
class EntryStage:
    """The value of a stage column where new leads land, read from the data, and what says so."""

    value: str
    youngest: int  # of the youngest open leads, how many hold it or a value the words call untouched
    of_youngest: int
    open_leads: int  # open leads that hold it


def entry_stage(
    stages: pd.Series, open_leads: pd.Series, created: pd.Series, untouched: Collection[str] = ()
) -> EntryStage | None:
    """Where new leads land in a stage column no word reads ("Prospect qualifié", "Lead In": a Pipedrive pipeline's
    first stage is named by its users), read from the leads still open: the value most of the youngest open leads
    hold (the youngest ``YOUNGEST_OPEN_SHARE``), which together with the values the words already call untouched
    (``untouched``: HubSpot's "marketingqualifiedlead") holds more than half of them, and whose open leads are
    younger than the others' (one-sided Mann-Whitney, ``MAX_ENTRY_STAGE_P_VALUE``, ``MIN_ENTRY_STAGE_YOUTH``).

    ``stages``, ``open_leads`` (whether the outcome is still open) and ``created`` (creation dates) are per lead, on
    one index. None where the open leads' ages tell no such value: too few, or the youngest spread over the stages
    as the older ones are (a lead moves on within days; later stages fill with older leads).
    """
    if stages.nunique() < MIN_STAGE_VALUES:
        return None
    dated = created.notna() & open_leads.eq(True)
    ages = created[dated].astype("int64")
    if stages[dated][ages >= ages.quantile(1 - YOUNGEST_OPEN_SHARE)].isna().mean() > 0.5:
        return None  # most new leads have no value here (an opportunity's status, empty until there is one)
    at = stages[dated].dropna().astype(str).str.strip()
    if len(at) < 2 * MIN_ENTRY_STAGE_LEADS:
        return None
    times = created[at.index].astype("int64")
    youngest = at[times >= times.quantile(1 - YOUNGEST_OPEN_SHARE)]
    counts = youngest[~youngest.isin(untouched)].value_counts()
    if counts.empty or (len(counts) > 1 and counts.iloc[0] == counts.iloc[1]):
        return None  # no one value leads
    value = str(counts.index[0])
    held = int(youngest.isin([value, *untouched]).sum())
    holding = at.eq(value)
    if 2 * held <= len(youngest) or holding.sum() < MIN_ENTRY_STAGE_LEADS or holding.all():
        return None
    test = mannwhitneyu(times[holding], times[~holding], alternative="greater")
    youth = float(test.statistic) / (int(holding.sum()) * int((~holding).sum()))
    if float(test.pvalue) > MAX_ENTRY_STAGE_P_VALUE or youth < MIN_ENTRY_STAGE_YOUTH:
        return None
    return EntryStage(value, held, len(youngest), int(holding.sum()))


def _may_be_the_entry(value: str, beside_new: bool = False) -> bool:
    """Whether the vocabulary lets a value be where new leads land: it says nothing of it, or it says new, or
    qualified where no value says new (Pipedrive's first stage is "Qualified"; beside a "New", "Gekwalificeerd"
    holds leads sales has worked), never contacted, a proposal or closed."""
    token = normalize_value(value)
    placed = _match_words(value, _STAGE_WORDS)
    qualified = placed == "sql" and ("qualifi" in token or bool(_QUALIFIED_ALONE.search(token)))  # not "Disqualified"
    return placed in (None, "mql") or (qualified and not beside_new)


def _entry_stage_spec(
    values: pd.Series, outcome: OutcomeCandidate, outcome_values: pd.Series, created: pd.Series
) -> tuple[ColumnSpec, str] | None:
    """A stage column beside the outcome whose words say no lead is new, as a stage: its entry value
    (:func:`entry_stage`) ``mql``, the values the vocabulary places as it places them, the rest unmapped; and the
    review saying so. None where no value reads as the entry, or the vocabulary calls it touched ("Attempted to
    contact": sal, "Proposal Sent": sql) or closed. ``values`` and ``outcome_values``: placeholders removed, indexed
    as ``created``'s rows."""
    placed = {value: _match_words(value, _STAGE_WORDS) for value in sorted(set(values))}
    final = {value for value in placed if outcome.spec.outcome_of(value) or outcome_of_value(value)}  # the outcome's
    open_leads = outcome_values.reindex(created.index).map(outcome.spec.outcome_reader(), na_action="ignore").isna()
    if outcome.spec.blank == "lost":
        open_leads &= outcome_values.reindex(created.index).notna()
    untouched = [value for value, stage in placed.items() if stage == "mql"]
    entry = entry_stage(values.reindex(created.index), open_leads, created, untouched)
    if entry is None or not _may_be_the_entry(entry.value, beside_new=bool(untouched)):
        return None
    kept = {value: stage for value, stage in placed.items() if stage and value != entry.value and value not in final}
    review = (
        f"review: a stage, if new leads land in '{entry.value}' ({entry.youngest:,} of the {entry.of_youngest:,} "
        f"youngest open leads are there or in a stage the words call new; its {entry.open_leads:,} open leads are "
        "younger than the other stages'): its open leads are then the untouched ones the check of columns sales "
        "fills in compares against; if sales has touched them there, map the stage they land in as mql; map the "
        "other values to sal, sql, rejected or recycled where they say so"
    )
    return ColumnSpec(role="stage", values={entry.value: "mql", **kept}), review


def _stage_from_the_data(
    frame: pd.DataFrame,
    kinds: Mapping[str, str],
    names: Mapping[str, str],
    specs: Mapping[str, ColumnSpec],
    outcome: OutcomeCandidate,
) -> tuple[str, ColumnSpec, str] | None:
    """The first column named like a stage, proposed after_contact beside the outcome, whose entry value the data
    tells (:func:`_entry_stage_spec`), with its spec and review; None without one or without creation dates."""
    created = _proposed_dates(frame, specs, "created_at")
    if created is None or outcome.reading in ("win date", "amount"):
        return None
    placeholders = _placeholders()
    for column, spec in specs.items():
        if column == outcome.column or spec.role != "after_contact" or kinds[column] != "category":
            continue
        if not _STAGE_NAME.search(names[column]):
            continue
        values = _present(frame[column].reset_index(drop=True), placeholders)
        outcome_values = _present(frame[outcome.column].reset_index(drop=True), placeholders)
        if (found := _entry_stage_spec(values, outcome, outcome_values, created)) is not None:
            return column, *found
    return None


def _outcomes_entry_value(
    frame: pd.DataFrame, specs: Mapping[str, ColumnSpec], outcome: OutcomeCandidate
) -> str | None:
    """The open value of the outcome column itself where new leads land (:func:`entry_stage`), for an outcome that
    is its own pipeline (a Salesforce report's Phase: Akquise ... Geschlossen und gewonnen; HubSpot's Deal Stage:
    appointmentscheduled ... closedwon) and no word names its untouched value; None without one or without creation
    dates."""
    created = _proposed_dates(frame, specs, "created_at")
    if created is None or outcome.spec.untouched or not outcome.open or outcome.reading != "stage":
        return None
    values = _present(frame[outcome.column].reset_index(drop=True), _placeholders()).reindex(created.index)
    open_leads = values.map(outcome.spec.outcome_reader(), na_action="ignore").isna() & values.notna()
    entry = entry_stage(values, open_leads, created)
    return entry.value if entry is not None and _may_be_the_entry(entry.value) else None


def _reason_spec(values: pd.Series) -> ColumnSpec:
    """The reason sales gave, its values read by the reason words; ``after_contact`` where no value reads as one
    (Salesforce's "EmailBouncedReason" is a mail server's, and would take the role from the rep's reason beside it)."""
    mapped = {value: _match_words(value, _REASON_WORDS) for value in sorted(set(values.str.strip()))}
    read = {k: v for k, v in mapped.items() if v}
    return ColumnSpec(role="reason", values=read) if read else ColumnSpec(role="after_contact")


def _looks_like_titles(values: pd.Series) -> bool:
    """Whether most values (by rows) read as job titles: the vocabulary finds a seniority or a function."""
    counts = values.value_counts().head(500)  # the common spellings decide; a long tail changes little
    if counts.empty:
        return False
    known = [classify_title(str(value)) != (OTHER, OTHER) for value in counts.index]
    return float(counts[known].sum()) / float(counts.sum()) >= MIN_TITLE_SHARE


def _is_job_title(name: str, kind: str, values: pd.Series) -> bool:
    if kind not in ("category", "free text"):
        return False
    if _JOB_TITLE_NAME.search(name):
        return True
    return bool(_MAYBE_JOB_TITLE_NAME.search(name)) and _looks_like_titles(values)


def _is_count(name: str, kind: str, values: pd.Series) -> bool:
    if kind not in ("number", "number-as-text") or not _COUNT_NAME.search(name) or _RATE_NAME.search(name):
        return False
    return bool(values.str.fullmatch(_WHOLE_NUMBER).all())


def _is_code(name: str, kind: str, values: pd.Series, rows: int) -> bool:
    if kind not in ("number", "number-as-text") or not _CODE_NAME.search(name):
        return False
    repeated = values.nunique() <= max(MAX_CATEGORIES, rows // MIN_LEADS_PER_CODE)
    return repeated and bool(values.str.fullmatch(_CODE_NUMBER).all())


MAX_RANGE_CHOICES = 12  # a form's picklist of ranges ("1-10", "11-50", "51-200", "> 1000") has a handful


def _is_picklist_of_ranges(kind: str, values: pd.Series) -> bool:
    """A form's answer among a few ranges, every value one ("51-200", "< 1 Year", "10000+") but at most one single
    number among several ranges (LinkedIn's "1 employee" beside "2-10 employees"): a category shown as answered, not
    the midpoint a number would read ("Company size: 126" for "51-200", "30.5 employees" for "11-50 employees")."""
    if kind != "number-as-text" or values.nunique() > MAX_RANGE_CHOICES:
        return False
    readings = [read_number(value) for value in values.unique()]
    ranged = sum(isinstance(reading, NumberReading) and reading.kind in ("range", "bound") for reading in readings)
    return ranged == len(readings) or (ranged >= 3 and ranged == len(readings) - 1)


# A feature column filled in fewer rows than this, and in under 1% of them, is ignored: no leaf of the model can
# stand for so few leads (at least 20, models.pipeline), and CRMs carry hundreds of custom fields hardly used
MIN_FILLED_LEADS = 20
MIN_FILLED_SHARE = 0.01


def _too_sparse(values: pd.Series, rows: int) -> bool:
    return len(values) < MIN_FILLED_LEADS and len(values) < MIN_FILLED_SHARE * rows


# A multi-select picklist ("ERP; CRM; BI", Mailchimp's tags "Webinar 2024, Customer"): this share of its filled cells
# or more lists two options or more, cells list different numbers of options (at least two numbers, each in
# MIN_COUNT_SHARE of the cells), its options (each in MIN_FILLED_LEADS rows or more) are at most MAX_OPTIONS and
# cover nearly every option chosen, and the cells combine them in more ways than there are options (by a comma, two
# options or more at different places too). A category whose values hold a comma ("Retail, Wholesale"), a place
# ("Austin, TX"), a name ("Meier, Anna") or a template's sentence ("price list for plan 3, team of 12": always two
# parts) is none.
MIN_MULTI_SHARE = 0.1
MIN_COUNT_SHARE = 0.05
MAX_OPTIONS = 40
MIN_OPTIONS_COVERED = 0.9
MAX_VALUES_SPLIT = 5_000  # the most frequent distinct cells decide


def multi_select_options(values: pd.Series) -> tuple[str, list[str]] | None:
    """A multi-select picklist's separator and its options, most chosen first, as the export spells them most
    often; None where the column is no such picklist. ``values``: the column's filled cells."""
    counts = values.value_counts().head(MAX_VALUES_SPLIT)
    filled, missing = int(counts.sum()), _placeholders()
    for separator in OPTION_SEPARATORS:
        listing = counts.index.str.contains(separator, regex=False)
        if not filled or counts[listing].sum() < MIN_MULTI_SHARE * filled:
            continue
        chosen: dict[str, int] = {}
        spellings: dict[str, dict[str, int]] = {}
        combinations: set[frozenset[str]] = set()
        cells_listing: dict[int, int] = {}  # number of options -> cells
        places: dict[str, set[int]] = {}  # option -> where it stands in cells listing several
        for value, count in counts.items():
            listed = [" ".join(item.split()) for item in str(value).split(separator)]
            items = list(dict.fromkeys(item for item in listed if normalize_value(item) not in missing))
            combinations.add(frozenset(item.casefold() for item in items))
            cells_listing[len(items)] = cells_listing.get(len(items), 0) + int(count)
            for place, item in enumerate(items if len(items) > 1 else ()):
                places.setdefault(item.casefold(), set()).add(place)
            for item in items:
                key = item.casefold()
                chosen[key] = chosen.get(key, 0) + int(count)
                spellings.setdefault(key, {})[item] = spellings.get(key, {}).get(item, 0) + int(count)
        often = max(MIN_FILLED_LEADS, MIN_FILLED_SHARE * filled)
        options = sorted((key for key, count in chosen.items() if count >= often), key=lambda key: -chosen[key])
        covered = sum(chosen[key] for key in options) / max(1, sum(chosen.values()))
        varied = sum(cells >= MIN_COUNT_SHARE * filled for cells in cells_listing.values()) >= 2
        combined = len(combinations) > len(chosen)
        # a comma also parts one choice's words ("Retail, Wholesale") or a place's ("Austin, TX"): options combined
        # freely stand at different places (shuffled, or sorted among others), a city always before its state
        moving = separator != "," or sum(len(at) > 1 for at in places.values()) >= 2
        if varied and combined and moving and 2 <= len(options) <= MAX_OPTIONS and covered >= MIN_OPTIONS_COVERED:
            return separator, [max(spellings[key], key=lambda item: spellings[key][item]) for key in options]
    return None


# A column the CRM keeps for its own bookkeeping: a checksum or hash of the record, Dynamics 365's "(Do Not Modify)"
# fields for re-import (the lead's GUID among them is read as the id before this)
_SYSTEM_NAME = re.compile(r"(^|_)(row_)?(checksum|hash|etag)$|^do_not_modify_")

MIN_RECORD_NUMBERS = 100  # filled values a column needs before its distinct share says it numbers records


def _is_record_number(name: str, values: pd.Series) -> bool:
    """A second id or record counter ("Lead Number" beside "Prospect ID"): named like an id, its values nearly all
    different. Unique, it is profiled as id-like already; rows exported twice repeat it, and it read as a number
    (the counter's order, learnt as a feature)."""
    many = len(values) >= MIN_RECORD_NUMBERS
    return many and bool(_ID_NAME.search(name)) and values.nunique() >= MIN_ID_DISTINCT_SHARE * len(values)


# A company's (or a sole trader's) number in a register or for tax: French SIREN/SIRET, Russian ИНН/ОГРН/КПП, Polish
# NIP/REGON/KRS, German USt-IdNr./Steuernummer/Handelsregister, Dutch KvK/BTW, Spanish CIF/NIF, Portuguese NIPC,
# Brazilian CNPJ, Italian Partita IVA, VAT numbers, D-U-N-S; asked for by sales once a deal is near, and a number
# that names, never a quantity
_REGISTRATION_NAME = re.compile(
    r"(^|_)(siren|siret|inn|ogrn|ogrnip|kpp|nip|regon|krs|ust_?id(_?nr)?|ust_?idnr|steuer_?(id|nummer|nr)|"
    r"handelsregister(nummer)?|hrb|kv_?k(_?nummer)?|btw_?nummer|cif|nif|nipc|cnpj|partita_iva|p_?iva|"
    r"vat_?(id|number|no|nr)|tva_intracom[a-z]*|duns|d_u_n_s|company_(registration_)?number|registernummer|"
    r"numero_(de_)?(tva|siret|siren)|"
    # a company's number in Swedish, Danish, Norwegian, Finnish, Czech, Slovak (Organisationsnummer, Org.nr, CVR,
    # Y-tunnus, IČO, DIČ)
    r"organisationsnummer|organisasjonsnummer|org_?nr|cvr(_?nummer|_?nr)?|y_tunnus|ico|dic|"
    r"momsnummer|momsregistreringsnummer|alv_numero)(_|$)|"
    r"^(vat|tva|btw|company_registration_(number|no|nr)|registration_(number|no|nr))$"
)
MIN_LONG_CODE_DIGITS = 9  # a fixed-width whole number this long, nearly all different, is an identifier


def is_long_code(values: pd.Series) -> bool:
    """Whether every value is a whole number of the same length, at least ``MIN_LONG_CODE_DIGITS`` digits, nearly
    all different (``MIN_ID_DISTINCT_SHARE``), as written or with dots, slashes and dashes between its digits: a
    register or record number (a SIRET's 14 digits, an ИНН's 10, a CNPJ's "12.345.678/0001-90"), which as a number
    would be learnt as a quantity, and whose absence as a signal."""
    written = values.astype(str).str.strip()
    if len(written) < MIN_RECORD_NUMBERS or not written.str.fullmatch(r"\d[\d./-]*\d").all():
        return False
    text = written.str.replace(r"[./-]", "", regex=True)  # "123.456.789-09", "12.345.678/0001-90" as written
    lengths = text.str.len()
    return lengths.min() == lengths.max() >= MIN_LONG_CODE_DIGITS and text.nunique() >= MIN_ID_DISTINCT_SHARE * len(
        text
    )


def names_a_register_or_code(name: str, values: pd.Series) -> bool:
    """Whether a column (``name`` in snake_case) is a register, tax or record number by its name, or a code of fixed
    width by its values (:func:`is_long_code`): never a feature."""
    return bool(_REGISTRATION_NAME.search(name)) or is_long_code(values)


# the CRM's own bookkeeping of the record (Salesforce Data Loader's IsDeleted and MasterRecordId, set when a record
# was deleted or merged into another): no fact of the lead
_RECORD_STATE_NAME = re.compile(r"^(is_)?deleted$|^master_record(_id)?$")


def _feature_spec(column: str, kind: str, values: pd.Series, rows: int) -> ColumnSpec:
    name = to_snake_case(column)
    if values.nunique() <= 1 and len(values) == rows:
        return ColumnSpec(role="ignore")  # the same value in every row: nothing to learn from (blanks would tell)
    if _RECORD_STATE_NAME.search(name):
        return ColumnSpec(role="ignore")
    if _PROTECTED_NAME.search(name) or is_a_persons_age(column, values) or is_gender_or_salutation(values):
        return ColumnSpec(role="pii")
    if kind in ("category", "free text") and is_academic_title(values):
        return ColumnSpec(role="pii")  # "Dr.", "Prof.": the person's, as the salutation is
    if is_company_name(column) and kind in ("category", "free text", "id-like"):
        return ColumnSpec(role="ignore")
    if kind in ("category", "free text", "id-like") and holds_company_names(values):
        return ColumnSpec(role="ignore")  # companies' names by their legal forms, under a name leadq does not know
    if _SYSTEM_NAME.search(name):
        return ColumnSpec(role="ignore")  # Dynamics 365's "(Do Not Modify) Row Checksum": the record's, not the lead's
    if names_a_register_or_code(name, values):
        return ColumnSpec(role="ignore")  # a company's register number (SIRET, ИНН, USt-IdNr.): who, not what
    if kind == "e-mail":
        return ColumnSpec(role="email")
    if _OTHER_RECORDS_ID.search(name) and kind in ("number", "number-as-text"):
        return ColumnSpec(role="ignore")  # HubSpot's "Associated Company ID": an id, not an amount
    if _is_record_number(name, values):
        return ColumnSpec(role="ignore")
    if _is_job_title(name, kind, values):
        return ColumnSpec(role="job_title")
    if _is_count(name, kind, values):
        return ColumnSpec(role="count")
    if _is_code(name, kind, values, rows) or _is_picklist_of_ranges(kind, values):
        return ColumnSpec(role="categorical")
    if kind in ("number", "number-as-text"):
        return ColumnSpec(role="numeric")
    if kind == "boolean-like":
        # only ever ticked ("x", "1" or blank): a checkbox, whose blank is a no, not an unknown
        ticked_only = len(values) < rows and values.str.strip().str.casefold().isin(_CHECK_MARKS).all()
        return ColumnSpec(role="boolean", blank="no") if ticked_only else ColumnSpec(role="boolean")
    picklist = multi_select_options(values) if kind in ("category", "free text") else None
    if picklist is not None:
        return ColumnSpec(role="multi_select", options=picklist[1], separator=picklist[0])
    if kind == "category":
        return ColumnSpec(role="categorical")
    if kind == "free text" and values.str.len().mean() >= LONG_TEXT_CHARS:
        return ColumnSpec(role="text")
    return ColumnSpec(role="ignore")  # IDs, names, phones, empty columns, short free text, dates


def _sales_options(spec: ColumnSpec) -> tuple[ColumnSpec, str] | None:
    """A picklist whose options include some that speak of sales contact (Marketo's program memberships "Nurture
    Track - Recycled", "Sales Sequence Q1": what sales did with the lead): the spec without them (after_contact where
    none is left) and the review that names them; None where no option does."""
    options = spec.options or []
    said = [option for option in options if SALES_VALUE.search(option)]
    if not said:
        return None
    kept = [option for option in options if option not in said]
    shown = ", ".join(map(repr, said[:_OPTIONS_SHOWN])) + (", ..." if len(said) > _OPTIONS_SHOWN else "")
    why = (
        f"options that speak of sales contact left out ({shown}). If one is known before sales touches the lead: "
        "add it to options and list it under leakage.allowed"
    )
    if not kept:
        return ColumnSpec(role="after_contact"), f"after contact? its options speak of sales contact ({shown})"
    return spec.model_copy(update={"options": kept}), why


def _names_or_holds_ids(column: str, values: pd.Series) -> bool:
    """Named like an id, or every value a GUID."""
    return bool(_ID_NAME.search(to_snake_case(column))) or (not values.empty and _share(values, _GUID) == 1.0)


def _pick_id(kinds: Mapping[str, str], present: Mapping[str, pd.Series], rows: int) -> tuple[str | None, str]:
    """The lead id column (unique values, named like an id first) and a review note; None when no column can be
    one. A column named like an id whose values mostly differ is still the id: rows exported twice repeat it. An id
    fills nearly every row (``MIN_ID_FILLED_SHARE``)."""
    filled_enough = {column for column, values in present.items() if len(values) >= MIN_ID_FILLED_SHARE * rows}
    candidates = [column for column, kind in kinds.items() if kind == "id-like" and column in filled_enough]
    named = [column for column in candidates if _ID_NAME.search(to_snake_case(column))]
    if candidates:
        return (named or candidates)[0], ""
    # never a person's data: it would key the scores, and the scoring log, by a phone number or an address
    filled = [c for c in kinds if kinds[c] not in ("empty", "e-mail", *PERSONAL_KINDS) and c in filled_enough]
    named_first = [c for c in filled if _ID_NAME.search(to_snake_case(c))] + [
        c for c in filled if not _ID_NAME.search(to_snake_case(c)) and _names_or_holds_ids(c, present[c])
    ]
    for column in named_first:
        values = present[column]
        repeated = len(values) - values.nunique()
        if values.nunique() >= MIN_ID_DISTINCT_SHARE * len(values):
            return column, (
                f"review: the lead id, though {repeated:,} of its values repeat: a row that repeats another whole "
                "is dropped, an id in rows that differ stops check-export naming it"
            )
    return None, ""


# Words German CRM exports name their columns with (in snake case, umlauts written out): enough of them, and the
# reasons sales read should be German too (explanations.language)
_GERMAN_NAME_WORD = re.compile(
    r"(^|_)(datum|anzahl|firma|firmen[a-z]*|branche|mitarbeiter[a-z]*|umsatz|[a-z]*quelle|angelegt|erstellt|"
    r"geaendert|am|thema|besitzer|bewertung|abbestellt|[a-z]*grund|kunde[a-z]*|anrede|vorname|"
    r"nachname|ort|land|strasse|plz|zustaendig[a-z]*|vertrieb[a-z]*|telefon|besuche|einwilligung|bezeichnung|"
    r"interessent[a-z]*|gewonnen|verloren|nummer|nr|letzte[rs]?|kontakt|anfrage|angefragt|abgeschlossen|grund|"
    r"webseite[a-z]*|bundesland|groesse|unternehmen[a-z]*|jahr|ja|nein)(_|$)"
)
GERMAN_NAMES_SHARE = 0.25  # of the export's column names
# Common CRM words of Swedish, Danish, Norwegian and Finnish column names (Namn, Företag, Skapad, Ägare, Antal,
# Stängd, Senast uppdaterad, Navn, Virksomhed, Oprettet, Nimi, Yritys, Luotu)
_NORDIC_NAME_WORD = re.compile(
    r"(^|_)(namn|navn|nimi|foeretag|foretag|virksomhed|yritys|skapad|oprettet|opprettet|luotu|aegare|agare|ejer|"
    r"eier|omistaja|antal|antall|stangd|staengd|lukket|suljettu|senast[e]?|uppdaterad|opdateret|oppdatert|"
    r"bransch|bransje|toimiala|anstallda|anstaellda|ansatte|samtal|anteckningar|sannolikhet|nyhetsbrev|samtycke|"
    r"kalla|kaella|kilde|laehde|lahde|aerende|arende|paeivaemaeaerae|paivamaara|datum_skapat)(_|$)"
)


def names_look_german(columns: Sequence[str]) -> bool:
    """Whether enough of the export's column names are German (umlauts, ß, or common German CRM words), and fewer
    are Swedish, Danish, Norwegian or Finnish (``_NORDIC_NAME_WORD``, or an å): those share ä, ö, "Ort" and
    "Telefon" with German (a Swedish monday.com board read as German, fuzz26)."""
    nordic = [
        column for column in columns if "å" in column.casefold() or _NORDIC_NAME_WORD.search(to_snake_case(column))
    ]
    german = [
        column
        for column in columns
        if re.search(r"[äöüß]", column.casefold()) or _GERMAN_NAME_WORD.search(to_snake_case(column))
    ]
    return bool(columns) and len(german) >= GERMAN_NAMES_SHARE * len(columns) and len(nordic) < len(german) / 2


def is_consent(column: str, kind: str) -> bool:
    """A yes/no column named like a consent (yes = the lead agreed), not like an objection ("Do Not Email")."""
    name = to_snake_case(column)
    return kind == "boolean-like" and bool(_CONSENT_NAME.search(name)) and not OBJECTION_NAME.search(name)


# the legal basis for processing a person's data (HubSpot's "Legal basis for processing contact's data", German
# "Rechtsgrundlage für die Datenverarbeitung", French "Base légale", Spanish "Base jurídica", Dutch "Grondslag",
# Polish "Podstawa prawna")
_LEGAL_BASIS_NAME = re.compile(
    r"(^|_)(legal_basis|lawful_basis|rechtsgrundlage|base_legale|base_juridica|base_legal|grondslag|podstawa_prawna)"
    r"(_|$)"
)


def is_about_consent(column: str) -> bool:
    """A column of any kind named for a consent's state ("Consent Status": Granted, Withdrawn; "Einwilligungsstatus")
    or the legal basis for processing the lead's data: the lead's say over its data, never a feature. Not a
    consent's other facts: Keap's "Opt-In Reason" is the form the lead signed up through."""
    name = to_snake_case(column)
    state = bool(_CONSENT_NAME.search(name)) and bool(re.search(r"status|state|stand", name))
    return (state or bool(_LEGAL_BASIS_NAME.search(name))) and not OBJECTION_NAME.search(name)


def gated_columns(consent: str, specs: dict[str, ColumnSpec]) -> list[str]:
    """The feature columns a consent speaks of: tracking -> visits, website, time, pages; else e-mail opens, clicks.

    A consent named like tracking (tracking, cookies, web analytics) gates what tracking measures; any other
    (e-mail, marketing, newsletter, a bare "Consent" or "Opt-in") gates the e-mail opens and clicks.
    """
    tracking = bool(_TRACKING_CONSENT_NAME.search(to_snake_case(consent)))
    pattern = _TRACKED_NAME if tracking else _EMAIL_ENGAGEMENT_NAME
    return [
        column
        for column, spec in specs.items()
        if column != consent
        and spec.role in FEATURE_ROLES
        and pattern.search(to_snake_case(column))
        and not is_consent(column, "boolean-like")
    ]


def _with_group(column: str, spec: ColumnSpec) -> ColumnSpec:
    # Written into the proposal so the user reviews it with the role (grades score fit and engagement apart).
    if spec.role not in FEATURE_ROLES or spec.group is not None:
        return spec
    return spec.model_copy(update={"group": guess_group(column)})


def _start_rank(name: str) -> int | None:
    """How early a date named ``name`` says the lead came in: 0 created or received, 1 first contact, 2 engaged."""
    if _CREATED_NAMES[0].search(name):
        # An opportunity's or deal's creation comes after the lead's: ranked with an engagement.
        return 2 if re.search(r"opportunit|(^|_)(deal|opp)(_|$)", name) else 0
    if _CREATED_NAMES[1].search(name):
        return 1
    if _CREATED_NAMES[2].search(name):
        return 2
    return 3 if _LONE_DATE_NAME.fullmatch(name) else None


# A date the rep estimates ("Est. Close Date", "Expected Close Date", "Voraussichtlicher Abschluss"): no outcome date
_ESTIMATED_NAME = re.compile(
    r"(^|_)(est|estimated|expected|projected|planned|voraussichtlich[a-z]*|geplant[a-z]*|verwacht[a-z]*|"
    # German "Erwartetes Abschlussdatum" (SAP Sales Cloud), Swedish "Förväntat", Danish and Norwegian "Forventet"
    r"erwartet[a-z]*|geschaetzt[a-z]*|foervaenta[dt]|forventet|"
    r"estimad[ao]|prevista|previsto|prevue?)_|"
    # French, Spanish, Italian, Portuguese put it last: "Date de clôture prévue", "Fecha de cierre estimada"
    r"_(prevue?|estimad[ao]|prevista|previsto|esperad[ao])$"
)


def _date_roles(
    kinds: Mapping[str, str], names: Mapping[str, str], win_date: str | None = None, first_end: str | None = None
) -> dict[str, tuple[ColumnSpec, str]]:
    """Date columns by their meaning -> (proposed spec, why it needs a look or "").

    The earliest-meaning start (:func:`_start_rank`) is ``created_at``; the first date named like a close, win
    or loss is ``outcome_at``, ``first_end`` first if it is one (none beside a ``win_date`` outcome: every closing
    date is then after contact);
    later moments ("Last Modified", "Updated At", "Last Activity"), later starts (first contact once a creation
    date exists) and further closing dates are ``after_contact``.
    Dates of unknown meaning are not in the result.
    """
    roles: dict[str, tuple[ColumnSpec, str]] = {}
    starts: dict[str, int] = {}
    ends: list[str] = []
    for column in (c for c, kind in kinds.items() if kind == "date"):
        name = names[column]
        if _LATER_DATE_NAME.search(name):
            why = "a later moment (an update or activity): never created_at"
            roles[column] = (ColumnSpec(role="after_contact"), why)
        elif _ESTIMATED_NAME.search(name):
            why = "a rep's estimate (Dynamics 365's Est. Close Date), not when the lead closed: sales work"
            roles[column] = (ColumnSpec(role="after_contact"), why)
        elif re.search(r"(^|_)first_|erstkontakt|erster_kontakt|sign_?up|signed_up", name):
            starts[column] = _start_rank(name) or 1
        elif _OUTCOME_AT_NAME.search(name):
            ends.append(column)
        elif (rank := _start_rank(name)) is not None:
            starts[column] = rank
    own = {column: rank for column, rank in starts.items() if not RELATED_RECORD_PREFIX.match(column)}
    if own:  # a deals export's "Person - Person created": when the contact came in, maybe years before the deal
        for column in (c for c in starts if c not in own):
            roles[column] = (ColumnSpec(role="ignore"), "a related record's date (its prefix), never created_at")
        starts = own
    if starts:
        created = min(starts, key=lambda column: starts[column])  # the earliest meaning; ties: the first column
        why = {
            0: "",
            1: "review: no creation date found; read as when the lead came in (leads are scored as of it)",
            2: "review: no creation or first-contact date found; read as when the lead came in (scored as of it)",
            3: "review: a date of unknown meaning, the only start found: is it when the lead came in?",
        }[starts[created]]
        roles[created] = (ColumnSpec(role="created_at"), why)
        for column in (c for c in starts if c != created):
            later = starts[column] > starts[created]
            spec = ColumnSpec(role="after_contact" if later else "ignore")
            why = f"{'named as a later start than' if later else 'another start besides'} created_at {created!r}"
            roles[column] = (spec, why)
    # a date that closes won and lost deals alike ("Deal closed on") before one of wins only ("Won time")
    closing = sorted(
        (column for column in ends if column != win_date),
        key=lambda column: (column != first_end, not _CLOSING_DATE_NAME.search(names[column])),
    )
    for position, column in enumerate(closing):
        first = position == 0 and win_date is None
        spec = ColumnSpec(role="outcome_at" if first else "after_contact")
        outcome = f"the win date is {win_date!r}" if win_date else f"outcome_at is {closing[0]!r}"
        roles[column] = (spec, "" if first else f"a closing moment too ({outcome}): never a feature")
    return roles


NO_OUTCOME_HEADER = (
    "NO OUTCOME: no column reads as won or lost. Add the outcome line, e.g.\n"
    '  "Converted": {role: outcome, won: ["1"], lost: ["0"]}\n'
    "or run leadq inspect again with --outcome COLUMN (or map tables.deals / tables.dispositions)"
)
_CLEAR_OUTCOME_NAMES = _OUTCOME_NAMES[: _OUTCOME_NAMES.index("ergebnis") + 1]  # no review note for a yes/no one
_SHOWN_VALUES = 8


@dataclass(frozen=True)
class Proposal:
    """What ``leadq inspect`` proposes: each column's role, and why the guesses that need a look are guesses.

    ``review``: column -> a short reason to check its role (an outcome candidate, a date read by its meaning).
    ``undecided``: without an outcome, the yes/no columns that could be it, none named like one (no best guess).
    """

    columns: dict[str, ColumnSpec]
    review: dict[str, str] = field(default_factory=dict)
    undecided: tuple[str, ...] = ()
    lead_ids: Literal["column", "row_number"] = "column"  # row_number: no column can be the lead id

    @property
    def outcome(self) -> str | None:
        """The outcome column, or the win-date column (role won_at) that says the outcome."""
        return next((column for column, spec in self.columns.items() if spec.role in ("outcome", "won_at")), None)

    def mapping(self) -> ExportMapping:
        """The proposal as a valid mapping.

        Raises:
            MappingError: no outcome was found (name it with ``outcome=`` / ``--outcome``).
        """
        if self.outcome is None:
            raise MappingError(
                "no column looks like the outcome (0/1, yes/no, true/false or won/lost values, or a stage column "
                "with won and lost values); name it with --outcome COLUMN or add it to the mapping"
            )
        return ExportMapping(columns=self.columns, lead_ids=self.lead_ids)

    def draft(self) -> ExportMapping:
        """The proposal for writing, even without an outcome or where a rule of the mapping refuses it:
        unvalidated, so :func:`load_mapping` of the file written from it says what is missing
        (:meth:`problems`)."""
        if self.outcome is not None and not self.problems():
            return self.mapping()
        return ExportMapping.model_construct(columns=self.columns, lead_ids=self.lead_ids)

    def problems(self) -> str:
        """What the mapping's own checks refuse in a proposal with an outcome ("" where nothing): written all
        the same for the user to fix, where a refusal ended ``leadq inspect`` without a file."""
        if self.outcome is None:
            return ""
        try:
            ExportMapping(columns=self.columns, lead_ids=self.lead_ids)
        except ValidationError as error:
            return "; ".join(str(problem["msg"]).removeprefix("Value error, ") for problem in error.errors())
        return ""


def row_ids_note(proposal: Proposal) -> str:
    """Why a proposal numbers the leads by their row (lead_ids: row_number), for the mapping file's header."""
    if proposal.lead_ids == "column":
        return ""
    return (
        "NO ID COLUMN: no column holds a unique value per lead, so leads are numbered by their row (lead_ids:\n"
        f"row_number; 1 = the first row after the header, named {ROW_NUMBER_ID!r} in leadq's output). Training\n"
        "works as usual; scores can be matched back to the CRM only by row order. If the CRM can export the\n"
        "lead's id, add it, map it with role id and remove the lead_ids line."
    )


def missing_outcome(proposal: Proposal) -> str:
    """Why a proposal has no outcome and what to do, for the mapping file's header ("" when it has one)."""
    if proposal.outcome is not None:
        return ""
    if not proposal.undecided:
        return NO_OUTCOME_HEADER
    shown = ", ".join(proposal.undecided[:5]) + (", ..." if len(proposal.undecided) > 5 else "")
    return (
        f"NO OUTCOME: several yes/no columns could be it, none named like an outcome: {shown}.\n"
        "Run leadq inspect again with --outcome COLUMN, or add the outcome line, e.g.\n"
        '  "Converted": {role: outcome, won: ["1"], lost: ["0"]}'
    )


def _shown_values(values: pd.Series, kind: str) -> str:
    counts = values.value_counts()
    shown = ", ".join(repr(shown) for shown in _redacted(counts, cast(Kind, kind), _SHOWN_VALUES))
    return f"{shown}{', ...' if len(counts) > _SHOWN_VALUES else ''} ({len(counts):,} distinct)"


def _named_outcome(
    column: str, kinds: Mapping[str, str], present: Mapping[str, pd.Series], id_column: str | None, rows: int
) -> OutcomeCandidate:
    """The column the user named as the outcome, read from its values; refused with its values when unreadable."""
    if column not in kinds:
        close = difflib.get_close_matches(column, list(kinds), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise MappingError(f"--outcome {column!r} is not a column of the export{hint}")
    if column == id_column:
        raise MappingError(f"--outcome {column!r} is the lead ID (unique values), not an outcome")
    kind = kinds[column]
    if kind == "date":
        return OutcomeCandidate(column, ColumnSpec(role="won_at"), "win date")
    values = present[column]
    some_empty = len(values) < rows
    candidate = None if kind in ("empty", "id-like") else read_outcome(column, values, kind, True, some_empty)
    if candidate is None:
        raise MappingError(
            f"--outcome {column!r} cannot be read as an outcome: a {kind} column with values "
            f"{_shown_values(present[column], kind) if len(present[column]) else '(none: every row is empty)'}; "
            "an outcome needs values that say won and lost: 0/1, yes/no, true/false, won/lost words "
            '("Closed Won", "gewonnen"; other values stay open), a stage with values that say won ("Customer"; '
            "the rest lost once the label horizon has passed), amounts with 0 for lost (won when > 0), or the "
            "dates leads were won (won when dated). Values in other words can be listed by hand in the mapping: "
            f"'{column}': {{role: outcome, won: [...], lost: [...]}} (the values neither lists stay open)"
        )
    return candidate


def _blank_is_lost(candidate: OutcomeCandidate, named: bool) -> OutcomeCandidate:
    """An outcome that marks only the wins (won values, or win dates), in an export without creation dates: its
    empty cells are lost (``blank: lost``), as no label horizon can tell young leads from old ones.

    Raises:
        MappingError: other values than the wins are open ("Lead", "Opportunity" beside "Customer"): without a
            creation date they can never count as lost.
    """
    if candidate.open:
        more = ", ..." if len(candidate.open) > _SHOWN_VALUES else ""
        shown = ", ".join(map(repr, candidate.open[:_SHOWN_VALUES])) + more
        raise MappingError(
            f"{'--outcome ' if named else ''}{candidate.column!r} says only who won "
            f"({', '.join(map(repr, candidate.spec.won or ()))}); its other values ({shown}) count as lost once "
            "labels.horizon_days have passed since a lead came in, and the export has no creation date: add the "
            "date each lead was created to the export, or write the outcome line with the values that mean lost, "
            f'e.g. "{candidate.column}": {{role: outcome, won: [...], lost: [{shown}]}}'
        )
    if candidate.spec.role == "won_at":  # dated: won
        return OutcomeCandidate(candidate.column, ColumnSpec(role="won_at", blank="lost"), candidate.reading)
    spec = ColumnSpec(role="outcome", won=candidate.spec.won, blank="lost")
    return OutcomeCandidate(candidate.column, spec, candidate.reading)


def named_like_a_win_date(column: str) -> bool:
    """Whether a column's name says a lead was won on that date ("Won Date", "converted_at", "Customer since")."""
    return bool(_WIN_DATE_NAME.search(to_snake_case(column)))


def win_date_candidate(kinds: Mapping[str, str], names: Mapping[str, str]) -> OutcomeCandidate | None:
    """A date column named like a win ("Won Date", "Became a Customer Date", "Converted Date"), the first one: the
    outcome of an export that only dates its wins, when no column reads as won or lost."""
    for column, kind in kinds.items():
        if kind == "date" and _WIN_DATE_NAME.search(names[column]):
            return OutcomeCandidate(column, ColumnSpec(role="won_at"), "win date")
    return None


def _win_date_beside(chosen: OutcomeCandidate, kinds: Mapping[str, str], names: Mapping[str, str]) -> str:
    """The lead's own win date beside a sparse outcome of a later record (Zendesk Sell's ``converted_at`` beside
    its deal's ``deal_stage``: the deal's outcome labels only the converted leads), as the user's other choice."""
    win_date = win_date_candidate(kinds, names)
    if win_date is None or win_date.column == chosen.column:
        return ""
    return (
        f"if what you score is the lead's own conversion, {win_date.column!r} dates it for every lead (won when "
        f"dated): leadq inspect --outcome {win_date.column!r}"
    )


# The label horizon inspect reads a proposal's labels with (labels.horizon_days' default: inspect reads no settings)
PROPOSAL_HORIZON_DAYS = 180
# An outcome column empty in more rows than this may be filled only for the leads that reached a stage (an
# opportunity's status, a CRM stage joined to marketing's leads: empty where a lead never reached the CRM): the
# review and check-export say what empty then means, and how to map it. A tenth: beyond it the unlabelled leads
# bias the model (28% empty made a LinkedIn export's old leads predicted 0.18 against 0.14 won)
EMPTY_OUTCOME_SHARE_WARNED = 0.1


def _outcome_review(
    candidate: OutcomeCandidate, named: bool, others: list[str], empty_share: float = 0.0, dated: bool = True
) -> str:
    spec, name = candidate.spec, to_snake_case(candidate.column)
    if candidate.reading == "yes/no" and not named and name in _CLEAR_OUTCOME_NAMES and not others:
        return ""
    how = "named by --outcome" if named else "review: the best outcome candidate"
    if candidate.reading == "win date" and spec.blank == "lost":
        detail = (
            "won when it has a date; without one lost (blank: lost): the export has no creation date, so a lead "
            "not won yet counts as lost, however young; if the export can carry the date each lead came in, map "
            "it as created_at and drop blank: lost, so young leads stay open; a date that closes lost leads too is "
            "no win date: map a won/lost column"
        )
    elif candidate.reading == "win date":
        detail = (
            "won when it has a date, lost once labels.horizon_days have passed since created_at without one "
            "(younger leads stay open); a date that closes lost leads too is no win date: map a won/lost column"
        )
    elif candidate.reading == "amount":
        detail = (
            f"amounts: won when > 0 is an assumption, confirm it ({len(spec.won or ()):,} amounts listed as won), "
            "lost = 0, blanks unlabelled"
        )
    elif spec.blank == "lost":
        detail = (
            f"won = {', '.join(spec.won or ())}; an empty cell is lost (blank: lost): the export has no creation "
            "date, so a lead not won yet counts as lost, however young; if the export can carry the date each lead "
            "came in, map it as created_at and write lost: [] instead of blank: lost, so young leads stay open"
        )
    elif spec.lost == []:
        detail = (
            f"won = {', '.join(spec.won or ())}; no value says lost: a lead is lost once labels.horizon_days have "
            "passed since created_at without a won value (younger leads stay open)"
        )
    else:
        detail = f"won = {', '.join(spec.won or ())}; lost = {', '.join(spec.lost or ())}"
    if candidate.open and spec.lost != []:
        shown = ", ".join(candidate.open[:_SHOWN_VALUES]) + (", ..." if len(candidate.open) > _SHOWN_VALUES else "")
        when = (
            "unlabelled while younger than labels.horizon_days, lost after"
            if dated
            # some leads may have a date (Maven's engage_date, empty for its prospects): true of either kind
            else "a lead with a creation date is unlabelled while younger than labels.horizon_days, lost after; one "
            "without never ages into lost"
        )
        detail += f"; left open: {shown} ({when}): add the final ones to won or lost"
        if spec.recycled:
            detail += (
                f"; recycled to nurture: {', '.join(spec.recycled)} (unlabelled whatever their age: not now is no "
                "loss; remove a value from recycled where it is final)"
            )
    if spec.excluded:
        detail += (
            f"; excluded: {', '.join(spec.excluded)} (a deleted or merged record: no lead, left out of training and "
            "of leadq score)"
        )
    if empty_share > EMPTY_OUTCOME_SHARE_WARNED and spec.lost and candidate.reading in ("yes/no", "stage"):
        detail += (
            f"; empty in {empty_share:.0%} of rows, and those leads stay unlabelled (the model learns only from the "
            "rest): if empty means the lead never got this far (no opportunity), map it with lost: [] so a lead "
            "without a won value is lost once labels.horizon_days have passed"
        )
    if named and (doubt := _no_outcome_by_name(candidate.column)):
        detail += f"; {doubt}"
    rest = f"; other candidates: {', '.join(others[:3])}" if others else ""
    return f"{how} ({candidate.reading}): {detail}{rest}"


def _no_outcome_by_name(column: str) -> str:
    """Why a column the user named as the outcome may be none, by its name ("" where nothing says so): inspect
    never proposes these, and a user who names one learns the reason here, not from a model that scores new leads
    as losers."""
    if is_outreach(column):
        return (
            "careful: the name says outreach done to the lead (an e-mail sent, a call, a reply to it): every lead "
            "sales has not reached yet reads as lost; name the status or stage that says won instead"
        )
    if _IN_USE_NAME.search(to_snake_case(column)):
        return (
            "careful: the name says active or archived (Odoo's Active: open and won records alike are active, lost "
            "ones archived): open leads read as won; name the stage that says won, and the archived ones are lost"
        )
    return ""


def _nearly_all_dated(
    date_roles: Mapping[str, tuple[ColumnSpec, str]], present: Mapping[str, pd.Series], rows: int
) -> bool:
    """Whether the proposed created_at holds a date for nearly every lead (as a split by time asks): a stage's open
    leads age into lost by it, and one without a date never would ("First Contact Date" filled for a few)."""
    created = next((column for column, (spec, _) in date_roles.items() if spec.role == "created_at"), None)
    return created is not None and rows > 0 and len(present[created]) / rows >= MIN_DATED_SHARE


def _stage_over_flag(
    flag: OutcomeCandidate, candidates: list[OutcomeCandidate], present: Mapping[str, pd.Series]
) -> OutcomeCandidate | None:
    """A stage column to prefer over a yes/no flag that calls its open records lost, or None.

    A Salesforce opportunity export holds both "Won" (1/0) and "Stage": the flag is 0 for every opportunity still
    open ("Negotiation"), so read as the outcome it labels them lost; the stage leaves them open (unlabelled).
    """
    for stage in (c for c in candidates if c.reading == "stage" and c.open):
        still_open = present[stage.column].str.strip().isin(stage.open)
        open_rows = still_open[still_open].index.intersection(present[flag.column].index)
        if len(open_rows) and present[flag.column].loc[open_rows].map(flag.spec.outcome_reader()).eq("lost").all():
            return stage
    # ... and a stage that says won and lost in words where the flag disagrees with it: the flag is something else
    # (a Bitrix24 deal's "Повторная сделка", repeat deal: Да/Нет, beside its stage's "Сделка успешна"/"провалена")
    named = (c for c in candidates if _outcome_name_tier(to_snake_case(RECORD_PREFIX.sub("", c.column))) < 2)
    for stage in (c for c in named if c.reading == "stage" and _says_won_and_lost_in_words(c.spec)):
        if _disagrees(flag, stage, present):
            return stage
    return None


def _disagrees(flag: OutcomeCandidate, stage: OutcomeCandidate, present: Mapping[str, pd.Series]) -> bool:
    """Whether a yes/no flag calls fewer than ``MIN_FLAG_AGREEMENT`` of the leads a stage's words call won or lost
    the same (of at least ``MIN_ENTRY_STAGE_LEADS``): another fact than the outcome (a repeat deal's Да/Нет)."""
    said = present[stage.column].str.strip().map(stage.spec.outcome_reader()).dropna()
    rows = said.index.intersection(present[flag.column].index)
    if len(rows) < MIN_ENTRY_STAGE_LEADS:
        return False
    return bool(
        present[flag.column].loc[rows].map(flag.spec.outcome_reader()).eq(said.loc[rows]).mean() < MIN_FLAG_AGREEMENT
    )


MIN_FLAG_AGREEMENT = 0.8  # of the leads a stage's words call won or lost, those a yes/no flag must call so to be it


def _stage_passed_over(stage: OutcomeCandidate, present: Mapping[str, pd.Series]) -> str:
    values = present[stage.column].str.strip()
    share = values.isin(stage.open).mean() if len(values) else 0.0
    shown = ", ".join(stage.open[:_SHOWN_VALUES])
    return (
        f"not the stage '{stage.column}': it leaves {share:.0%} of leads open ({shown}), "
        "and without a creation date for nearly every lead (95%) the undated ones would never be labelled, the "
        "model learning only from the closed ones (scores too high); this flag counts them not converted. If the "
        f"export can carry the date each lead came in, map it as created_at and '{stage.column}' as the outcome"
    )


def _labels_more_than(
    chosen: OutcomeCandidate, others: list[OutcomeCandidate], present: Mapping[str, pd.Series], rows: int, dated: bool
) -> str:
    """Why the chosen outcome beats candidates named and read alike ("" where none): it labels more leads."""
    alike = [c for c in others if _outcome_rank(c, 0)[:3] == _outcome_rank(chosen, 0)[:3]]
    labelled = _labelled_leads(chosen, present[chosen.column], rows, dated)
    fewer = [(c.column, n) for c in alike if (n := _labelled_leads(c, present[c.column], rows, dated)) < labelled]
    if not fewer:
        return ""
    shown = ", ".join(f"'{column}' {n:,}" for column, n in fewer[:3])
    return (
        f"chosen over candidates named and read alike as it labels more leads ({labelled:,} of {rows:,}; {shown}): "
        "if one of them is the outcome, run leadq inspect again with --outcome COLUMN"
    )


_DUPLICATE_SUFFIX = re.compile(r"\.\d+$")  # pandas names a header's second "Industry" "Industry.1"


def column_copies(present: Mapping[str, pd.Series]) -> dict[str, str]:
    """Columns named as another ("Industry" twice, read as "Industry.1"; "Country " beside "country") whose values
    are that column's in every row, compared ignoring case: copy -> the first column of the name. Two webinars
    attended by the same leads are no copies; empty columns neither."""
    by_name: dict[str, str] = {}
    copies: dict[str, str] = {}
    for column, values in present.items():
        name = _DUPLICATE_SUFFIX.sub("", column).strip().casefold()
        first = by_name.setdefault(name, column)
        if first != column and not values.empty and present[first].str.casefold().equals(values.str.casefold()):
            copies[column] = first
    return copies


def propose(
    frame: pd.DataFrame, profile: pd.DataFrame, outcome: str | None = None, made: Collection[str] = ()
) -> Proposal:
    """A best-guess mapping from column names and content, for the user to review line by line.

    The outcome is ``outcome`` (read from its values) or the best candidate (:func:`outcome_candidates`); other
    candidates named like an outcome are never features. Dates get their role by meaning (:func:`_date_roles`).
    Every feature column gets its group (:func:`~pipelines.crm_export.mapping.guess_group`); a consent column
    gates the feature columns its name speaks of (:func:`gated_columns`) and is proposed as a plain boolean
    feature when there are none. Without any outcome candidate the proposal has no outcome (see ``draft``).
    Columns named like sales work (:func:`sales_word`) and, once the outcome is known, columns the leakage guard
    flags from the data (:func:`leak_evidence`) are proposed as ``after_contact``, their evidence in ``review``.

    ``made``: columns the reader made (a board's sections, ``Group``): the outcome or a stage, never a feature,
    since a lead scored alone has none.

    Raises:
        MappingError: ``outcome`` is not a column that reads as an outcome.
    """
    placeholders = _placeholders()
    kinds: dict[str, str] = dict(zip(profile["column"], profile["kind"], strict=True))
    present = {str(column): _present(frame[column], placeholders) for column in frame.columns}
    names = {column: to_snake_case(column) for column in kinds}
    id_column, id_review = _pick_id(kinds, present, len(frame))
    specs: dict[str, ColumnSpec] = {id_column: ColumnSpec(role="id")} if id_column else {}
    review: dict[str, str] = {id_column: id_review} if id_column and id_review else {}
    by_name: list[str] = []  # proposed as after_contact for their name alone: the data may add its evidence
    by_values: list[str] = []  # ... for values that speak of sales contact alone

    dated = _nearly_all_dated(_date_roles(kinds, names), present, len(frame))
    candidates = [c for c in outcome_candidates(kinds, present, len(frame), dated) if c.column != id_column]
    # Several yes/no columns, none named like an outcome ("Search", "A free copy"): no best guess, the user names it.
    undecided = len(candidates) > 1 and _outcome_rank(candidates[0], 0)[0] == 2
    best = None if undecided else next(iter(candidates), None)
    passed_over = None  # a stage left for the flag: its open records would never be labelled
    if best is not None and best.reading == "yes/no":
        stage = _stage_over_flag(best, candidates, present)
        best, passed_over = (stage or best, None) if dated else (best, stage)
    win_date = None if outcome else win_date_candidate(kinds, names)
    if win_date is not None and (best is None or _outcome_rank(best, 0)[0] == 2):
        best = win_date  # a date named like a win says more than yes/no columns named like nothing
    refined = ""
    nested = _nested_outcomes(candidates, present) if outcome is None and best is not None else None
    if best is not None and nested is not None and best.column in (nested[0].column, nested[1].column):
        # a converted-lead report: the lead's status says converted, the deal's stage beside it won or lost; a lead
        # with no deal (an empty cell) is no win either
        converted, deals = nested
        refined = (
            f"review: the deals' outcome, chosen over '{converted.column}': its won and lost values lie within "
            f"'{converted.column}' = {', '.join(map(repr, converted.spec.won or []))} (a lead converted to a deal, "
            "which may still be lost); lost: [] counts a lead without a won deal as lost once labels.horizon_days "
            "have passed"
        )
        best = replace(deals, spec=deals.spec.model_copy(update={"lost": []}))
    chosen = _named_outcome(outcome, kinds, present, id_column, len(frame)) if outcome else best
    if chosen is None and not outcome and not undecided:
        chosen = next(iter(wins_only_candidates(kinds, present, id_column)), None)
    others = [c for c in candidates if chosen is None or c.column != chosen.column]
    if chosen is not None:
        # Candidates named no more like an outcome than the chosen one are worth naming; plain yes/no features not.
        tier = _outcome_rank(chosen, 0)[0]
        rivals = [c.column for c in others if _outcome_rank(c, 0)[0] <= tier]
        specs[chosen.column] = chosen.spec
        empty_share = 1 - len(present[chosen.column]) / len(frame) if len(frame) else 0.0
        review[chosen.column] = _outcome_review(chosen, outcome is not None, rivals, empty_share, dated)
        if refined:
            review[chosen.column] = refined
        if passed_over is not None and chosen.column != passed_over.column:
            said = _stage_passed_over(passed_over, present)
            review[chosen.column] = f"{review[chosen.column]}; {said}" if review[chosen.column] else said
        if outcome is None and (said := _labels_more_than(chosen, others, present, len(frame), dated)):
            review[chosen.column] = f"{review[chosen.column]}; {said}" if review[chosen.column] else said
        if (
            outcome is None
            and empty_share > EMPTY_OUTCOME_SHARE_WARNED
            and (said := _win_date_beside(chosen, kinds, names))
        ):
            review[chosen.column] = f"{review[chosen.column]}; {said}" if review[chosen.column] else said
    won_at = chosen.column if chosen is not None and chosen.reading == "win date" else None
    # an outcome that says only who won is dated by the date named like a win ("Became a Customer Date")
    wins_dated_by = win_date_candidate(kinds, names) if chosen is not None and chosen.spec.lost == [] else None
    first_end = wins_dated_by.column if wins_dated_by else None
    for column, (spec, why) in _date_roles(kinds, names, won_at, first_end).items():
        if column not in specs:
            specs[column], review[column] = spec, why
    undated = not any(spec.role == "created_at" for spec in specs.values())
    if chosen is not None and undated and (chosen.spec.lost == [] or won_at is not None):
        chosen = _blank_is_lost(chosen, outcome is not None)
        specs[chosen.column] = chosen.spec
        review[chosen.column] = _outcome_review(chosen, outcome is not None, rivals, empty_share, dated)

    named_by_values: list[str] = []  # personal data by its values: names that may be an owner's, not the lead's
    for column, original in column_copies(present).items():
        if column not in specs:
            specs[column] = ColumnSpec(role="ignore")
            review[column] = f"the same values as '{original}' in every row (a copy): ignored"
    for column, kind in kinds.items():
        if column in specs:
            continue
        if kind in PERSONAL_KINDS:
            specs[column] = ColumnSpec(role="pii")
            if (personal := personal_values(column, present[column])) is None:
                continue
            looks, share = personal
            if looks == "personal data":
                review[column] = (
                    f"{share:.0%} of its values are a person's e-mail address, profile, bank account, IP address or "
                    "street address"
                )
            else:
                what = "people's names" if looks == "person name" else "phone numbers"
                review[column] = f"{share:.0%} of its values look like {what}; if they are categories, map it as one"
                named_by_values.append(column)  # repeated values: the evidence below says if sales fills them in
            continue
        role_taken = {spec.role for spec in specs.values()}
        word = sales_word(column, kind)
        # a rep's notes (free text); a picklist's "Rückruf vormittags" is the lead's own choice: data evidence decides
        sales_values = sales_words_in_values(present[column]) if not word and kind == "free text" else []
        if sales_values and multi_select_options(present[column]) is not None:
            sales_values = []  # a picklist of several options per cell: its options are judged one by one
        if word and not _constant(present[column], len(frame)):
            specs[column] = _after_contact_spec(names[column], kind, present[column], role_taken)
            if specs[column].role == "after_contact":
                review[column] = f"after contact? the name says '{word}' ({_what_the_name_says(word)}); if known "
                review[column] += "before sales touches the lead, map it as a feature"
                by_name.append(column)
        elif len(sales_values) >= MIN_SALES_VALUES:  # a rep's notes under a name of no language leadq knows
            shown = ", ".join(map(repr, shown_sales_values(present[column], sales_values)[:3]))
            specs[column] = ColumnSpec(role="after_contact")
            by_values.append(column)  # the data's evidence below says more where it has any
            review[column] = (
                f"after contact? values such as {shown} speak of sales contact ({len(sales_values):,} values); if "
                "known before sales touches the lead, map it as a feature"
            )
        else:
            specs[column] = _feature_spec(column, kind, present[column], len(frame))
            if specs[column].role == "multi_select" and (options_said := _sales_options(specs[column])):
                specs[column], review[column] = options_said
            said_by_name = _PROTECTED_NAME.search(names[column]) or is_a_persons_age(column)
            values = present[column]
            if specs[column].role == "pii" and not said_by_name and is_gender_or_salutation(present[column]):
                shown = ", ".join(map(repr, present[column].value_counts().index[:3]))
                review[column] = (
                    f"its values ({shown}) are a person's gender or salutation: a protected personal attribute, "
                    "never a feature"
                )
            elif specs[column].role == "pii" and is_academic_title(present[column]):
                shown = ", ".join(map(repr, present[column].value_counts().index[:3]))
                review[column] = f"its values ({shown}) are a person's academic title"
            elif specs[column].role == "ignore" and names_a_register_or_code(names[column], values):
                review[column] = (
                    "a register, tax or record number (SIRET, ИНН, USt-IdNr.), or a code of fixed width (every "
                    "value the same number of digits, nearly all different): it names, never counts, and sales "
                    "often asks for a register number only once a deal is near: never a feature"
                )
            elif specs[column].role == "ignore" and not is_company_name(column) and holds_company_names(values):
                review[column] = (
                    "most of its values end in a company's legal form (GmbH, BV, NV, SA, Ltd, Inc...): a company's "
                    "name says who, not what: never a feature (accounts come from the e-mail domain or account_id)"
                )
            if specs[column].role in FEATURE_ROLES and _too_sparse(present[column], len(frame)):
                specs[column] = ColumnSpec(role="ignore")
                review[column] = (
                    f"filled in only {len(present[column]):,} of {len(frame):,} rows: too few leads to learn from "
                    "(a leaf of the model stands for at least 20); map it as a feature once more leads carry it"
                )
    # A bare month or weekday is the last contact's in a contact export (one with a column named for contact work:
    # a call's duration, the calls, the contact); elsewhere (a web shop's sessions) it is the lead's own moment.
    moments = [column for column in by_name if sales_word(column, kinds[column]) in CALENDAR_PARTS]
    if len(moments) == len(by_name):
        for column in moments:
            specs[column] = _feature_spec(column, kinds[column], present[column], len(frame))
            del review[column]
        by_name = []
    for candidate in others:  # named like an outcome and read as one: a second outcome, never a feature ...
        named = _outcome_rank(candidate, 0)[0] < 2 and candidate.reading != "amount"
        # ... unless a flag that disagrees with the chosen stage's won and lost words: another fact
        other_fact = (
            chosen is not None
            and candidate.reading == "yes/no"
            and chosen.reading == "stage"
            and _says_won_and_lost_in_words(chosen.spec)
            and _disagrees(candidate, chosen, present)
        )
        if named and not other_fact and specs[candidate.column].role in FEATURE_ROLES:
            specs[candidate.column] = ColumnSpec(role="after_contact")
            review[candidate.column] = f"reads as an outcome too ({candidate.reading}): never a feature"
    no_stage = not any(spec.role == "stage" for spec in specs.values())
    if chosen is not None and no_stage and (entry := _stage_from_the_data(frame, kinds, names, specs, chosen)):
        column, specs[column], review[column] = entry
        by_name = [c for c in by_name if c != column]  # a stage now: the data's evidence judges the others against it
    elif chosen is not None and no_stage and (first := _outcomes_entry_value(frame, specs, chosen)):
        specs[chosen.column] = chosen.spec.model_copy(update={"untouched": [first]})
        said = (
            f"review: new leads land in '{first}' (most of the youngest open leads are there, younger than the other "
            "open values'): its leads are the untouched ones the check of columns sales fills in compares against; "
            "if sales has touched them there, name the value they land in under untouched"
        )
        review[chosen.column] = f"{review[chosen.column]}; {said}" if review.get(chosen.column) else said
    if chosen is not None:  # the evidence of the data: feature columns that know the outcome too well
        checked = [
            c
            for c, spec in specs.items()
            if spec.role in _EVIDENCE_ROLES or c in by_name or c in by_values or c in named_by_values
        ]
        found = leak_evidence(frame, kinds, specs, chosen.column, checked, present)
        options_of = {
            option_label(column, option): (column, option)
            for column, spec in specs.items()
            if spec.role == "multi_select"
            for option in spec.options or ()
        }
        had_stage = any(spec.role == "stage" for spec in specs.values())
        for column, evidence in found.flagged.items():
            if column in options_of:  # one option of a multi-select picklist: the others stay features
                continue
            specs[column] = _flagged_spec(column, kinds[column], names[column], present[column], specs)
            review[column] = f"after contact? {evidence}. {_AFTER_CONTACT_REMEDY}"
        if not had_stage and any(spec.role == "stage" for spec in specs.values()):
            # a stage the evidence found (a "Statusgrund" of Neu, Kontaktiert ...): its new leads are the untouched
            # ones the evidence compares with, once more on the columns still features
            still = [c for c in checked if specs[c].role in _EVIDENCE_ROLES and c not in found.flagged]
            for column, evidence in leak_evidence(frame, kinds, specs, chosen.column, still, present).flagged.items():
                if column not in options_of:
                    specs[column] = _flagged_spec(column, kinds[column], names[column], present[column], specs)
                    review[column] = f"after contact? {evidence}. {_AFTER_CONTACT_REMEDY}"
        for column, flagged in _flagged_options(found.flagged, options_of).items():
            spec = specs[column]
            kept = [option for option in spec.options or () if option not in flagged]
            specs[column] = spec.model_copy(update={"options": kept}) if kept else ColumnSpec(role="after_contact")
            said = "; ".join(f"'{option}': {evidence}" for option, evidence in flagged.items())
            review[column] = f"options left out as after contact? {said}. " + _OPTION_REMEDY
        for column in (c for c in by_name if c not in found.flagged and c in found.single_auc):
            review[column] = review[column].replace(
                "); if known", f"), alone it predicts the outcome with AUC {found.single_auc[column]:.2f}; if known", 1
            )
    for column in _unnamed_dates(kinds, specs, names) if undated else []:
        review[column] = (
            "a date no name says is when the lead came in, and the export has no creation date: if it is that, map it "
            "created_at (the out-of-time split, the label horizon and the untouched leads' check need one)"
        )
    for column in (c for c in made if c in specs and specs[c].role in FEATURE_ROLES):
        specs[column] = ColumnSpec(role="after_contact")
        review[column] = (
            "the section each row sat in, kept by the reader: a board's items move between its groups as sales works "
            "them, and a lead scored alone has none; never a feature"
        )
    for column, (source, share) in _names_echoed(frame, kinds, specs).items():
        specs[column] = ColumnSpec(role="pii")
        review[column] = (
            f"holds the lead's name ({source!r}) in {share:.0%} of its filled rows: personal data, never a feature"
        )
    for column, spec in specs.items():  # sales' tags beside the lead's own: the options may be read one by one
        picklist = multi_select_options(present[column]) if spec.role == "after_contact" else None
        if picklist is not None and kinds[column] in ("category", "free text"):
            review[column] = ". ".join(filter(None, [review.get(column), _picklist_note(*picklist)]))
    # Once every column has its role: what each consent gates. A consent is never a feature itself, so that no
    # lead is scored down for withholding it.
    for column, kind in kinds.items():
        if is_consent(column, kind) and specs[column].role in FEATURE_ROLES:
            gates = gated_columns(column, specs)
            specs[column] = ColumnSpec(role="consent", gates=gates) if gates else ColumnSpec(role="ignore")
        elif is_about_consent(column) and specs[column].role in FEATURE_ROLES:
            specs[column] = ColumnSpec(role="ignore")
            review[column] = (
                "a consent's state or the legal basis for processing the lead's data, not a yes/no consent: never a "
                "feature (no lead is scored for what it agreed to)"
            )
    order = [str(column) for column in frame.columns]
    return Proposal(
        {column: _with_group(column, specs[column]) for column in order},
        {column: why for column, why in review.items() if why},
        tuple(c.column for c in candidates) if chosen is None else (),
        "column" if id_column else "row_number",
    )


MIN_NESTED_OUTCOMES = 50  # leads a deal's outcome must label to be read as refining the lead's ...
MIN_NESTED_WON_AND_LOST = 10  # ... with at least this many won and as many lost
MIN_NESTED_SHARE = 0.95  # of them, within the leads the lead's outcome calls won
# the lead's outcome that a deal's refines says converted (to a deal), not customer or won: a renewal decided only
# for customers is another question
_CONVERTED_WORD = re.compile(r"convert|konvertiert|umgewandelt")


def _nested_outcomes(
    candidates: Sequence[OutcomeCandidate], present: Mapping[str, pd.Series]
) -> tuple[OutcomeCandidate, OutcomeCandidate] | None:
    """Two outcome candidates of which the second says won and lost only where the first says won (Salesforce's
    "Leads with converted lead information": Lead Status "Closed - Converted", and beside it the Opportunity Stage
    "Closed Won" or "Closed Lost"): the lead's conversion and the later, finer outcome of its deal; None without."""
    converted = (c for c in candidates if c.reading == "stage" and c.spec.won)
    for outer in (c for c in converted if all(_CONVERTED_WORD.search(normalize_value(v)) for v in c.spec.won or ())):
        values = present[outer.column].str.strip()
        won_rows = values.index[values.isin(outer.spec.won or []).to_numpy()]
        for inner in candidates:
            if inner.column == outer.column or not inner.spec.won or not inner.spec.lost:
                continue
            decided = present[inner.column].str.strip()
            won, lost = decided.isin(inner.spec.won), decided.isin(inner.spec.lost)
            rows = decided.index[(won | lost).to_numpy()]
            if min(int(won.sum()), int(lost.sum())) < MIN_NESTED_WON_AND_LOST or len(rows) < MIN_NESTED_OUTCOMES:
                continue
            if float(rows.isin(won_rows).mean()) >= MIN_NESTED_SHARE:
                return outer, inner
    return None


def propose_mapping(frame: pd.DataFrame, profile: pd.DataFrame, outcome: str | None = None) -> ExportMapping:
    """:func:`propose` as a valid mapping.

    Raises:
        MappingError: no column can be the outcome (or ``outcome`` cannot be read as one).
    """
    return propose(frame, profile, outcome).mapping()


def _flagged_spec(column: str, kind: str, name: str, values: pd.Series, specs: Mapping[str, ColumnSpec]) -> ColumnSpec:
    """A column the data's evidence calls filled after contact: never a feature, and the reason sales gave where
    it is named so and no other column is ("Ablehnungsgrund" filled for worked leads only), so that its
    wrong-timing values leave their leads unlabelled, as the label rule says."""
    taken = {spec.role for other, spec in specs.items() if other != column}
    if kind == "category" and _REASON_NAME.search(name) and "reason" not in taken:
        return _reason_or_stage_spec(values, "stage" in taken)
    return ColumnSpec(role="after_contact")


MIN_NAME_ECHO_SHARE = 0.2  # of a column's filled rows holding the row's own first or last name ...
MIN_NAME_ECHO_ROWS = 10  # ... and at least this many: one note quoting the lead's address is no pattern
NAME_ECHO_LIFT = 3  # ... and this many times as often as another row's name: "van" or "del" is a word too
NAME_ECHO_SAMPLE = 5_000  # rows compared, at most: the share is a proportion, not a count
_NAME_WORD = re.compile(r"\w+")


def _names_echoed(
    frame: pd.DataFrame, kinds: Mapping[str, str], specs: Mapping[str, ColumnSpec]
) -> dict[str, tuple[str, float]]:
    """Text and category features that hold the same row's first or last name (a lead record's title "Interesse
    ERP - Anna Schulz", SAP's "Name des Leads") in at least ``MIN_NAME_ECHO_SHARE`` of their filled rows, and
    ``NAME_ECHO_LIFT`` times as often as the next row's name (a Dutch "van" in "Offerte van installatie" is in
    every row's "van Dijk" alike), with the name column and the share; company names are no person's, whatever
    founder they are named after."""
    sources = [column for column, kind in kinds.items() if kind == "person name"]
    candidates = [
        column for column, spec in specs.items() if spec.role in ("text", "categorical") and column not in sources
    ]
    if not sources or not candidates:
        return {}
    rows = frame.iloc[: min(len(frame), NAME_ECHO_SAMPLE)]
    name_words = {
        source: [
            {word for word in _NAME_WORD.findall(str(value).casefold()) if len(word) >= 3}
            if isinstance(value, str)
            else set()
            for value in rows[source]
        ]
        for source in sources
    }
    echoed: dict[str, tuple[str, float]] = {}
    for column in candidates:
        cells = [
            set(_NAME_WORD.findall(value.casefold())) if isinstance(value, str) else set() for value in rows[column]
        ]
        filled = sum(1 for words in cells if words)
        if not filled or holds_company_names(rows[column].dropna()):
            continue
        for source in sources:
            own = name_words[source]
            held = sum(1 for words, names in zip(cells, own, strict=True) if words & names)
            others = sum(1 for words, names in zip(cells, [*own[1:], *own[:1]], strict=True) if words & names)
            if held >= max(MIN_NAME_ECHO_SHARE * filled, MIN_NAME_ECHO_ROWS, NAME_ECHO_LIFT * others):
                echoed[column] = (source, held / filled)
                break
    return echoed


_AFTER_CONTACT_REMEDY = "If known before sales touches the lead: map it as a feature and list it under leakage.allowed"
_OPTION_REMEDY = "If known before sales touches the lead: add it to options and list it under leakage.allowed"


def _unnamed_dates(kinds: Mapping[str, str], specs: Mapping[str, ColumnSpec], names: Mapping[str, str]) -> list[str]:
    """Date columns proposed ``ignore`` whose names say no later moment (an update, a last contact): one of them may
    be the creation date under a name leadq does not know."""
    return [
        column
        for column, kind in kinds.items()
        if kind == "date" and specs[column].role == "ignore" and not _LATER_DATE_NAME.search(names[column])
    ]


def _picklist_note(separator: str, options: list[str]) -> str:
    shown = ", ".join(map(repr, options[:_OPTIONS_SHOWN])) + (", ..." if len(options) > _OPTIONS_SHOWN else "")
    return (
        f"Its cells list several options ({len(options)}, separated by '{separator}': {shown}): where some are the "
        f"lead's own, map it {{role: multi_select, options: [those], separator: '{separator}'}}; check-export judges "
        "each option"
    )


_OPTIONS_SHOWN = 6


def _flagged_options(
    flagged: Mapping[str, str], options_of: Mapping[str, tuple[str, str]]
) -> dict[str, dict[str, str]]:
    """Multi-select column -> its options the evidence flagged, with the evidence."""
    by_column: dict[str, dict[str, str]] = {}
    for label, evidence in flagged.items():
        if label in options_of:
            column, option = options_of[label]
            by_column.setdefault(column, {})[option] = evidence
    return by_column


# Feature roles whose columns the leak evidence reads as they are (numbers or categories); e-mail, job title and
# text columns only give derived features, and their derived flags are checked by check-export.
_EVIDENCE_ROLES = ("numeric", "count", "categorical", "multi_select", "boolean")
# The clearest evidence first in a proposal's comment, and two at most (check-export prints them all).
_EVIDENCE_ORDER = (
    "filled_after_contact",
    "grown_after_contact",
    "objected_after_contact",
    "one_outcome_values",
    "lift",
    "single_feature_auc",
    "missingness_auc",
    "sales_words",
    "after_outcome",
    "age_at_the_export",
)
_EVIDENCE_SHOWN = 2
EVIDENCE_MAX_ROWS = 50_000  # labelled leads the evidence is measured on (a sample of larger exports)


def sales_word(column: str, kind: str) -> str | None:
    """The word of a column's name that speaks of work sales does after contact (never a consent), or None.

    A number named as a campaign counts the campaign's contacts (the bank telemarketing export's "campaign": "number
    of contacts performed during this campaign and for this client"); a campaign's name is the lead's source.
    """
    if is_consent(column, kind):
        return None
    if kind in ("number", "number-as-text") and _CAMPAIGN_COUNT_NAME.fullmatch(to_snake_case(column)):
        return "campaign"
    return sales_words_in_name(column)


_CAMPAIGN_COUNT_NAME = re.compile(r"campaigns?|kampagnen?")


def _what_the_name_says(word: str) -> str:
    if word == "campaign":
        return "a count: the campaign's contacts"
    if word in CALENDAR_PARTS:
        return "when, not what: in a contact export, the last contact's"
    if word in SCORE_WORDS:
        return "a score or grade another system keeps: it may count sales' touches"
    return "sales work"


def _constant(values: pd.Series, rows: int) -> bool:
    return values.nunique() <= 1 and len(values) == rows


@dataclass(frozen=True)
class LeakEvidence:
    """What the leakage guard says of a proposal's columns: the flagged ones with their evidence (at most two
    kinds, the clearest first), and every measured column's single-feature AUC."""

    flagged: dict[str, str] = field(default_factory=dict)
    single_auc: dict[str, float] = field(default_factory=dict)


def leak_evidence(
    frame: pd.DataFrame,
    kinds: Mapping[str, str],
    specs: Mapping[str, ColumnSpec],
    outcome: str,
    columns: list[str],
    present: Mapping[str, pd.Series] | None = None,
    random_state: int = 0,
) -> LeakEvidence:
    """The evidence that columns know the outcome too well, from the leakage guard of ``check-export``.

    :func:`~pipelines.crm_export.leakage.check_leakage` on the raw columns: numbers as numbers, everything else
    as its trimmed, lower-cased text; labels from the proposed outcome; a random stratified split (an export
    read by inspect has no reviewed dates yet). Nothing is measured when fewer than the guard's minimum of
    leads are labelled.
    """
    spec = specs[outcome]
    if spec.role == "won_at":  # dated: won; the rest lost once the label horizon has passed
        won = _present(frame[outcome], _placeholders()).reindex(frame.index).notna().astype(float)
        labels = _open_while_young(won, _proposed_dates(frame, specs, "created_at"))
    elif spec.lost == []:  # won values; the rest as above
        read = spec.outcome_reader()
        won = frame[outcome].map(lambda value: float(read(value) == "won"))
        labels = _open_while_young(won, _proposed_dates(frame, specs, "created_at"))
    else:
        labels = spec.labels(_present(frame[outcome], _placeholders()).reindex(frame.index))
    labelled = labels.dropna()
    policy = LeakagePolicy()
    if len(labelled) < policy.min_rows or labelled.value_counts().min() < 2 or not columns:
        return LeakEvidence()  # too few leads to judge (the guard would skip them too), or one outcome only
    rows = (
        labelled.sample(EVIDENCE_MAX_ROWS, random_state=random_state) if len(labelled) > EVIDENCE_MAX_ROWS else labelled
    )
    train, _ = train_test_split(rows.index, test_size=0.25, stratify=rows, random_state=random_state)
    features = pd.DataFrame(
        {
            name: values
            for column in columns
            for name, values in _evidence_columns(frame.loc[rows.index, column], kinds[column], column, specs[column])
        }
    ).reset_index(drop=True)
    created_at, outcome_at = (_proposed_dates(frame.loc[rows.index], specs, role) for role in ("created_at", "end"))
    outcomes, train_mask = rows.to_numpy(dtype=float), rows.index.isin(train)
    kept_out = [column for column in columns if specs[column].role == "after_contact"]  # by name: never features
    options = {
        option_label(column, option): column
        for column in columns
        if specs[column].role == "multi_select"
        for option in specs[column].options or ()
    }
    report = check_leakage(
        features,
        outcomes,
        train_mask,
        policy,
        created_at=created_at,
        outcome_at=outcome_at,
        kept_out=kept_out,
        named=options,
    )
    filled_only: list[Finding] = []
    if (leads := _untouched_and_worked(frame, specs, labels, policy)) is not None:
        filled_only += _filled_after_contact(frame, specs, leads, columns, policy, present)
        filled_only += _options_filled_after_contact(frame, kinds, specs, leads, columns, policy)
    findings = [*report.findings, *filled_only, *_ages_at_the_export(frame, specs, labels, columns, policy)]
    evidence: dict[str, list[str]] = {}
    for finding in sorted(findings, key=lambda finding: _EVIDENCE_ORDER.index(finding.check)):
        text = finding.evidence.removeprefix(f"'{finding.column}': ").removeprefix(f"'{finding.column}' ")
        evidence.setdefault(finding.column, []).append(text)
    aucs = report.table["single_feature_auc"].dropna()
    return LeakEvidence(
        {column: "; ".join(found[:_EVIDENCE_SHOWN]) for column, found in evidence.items()},
        {str(column): float(auc) for column, auc in aucs.items()},
    )


def _ages_at_the_export(
    frame: pd.DataFrame,
    specs: Mapping[str, ColumnSpec],
    labels: pd.Series,
    columns: list[str],
    policy: LeakagePolicy,
) -> list[Finding]:
    """The guard's :func:`~pipelines.crm_export.leakage.days_to_the_export_finding` on every lead of the export
    (the open ones are where a lead's age shows; the labelled sample holds none)."""
    created_at = _proposed_dates(frame, specs, "created_at")
    if created_at is None:
        return []
    open_leads = labels.reindex(frame.index).isna().to_numpy()
    numbers = [column for column in columns if specs[column].role in ("numeric", "count")]
    placeholders = sorted(_placeholders())
    found = (
        days_to_the_export_finding(
            column, _evidence_values(frame[column], "number", column, placeholders), created_at, open_leads, policy
        )
        for column in numbers
    )
    return [finding for finding in found if finding is not None]


def _filled_after_contact(
    frame: pd.DataFrame,
    specs: Mapping[str, ColumnSpec],
    leads: tuple[np.ndarray, str, np.ndarray],
    columns: list[str],
    policy: LeakagePolicy,
    present: Mapping[str, pd.Series] | None = None,
) -> list[Finding]:
    """The guard's :func:`~pipelines.crm_export.leakage.filled_after_contact` on every lead of the export (not the
    labelled sample): the leads the proposed stage column says sales has not touched yet against the labelled rest
    (``leads``: :func:`_untouched_and_worked`). ``present``: each column's values that are no placeholder
    (``propose`` has them)."""
    fresh, stage, worked = leads
    placeholders = _placeholders()
    given = present or {column: _present(frame[column], placeholders) for column in columns}

    def finding(column: str) -> Finding | None:
        filled, at_rest = frame.index.isin(given[column].index), None
        spec = specs.get(column)
        values = given[column].reindex(frame.index)
        if spec is not None and spec.role in ("numeric", "count"):  # a count of sales' touches: 0 until the first
            values = pd.to_numeric(values, errors="coerce")
        else:  # an owner that reads "Lead Queue" until a rep takes the lead
            values = values.map(lambda value: str(value).strip(), na_action="ignore")
        if spec is not None and spec.role == "categorical":
            # as the model reads it, and check-export judges it: rare values are one "other" (a new deal's own
            # title, "Nieuwe deal Verhoeven", until sales names the offer)
            values = group_rare(values, RARE_CATEGORY_SHARE)[0]
        named = sales_words_in_name(column) is not None
        beyond, at_rest = filled_beyond_rest(values, fresh, policy.min_rows, named)
        filled = beyond if at_rest is not None else filled
        found = filled_after_contact(column, filled, fresh, worked, stage, policy, at_rest)
        group = spec.group if spec is not None else None
        grown = grown_after_contact(column, values, fresh, worked, stage, policy, group=group)
        if found or grown or not is_objection(column):
            return found or grown
        said_yes = values.map(lambda value: str(value).strip().casefold() in _BOOLEAN_TRUE, na_action="ignore")
        return objected_after_contact(column, said_yes.fillna(False).to_numpy(dtype=bool), fresh, worked, stage, policy)

    return [found for found in map(finding, columns) if found is not None]


def _untouched_and_worked(
    frame: pd.DataFrame, specs: Mapping[str, ColumnSpec], labels: pd.Series, policy: LeakagePolicy
) -> tuple[np.ndarray, str, np.ndarray] | None:
    """Per lead of the export, whether sales has not touched it yet (the proposed stage's or outcome's word), the
    column that says so, and whether it is a labelled lead sales worked alongside them (``worked_alongside``, by the
    proposed creation dates where there are any); None where no column tells untouched leads."""
    untouched = untouched_leads(specs, {column: frame[column] for column in specs})
    if untouched is None:
        return None
    fresh = untouched.to_numpy(dtype=bool)
    labelled = labels.reindex(frame.index).notna().to_numpy()
    worked = worked_alongside(fresh, labelled & ~fresh, _proposed_dates(frame, specs, "created_at"), policy.min_rows)
    return fresh, str(untouched.name), worked


def _options_filled_after_contact(
    frame: pd.DataFrame,
    kinds: Mapping[str, str],
    specs: Mapping[str, ColumnSpec],
    leads: tuple[np.ndarray, str, np.ndarray],
    columns: list[str],
    policy: LeakagePolicy,
) -> list[Finding]:
    """:func:`_filled_after_contact` for each option of the multi-select picklists among ``columns``, as the model
    reads it (yes/no), named ``option_label``: a list or tag sales adds ("Lists: Sales Follow-up") is found alone
    and left out of the options, as ``check-export`` would stop it."""
    fresh, stage, worked = leads
    found = []
    for column in (c for c in columns if specs[c].role == "multi_select"):
        named = sales_words_in_name(column) is not None  # "Sales Tags: Demo" is sales', as check-export reads it
        for name, flags in _evidence_columns(frame[column], kinds[column], column, specs[column]):
            beyond, at_rest = filled_beyond_rest(flags.rename(name), fresh, policy.min_rows, named)
            filled = beyond if at_rest is not None else flags.notna().to_numpy()
            if (finding := filled_after_contact(name, filled, fresh, worked, stage, policy, at_rest)) is not None:
                found.append(finding)
    return found


def _open_while_young(
    won: pd.Series, created: pd.Series | None, horizon_days: int = PROPOSAL_HORIZON_DAYS
) -> pd.Series:
    """Labels of an outcome that says only who won, as training reads them: a lead without a win created within
    the label horizon of the latest creation date is open (NaN), not lost (an open opportunity, not yet won, read
    as lost made the deal's own fields look like leaks that check-export then did not find). Without dates, lost."""
    if created is None or created.isna().all():
        return won
    young = (created > created.max() - pd.Timedelta(days=horizon_days)).to_numpy()
    return won.mask(young & (won == 0).to_numpy())


def _proposed_dates(frame: pd.DataFrame, specs: Mapping[str, ColumnSpec], role: str) -> pd.Series | None:
    """The proposal's ``created_at`` dates, or (``role`` "end") its ``outcome_at`` or ``won_at`` dates, parsed; None
    without such a column or where its values do not read as dates."""
    roles = ("outcome_at", "won_at") if role == "end" else (role,)
    column = next((c for c, spec in specs.items() if spec.role in roles), None)
    if column is None:
        return None
    try:
        return clean_column(frame[column], "date", column, sorted(_placeholders()))[0].reset_index(drop=True)
    except CleaningError:
        return None


def _evidence_columns(values: pd.Series, kind: str, column: str, spec: ColumnSpec) -> list[tuple[str, pd.Series]]:
    """The guard's columns of one raw column: itself (:func:`_evidence_values`), or for a multi-select picklist
    each option's yes/no as the model reads it, named ``option_label``, so a sales tag among honest ones is found
    alone."""
    placeholders = sorted(_placeholders())
    if spec.role != "multi_select" or not spec.options:
        return [(column, _evidence_values(values, kind, column, placeholders))]
    separator = spec.separator or OPTION_SEPARATORS[0]
    flags = option_flags(
        values.to_numpy(dtype=object), len(values), placeholder_keys(placeholders), spec.options, separator
    )
    return [
        (option_label(column, option), pd.Series(flags[:, index], index=values.index))
        for index, option in enumerate(spec.options)
    ]


def _evidence_values(values: pd.Series, kind: str, column: str, placeholders: list[str]) -> pd.Series:
    """A raw column as the guard reads it: numbers where it reads as numbers, else its trimmed lower-case text."""
    if kind in ("number", "number-as-text"):
        try:
            return clean_column(values, "numeric", column, placeholders)[0]
        except CleaningError:
            pass  # read as text after all
    text, _ = mark_missing(values, placeholders)
    return text.map(lambda value: str(value).strip().casefold(), na_action="ignore")


def _after_contact_spec(name: str, kind: str, values: pd.Series, role_taken: set[Role]) -> ColumnSpec:
    # Disposition-like columns become stage or reason when their values can be read; never a feature.
    if kind == "category" and _STAGE_NAME.search(name) and "stage" not in role_taken:
        spec = _stage_spec(values)
        if spec:
            return spec
    if kind == "category" and _REASON_NAME.search(name) and "reason" not in role_taken:
        return _reason_or_stage_spec(values, "stage" in role_taken)
    return ColumnSpec(role="after_contact")


def _reason_or_stage_spec(values: pd.Series, stage_taken: bool) -> ColumnSpec:
    """A column named for a reason whose values are a lead's stages, a new one among them (Dynamics 365's German
    "Statusgrund": Neu, Kontaktiert, Qualifiziert, Kontakt nicht möglich): the stage, whose new leads are the
    untouched ones; else the reason."""
    stage = None if stage_taken else _stage_spec(values)
    if stage is not None and "mql" in (stage.values or {}).values():
        return stage
    return _reason_spec(values)


def is_a_persons_age(column: str, values: pd.Series | None = None) -> bool:
    """Named as a person's age or year of birth ("Age", "Alter", "Geburtsjahr"; not a "Company Age"), and where
    ``values`` are given, numbers that read as a person's years (14 to 100) or text (an age group "25-34"): a
    Salesforce opportunity's "Age" counts its days open (a leak the evidence names, not a person's data)."""
    name = to_snake_case(column)
    if not _AGE_NAME.search(name) or _OF_A_COMPANY.match(name):
        return False
    if values is None or values.dropna().empty or "birth" in name or "geburt" in name or "jahrgang" in name:
        return True
    # every number a value holds ("42", an age group "25-34", "65+"): a person's years
    numbers = values.dropna().astype(str).str.findall(r"\d+(?:[.,]\d+)?")
    years = numbers.map(lambda found: bool(found) and all(14 <= float(n.replace(",", ".")) <= 100 for n in found))
    return float(years.mean()) >= 0.9


def is_a_persons_money(column: str) -> bool:
    """Named as a person's income or wealth ("Income", "Gehalt", "Net Worth"; not a company's revenue)."""
    name = to_snake_case(column)
    return bool(_PERSONAL_MONEY_NAME.search(name)) and not _OF_A_COMPANY.match(name)


def _role_note(column: str, spec: ColumnSpec, distinct: int, missing_share: float) -> str:
    name = to_snake_case(column)
    if spec.role == "pii" and _PROTECTED_NAME.search(name):
        return "a protected personal attribute (gender, marital status, origin...): never a feature"
    if spec.role == "pii" and is_a_persons_age(column):
        return (
            "a person's age, a protected ground (AGG) a B2B score has no use for: never a feature; only where your use "
            "case may score by age (an insurer's pricing), map it numeric"
        )
    if spec.role in FEATURE_ROLES and is_a_persons_money(column):
        return (
            "review: a person's income or wealth, personal data; a B2B score reads the company (size, revenue), so map "
            "it pii unless your use case needs it and the leads agreed"
        )
    if spec.role == "pii":
        return (
            "a person's data (name, phone, address, postal code, location, bank account, IP, profile, birth date): "
            "never a feature"
        )
    if spec.role == "ignore" and is_company_name(column):
        return (
            "a company's name says who, not what: never a feature (accounts come from the e-mail domain or account_id)"
        )
    if spec.role == "consent":
        return "the gated columns' features are unknown for leads without a clear yes"
    if spec.role == "boolean" and is_objection(column):
        return "yes = the lead objected: a feature, not a consent (a consent gates where yes = agreed)"
    if spec.role == "ignore" and is_consent(column, "boolean-like"):
        return (
            "a consent gating no column found by name: never a feature (no lead is scored down for withholding "
            "consent); to gate columns, {role: consent, gates: [...]}"
        )
    if spec.role == "ignore" and distinct == 1 and missing_share == 0:
        return "the same value in every row: nothing to learn from"
    return ""


def proposal_notes(
    profile: pd.DataFrame, mapping: ExportMapping | None = None, review: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Column -> a short comment for the proposed mapping: kind, missing share, distinct values (never values),
    what a proposed role means where it needs saying (consent, objections such as "Do Not Email", e-mail), and
    ``review`` (:attr:`Proposal.review`: why an outcome or date role is a guess; outcome values only)."""
    notes = {}
    for row in profile.to_dict("records"):
        column = row["column"]
        note = f"{row['kind']}, {row['missing_share']:.0%} missing, {row['cardinality']:,} distinct"
        spec = mapping.columns.get(column) if mapping is not None else None
        role_note = _role_note(column, spec, row["cardinality"], row["missing_share"]) if spec is not None else ""
        extra = [part for part in (role_note, (review or {}).get(column, "")) if part]
        notes[column] = "; ".join([note, *extra])
    return notes
