"""The duplicate check: candidates for a new or changed account or contact, with reasons.

Three steps, each cheap and independent of table size:

1. **Features.** The record's names, identifiers and branch are normalised
   (:mod:`accord.dataquality.normalize`).
2. **Retrieval.** Blocking keys (:func:`account_match_keys`, :func:`contact_match_keys`) are
   looked up in the indexed ``*MatchKey`` tables, in tiers (:func:`account_candidate_ids`):
   exact keys first, then name halves that are not crowded, then the name keys either side
   of the probe's in key order. Name keys are stored with their two halves, so a name with
   one character changed, added or removed shares a half with the original (ADR 0005).
   No trigram search: at a million accounts it cost ~100 ms a check and caught nothing the
   tiers did not; names two edits away are left to the batch dedupe.
3. **Scoring.** The administrator's :class:`~accord.dataquality.models.MatchRule` rows are
   evaluated on each candidate; the best matching rule's score against the record type's
   :class:`~accord.dataquality.models.MatchThreshold` decides *block* or *warn*.

Visibility: a duplicate is reported even when the user may not see it — a rep must learn
that "this company already exists" — but only with its id, customer code, legal name,
score and reasons (what the rep typed, matched); contacts the user may not see are named
only as "a contact at <customer code>".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from accord.core.errors import Conflict
from accord.dataquality.models import Comparison, MatchRule, MatchThreshold, RecordType
from accord.dataquality.normalize import (
    FREE_MAIL_DOMAINS,
    HEAD_OFFICE,
    LEGAL_FORM_LABELS,
    SOME_BRANCH,
    NameParts,
    branch_number,
    company_name,
    email_address,
    fold,
    person_name_key,
    phones_e164,
    registrable_domain,
    tax_id_digits,
    website_domain,
)

BLOCK = "block"
WARN = "warn"
# Candidates read per check, whatever the table size.
CANDIDATE_LIMIT = 200

ACCOUNT_MATCH_FIELDS = frozenset(
    {"legal_name", "name_th", "name_en", "tax_id", "branch_code", "phone", "email", "website"}
)
CONTACT_MATCH_FIELDS = frozenset(
    {
        "account",
        "first_name",
        "last_name",
        "first_name_th",
        "last_name_th",
        "email",
        "email_secondary",
        "phone",
        "mobile",
    }
)
DEFAULT_THRESHOLDS = {"block": 0.9, "warn": 0.75}


class Features(NamedTuple):
    """What a record is compared on, normalised (a tuple: a batch makes one per record)."""

    names: tuple[NameParts, ...] = ()
    tax_id: str = ""
    branch: str = HEAD_OFFICE
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()
    website: str = ""
    account: str = ""  # contacts: the account's id


@dataclass
class Candidate:
    id: uuid.UUID
    customer_code: str
    name: str
    score: float
    decision: str
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "customer_code": self.customer_code,
            "name": self.name,
            "score": self.score,
            "decision": self.decision,
            "reasons": list(self.reasons),
        }


Getter = Callable[[str], Any]


def _text(get: Getter, name: str) -> str:
    value = get(name)
    return value if isinstance(value, str) else ""


def _effective_branch(branch_code: str, names: Iterable[NameParts]) -> str:
    """The branch number given, else the one named in a name, else the head office."""
    code = branch_number(branch_code) if branch_code else ""
    if code and code != HEAD_OFFICE:
        return code
    named = [n.branch for n in names if n.branch]
    numbered = [b for b in named if b != SOME_BRANCH]
    return (numbered or named or [HEAD_OFFICE])[0]


def _same_branch(a: str, b: str) -> bool:
    if a == b:
        return True
    # "Chiang Mai Branch" (no number) may be any branch, but it is not the head office.
    return SOME_BRANCH in (a, b) and HEAD_OFFICE not in (a, b)


PhoneParser = Callable[[str], list[str]]


def account_features(get: Getter, *, phones: PhoneParser = phones_e164) -> Features:
    """Features of an account, from a model instance's or an input dict's values.

    ``phones``: what reads a phone field (the batch engine passes a faster one that gives
    the same numbers).
    """
    names: list[NameParts] = []
    for name in ("legal_name", "name_th", "name_en"):
        value = get(name)
        if not value or not isinstance(value, str):  # most accounts have one name
            continue
        parts = company_name(value)
        if parts.key and all(parts.key != n.key for n in names):
            names.append(parts)
    email = email_address(_text(get, "email"))
    # company_email_domain(email), from the address already folded
    domain = registrable_domain(email.rsplit("@", 1)[1]) if email else ""
    return Features(
        names=tuple(names),
        tax_id=tax_id_digits(_text(get, "tax_id")),
        branch=_effective_branch(_text(get, "branch_code"), names),
        phones=frozenset(phones(_text(get, "phone"))),
        emails=frozenset((email,) if email else ()),
        email_domains=frozenset((domain,) if domain and domain not in FREE_MAIL_DOMAINS else ()),
        website=website_domain(_text(get, "website")),
    )


def _person(first: str, last: str) -> NameParts | None:
    key = person_name_key(first, last)
    if not key:
        return None
    words = fold(f"{first} {last}")
    return NameParts(key=key, words=words, legal_form=None, branch=None)


def contact_features(get: Getter, *, phones: PhoneParser = phones_e164) -> Features:
    names = [
        p
        for p in (
            _person(_text(get, "first_name"), _text(get, "last_name")),
            _person(_text(get, "first_name_th"), _text(get, "last_name_th")),
        )
        if p is not None
    ]
    numbers: list[str] = []
    for name in ("phone", "mobile"):
        numbers += phones(_text(get, name))
    emails = {email_address(_text(get, n)) for n in ("email", "email_secondary")} - {""}
    account = get("account")
    account_id = getattr(account, "pk", account)
    return Features(
        names=tuple({n.key: n for n in names}.values()),
        phones=frozenset(numbers),
        emails=frozenset(emails),
        account=str(account_id) if account_id else "",
    )


def dict_getter(data: Mapping[str, Any]) -> Getter:
    return lambda name: data.get(name)


def object_getter(obj: Any) -> Getter:
    def get(name: str) -> Any:
        if name == "account":
            return getattr(obj, "account_id", None)
        return getattr(obj, name, None)

    return get


# --- blocking keys ------------------------------------------------------------------------


def _half(length: int) -> int:
    return max(2, min(6, length // 2))


def _name_keys(key: str, *, prefix: str = "", probe: bool = False) -> list[str]:
    """``n:`` the key, ``a:``/``z:`` its first and last halves (up to 6 characters).

    The halves never overlap, so one edit leaves one of them intact (two edits on the same
    side do too). A probe asks for the halves a key up to two characters shorter or longer
    would have stored, as well.
    """
    if not key:
        return []
    keys = [f"{prefix}n:{key}"]
    size = len(key)
    lengths = range(max(4, size - 2), size + 3) if probe else range(max(4, size), size + 1)
    last = 0
    for length in lengths:
        k = _half(length)
        if k != last:  # the half size grows with the length: each size once, in order
            keys += [f"{prefix}a:{key[:k]}", f"{prefix}z:{key[-k:]}"]
            last = k
    return keys


def account_match_keys(features: Features, *, probe: bool = False) -> list[str]:
    keys: list[str] = []
    for name in features.names:
        keys += _name_keys(name.key, probe=probe)
        if " " in name.words:  # the same words in another order
            keys.append("s:" + "".join(sorted(name.words.split())))
    if features.tax_id:
        keys.append(f"x:{features.tax_id}")
    keys += [f"p:{p}" for p in sorted(features.phones)]
    keys += [f"e:{e}" for e in sorted(features.emails)]
    keys += [f"d:{d}" for d in sorted(features.email_domains)]
    if features.website:
        keys.append(f"w:{features.website}")
    return [k[:300] for k in dict.fromkeys(keys)]


def contact_match_keys(features: Features, *, probe: bool = False) -> list[str]:
    keys: list[str] = []
    for name in features.names:
        keys.append(f"m:{name.key}")  # the same name anywhere (exact)
        if features.account:  # similar names within the account
            keys += _name_keys(name.key, prefix=f"{features.account}:", probe=probe)
    keys += [f"p:{p}" for p in sorted(features.phones)]
    keys += [f"e:{e}" for e in sorted(features.emails)]
    return [k[:300] for k in dict.fromkeys(keys)]


# --- scoring ------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


# A name alone blocks only when it is the same after normalisation or one character off;
# anything farther ("Thanasin Hospital" / "Thanasin Hospitality", two provinces' councils
# "องค์การบริหารส่วนจังหวัดนนทบุรี" / "…ชลบุรี") is at most a warning.
NEAR_MISS_CAP = 0.89


def name_similarity(a: NameParts, b: NameParts) -> tuple[float, str]:
    """How alike two names are (0 to 1), and why, in words."""
    if a.key == b.key:
        if a.legal_form != b.legal_form:
            return 1.0, "legal form differs only"
        return 1.0, "same name"
    ratio = fuzz.ratio(a.key, b.key) / 100
    if _DIGITS.findall(a.key) != _DIGITS.findall(b.key):
        # "Siam Steel 2" is not a typo of "Siam Steel 1": numbers are chosen on purpose.
        return min(ratio, 0.7), "numbers in the name differ"
    distance = Levenshtein.distance(a.key, b.key)
    if distance == 1 and min(len(a.key), len(b.key)) >= 5:
        return max(ratio, 0.92), "name differs by one character"
    if " " in a.words + b.words and fuzz.token_sort_ratio(a.words, b.words) == 100:
        return 0.95, "same words in another order"
    return min(ratio, NEAR_MISS_CAP), f"name differs by {distance} characters"


def _best_name(left: Sequence[NameParts], right: Sequence[NameParts]) -> tuple[float, str] | None:
    best: tuple[float, str] | None = None
    for a in left:
        for b in right:
            found = name_similarity(a, b)
            if best is None or found[0] > best[0]:
                best = found
    return best


_UNSET: Any = object()


def _condition(
    cond: Mapping[str, Any],
    probe: Features,
    cand: Features,
    best_name: tuple[float, str] | None = _UNSET,
) -> tuple[float, str]:
    """``(similarity, reason)`` if the condition holds; ``(0, "")`` if it does not.

    ``best_name``: the two records' :func:`_best_name`, if the caller has it already.
    """
    fld, comparison = cond.get("field"), cond.get("comparison")
    no = (0.0, "")
    if fld == "name":
        best = _best_name(probe.names, cand.names) if best_name is _UNSET else best_name
        if best is None:
            return no
        minimum = 1.0 if comparison == Comparison.EXACT else float(cond.get("min_similarity", 0.8))
        return best if best[0] >= minimum else no
    if fld == "tax_id":
        if not probe.tax_id or probe.tax_id != cand.tax_id:
            return no
        if comparison == Comparison.TAX_ID_BRANCH:
            if not _same_branch(probe.branch, cand.branch):
                return no
            return 1.0, "same tax ID and branch"
        return 1.0, "same tax ID"
    if fld == "branch":
        return (1.0, "") if _same_branch(probe.branch, cand.branch) else no
    if fld == "phone":
        return (1.0, "same phone") if probe.phones & cand.phones else no
    if fld == "email":
        if comparison == Comparison.EMAIL_DOMAIN:
            return (1.0, "same email domain") if probe.email_domains & cand.email_domains else no
        return (1.0, "same email address") if probe.emails & cand.emails else no
    if fld == "website":
        same = probe.website and probe.website == cand.website
        return (1.0, "same website domain") if same else no
    if fld == "account":
        same = probe.account and probe.account == cand.account
        return (1.0, "at the same account") if same else no
    return no


@dataclass(frozen=True)
class Rules:
    rules: tuple[tuple[str, tuple[Mapping[str, Any], ...]], ...]
    block: float
    warn: float

    @cached_property
    def plan(
        self,
    ) -> tuple[tuple[Mapping[str, Any], ...], tuple[tuple[tuple[int, float], ...], ...]]:
        """Each distinct condition once (what it asks: field, comparison, least similarity),
        and each rule as its steps: which condition, with what weight."""
        conditions: list[Mapping[str, Any]] = []
        index: dict[tuple[Any, Any, Any], int] = {}
        steps = []
        for _name, rule in self.rules:
            rule_steps = []
            for cond in rule:
                key = (cond.get("field"), cond.get("comparison"), cond.get("min_similarity"))
                if key not in index:
                    index[key] = len(conditions)
                    conditions.append(cond)
                rule_steps.append((index[key], float(cond.get("weight", 0))))
            steps.append(tuple(rule_steps))
        return tuple(conditions), tuple(steps)


def rules_for(record_type: RecordType) -> Rules:
    """The active rules and thresholds of ``record_type`` (one query).

    The rules (in name order) and the threshold row come back from one ``UNION ALL``: it is
    read on every check, and two ORM queries cost ~1 ms of a real-time check's ~6.
    """
    from django.db import connection

    quote = connection.ops.quote_name
    rule_table, threshold_table = (
        quote(MatchRule._meta.db_table),
        quote(MatchThreshold._meta.db_table),
    )
    sql = (
        "SELECT * FROM (SELECT ROW_NUMBER() OVER (ORDER BY name) AS n, name, conditions, "  # noqa: S608 (table names; values are parameters)
        f"CAST(NULL AS DOUBLE PRECISION) AS block, CAST(NULL AS DOUBLE PRECISION) AS warn "
        f"FROM {rule_table} WHERE record_type = %s "
        "AND is_active = %s) AS rules UNION ALL "
        f"SELECT 0, NULL, NULL, block, warn FROM {threshold_table} WHERE record_type = %s"
    )
    conditions_field = MatchRule._meta.get_field("conditions")
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(record_type), True, str(record_type)])
        rows = cursor.fetchall()
    rules = tuple(
        (name, tuple(conditions_field.from_db_value(conditions, None, connection)))  # type: ignore[arg-type]
        for n, name, conditions, _block, _warn in sorted(r for r in rows if r[0])
    )
    threshold = [(block, warn) for n, _name, _conditions, block, warn in rows if not n]
    if not threshold:
        return Rules(rules, DEFAULT_THRESHOLDS["block"], DEFAULT_THRESHOLDS["warn"])
    return Rules(rules, float(threshold[0][0]), float(threshold[0][1]))


def score(probe: Features, cand: Features, rules: Rules) -> tuple[float, list[str]]:
    """The best matching rule's score, and the reasons of every matching rule."""
    matched: list[tuple[float, list[str]]] = []
    # Each condition once per pair, and the names compared once for all name conditions:
    # the batch dedupe scores hundreds of thousands of pairs with every rule.
    conditions, steps = rules.plan
    answers: list[tuple[float, str] | None] = [None] * len(conditions)
    best_name = _UNSET
    for rule in steps:
        total, found = 0.0, []
        for index, weight in rule:
            answer = answers[index]
            if answer is None:
                cond = conditions[index]
                if best_name is _UNSET and cond.get("field") == "name":
                    best_name = _best_name(probe.names, cand.names)
                answer = answers[index] = _condition(cond, probe, cand, best_name)
            sim, reason = answer
            if sim <= 0:
                break
            total += weight * sim
            if reason:
                found.append(reason)
        else:
            matched.append((min(1.0, total), found))
    matched.sort(key=lambda m: -m[0])  # the best rule's reasons first
    best = matched[0][0] if matched else 0.0
    reasons = [r for total, found in matched if total >= rules.warn for r in found]
    return round(best, 3), list(dict.fromkeys(reasons))


