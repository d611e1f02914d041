"""Normalisation: names, legal forms, branches, phones, emails, websites, tax IDs."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.dataquality import normalize
from accord.dataquality.normalize import (
    COMPANY_LIMITED,
    HEAD_OFFICE,
    LIMITED_PARTNERSHIP,
    ORDINARY_PARTNERSHIP,
    PUBLIC_COMPANY_LIMITED,
    SOME_BRANCH,
    NameParts,
    company_email_domain,
    company_name,
    company_name_key,
    email_address,
    email_domain,
    fold,
    nfkc,
    person_name_key,
    phone_e164,
    phones_e164,
    tax_id_digits,
    website_domain,
)


@pytest.mark.parametrize(
    ("name", "key", "form", "branch"),
    [
        ("Siam Trading Co., Ltd.", "siamtrading", COMPANY_LIMITED, None),
        ("  SIAM   TRADING  COMPANY LIMITED ", "siamtrading", COMPANY_LIMITED, None),
        ("Siam Trading Co.,Ltd", "siamtrading", COMPANY_LIMITED, None),
        ("Siam Trading Public Company Limited", "siamtrading", PUBLIC_COMPANY_LIMITED, None),
        ("Siam Trading PCL", "siamtrading", PUBLIC_COMPANY_LIMITED, None),
        ("Siam Trading Ltd. Part.", "siamtrading", LIMITED_PARTNERSHIP, None),
        ("Siam Trading Limited Partnership", "siamtrading", LIMITED_PARTNERSHIP, None),
        ("Acme Inc.", "acme", "incorporated", None),
        ("Acme Corp.", "acme", "corporation", None),
        ("Acme Corporation", "acme", "corporation", None),
        ("Acme LLC", "acme", "llc", None),
        ("Acme Plc", "acme", "plc", None),
        ("บริษัท สยามเทรดดิ้ง จำกัด", "สยามเทรดดิ้ง", COMPANY_LIMITED, None),
        ("บริษัทสยามเทรดดิ้งจำกัด", "สยามเทรดดิ้ง", COMPANY_LIMITED, None),
        ("บริษัท สยามเทรดดิ้ง จํากัด", "สยามเทรดดิ้ง", COMPANY_LIMITED, None),  # ํา
        ("บจก. สยามเทรดดิ้ง", "สยามเทรดดิ้ง", COMPANY_LIMITED, None),
        ("บริษัท สยามเทรดดิ้ง จำกัด (มหาชน)", "สยามเทรดดิ้ง", PUBLIC_COMPANY_LIMITED, None),
        ("บมจ. สยามเทรดดิ้ง", "สยามเทรดดิ้ง", PUBLIC_COMPANY_LIMITED, None),
        ("ห้างหุ้นส่วนจำกัด สมชายการช่าง", "สมชายการช่าง", LIMITED_PARTNERSHIP, None),
        ("หจก. สมชายการช่าง", "สมชายการช่าง", LIMITED_PARTNERSHIP, None),
        ("ห้างหุ้นส่วนสามัญ สมชายการช่าง", "สมชายการช่าง", ORDINARY_PARTNERSHIP, None),
        ("สยามเทรดดิ้ง Co., Ltd.", "สยามเทรดดิ้ง", COMPANY_LIMITED, None),
        ("Siam Trading Co., Ltd. (Head Office)", "siamtrading", COMPANY_LIMITED, HEAD_OFFICE),
        ("Siam Trading HQ", "siamtrading", None, HEAD_OFFICE),
        ("บริษัท สยามเทรดดิ้ง จำกัด (สำนักงานใหญ่)", "สยามเทรดดิ้ง", COMPANY_LIMITED, HEAD_OFFICE),
        ("บริษัท สยามเทรดดิ้ง จำกัด สาขาที่ 00002", "สยามเทรดดิ้ง", COMPANY_LIMITED, "00002"),
        ("บริษัท สยามเทรดดิ้ง จำกัด (สาขา ๓)", "สยามเทรดดิ้ง", COMPANY_LIMITED, "00003"),
        ("Siam Trading Co., Ltd. (Branch 2)", "siamtrading", COMPANY_LIMITED, "00002"),
        ("Siam Trading Co., Ltd. Branch No. 00012", "siamtrading", COMPANY_LIMITED, "00012"),
        ("Siam Trading Co., Ltd. - Chiang Mai Branch", "siamtrading", COMPANY_LIMITED, SOME_BRANCH),
        ("Siam Trading Co., Ltd. (Chiang Mai Branch)", "siamtrading", COMPANY_LIMITED, SOME_BRANCH),
        ("Toyota Motor (Thailand) Co., Ltd.", "toyotamotorthailand", COMPANY_LIMITED, None),
    ],
)
def test_company_name_parts(name: str, key: str, form: str | None, branch: str | None) -> None:
    parts = company_name(name)
    assert (parts.key, parts.legal_form, parts.branch) == (key, form, branch)


def test_nfkc_folds_thai_nikhahit_sara_aa_into_sara_am() -> None:
    assert fold("จ\u0e4d\u0e32กัด") == fold("จ\u0e33กัด") == "จ\u0e33กัด"
    assert fold("\uff33\uff29\uff21\uff2d") == "siam"  # full-width


def test_person_name_key() -> None:
    assert person_name_key(" Somchai ", "JAI-DEE") == person_name_key("somchai", "jaidee")
    assert person_name_key("สมชาย", "ใจดี") == "สมชายใจดี"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02-123-4567", ["+6621234567"]),
        ("+66 2 123 4567 ext. 12", ["+6621234567"]),
        ("081 234 5678", ["+66812345678"]),
        ("๐๘๑๒๓๔๕๖๗๘", ["+66812345678"]),
        ("02 123 4567, 081-234-5678", ["+6621234567", "+66812345678"]),
        ("+1 415 555 2671", ["+14155552671"]),
        ("call me", []),
        ("", []),
    ],
)
def test_phones_to_e164(text: str, expected: list[str]) -> None:
    assert phones_e164(text) == expected
    assert phone_e164(text) == (expected[0] if expected else "")


def test_email_and_domains() -> None:
    assert email_address(" Sales@SiamTrading.co.th ") == "sales@siamtrading.co.th"
    assert email_address("not an address") == ""
    assert email_domain("sales@mail.siamtrading.co.th") == "siamtrading.co.th"
    assert company_email_domain("somchai@gmail.com") == ""
    assert company_email_domain("somchai@hotmail.com") == ""
    assert company_email_domain("somchai@siamtrading.co.th") == "siamtrading.co.th"


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.siamtrading.co.th/th/about", "siamtrading.co.th"),
        ("siamtrading.co.th", "siamtrading.co.th"),
        ("HTTP://WWW.SiamTrading.CO.TH", "siamtrading.co.th"),
        ("http://shop.example.com:8080/x?y=1", "example.com"),
        ("https://www.example.co.uk/", "example.co.uk"),
        ("", ""),
        ("localhost", ""),
    ],
)
def test_website_domain(url: str, domain: str) -> None:
    assert website_domain(url) == domain


def test_tax_id_digits() -> None:
    assert tax_id_digits("0-1055-12345-67-8") == "0105512345678"
    assert tax_id_digits("๐๑๐๕๕๑๒๓๔๕๖๗๘") == "0105512345678"


# --- properties ---------------------------------------------------------------------------

ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()&'/")
    + list("กขคงจสยามเทรดดิ้งโลจิสติกส์บริษัทจำกัดมหาชน\u0e4d\u0e32")
)
WORDS_EN = ["siam", "global", "paper", "steel", "golden", "royal", "asia", "motor", "tech"]
WORDS_TH = ["สยาม", "กระดาษ", "เหล็ก", "โกลเด้น", "รอยัล", "คำแสง", "น้ำทอง", "ทองคำ"]
EN_FORMS = ["Co., Ltd.", "Co.,Ltd", "CO LTD", "Company Limited", "Limited", "Ltd.", ""]
TH_FORMS = [("บริษัท ", " จำกัด"), ("บจก. ", ""), ("บริษัท", "จำกัด"), ("", " Co., Ltd."), ("", "")]


@given(st.text(ALPHABET, max_size=40))
def test_company_name_key_is_idempotent(text: str) -> None:
    key = company_name_key(text)
    assert company_name_key(key) == key


@given(st.text(max_size=40))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@st.composite
def english_variants(draw: st.DrawFn) -> tuple[str, str]:
    words = draw(st.lists(st.sampled_from(WORDS_EN), min_size=1, max_size=3))
    base = " ".join(words) + " Co., Ltd."
    variant_words = [
        draw(st.sampled_from([w, w.upper(), w.title()])) + draw(st.sampled_from(["", " ", "  "]))
        for w in words
    ]
    sep = draw(st.sampled_from([" ", "  ", "", "-", "."]))
    variant = sep.join(variant_words) + draw(st.sampled_from([" ", "  ", ", ", " "]))
    variant += draw(st.sampled_from(EN_FORMS)) + draw(st.sampled_from(["", " ", "\t"]))
    return base, variant


@given(english_variants())
def test_english_variants_share_the_key(pair: tuple[str, str]) -> None:
    base, variant = pair
    assert company_name_key(variant) == company_name_key(base)


@st.composite
def thai_variants(draw: st.DrawFn) -> tuple[str, str]:
    words = draw(st.lists(st.sampled_from(WORDS_TH), min_size=1, max_size=3))
    base = "บริษัท " + "".join(words) + " จำกัด"
    name = draw(st.sampled_from([" ", "", "  "])).join(words)
    if draw(st.booleans()):
        name = name.replace("\u0e33", "\u0e4d\u0e32")  # ำ typed as ํ + า
    prefix, suffix = draw(st.sampled_from(TH_FORMS))
    return base, f"{prefix}{name}{suffix}" + draw(st.sampled_from(["", " ", "."]))


@given(thai_variants())
def test_thai_variants_share_the_key(pair: tuple[str, str]) -> None:
    base, variant = pair
    assert company_name_key(variant) == company_name_key(base)


# --- the fast paths say what the per-character definitions say ----------------------------
#
# The normaliser takes shortcuts (regular expressions over the characters to drop, no NFKC
# pass over text that is NFKC already but for ำ, no branch patterns for a name without
# branch wording, legal forms looked up by their last word). The stored match keys depend on
# every character of the result, so each shortcut is checked against the definition it
# replaces, written out here the slow and obvious way.


def _keep_ref(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _squeeze_ref(text: str) -> str:
    return "".join(ch for ch in text if _keep_ref(ch))


def _spaced_ref(text: str) -> str:
    return " ".join("".join(ch if _keep_ref(ch) else " " for ch in text).split())


def _nfkc_ref(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return text.replace("\u0e4d\u0e32", "\u0e33").translate(normalize._THAI_DIGITS)


def _fold_ref(text: str) -> str:
    return " ".join(_nfkc_ref(text).casefold().split())


def _strip_branch_ref(text: str) -> tuple[str, str | None]:
    branch: str | None = None
    for paren in normalize._PAREN_BRANCH.finditer(text):
        found = normalize._branch_of(paren.group(0))
        branch = branch if branch not in (None, SOME_BRANCH) else found
    text = normalize._PAREN_BRANCH.sub(" ", text)
    for pattern in (normalize._THAI_BRANCH, normalize._ENGLISH_BRANCH):
        match = pattern.search(text)
        if match and match.start() > 0:
            found = normalize._branch_of(match.group(0))
            branch = branch if branch not in (None, SOME_BRANCH) else found
            text = text[: match.start()]
    if normalize._HEAD_OFFICE.search(text):
        branch = branch or HEAD_OFFICE
        text = normalize._HEAD_OFFICE.sub(" ", text)
    return text, branch


def _strip_english_forms_ref(tokens: list[str]) -> tuple[list[str], str | None]:
    form: str | None = None
    changed = True
    while changed and tokens:
        changed = False
        for words, found in normalize._ENGLISH_FORMS:
            n = len(words)
            if len(tokens) > n and tuple(tokens[-n:]) == words:
                tokens = tokens[:-n]
                form = normalize._stronger(form, found)
                changed = True
                break
    return tokens, form


def _strip_thai_forms_ref(key: str) -> tuple[str, str | None]:
    form: str | None = None
    changed = True
    while changed:
        changed = False
        for suffix, found in normalize._THAI_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                form = normalize._stronger(form, found)
                changed = True
                break
        for prefix, found in normalize._THAI_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key = key[len(prefix) :]
                form = normalize._stronger(form, found)
                changed = True
                break
    return key, form


def _company_name_ref(value: str) -> NameParts:
    text, branch = _strip_branch_ref(_fold_ref(value))
    tokens, form = _strip_english_forms_ref(_spaced_ref(text).split())
    words = " ".join(tokens)
    key, thai_form = _strip_thai_forms_ref(_squeeze_ref(words))
    if thai_form:
        form = normalize._stronger(form, thai_form)
        words = " ".join(t for t in tokens if t not in normalize._THAI_FORM_WORDS)
        if _squeeze_ref(words) != key:
            words = key
    if not key:
        key = _squeeze_ref(_spaced_ref(_fold_ref(value)))
        words = _spaced_ref(_fold_ref(value))
    return NameParts(key=key, words=words, legal_form=form, branch=branch)


def test_squeeze_keeps_exactly_letters_marks_and_digits_of_the_whole_bmp() -> None:
    # every character of the Basic Multilingual Plane, alone and between two letters
    for cp in range(0x10000):
        ch = chr(cp)
        expected = ch if _keep_ref(ch) else ""
        assert normalize.squeeze(ch) == expected, hex(cp)
        assert normalize.squeeze(f"a{ch}ก") == f"a{expected}ก", hex(cp)
        assert normalize._spaced(f"a{ch}ก") == ("a" + ch + "ก" if expected else "a ก"), hex(cp)


FAST_PATH_TEXT = st.text(
    st.one_of(
        ALPHABET,
        st.sampled_from(["\u0e33", "\u0e48", "\u0e50", "\u0e59", "\u00bd", "\uff21", "\ufb01"]),
        st.sampled_from(["\u1100", "\u1161", "\u0301", "\u2460", "\U0001d400", "\U0001f600"]),
        st.characters(),
    ),
    max_size=30,
)
NAME_PIECES = st.sampled_from(
    [
        "Siam", "Trading", "Co., Ltd.", "Company Limited", "PCL", "Public Co Ltd", "L.P.",
        "Corp.", "Inc", "Branch 2", "(Head Office)", "HQ", "- Chiang Mai Branch", "Br. 12",
        "บริษัท", "จำกัด", "(มหาชน)", "บจก.", "บมจ.", "หจก.", "ห้างหุ้นส่วนจำกัด", "สาขาที่ ๒",
        "(สำนักงานใหญ่)", "สยามน้ำทอง", "น\u0e49\u0e4d\u0e32", "โลจิสติกส์", "(Thailand)", "&",
    ]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(FAST_PATH_TEXT)
def test_fast_paths_equal_the_definitions_on_any_text(text: str) -> None:
    assert normalize.squeeze(text) == _squeeze_ref(text)
    assert normalize._spaced(text) == _spaced_ref(text)
    assert nfkc(text) == _nfkc_ref(text)
    assert fold(text) == _fold_ref(text)
    assert company_name(text) == _company_name_ref(text)
    assert tax_id_digits(text) == re.sub(r"\D", "", _nfkc_ref(text))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(NAME_PIECES, st.text(ALPHABET, max_size=6)), max_size=6))
def test_company_name_equals_the_definition_on_names(pieces: list[str]) -> None:
    for sep in (" ", "", ","):
        name = sep.join(pieces)
        assert company_name(name) == _company_name_ref(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "Siam Trading Co., Ltd.",
        "SIAM  TRADING COMPANY LIMITED (Branch No. 3)",
        "Toyota Motor (Thailand) Co., Ltd. - Chiang Mai Branch",
        "บริษัท สยามน้ำทอง จำกัด (สำนักงานใหญ่)",
        "บริษัท สยามน\u0e49\u0e4d\u0e32ทอง จำกัด (มหาชน) สาขาที่ ๐๐๐๑๒",
        "ห้างหุ้นส่วนจำกัด สมชายการช่าง",
        "ｓｉａｍ　ｔｒａｄｉｎｇ Ｃｏ．，Ｌｔｄ．",  # noqa: RUF001 - full-width forms, on purpose
        "Café Siam ﬁne Foods Ltd.",
        "Co., Ltd.",
        "บริษัท จำกัด",
        "Siam \U0001f600 Trading \U0001d400 Co., Ltd.",
    ],
)
def test_company_name_equals_the_definition_on_samples(name: str) -> None:
    assert company_name(name) == _company_name_ref(name)


def _host_by_urlsplit(text: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(text if "://" in text else "http://" + text).hostname or ""
    except ValueError:
        return ""


@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab1.-/:?#@%[]\\+_~ก", max_size=30),
        st.builds(
            lambda scheme, host, tail: scheme + host + tail,
            st.sampled_from(["", "http://", "https://", "ftp://", "http:/", "//", "svn+ssh://"]),
            st.text(alphabet="abz09.-", max_size=20),
            st.sampled_from(["", "/", "/th/", "?q=1", "#top", ":8080", "@x.com", "/a:b@c"]),
        ),
    )
)
def test_url_host_reads_a_plain_address_as_urlsplit_does(text: str) -> None:
    assert normalize.url_host(text) == _host_by_urlsplit(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=40))
def test_spaced_tokens_are_squeezed_already(text: str) -> None:
    # company_name joins the tokens instead of squeezing the words: the same thing
    tokens = normalize._spaced(normalize.fold(text)).split()
    assert normalize.squeeze(" ".join(tokens)) == "".join(tokens)
