"""Byte-compiles what a gate runs, in the release venv systemd/install.sh has just built.

install.sh installs the packages with ``pip install --no-compile``: pip would otherwise compile
every module of every package (numpy's tests, f2py and distutils, reportlab's fonts code...),
about 45 MB of a camera gate's venv that no gate loads. The service runs as ``kakou`` and cannot
write into the venv, so what it imports must be compiled here, or it is compiled again at every
start, in memory (the 61 modules of uvicorn, h11 and anyio a console loads when it starts
serving, once missed, cost an idle gate 7 MB of RSS): Kakou's own packages whole, the server's
packages whole (``WHOLE``: they pick their parts when the console starts), and every
other module Kakou imports, found by importing all of it with each pin factory the settings can
name. A module only some rare path imports still works uncompiled, just compiled in memory when
it is first imported.

    VENV/bin/python systemd/compile_used.py     # prints what it compiled
"""

from __future__ import annotations

import compileall
import importlib
import pkgutil
import py_compile
import sys
import sysconfig
from pathlib import Path

OWN_PACKAGES = ("edge", "drivers", "sync")
WHOLE = ("uvicorn", "h11", "anyio")
"""The console's server: it imports its protocol, loop and backend modules when it starts
serving, not when it is imported (1.3 MB of bytecode)."""


def import_everything() -> list[str]:
    """Import every module of Kakou's packages and every pin factory; returns those that could
    not be imported here (a part this venv does not install, such as the server's psycopg)."""
    missing = []
    for package_name in OWN_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if module.name.endswith(".__main__"):  # runs the command: compiled with its package
                continue
            try:
                importlib.import_module(module.name)
            except ImportError:
                missing.append(module.name)
    from edge.app.pins import PIN_FACTORIES

    for module_name, _ in PIN_FACTORIES.values():
        try:
            importlib.import_module(module_name)
        except ImportError:  # a factory whose library this machine lacks (pigpio, RPi.GPIO)
            missing.append(module_name)
    return missing


def compile_used(site_packages: Path) -> tuple[int, list[str]]:
    """Compile Kakou's packages and every imported module under ``site_packages``; returns how
    many modules were compiled and the Kakou modules that could not be imported."""
    missing = import_everything()
    compiled = 0
    for package_name in (*OWN_PACKAGES, *WHOLE):
        if (site_packages / package_name).is_dir():
            compileall.compile_dir(site_packages / package_name, quiet=1)
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if not source or not source.endswith(".py"):
            continue
        path = Path(source).resolve()
        if site_packages in path.parents:
            py_compile.compile(str(path), doraise=True)
            compiled += 1
    return compiled, missing


def main() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    compiled, missing = compile_used(site_packages)
    print(f"compiled {compiled} imported modules and Kakou's packages in {site_packages}")
    if missing:
        print(f"not importable here (left uncompiled): {', '.join(sorted(missing))}")


if __name__ == "__main__":
    main()
