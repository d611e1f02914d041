"""The Thai catalogue is complete, well-formed, compiled and in step with the sources.

The checks read the committed ``django.po`` with a small parser (no extra dependency), compare
it with a fresh ``makemessages`` run over a copy of the package (the repository itself is never
written), and with the committed ``django.mo``.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "accord"
PO_PATH = PACKAGE_DIR / "locale" / "th" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# printf-style conversions as Python's % operator reads them, named or positional ("%%" too).
PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]"
)
_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")\s*$")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def parse_po(text: str) -> list[Entry]:
    """Parse the PO format as the gettext tools write it: entries separated by blank lines."""
    entries: list[Entry] = []
    entry, current, seen = Entry(line=1), "", False
    for lineno, raw in enumerate([*text.splitlines(), ""], start=1):
        line = raw.strip()
        if not line:
            if seen:
                entries.append(entry)
            entry, current, seen = Entry(line=lineno + 1), "", False
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
        elif line.startswith("#,"):
            entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        elif line.startswith("#"):
            continue
        if line.startswith("|"):  # an obsolete entry's previous msgid
            continue
        if line.startswith('"') and current:
            _append(entry, current, ast.literal_eval(line))
            continue
        match = _KEYWORD.match(line)
        if match is None:
            raise ValueError(f"line {lineno}: cannot read {raw!r}")
        current = match.group(1)
        seen = seen or current == "msgid"
        _append(entry, current, ast.literal_eval(match.group(2)))
    return entries


def _append(entry: Entry, keyword: str, value: str) -> None:
    if keyword == "msgid":
        entry.msgid += value
    elif keyword == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + value
    elif keyword == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + value
    elif keyword == "msgstr":
        entry.msgstr[0] = entry.msgstr.get(0, "") + value
    else:
        index = int(keyword[7:-1])
        entry.msgstr[index] = entry.msgstr.get(index, "") + value


def catalogue() -> list[Entry]:
    return [e for e in parse_po(PO_PATH.read_text(encoding="utf-8")) if not e.obsolete]


def messages() -> list[Entry]:
    return [e for e in catalogue() if e.msgid]


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def test_parser_reads_plurals_contexts_flags_and_continuations():
    # given
    text = textwrap.dedent(
        """\
        msgid ""
        msgstr ""
        "Plural-Forms: nplurals=1; plural=0;\\n"

        #: web/x.py:1
        #, fuzzy, python-format
        #| msgid "Old %(n)s"
        msgctxt "menu"
        msgid ""
        "Long %(n)s "
        "text"
        msgstr "ยาว %(n)s"

        msgid "%(n)s row"
        msgid_plural "%(n)s rows"
        msgstr[0] ""

        #~ msgid "Gone"
        #~ msgstr "หาย"
        """
    )
    # when
    header, fuzzy, plural, gone = parse_po(text)
    # then
    assert header.msgid == "" and "nplurals=1" in header.msgstr[0]
    assert (fuzzy.msgctxt, fuzzy.msgid, fuzzy.msgstr) == (
        "menu",
        "Long %(n)s text",
        {0: "ยาว %(n)s"},
    )
    assert fuzzy.flags == {"fuzzy", "python-format"}
    assert (plural.msgid_plural, plural.msgstr) == ("%(n)s rows", {0: ""})
    assert gone.obsolete and gone.msgid == "Gone"


def test_placeholders_are_counted_by_name_and_kind():
    assert placeholders("%(n)d of %(total)s, %s and 5%% %(n)d") == Counter(
        {"%(n)d": 2, "%(total)s": 1, "%s": 1, "%%": 1}
    )
    assert placeholders("%(n)s") != placeholders("%(n)d")


def test_header_declares_thai_plural_forms():
    header = next(e for e in catalogue() if e.msgid == "")
    assert "Language: th\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstr[0]


def test_every_entry_is_translated_and_not_fuzzy():
    entries = messages()
    assert len(entries) > 400  # the parser read the real catalogue
    fuzzy = [e.label for e in entries if "fuzzy" in e.flags]
    untranslated = [e.label for e in entries if not all(e.msgstr.values()) or not e.msgstr]
    assert fuzzy == [], f"{len(fuzzy)} fuzzy entries"
    assert untranslated == [], f"{len(untranslated)} untranslated entries"


def test_plural_entries_have_exactly_one_thai_form():
    wrong = [
        (e.label, sorted(e.msgstr))
        for e in messages()
        if e.msgid_plural and sorted(e.msgstr) != [0]
    ]
    assert wrong == []


def test_translations_keep_the_placeholders_of_their_msgid():
    wrong = []
    for e in messages():
        # Thai has one form, used for every count: it must carry the plural's placeholders.
        expected = placeholders(e.msgid_plural if e.msgid_plural is not None else e.msgid)
        for index, text in e.msgstr.items():
            if placeholders(text) != expected:
                wrong.append(f"{e.label} msgstr[{index}] {text!r}")
    assert wrong == [], "\n".join(wrong)


def test_catalogue_has_no_duplicate_entries():
    counts = Counter(e.key[:2] for e in messages())
    assert [key for key, n in counts.items() if n > 1] == []


def test_compiled_catalogue_matches_the_po_file():
    # given: what msgfmt would compile from the .po (translated, non-fuzzy entries only)
    expected: dict[str | tuple[str, int], str] = {}
    for e in catalogue():
        if "fuzzy" in e.flags or not e.msgid:  # msgfmt rewrites the header (drops its dates)
            continue
        msgid = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            if e.msgstr.get(0):
                expected[msgid] = e.msgstr[0]
        else:
            for index, text in e.msgstr.items():
                if text:
                    expected[(msgid, index)] = text
    # when
    with MO_PATH.open("rb") as fp:
        compiled = gettext.GNUTranslations(fp)
    # then
    actual: dict[str | tuple[str, int], str] = {
        k: v
        for k, v in compiled._catalog.items()  # type: ignore[attr-defined]
        if k != ""
    }
    assert compiled.info()["language"] == "th"
    assert compiled.info()["plural-forms"] == "nplurals=1; plural=0;"
    stale = sorted(repr(k) for k in expected if actual.get(k) != expected[k])
    extra = sorted(repr(k) for k in actual if k not in expected)
    assert stale == [], f"django.mo is older than django.po for {len(stale)} entries: recompile"
    assert extra == [], f"django.mo has {len(extra)} entries not in django.po: recompile"


def test_django_serves_the_thai_catalogue():
    with translation.override("th"):
        assert translation.gettext("Accounts") == "บัญชีลูกค้า"
        assert translation.ngettext("%(n)s record", "%(n)s records", 3) % {"n": 3} == "3 รายการ"


def test_po_file_passes_msgfmt_check():
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt is not installed (install the gettext package)")
    result = subprocess.run(
        [msgfmt, "--check", "--output-file", os.devnull, str(PO_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# Runs makemessages on the copy: LOCALE_PATHS points into the copy so the committed catalogue
# is never touched; ``-P`` keeps the copy's subpackages (``web``, ``core``…) off sys.path.
_MAKEMESSAGES = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
django.setup()
from django.core.management import call_command
from django.test.utils import override_settings
with override_settings(LOCALE_PATHS=[os.path.join(os.getcwd(), "locale")]):
    call_command("makemessages", locale=["th"], no_obsolete=True, verbosity=0)
"""


def test_catalogue_holds_exactly_the_translatable_strings_of_the_sources(tmp_path: Path):
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("xgettext/msgmerge are not installed (install the gettext package)")
    # given: a copy of the package with the committed catalogue
    copy = tmp_path / "accord"
    shutil.copytree(
        PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "var", "*.mo")
    )
    # when
    result = subprocess.run(
        [sys.executable, "-P", "-c", _MAKEMESSAGES],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    # then
    assert result.returncode == 0, result.stderr
    fresh_text = (copy / "locale" / "th" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    fresh = {e.key for e in parse_po(fresh_text) if e.msgid and not e.obsolete}
    committed = {e.key for e in messages()}
    assert len(fresh) > 400  # the extraction ran over the real sources
    missing = sorted(f"{msgid!r}" for _, msgid, _ in fresh - committed)
    stale = sorted(f"{msgid!r}" for _, msgid, _ in committed - fresh)
    hint = "run makemessages -l th --no-obsolete in accord/, translate, compilemessages"
    assert missing == [], f"{len(missing)} strings are not in django.po ({hint}):\n" + "\n".join(
        missing
    )
    assert stale == [], f"{len(stale)} entries of django.po are no longer used ({hint}):\n" + (
        "\n".join(stale)
    )
