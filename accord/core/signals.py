"""Signals for writes that bypass ``Model.save``.

``bulk_create`` and ``QuerySet.delete`` of rows without listeners send nothing either: code
that replaces the child rows of some parents that way (an opportunity's line items) wraps it
in :func:`child_rows_replace`.

``QuerySet.update`` sends no ``pre_save``/``post_save``, so derived data kept in step by
those signals (the opportunity cells of :mod:`accord.insights.cells`) would go stale. Code
that updates rows in bulk wraps the update in :func:`bulk_rows_update`, which tells the
listeners before and after; each keeps what it needs in ``state``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.dispatch import Signal

#: Sent with ``sender=<model>``, ``pks`` and a ``state`` dict before rows are updated in bulk.
bulk_rows_changing = Signal()
#: Sent with the same arguments once they have been.
bulk_rows_changed = Signal()


@contextmanager
def bulk_rows_update(model: type[models.Model], pks: Sequence[Any]) -> Iterator[None]:
    """Around a ``QuerySet.update`` of ``model`` rows ``pks`` (in the same transaction)."""
    state: dict[str, Any] = {}
    bulk_rows_changing.send(sender=model, pks=list(pks), state=state)
    yield
    bulk_rows_changed.send(sender=model, pks=list(pks), state=state)


#: Sent with ``sender=<child model>``, ``parent_pks`` and a ``state`` dict before the child
#: rows of those parents are replaced (deleted and created in bulk).
child_rows_replacing = Signal()
#: Sent with the same arguments once they have been.
child_rows_replaced = Signal()


@contextmanager
def child_rows_replace(model: type[models.Model], parent_pks: Sequence[Any]) -> Iterator[None]:
    """Around a bulk replacement of the ``model`` rows of parents ``parent_pks`` (in the
    same transaction)."""
    state: dict[str, Any] = {}
    child_rows_replacing.send(sender=model, parent_pks=list(parent_pks), state=state)
    yield
    child_rows_replaced.send(sender=model, parent_pks=list(parent_pks), state=state)
