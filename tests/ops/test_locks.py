"""The locked requirement sets in requirements/ agree with pyproject.toml, without the network.

systemd/install.sh and .ci/bootstrap.sh install these files with pip --require-hashes; a
dependency added to or tightened in pyproject.toml must reach them (bash requirements/compile.sh).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.ops.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
REQUIREMENTS = REPO / "requirements"

# Lock file → (the extras it holds, the machine it is for).
LOCKS = {
    "gate-x86_64.txt": ((), "x86_64"),
    "gate-aarch64.txt": ((), "aarch64"),
    "gate-armv7l.txt": ((), "armv7l"),
    "gate-camera-x86_64.txt": (("camera",), "x86_64"),
    "gate-camera-aarch64.txt": (("camera",), "aarch64"),
    "server-x86_64.txt": (("server",), "x86_64"),
    "test-x86_64.txt": (("test",), "x86_64"),
}


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    """pyproject's requirements for the package with ``extras``, self-references expanded."""
    optional = PYPROJECT["project"]["optional-dependencies"]
    wanted, seen = list(extras), set()
    requirements = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
    while wanted:
        extra = wanted.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in optional[extra]:
            requirement = Requirement(text)
            if requirement.name == PYPROJECT["project"]["name"]:
                wanted.extend(requirement.extras)
            else:
                requirements.append(requirement)
    return requirements


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a lock, every one with at least one hash."""
    text = path.read_text(encoding="utf-8")
    found = dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", text, re.MULTILINE))
    blocks = re.findall(r"^[A-Za-z0-9].*==.*(?:\n {4}.*)*", text, re.MULTILINE)
    assert all("--hash=sha256:" in block for block in blocks), path.name
    return {canonicalize_name(name): version for name, version in found.items()}


def test_every_lock_is_listed_here() -> None:
    assert sorted(path.name for path in REQUIREMENTS.glob("*-*.txt")) == sorted(
        [*LOCKS, "armv7l-debian.txt"]
    )


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_declared_requirement_is_pinned_within_its_range(lock: str) -> None:
    extras, machine = LOCKS[lock]
    path = REQUIREMENTS / lock
    assert "bash requirements/compile.sh" in path.read_text(encoding="utf-8").split("\n", 3)[1]
    pinned = pins(path)
    environment = {"sys_platform": "linux", "platform_machine": machine, "python_version": "3.11"}
    for requirement in declared(extras):
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock}: {requirement} is not locked (bash requirements/compile.sh)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock}: {name}=={pinned[name]} is outside {requirement.specifier}"
        )


def test_the_gate_locks_hold_no_camera_or_test_packages() -> None:
    for lock in ("gate-x86_64.txt", "gate-aarch64.txt", "gate-armv7l.txt"):
        pinned = pins(REQUIREMENTS / lock)
        for optional in ("opencv-python-headless", "numpy", "psycopg", "pytest", "playwright"):
            assert optional not in pinned, (lock, optional)


def test_armhf_pins_the_versions_debian_provides() -> None:
    """32-bit Pi OS: what PyPI has no armv7l wheel of is bookworm's python3-* package."""
    pinned = pins(REQUIREMENTS / "gate-armv7l.txt")
    for line in (REQUIREMENTS / "armv7l-debian.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert pinned[canonicalize_name(name)] == version, name


def constraints(path: Path) -> list[Requirement]:
    """The requirement lines of a constraints file (comments and blank lines left out)."""
    text = path.read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [Requirement(line) for line in lines if line]


@pytest.mark.parametrize(
    "lock", ["gate-camera-x86_64.txt", "gate-camera-aarch64.txt", "test-x86_64.txt"]
)
def test_the_camera_sets_and_the_test_set_keep_the_camera_constraints(lock: str) -> None:
    """The tests run the OpenCV and numpy that camera gates install."""
    pinned = pins(REQUIREMENTS / lock)
    wanted = constraints(REQUIREMENTS / "camera-constraints.in")
    assert {canonicalize_name(c.name) for c in wanted} >= {"opencv-python-headless", "numpy"}
    for constraint in wanted:
        version = pinned[canonicalize_name(constraint.name)]
        assert constraint.specifier.contains(version), f"{lock}: {constraint.name}=={version}"


def test_the_server_set_pins_what_it_shares_with_the_gate_set_alike() -> None:
    """install.sh --server installs both locks together: one version of each package."""
    gate, server = pins(REQUIREMENTS / "gate-x86_64.txt"), pins(REQUIREMENTS / "server-x86_64.txt")
    assert "psycopg" in server
    assert {name: server[name] for name in gate if name in server} == gate
