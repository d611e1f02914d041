"""Normalising names and identifiers so that shadow variants of one record compare equal.

Pure functions, no database. The matching engine (``matching.py``) compares the keys made
here; the account and contact services store them (``*MatchKey`` rows, ``name_key``) so that
candidates are found through indexes.

A company name becomes a :class:`NameParts`: its *key* (Unicode NFKC with the Thai
ํา → ำ fix, case-folded, legal form and branch wording removed, then every character that
is not a letter, mark or digit removed), the legal form found (``company_limited``,
``public_company_limited``, …) and the branch number named in it, if any.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple
from urllib.parse import urlsplit

import phonenumbers

HEAD_OFFICE = "00000"
# Branch wording without a number ("Chiang Mai Branch", "สาขาเชียงใหม่").
SOME_BRANCH = "*"
DEFAULT_REGION = "TH"

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_THAI_DIGIT = re.compile("[\u0e50-\u0e59]")  # the Thai digits
# NFKC decomposes SARA AM (ำ) into NIKHAHIT + SARA AA (ํา); people type either.
_NIKHAHIT_AA = "\u0e4d\u0e32"
_SARA_AM = "\u0e33"
_SARA_AA = "\u0e32"


def nfkc(text: str) -> str:
    """NFKC, with ํา folded into ำ and Thai digits made ASCII."""
    text = text or ""
    if text.isascii():  # ASCII is NFKC already, and has neither ํา nor Thai digits
        return text
    # Names are nearly always NFKC already except for ำ, which NFKC only splits into ํา (no
    # Thai character composes or reorders with its neighbours): when the text with ำ read as
    # า is normalised, NFKC-then-fold is the fold alone, and the costly normalize is skipped.
    if unicodedata.is_normalized("NFKC", text.replace(_SARA_AM, _SARA_AA)):
        text = text.replace(_NIKHAHIT_AA, _SARA_AM)
    else:
        text = unicodedata.normalize("NFKC", text).replace(_NIKHAHIT_AA, _SARA_AM)
    return text.translate(_THAI_DIGITS) if _THAI_DIGIT.search(text) else text


def fold(text: str) -> str:
    """:func:`nfkc`, case-folded, white space collapsed."""
    return " ".join(nfkc(text).casefold().split())


def _keep(ch: str) -> bool:
    # Letters, marks (Thai vowels and tone marks are Mn) and digits.
    return unicodedata.category(ch)[0] in "LMN"


# squeeze and _spaced run on every name of every record a batch dedupe reads: one regular
# expression over the characters _keep refuses, instead of a call per character. The
# expression covers the Basic Multilingual Plane (a bitmap in the regex engine); text with a
# character beyond it takes the per-character way.
_ASCII_DROP = re.compile("[^0-9A-Za-z]+")  # _keep on ASCII: letters and digits
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_bmp_drop: re.Pattern[str] | None = None


def _drop(text: str) -> re.Pattern[str] | None:
    """The expression matching runs of characters ``text`` loses, or None for the slow way."""
    global _bmp_drop
    if text.isascii():
        return _ASCII_DROP
    if _ASTRAL.search(text):
        return None
    if _bmp_drop is None:  # built on first use (~50 ms), not on every import
        dropped = "".join(chr(cp) for cp in range(0x10000) if not _keep(chr(cp)))
        _bmp_drop = re.compile("[" + re.escape(dropped) + "]+")
    return _bmp_drop


def squeeze(text: str) -> str:
    """Only the letters, marks and digits of ``text``."""
    drop = _drop(text)
    if drop is None:
        return "".join(ch for ch in text if _keep(ch))
    return drop.sub("", text)


def _spaced(text: str) -> str:
    """Punctuation and symbols become spaces; white space collapsed."""
    drop = _drop(text)
    if drop is None:
        return " ".join("".join(ch if _keep(ch) else " " for ch in text).split())
    return " ".join(drop.sub(" ", text).split())


# --- legal forms --------------------------------------------------------------------------

COMPANY_LIMITED = "company_limited"
PUBLIC_COMPANY_LIMITED = "public_company_limited"
LIMITED_PARTNERSHIP = "limited_partnership"
ORDINARY_PARTNERSHIP = "ordinary_partnership"
CORPORATION = "corporation"
INCORPORATED = "incorporated"
LLC = "llc"
PLC = "plc"

LEGAL_FORM_LABELS = {
    COMPANY_LIMITED: "Company Limited (บริษัท … จำกัด)",
    PUBLIC_COMPANY_LIMITED: "Public Company Limited (บริษัท … จำกัด (มหาชน))",
    LIMITED_PARTNERSHIP: "Limited Partnership (ห้างหุ้นส่วนจำกัด)",
    ORDINARY_PARTNERSHIP: "Ordinary Partnership (ห้างหุ้นส่วนสามัญ)",
    CORPORATION: "Corporation",
    INCORPORATED: "Incorporated",
    LLC: "LLC",
    PLC: "Plc",
}

# English forms as trailing token sequences (after punctuation became spaces), longest first.
_ENGLISH_FORMS: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    sorted(
        (
            (("public", "company", "limited"), PUBLIC_COMPANY_LIMITED),
            (("public", "co", "ltd"), PUBLIC_COMPANY_LIMITED),
            (("public", "company", "ltd"), PUBLIC_COMPANY_LIMITED),
            (("public", "co", "limited"), PUBLIC_COMPANY_LIMITED),
            (("pcl",), PUBLIC_COMPANY_LIMITED),
            (("p", "c", "l"), PUBLIC_COMPANY_LIMITED),
            (("plc",), PLC),
            (("company", "limited"), COMPANY_LIMITED),
            (("company", "ltd"), COMPANY_LIMITED),
            (("co", "ltd"), COMPANY_LIMITED),
            (("co", "limited"), COMPANY_LIMITED),
            (("coltd",), COMPANY_LIMITED),
            (("ltd",), COMPANY_LIMITED),
            (("limited",), COMPANY_LIMITED),
            (("co",), COMPANY_LIMITED),
            (("company",), COMPANY_LIMITED),
            (("limited", "partnership"), LIMITED_PARTNERSHIP),
            (("ltd", "part"), LIMITED_PARTNERSHIP),
            (("ltd", "partnership"), LIMITED_PARTNERSHIP),
            (("l", "p"), LIMITED_PARTNERSHIP),
            (("lp",), LIMITED_PARTNERSHIP),
            (("ordinary", "partnership"), ORDINARY_PARTNERSHIP),
            (("registered", "ordinary", "partnership"), ORDINARY_PARTNERSHIP),
            (("partnership",), ORDINARY_PARTNERSHIP),
            (("corporation",), CORPORATION),
            (("corp",), CORPORATION),
            (("incorporated",), INCORPORATED),
            (("inc",), INCORPORATED),
            (("llc",), LLC),
            (("l", "l", "c"), LLC),
        ),
        key=lambda item: -len(item[0]),
    )
)

# Thai forms on the squeezed text (Thai is written without spaces between words).
_THAI_PREFIXES: tuple[tuple[str, str], ...] = (
    ("ห้างหุ้นส่วนสามัญนิติบุคคล", ORDINARY_PARTNERSHIP),
    ("ห้างหุ้นส่วนสามัญ", ORDINARY_PARTNERSHIP),
    ("ห้างหุ้นส่วนจำกัด", LIMITED_PARTNERSHIP),
    ("บริษัทมหาชนจำกัด", PUBLIC_COMPANY_LIMITED),
    ("บริษัท", COMPANY_LIMITED),
    ("บจก", COMPANY_LIMITED),
    ("บมจ", PUBLIC_COMPANY_LIMITED),
    ("หจก", LIMITED_PARTNERSHIP),
    ("หสน", ORDINARY_PARTNERSHIP),
)
_THAI_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("จำกัดมหาชน", PUBLIC_COMPANY_LIMITED),
    ("มหาชน", PUBLIC_COMPANY_LIMITED),
    ("จำกัด", COMPANY_LIMITED),
)
_THAI_FORM_WORDS = frozenset(
    [w for w, _ in _THAI_PREFIXES] + [w for w, _ in _THAI_SUFFIXES] + ["ห้างหุ้นส่วน"]
)
_FORM_STRENGTH = {PUBLIC_COMPANY_LIMITED: 2, LIMITED_PARTNERSHIP: 1, ORDINARY_PARTNERSHIP: 1}


def _stronger(current: str | None, found: str) -> str:
    if current is None:
        return found
    return found if _FORM_STRENGTH.get(found, 0) > _FORM_STRENGTH.get(current, 0) else current


# The same forms by their last word: only those can end the tokens (order kept).
_ENGLISH_FORMS_BY_LAST: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {}
for _form in _ENGLISH_FORMS:
    _ENGLISH_FORMS_BY_LAST[_form[0][-1]] = (*_ENGLISH_FORMS_BY_LAST.get(_form[0][-1], ()), _form)


def _strip_english_forms(tokens: list[str]) -> tuple[list[str], str | None]:
    form: str | None = None
    while tokens:
        for words, found in _ENGLISH_FORMS_BY_LAST.get(tokens[-1], ()):
            n = len(words)
            if len(tokens) > n and tuple(tokens[-n:]) == words:
                tokens = tokens[:-n]
                form = _stronger(form, found)
                break
        else:
            break
    return tokens, form


_THAI_PREFIX_WORDS = tuple(w for w, _ in _THAI_PREFIXES)
_THAI_SUFFIX_WORDS = tuple(w for w, _ in _THAI_SUFFIXES)


def _strip_thai_forms(key: str) -> tuple[str, str | None]:
    if not (key.startswith(_THAI_PREFIX_WORDS) or key.endswith(_THAI_SUFFIX_WORDS)):
        return key, None
    form: str | None = None
    changed = True
    while changed:
        changed = False
        for suffix, found in _THAI_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                form = _stronger(form, found)
                changed = True
                break
        for prefix, found in _THAI_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key = key[len(prefix) :]
                form = _stronger(form, found)
                changed = True
                break
    return key, form


# --- branch wording -----------------------------------------------------------------------

_BRANCH_WORDS = r"(?:สาขา|สำนักงานใหญ่|branch|head\s*office|headquarters|\bhq\b|\bbr\.)"
_PAREN_BRANCH = re.compile(r"[(\[][^()\[\]]*" + _BRANCH_WORDS + r"[^()\[\]]*[)\]]")
_HEAD_OFFICE = re.compile(r"สำนักงานใหญ่|\bhead\s*office\b|\bheadquarters\b|\bhq\b")
_THAI_BRANCH = re.compile(r"สาขา.*$")
# "- Chiang Mai Branch", ", Branch No. 2", "Branch 00002", "Br. 2" (to the end of the name)
_DASHES = "-\u2013\u2014,"  # hyphen, en dash, em dash, comma
_ENGLISH_BRANCH = re.compile(rf"(?:\s[{_DASHES}]\s*[^{_DASHES}]*)?\b(?:branch|br\.)(?:\W.*)?$")
# Every pattern above needs one of these: a name without any has no branch wording.
_ANY_BRANCH = re.compile(r"สาขา|สำนักงานใหญ่|branch|head|hq|br\.")
_BRANCH_NUMBER = re.compile(
    r"(?:สาขา|branch|br\.)\s*(?:ที่|เลขที่|no\.?|number|#)?\s*[:.]?\s*(\d{1,5})\b"
)


def _branch_of(fragment: str) -> str:
    if _HEAD_OFFICE.search(fragment):
        return HEAD_OFFICE
    number = _BRANCH_NUMBER.search(fragment)
    return number.group(1).zfill(5) if number else SOME_BRANCH


def _strip_branch(text: str) -> tuple[str, str | None]:
    """Remove branch wording from folded ``text``; return the rest and the branch named."""
    if not _ANY_BRANCH.search(text):
        return text, None
    branch: str | None = None
    for paren in _PAREN_BRANCH.finditer(text):
        branch = branch if branch not in (None, SOME_BRANCH) else _branch_of(paren.group(0))
    text = _PAREN_BRANCH.sub(" ", text)
    for pattern in (_THAI_BRANCH, _ENGLISH_BRANCH):
        match = pattern.search(text)
        if match and match.start() > 0:
            found = _branch_of(match.group(0))
            branch = branch if branch not in (None, SOME_BRANCH) else found
            text = text[: match.start()]
    if _HEAD_OFFICE.search(text):
        branch = branch or HEAD_OFFICE
        text = _HEAD_OFFICE.sub(" ", text)
    return text, branch


# --- names --------------------------------------------------------------------------------


class NameParts(NamedTuple):
    """A company or person name as it is compared (a tuple: millions are made in a batch)."""

    key: str  # what names are compared on; "" for an empty name
    words: str  # the same, with single spaces between words (for token comparisons)
    legal_form: str | None
    branch: str | None  # "00000" head office, "00002", SOME_BRANCH, or None if not named


_NO_NAME = NameParts(key="", words="", legal_form=None, branch=None)


def company_name(value: str) -> NameParts:
    """Split a company name into its comparable key, legal form and branch."""
    if not value:  # the empty name_th / name_en of most records
        return _NO_NAME
    text = fold(value)
    text, branch = _strip_branch(text)
    tokens, form = _strip_english_forms(_spaced(text).split())
    words = " ".join(tokens)
    # _spaced leaves only letters, marks and digits in a token: squeezing the words is
    # joining the tokens
    key, thai_form = _strip_thai_forms("".join(tokens))
    if thai_form:
        form = _stronger(form, thai_form)
        kept = [t for t in tokens if t not in _THAI_FORM_WORDS]
        words = " ".join(kept)
        if "".join(kept) != key:  # the form was written into a word: no word boundaries
            words = key
    if not key:  # a name that is nothing but a legal form or branch wording
        key = squeeze(_spaced(fold(value)))
        words = _spaced(fold(value))
    return NameParts(key=key, words=words, legal_form=form, branch=branch)


def company_name_key(value: str) -> str:
    return company_name(value).key


def person_name_key(*parts: str) -> str:
    """A person's name parts folded and squeezed into one key ("Somchai  Jaidee" → …)."""
    return squeeze(fold(" ".join(p for p in parts if p)))


