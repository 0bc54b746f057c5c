"""`kakou sim`: drive a running simulated lane from another terminal, over the console API."""

from __future__ import annotations

import base64
import os
import sys
import time
from typing import Any

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8080"


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=10.0)


def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        with _client(url) as client:
            response = client.post(path, json=body)
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"cannot reach the gate at {url} ({exc}); is `kakou run` running?"
        ) from exc
    return _body(response)


def _get(client: httpx.Client, url: str, path: str) -> dict[str, Any]:
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"lost the gate at {url} ({exc})") from exc
    return _body(response)


def _body(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise click.ClickException(f"{response.status_code}: {response.text}")
    result: dict[str, Any] = response.json()
    return result


@click.group()
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The running gate's console.")
@click.pass_context
def sim(ctx: click.Context, url: str) -> None:
    """Drive a running simulated lane (started by `kakou run` with the default config)."""
    ctx.obj = url.rstrip("/")


@sim.command()
@click.argument("token")
@click.option("--lane", default=None, help="Lane id (default: the first lane).")
@click.pass_obj
def present(url: str, token: str, lane: str | None) -> None:
    """Show TOKEN to the lane's simulated scanner ('-' reads it from stdin).

    The exact bytes are sent, so binary junk and other encodings reach the scanner as typed.
    """
    payload = sys.stdin.buffer.read().strip() if token == "-" else os.fsencode(token)
    body = {"lane": lane, "payload_b64": base64.b64encode(payload).decode("ascii")}
    result = _post(url, "/api/v1/sim/present", body)
    click.echo(f"presented on lane {result['lane']}")


@sim.command()
@click.argument("values_c", nargs=-1, type=float, required=True)
@click.option("--then", "then_c", type=float, default=None, help="Reading after the list.")
@click.option("--lane", default=None, help="Lane id (default: the first lane).")
@click.pass_obj
def temp(url: str, values_c: tuple[float, ...], then_c: float | None, lane: str | None) -> None:
    """Set what the simulated thermometer reads next (one value per measurement)."""
    body = {"lane": lane, "values_c": list(values_c), "then_c": then_c}
    result = _post(url, "/api/v1/sim/temperature", body)
    click.echo(f"thermometer on lane {result['lane']} will read {', '.join(map(str, values_c))}")


@sim.command()
@click.argument("state", type=click.Choice(["open", "close"]))
@click.option("--lane", default=None, help="Lane id (default: the first lane).")
@click.pass_obj
def door(url: str, state: str, lane: str | None) -> None:
    """Open or close the lane's simulated door contact (the lane needs one configured).

    Opening while the lock is shut is a forced door: the console raises its alarm.
    """
    body = {"lane": lane, "state": "open" if state == "open" else "closed"}
    result = _post(url, "/api/v1/sim/door", body)
    click.echo(f"door of lane {result['lane']} is {result['state']}")


@sim.command()
@click.argument("count", type=click.IntRange(1, 100_000))
@click.option("--seed", type=int, default=None, help="Crowd seed (default: time-based).")
@click.option("--lane", default=None, help="Lane id (default: the first lane).")
@click.pass_obj
def crowd(url: str, count: int, seed: int | None, lane: str | None) -> None:
    """Send COUNT simulated people through the lane and check every decision."""
    seed = int(time.time()) if seed is None else seed
    status = _post(url, "/api/v1/sim/crowd", {"lane": lane, "count": count, "seed": seed})
    crowd_id = status["id"]
    shown = 0
    with _client(url) as client:
        while status["state"] == "running":
            if status["recorded"] >= shown + max(1, count // 10):
                shown = status["recorded"]
                click.echo(f"  {shown}/{count} entries recorded", err=True)
            time.sleep(0.5)
            status = _get(client, url, f"/api/v1/sim/crowd/{crowd_id}")
    _print_summary(status)
    if status["state"] != "done" or status["mismatches"] or status["matched"] != count:
        sys.exit(1)


def _print_summary(status: dict[str, Any]) -> None:
    click.echo(f"crowd {status['id']}: {status['state']}")
    click.echo(
        f"  people {status['total']}, entries {status['recorded']}, "
        f"matching the expected decision {status['matched']}"
    )
    click.echo("  outcome        expected  recorded")
    names = sorted(set(status["by_expected"]) | set(status["by_actual"]))
    for name in names:
        expected, actual = status["by_expected"].get(name, 0), status["by_actual"].get(name, 0)
        click.echo(f"  {name:<14} {expected:>8}  {actual:>8}")
    for mismatch in status["mismatches"]:
        click.echo(f"  MISMATCH {mismatch}")
    if status.get("error"):
        click.echo(f"  error: {status['error']}")


COMMANDS: list[click.Command] = [sim]
