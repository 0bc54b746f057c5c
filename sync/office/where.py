"""A listing's SQL ``WHERE`` clause, built from the filters it was given: a filter not given
(``None``, or an empty text from a form) filters nothing.

Column names come from the code, never from a request; values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.receiver.db import Query


@dataclass
class Where:
    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, condition: str, *params: Any) -> None:
        """``condition``, with a ``?`` for each of ``params``."""
        self.conditions.append(condition)
        self.params.extend(params)

    def within(self, q: Query, column: str, values: Sequence[Any]) -> None:
        """Only rows whose ``column`` is one of ``values`` (bound, never inlined)."""
        in_list, params = q.in_list(list(values))
        self.add(f"{column} {in_list}", *params)

    def equal(self, column: str, value: str | None) -> None:
        """Only rows whose ``column`` is ``value``, if one is given."""
        if value:
            self.add(f"{column} = ?", value)

    def older_than(self, row_id: int | None) -> None:
        """Only rows before ``row_id`` (the next page of a newest-first listing), if given."""
        if row_id is not None:
            self.add("row_id < ?", row_id)

    def clause(self) -> str:
        """``WHERE …`` joining the conditions with AND; empty for none."""
        return f"WHERE {' AND '.join(self.conditions)}" if self.conditions else ""
