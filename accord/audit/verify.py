"""Recompute the audit chain and report the first event that does not fit."""

from __future__ import annotations

from dataclasses import dataclass

from accord.audit.chain import GENESIS_HASH, event_hash
from accord.audit.models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "source",
    "action",
    "record_type",
    "record_id",
    "record_label",
    "changes",
    "request_id",
    "ip",
    "prev_hash",
    "hash",
)


def audit_chain_verify(*, chunk_size: int = 5000) -> ChainReport:
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    rows = AuditEvent.objects.order_by("seq").values_list(*_FIELDS).iterator(chunk_size)
    for row in rows:
        values = dict(zip(_FIELDS, row, strict=True))
        seq = values["seq"]
        if seq != expected_seq:
            what = "missing" if seq > expected_seq else "out of order"
            return ChainReport(
                False, checked, expected_seq, f"event #{expected_seq} is {what} (found #{seq})"
            )
        if values["prev_hash"] != expected_prev:
            return ChainReport(
                False, checked, seq, f"event #{seq} does not link to the event before it"
            )
        stored = values.pop("hash")
        actor_id = values.pop("actor_id")
        recomputed = event_hash(**values, actor_id=str(actor_id) if actor_id else None)
        if recomputed != stored:
            return ChainReport(False, checked, seq, f"event #{seq} was altered")
        expected_prev = stored
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != expected_prev:
        return ChainReport(
            False,
            checked,
            checked + 1 if head_seq > checked else head_seq,
            f"the chain ends at #{checked} but its head records #{head_seq}: "
            "events were removed from the end or added after it",
        )
    return ChainReport(True, checked)
