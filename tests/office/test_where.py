"""A filter not given filters nothing; one given is a condition with its value as a parameter."""

from __future__ import annotations

from sync.office.where import Where


def test_filters_not_given_make_no_clause() -> None:
    where = Where()
    where.equal("kind", None)
    where.equal("gate", "")
    where.older_than(None)
    assert where.clause() == ""
    assert where.params == []


def test_filters_given_are_joined_with_and_and_their_values_are_parameters() -> None:
    where = Where()
    where.add("community IN (?, ?)", "c1", "c2")
    where.equal("kind", "fever")
    where.older_than(0)  # a row id of 0 is a page boundary too, not "none"
    assert where.clause() == "WHERE community IN (?, ?) AND kind = ? AND row_id < ?"
    assert where.params == ["c1", "c2", "fever", 0]
