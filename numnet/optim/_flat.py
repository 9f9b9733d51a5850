"""Recognise mappings whose arrays are views of one flat array (:mod:`numnet.kernels.flat`)."""

from __future__ import annotations

from typing import Any


def flat_buffer_of(mapping: Any) -> Any:
    """The flat array behind every entry of ``mapping``, or None.

    Models hand out parameter views and gradient dicts with a ``flat_buffer()`` method; for any
    other mapping (or once an entry was replaced) this is None and callers loop over the entries.
    """
    method = getattr(mapping, "flat_buffer", None)
    return method() if method is not None else None
