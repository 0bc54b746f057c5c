"""Every `kakou` command's --help reads as plain text: no reStructuredText markup, which click
prints literally (``--config``, a ``::`` block, a ``\\b`` marker)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from edge.app.cli import main


def _paths(
    group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _paths(command, ctx, (*prefix, name))


COMMAND_PATHS = list(_paths(main, click.Context(main)))


def test_every_command_is_walked() -> None:
    assert ("db", "migrate") in COMMAND_PATHS
    assert ("server", "report") in COMMAND_PATHS
    assert ("sim", "door") in COMMAND_PATHS


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_help_has_no_markup(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    for markup in ("``", "::", "\b", ":func:", ":class:"):
        assert markup not in result.output, (path, markup)
