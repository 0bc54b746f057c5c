"""Every word the office console shows: one catalogue, Chinese first, then English.

The words are data, ``messages.toml`` beside this module (message id = [Chinese, English]),
read and checked once at import like the gate console's (:func:`edge.console.catalogue.load`).
A message id names a text (``"nav.gates"``); pages print it with the templates' ``t`` global,
Python with :func:`text` (or :func:`words`: the exports print the Chinese).

Codes the gates store (outcomes, reasons, alarm kinds, pass kinds, directions) and the words
both consoles say alike are the gate console's: :func:`text` and :func:`term` look an id up
here first, then in ``edge.console.messages``, so an entry reads the same at the gate and in the
office.
"""

from __future__ import annotations

from importlib.resources import files

from edge.console import messages as gate_messages
from edge.console.catalogue import Catalogue, load

LANGS = ("zh", "en")

CATALOGUE = load(files("sync.office") / "messages.toml")
"""Message id → (Chinese, English): the office's own words."""

BOOK = Catalogue(CATALOGUE, fallback=gate_messages.BOOK)
"""The office's words first, then the gate console's (shared terms: outcomes, reasons, pass
kinds, directions, and the words both consoles say alike)."""
words = BOOK.words
text = BOOK.text
term = BOOK.term
