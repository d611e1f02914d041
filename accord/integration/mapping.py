"""Field mapping as data: what a connector receives is computed from the event's payload.

A mapping is ``{target: source}``. A source is a dotted path into the payload
(``"account.customer_code"``), ``{"const": value}``, or ``{"path": "…", "each": {…}}`` to
map every item of a list. A path that does not exist is a :class:`MappingError` (a
configuration fault: the delivery goes to the dead-letter list until the mapping is fixed
and the delivery replayed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MappingError(ValueError):
    pass


def lookup(data: Any, path: str) -> Any:
    value = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            raise MappingError(f"The payload has no {path!r}.")
    return value


def _source(spec: Any, data: Any, target: str) -> Any:
    if isinstance(spec, str):
        return lookup(data, spec)
    if isinstance(spec, Mapping):
        if "const" in spec:
            return spec["const"]
        if "path" in spec and "each" in spec:
            items = lookup(data, spec["path"])
            if not isinstance(items, list):
                raise MappingError(f"{spec['path']!r} is not a list.")
            return [apply_mapping(spec["each"], item) for item in items]
        if "path" in spec:
            if "default" in spec:
                return _lookup_or(data, spec["path"], spec["default"])
            return lookup(data, spec["path"])
    raise MappingError(f"The mapping of {target!r} is not understood: {spec!r}.")


def _lookup_or(data: Any, path: str, default: Any) -> Any:
    try:
        return lookup(data, path)
    except MappingError:
        return default


def apply_mapping(mapping: Mapping[str, Any], data: Any) -> dict[str, Any]:
    return {target: _source(spec, data, target) for target, spec in mapping.items()}


def map_event_payload(field_mapping: Mapping[str, Any], event_type: str, payload: Any) -> Any:
    """The connector's view of an event: mapped if the connector maps this type."""
    mapping = field_mapping.get(event_type)
    if mapping is None:
        return payload
    if not isinstance(mapping, Mapping):
        raise MappingError(f"The mapping for {event_type!r} must be an object.")
    return apply_mapping(mapping, payload)