# --- identifiers --------------------------------------------------------------------------


def phones_e164(value: str, *, region: str = DEFAULT_REGION) -> list[str]:
    """Every phone number in ``value`` in E.164 ("02-123 4567 ext. 8" → ["+6621234567"])."""
    text = nfkc(value)
    if not text.strip():
        return []
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.POSSIBLE
    ):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    if not found:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return []
        if phonenumbers.is_possible_number(number):
            found.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return found


def phone_e164(value: str, *, region: str = DEFAULT_REGION) -> str:
    """The first phone number in ``value`` in E.164, or "" if there is none."""
    numbers = phones_e164(value, region=region)
    return numbers[0] if numbers else ""


FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.co.th",
        "outlook.com",
        "outlook.co.th",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.th",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "qq.com",
        "163.com",
    }
)

# Public suffixes of two labels (the registrable domain is one label more).
_SECOND_LEVEL_SUFFIXES = frozenset(
    {
        *(f"{s}.th" for s in ("co", "ac", "go", "or", "in", "net", "mi")),
        *(f"{s}.uk" for s in ("co", "org", "ac", "gov", "ltd", "plc", "me")),
        *(f"{s}.jp" for s in ("co", "ne", "or", "ac", "go")),
        *(f"{s}.au" for s in ("com", "net", "org", "edu", "gov")),
        *(f"{s}.sg" for s in ("com", "net", "org", "edu", "gov")),
        *(f"{s}.my" for s in ("com", "net", "org", "edu", "gov")),
        *(f"{s}.cn" for s in ("com", "net", "org", "edu", "gov")),
        *(f"{s}.hk" for s in ("com", "net", "org", "edu", "gov")),
        *(f"{s}.vn" for s in ("com", "net", "org", "edu", "gov")),
        *(f"{s}.id" for s in ("co", "or", "ac", "go")),
        *(f"{s}.kr" for s in ("co", "or", "ac", "go")),
        *(f"{s}.nz" for s in ("co", "org", "ac", "govt")),
        *(f"{s}.in" for s in ("co", "net", "org", "ac", "gov")),
    }
)


