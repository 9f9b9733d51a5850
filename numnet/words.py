"""Words of numnet's messages: counts with their noun in the right number."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 epoch"``, ``"2 epochs"``, ``"0 epochs"``; ``plural`` for nouns not made with an s."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
