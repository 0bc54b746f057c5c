"""Reaching the console from a phone on the LAN, safely: HTTPS with the certificate the install
makes, Secure session cookies, and only the networks the operator names may connect.

The real thing: `kakou console cert`, then `kakou run` serving HTTPS, read with httpx trusting
that certificate, as a phone does once it installed it.
"""

from __future__ import annotations

import grp
import os
import re
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from edge.app.settings import ConfigError, default_config_text, parse_settings
from edge.console.clients import ClientAllowList, networks
from edge.console.tls import fingerprint
from tests.edge.console.conftest import free_port

KAKOU = Path(sys.executable).parent / "kakou"
SECRET = "2468013579"


def _config(tmp_path: Path, console: str) -> str:
    text = default_config_text().replace('state_dir = "kakou-data"', f'state_dir = "{tmp_path}/s"')
    text, count = re.subn(r"(?ms)^\[console\].*?(?=^\[)", console + "\n", text)
    assert count == 1
    return text


@pytest.mark.parametrize(
    ("console", "problem"),
    [
        ('[console]\nhost = "0.0.0.0"\n', "set tls_cert and tls_key"),
        (
            '[console]\nhost = "0.0.0.0"\ntls_cert = "/x.crt"\ntls_key = "/x.key"\n',
            "set allowed_clients",
        ),
        ('[console]\ntls_cert = "/x.crt"\n', "tls_cert and tls_key go together"),
        ('[console]\nallowed_clients = ["192.168.10"]\n', "is not a network"),
    ],
)
def test_serving_the_lan_needs_https_and_named_networks(
    tmp_path: Path, console: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(_config(tmp_path, console), "kakou.toml")
    assert any(problem in line for line in raised.value.problems), raised.value.problems


def test_the_lan_set_up_as_documented_is_accepted(tmp_path: Path) -> None:
    console = (
        '[console]\nhost = "0.0.0.0"\ntls_cert = "/etc/kakou/tls/console.crt"\n'
        'tls_key = "/etc/kakou/tls/console.key"\nallowed_clients = ["192.168.10.0/24"]\n'
    )
    settings = parse_settings(_config(tmp_path, console), "kakou.toml")
    assert settings.console.tls


async def _ok(scope: object, receive: object, send: object) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


@pytest.mark.parametrize(
    ("client", "status"),
    [("192.168.10.23", 200), ("::ffff:192.168.10.23", 200), ("192.168.11.5", 403), ("::1", 403)],
)
def test_a_device_outside_the_named_networks_is_refused(client: str, status: int) -> None:
    app = ClientAllowList(_ok, networks(["192.168.10.0/24"]))
    http = TestClient(app, client=(client, 50000))  # no lifespan: the app is one response
    assert http.get("/").status_code == status


def _trusting(cert: Path) -> ssl.SSLContext:
    """What a phone has once it installed the gate's certificate: that one trusted."""
    return ssl.create_default_context(cafile=str(cert))


@pytest.fixture
def https_gate(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    made = subprocess.run(
        [str(KAKOU), "console", "cert", "--out", str(tmp_path / "tls"), "--name", "localhost"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    cert = tmp_path / "tls" / "console.crt"
    assert (tmp_path / "tls" / "console.key").stat().st_mode & 0o077 == 0
    assert fingerprint(cert.read_bytes()) in made.stdout
    port = free_port()
    console = (
        f'[console]\nhost = "127.0.0.1"\nport = {port}\ntls_cert = "{cert}"\n'
        f'tls_key = "{tmp_path / "tls" / "console.key"}"\nallowed_clients = ["127.0.0.0/8"]\n'
    )
    config = tmp_path / "kakou.toml"
    config.write_text(_config(tmp_path, console), encoding="utf-8")
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        [str(KAKOU), "run", "--config", str(config)], cwd=tmp_path, stdout=log, stderr=log
    )
    url = f"https://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            try:
                if httpx.get(f"{url}/api/v1/health", verify=_trusting(cert), timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the console did not answer over HTTPS"
            time.sleep(0.2)
        added = subprocess.run(
            [str(KAKOU), "guard", "add", "--name", "李卫", "--pin-stdin", "--config", str(config)],
            input=SECRET + "\n",
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        yield url, cert
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_the_console_is_served_over_https_with_a_secure_session(
    https_gate: tuple[str, Path],
) -> None:
    url, cert = https_gate
    with httpx.Client(base_url=url, verify=_trusting(cert), timeout=10) as phone:
        signed_in = phone.post("/api/v1/auth/sign-in", json={"name": "李卫", "secret": SECRET})
        assert signed_in.status_code == 200, signed_in.text
        cookie = signed_in.headers["set-cookie"]
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        downloaded = phone.get("/console.crt")
        assert downloaded.status_code == 200
        assert downloaded.content == cert.read_bytes()
    plain = url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{plain}/api/v1/health", timeout=5)  # nothing in clear
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/v1/health", timeout=5)  # a certificate nobody installed: refused


def test_the_key_is_the_owners_or_its_named_groups_only(tmp_path: Path) -> None:
    group = grp.getgrgid(os.getgid()).gr_name
    made = subprocess.run(
        [str(KAKOU), "console", "cert", "--out", str(tmp_path), "--group", group],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    key = (tmp_path / "console.key").stat()
    assert (stat.S_IMODE(key.st_mode), key.st_gid) == (0o640, os.getgid())
    again = subprocess.run(
        [str(KAKOU), "console", "cert", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert again.returncode != 0  # never overwritten without --force
    assert "--force" in again.stderr