def registrable_domain(host: str) -> str:
    """``www.shop.siamtrading.co.th`` → ``siamtrading.co.th``."""
    # fold() of ASCII text, without its Unicode steps (hosts are nearly always ASCII)
    host = " ".join(host.lower().split()) if host.isascii() else fold(host)
    host = host.strip(".").removeprefix("www.")
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2:
        return host
    keep = 3 if ".".join(labels[-2:]) in _SECOND_LEVEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def email_address(value: str) -> str:
    """The address folded to lower case; "" if it has no ``@``."""
    text = fold(value).replace(" ", "")
    return text if text.count("@") == 1 and not text.startswith("@") else ""


def email_domain(value: str) -> str:
    """The registrable domain of an address ("sales@mail.siam.co.th" → "siam.co.th")."""
    address = email_address(value)
    return registrable_domain(address.rsplit("@", 1)[1]) if address else ""


def company_email_domain(value: str) -> str:
    """:func:`email_domain`, but "" for free-mail providers (not a company signal)."""
    domain = email_domain(value)
    return "" if domain in FREE_MAIL_DOMAINS else domain


# A plain address: an optional scheme, a host of letters, digits, dots and hyphens, then
# nothing or a path, query or fragment. urlsplit gives the same host for it, more slowly.
_PLAIN_URL = re.compile(r"(?:[a-z][a-z0-9+.\-]*://)?([a-z0-9.\-]+)(?:[/?#].*)?", re.DOTALL)


def url_host(text: str) -> str:
    """The host of folded ``text``, as ``urlsplit`` reads it ("http://" added if it has no
    scheme); "" if it has none or cannot be read."""
    plain = _PLAIN_URL.fullmatch(text) if text.isascii() else None
    if plain:
        return plain.group(1)
    if "://" not in text:
        text = "http://" + text
    try:
        return urlsplit(text).hostname or ""
    except ValueError:
        return ""


def website_domain(value: str) -> str:
    """The registrable domain of a web address ("https://www.siam.co.th/th/" → "siam.co.th")."""
    text = fold(value).replace(" ", "")
    if not text:
        return ""
    domain = registrable_domain(url_host(text))
    return "" if domain in FREE_MAIL_DOMAINS or "." not in domain else domain


_NOT_DIGIT = re.compile(r"\D")


def tax_id_digits(value: str) -> str:
    """The digits of a Thai tax ID as typed ("0-1055-12345-67-8", Thai digits too)."""
    return _NOT_DIGIT.sub("", nfkc(value))


def branch_number(value: str) -> str:
    """A branch number as 5 digits ("2" → "00002"); "" if ``value`` has no digits."""
    digits = tax_id_digits(value)
    return digits.zfill(5)[-5:] if digits else ""
