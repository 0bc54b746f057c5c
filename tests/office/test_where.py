"""A filter not given filters nothing; one given is a condition with its value as a parameter."""

from __future__ import annotations

from sync.office.where import Where
from sync.receiver.db import ReceiverDb


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


def test_a_column_within_values_binds_them_and_the_statement_runs(office_db: ReceiverDb) -> None:
    """``within`` keeps the values out of the SQL text (as parameters, on either backend), and
    the clause it makes is one the database takes."""
    hostile = "x'); DROP TABLE entries; --"
    with office_db.reading() as q:
        where = Where()
        where.within(q, "community", ["hxy", hostile])
        where.equal("gate", "g1")
        assert "DROP" not in where.clause()
        assert hostile in str(where.params)
        assert where.params[-1] == "g1"
        row = q.one(f"SELECT count(*) FROM entries {where.clause()}", where.params)
    assert row is not None
    assert row[0] == 0
