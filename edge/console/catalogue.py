"""A catalogue of words, Chinese first: message id → (Chinese, English), and its look-ups.

The words are data: one TOML file per console (``edge/console/messages.toml``,
``sync/office/messages.toml``), read once by :func:`load` and checked at import, so a missing
English text or a ``{field}`` one language forgets fails when the console starts, not on the
page. The gate console (:mod:`edge.console.messages`) and the office console
(``sync.office.messages``) each keep one; the office's falls back to the gate's, so a code the
gates store (an outcome, a reason, a pass kind) reads the same in both.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable

Words = tuple[str, str]
"""(Chinese, English)."""


def load(source: Traversable) -> dict[str, Words]:
    """The words of a TOML catalogue (``"id" = ["Chinese", "English"]``), checked by
    :func:`checked`; a ``ValueError`` names the file and the id."""
    with source.open("rb") as file:
        found = tomllib.load(file)
    return checked(found, str(source))


def checked(table: Mapping[str, object], source: str) -> dict[str, Words]:
    """``table`` as message id → (Chinese, English); a ``ValueError`` for an id whose value is
    not two texts, has one empty, or whose two texts name different ``{fields}``."""
    words: dict[str, Words] = {}
    for message_id, value in table.items():
        if not (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(isinstance(part, str) and part for part in value)
        ):
            raise ValueError(f"{source}: {message_id} needs [Chinese, English], both non-empty")
        zh, en = value
        if _fields(zh) != _fields(en):
            raise ValueError(
                f"{source}: {message_id} names {sorted(_fields(zh))} in Chinese but "
                f"{sorted(_fields(en))} in English"
            )
        words[message_id] = (zh, en)
    return words


def _fields(text: str) -> set[str]:
    """The ``{name}`` fields ``text.format_map`` fills."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@dataclass(frozen=True)
class Catalogue:
    """``entries`` first, then ``fallback`` for an id they do not have."""

    entries: Mapping[str, Words]
    fallback: Catalogue | None = None

    def get(self, message_id: str) -> Words | None:
        found = self.entries.get(message_id)
        if found is None and self.fallback is not None:
            return self.fallback.get(message_id)
        return found

    def words(self, message_id: str) -> Words:
        """(Chinese, English) for ``message_id``; a ``KeyError`` names an id missing here."""
        found = self.get(message_id)
        if found is None:
            raise KeyError(message_id)
        return found

    def text(self, lang: str, message_id: str, **params: object) -> str:
        """The message in ``lang`` ("en", else Chinese), its ``{name}`` fields filled."""
        zh, en = self.words(message_id)
        chosen = en if lang == "en" else zh
        return chosen.format_map(params) if params else chosen

    def term(self, section: str, code: str | None, lang: str = "zh") -> str:
        """What a stored code means (``term("reason", "expired")``): the code itself if
        unknown, "" for none."""
        if code is None:
            return ""
        found = self.get(f"{section}.{code}")
        if found is None:
            return code
        return found[1] if lang == "en" else found[0]

    def table(self, section: str) -> dict[str, Words]:
        """One section's codes and their words (``entries`` only):
        ``table("outcome")["fever"] == ("发热", "Fever")``."""
        prefix = section + "."
        return {
            key[len(prefix) :]: pair for key, pair in self.entries.items() if key.startswith(prefix)
        }