def _legal_form_note(probe: Features, cand: Features) -> str | None:
    forms = {n.legal_form for n in probe.names if n.legal_form} | {
        n.legal_form for n in cand.names if n.legal_form
    }
    if len(forms) > 1:
        labels = sorted(LEGAL_FORM_LABELS.get(f, f) for f in forms if f)
        return "legal forms: " + " / ".join(labels)
    return None


def decide(value: float, rules: Rules) -> str | None:
    if value >= rules.block:
        return BLOCK
    if value >= rules.warn:
        return WARN
    return None


# --- retrieval ----------------------------------------------------------------------------


HALF_KEY_LIMIT = 50  # a name half shared by more accounts than this is not asked for whole
NAME_NEIGHBOURS = 10  # name keys read either side of the probe name, in key order


def _lookups(
    exact: Sequence[str],
    halves: Sequence[str],
    names: Sequence[str],
    *,
    exclude: uuid.UUID | None,
    limit: int,
) -> list[list[uuid.UUID]]:
    """The account ids of every lookup the tiers may need, sent as one statement.

    Returned in this order: the exact keys (distinct accounts, at most ``limit``), each
    half of ``halves`` (at most :data:`HALF_KEY_LIMIT` + 1), and for each name key of
    ``names`` the :data:`NAME_NEIGHBOURS` name keys after it and those before it among the
    keys sharing its first half. Each lookup is the query a tier would send on its own,
    ``LIMIT`` included; ``UNION ALL`` joins them. At a million accounts each is a short index
    range (~0.05 ms in the server) while a round trip through the ORM costs ~0.3-0.5 ms, and
    a check sent up to twenty. The neighbours are read even when the first half turns out not
    to be crowded (two more short ranges per name): the caller uses them only when it is.
    """
    from django.db import connection

    from accord.customers.models import AccountMatchKey

    meta = AccountMatchKey._meta
    table = connection.ops.quote_name(meta.db_table)
    account = meta.get_field("account")
    column = connection.ops.quote_name(account.column)
    target = account.target_field
    not_excluded, excluded_params = "", []
    if exclude is not None:
        not_excluded = f" AND {column} <> %s"
        excluded_params = [target.get_db_prep_value(exclude, connection)]
    parts: list[str] = []
    params: list[Any] = []

    def lookup(select: str, where: str, where_params: Sequence[Any], tail: str) -> None:
        parts.append(
            f"SELECT {len(parts)} AS part, id FROM (SELECT {select} AS id FROM {table} "  # noqa: S608 (names and numbers; values are parameters)
            f"WHERE {where}{not_excluded}{tail}) AS q{len(parts)}"
        )
        params.extend([*where_params, *excluded_params])

    marks = ", ".join(["%s"] * len(exact)) or "NULL"
    lookup(f"DISTINCT {column}", f"key IN ({marks})", exact, f" LIMIT {int(limit)}")
    for key in halves:
        lookup(column, "key = %s", [key], f" LIMIT {HALF_KEY_LIMIT + 1}")
    for key in names:
        name = key[2:]
        head = "n:" + name[: max(2, len(name) // 2)]
        span = [head, head + "\U0010ffff", key]
        after, before = (
            "key >= %s AND key < %s AND key >= %s",
            "key >= %s AND key < %s AND key < %s",
        )
        lookup(column, after, span, f" ORDER BY key LIMIT {NAME_NEIGHBOURS}")
        lookup(column, before, span, f" ORDER BY key DESC LIMIT {NAME_NEIGHBOURS}")
    found: list[list[uuid.UUID]] = [[] for _ in parts]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for part, value in cursor.fetchall():
            found[part].append(target.to_python(value))
    return found


def account_candidate_ids(
    keys: Sequence[str], *, exclude: uuid.UUID | None = None, limit: int = CANDIDATE_LIMIT
) -> list[uuid.UUID]:
    """Candidate accounts for probe ``keys``, the most telling first (at most ``limit``).

    One ``key IN (…)`` with a ``LIMIT`` returns an arbitrary subset once a name half
    (``a:``/``z:``) is shared by thousands of accounts ("สมบัติ…", "…ulting"), and the
    account with the very same name can be left out. Here: (1) the exact keys — name, word
    order, tax ID, phone, email, domain, website; (2) the name halves shared by at most
    :data:`HALF_KEY_LIMIT` accounts; (3) for a name whose first half is shared by more, the
    :data:`NAME_NEIGHBOURS` name keys either side of the probe name among those that start
    with its first half (a name with one character changed after its middle sorts there).
    A name changed before its middle is still found through its last half only when that half
    is not crowded; reversed-name keys would close that gap.

    The lookups go to the database together (:func:`_lookups`); the tiers are applied to
    their rows here, in the order above.
    """
    exact = [k for k in keys if k[:2] not in ("a:", "z:")]
    halves = [k for k in keys if k[:2] in ("a:", "z:")]
    names = [k for k in keys if k.startswith("n:")]
    rows = iter(_lookups(exact, halves, names, exclude=exclude, limit=limit))
    found: dict[uuid.UUID, None] = dict.fromkeys(next(rows))
    crowded: set[str] = set()
    for key in halves:
        ids = next(rows)
        if len(found) < limit:
            if len(ids) > HALF_KEY_LIMIT:
                crowded.add(key[:2])
            else:
                found.update(dict.fromkeys(ids))
    for _key in names:
        after, before = next(rows), next(rows)
        if "a:" in crowded and len(found) < limit:
            found.update(dict.fromkeys(after))
            found.update(dict.fromkeys(before))
    return list(found)[:limit]


def account_matches(
    *, user: Any, data: Mapping[str, Any], exclude: uuid.UUID | None = None
) -> list[Candidate]:
    """Existing accounts that ``data`` (any subset of an account's fields) may duplicate.

    Every candidate is reported whoever ``user`` is: its code and legal name are what a rep
    needs to ask for the existing account, and nothing private is shown.
    """
    from accord.customers.models import Account, AccountStatus

    probe = account_features(dict_getter(data))
    keys = account_match_keys(probe, probe=True)
    if not keys:
        return []
    rules = rules_for(RecordType.ACCOUNT)
    ids = account_candidate_ids(keys, exclude=exclude)
    if not ids:
        return []
    # Plain rows, not model instances: building up to CANDIDATE_LIMIT instances cost more
    # than reading them.
    columns = ("pk", "customer_code", *sorted(ACCOUNT_MATCH_FIELDS))
    rows = (
        Account.objects.filter(pk__in=set(ids))
        .exclude(status=AccountStatus.MERGED)
        .values_list(*columns)
    )
    found: list[Candidate] = []
    for row in rows:
        account = dict(zip(columns, row, strict=True))
        cand = account_features(account.get)
        value, reasons = score(probe, cand, rules)
        decision = decide(value, rules)
        if decision is None:
            continue
        note = _legal_form_note(probe, cand)
        if note and "legal form differs only" in reasons:
            reasons.append(note)
        found.append(
            Candidate(
                account["pk"],
                account["customer_code"],
                account["legal_name"],
                value,
                decision,
                reasons,
            )
        )
    found.sort(key=lambda c: (-c.score, c.name, str(c.id)))
    return found


def contact_matches(
    *, user: Any, data: Mapping[str, Any], exclude: uuid.UUID | None = None
) -> list[Candidate]:
    """Existing contacts that ``data`` (any subset of a contact's fields) may duplicate."""
    from accord.customers.models import Contact, ContactMatchKey
    from accord.territories import visibility

    probe = contact_features(dict_getter(data))
    keys = contact_match_keys(probe, probe=True)
    if not keys:
        return []
    rules = rules_for(RecordType.CONTACT)
    keyed = ContactMatchKey.objects.filter(key__in=keys)
    if exclude is not None:
        keyed = keyed.exclude(contact_id=exclude)
    ids = list(keyed.values_list("contact_id", flat=True).distinct()[:CANDIDATE_LIMIT])
    if not ids:
        return []
    contacts = list(
        Contact.objects.filter(pk__in=ids)
        .select_related("account")
        .only(*(CONTACT_MATCH_FIELDS - {"account"}), "account__customer_code")
    )
    visible = set(
        visibility.contacts_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    found: list[Candidate] = []
    for contact in contacts:
        cand = contact_features(object_getter(contact))
        value, reasons = score(probe, cand, rules)
        decision = decide(value, rules)
        if decision is None:
            continue
        code = contact.account.customer_code
        name = str(contact) if contact.pk in visible else f"a contact at {code}"
        found.append(Candidate(contact.pk, code, name, value, decision, reasons))
    found.sort(key=lambda c: (-c.score, c.customer_code, str(c.id)))
    return found


# --- enforcing ----------------------------------------------------------------------------


def refuse_blocking_duplicates(
    candidates: Sequence[Candidate], *, justification: str | None, what: str
) -> dict[str, Any] | None:
    """Raise a 409 if a candidate blocks and no justification was given.

    With a justification, return what the audit event records about the override.
    """
    blocking = [c for c in candidates if c.decision == BLOCK]
    if not blocking:
        return None
    reason = (justification or "").strip()
    if reason:
        return {
            "duplicate_override": {
                "justification": reason,
                "candidates": [c.as_dict() for c in blocking],
            }
        }
    lines = [f"{c.customer_code} {c.name}: {', '.join(c.reasons)}" for c in blocking]
    raise Conflict(
        f"This {what} looks like a duplicate of an existing one. Use the existing record, "
        "or give a duplicate_justification to save it anyway.",
        code="duplicate_suspected",
        errors={
            "__all__": lines,
            "duplicate_justification": ["Say why this is not a duplicate to save it anyway."],
        },
        extra={"candidates": [c.as_dict() for c in candidates]},
    )
