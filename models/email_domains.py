"""E-mail addresses reduced to what a lead score may use: freemail, competitor domain, a valid address.

A mapping's ``email`` column becomes ``<name>_is_freemail``, ``<name>_has_valid_email`` and, given competitor
domains, ``<name>_is_competitor``; the address itself never leaves :func:`email_flags`.
"""

from __future__ import annotations

import re

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
        # Internet providers' mailboxes: their customers are households, not one company
        "comcast.net",
        "verizon.net",
        "sbcglobal.net",
        "att.net",
        "cox.net",
        "charter.net",
        "earthlink.net",
        "optonline.net",
        "bellsouth.net",
        "juno.com",
        "aim.com",
        "mail.com",
        "email.com",
        "inbox.com",
        "rocketmail.com",
        "yahoo.co.in",
        "yahoo.es",
        "yahoo.it",
        "yahoo.ca",
        "yahoo.com.br",
        "hotmail.it",
        "hotmail.es",
        "outlook.fr",
        "live.co.uk",
        "live.fr",
        "rediffmail.com",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "bigpond.com",
        "optusnet.com.au",
        "ntlworld.com",
        "talktalk.net",
        "blueyonder.co.uk",
        "uol.com.br",
        "terra.com.br",
        "hanmail.net",
        "sina.com",
        "yeah.net",
        "mail.de",
        "vodafonemail.de",
        "kabelmail.de",
        "a1.net",
    ]
)

_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_LOCAL_PART = re.compile(r"[^@\s]+")
MAX_DOMAIN_CHARS = 253  # DNS: a name of at most 253 characters, each label at most 63


def is_valid_local_part(local_part: str) -> bool:
    """Whether ``local_part`` (before the last "@") can be an address's: no "@", no white space."""
    return _LOCAL_PART.fullmatch(local_part) is not None


def is_valid_domain(domain: str) -> bool:
    """Whether ``domain`` (lower case, ASCII) is a host name an address can have: labels of letters, digits and
    hyphens, a top-level domain of letters, within DNS's lengths."""
    return (
        len(domain) <= MAX_DOMAIN_CHARS
        and _DOMAIN.fullmatch(domain) is not None
        and all(len(label) <= 63 for label in domain.split("."))
    )


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
