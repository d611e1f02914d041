"""Normalisation: names, legal forms, branches, phones, emails, websites, tax IDs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.dataquality.normalize import (
    COMPANY_LIMITED,
    HEAD_OFFICE,
    LIMITED_PARTNERSHIP,
    ORDINARY_PARTNERSHIP,
    PUBLIC_COMPANY_LIMITED,
    SOME_BRANCH,
    company_email_domain,
    company_name,
    company_name_key,
    email_address,
    email_domain,
    fold,
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
