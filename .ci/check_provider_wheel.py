"""Fail if the provider's wheel carries any part of the vendor emulator.

The emulator is its own distribution (``esign-sandbox``, ``sandbox/`` in the repository): production
Airflow images install the provider's wheel and must not ship a FastAPI vendor emulator. Usage:
``python .ci/check_provider_wheel.py dist/airflow_provider_esign-*.whl``.
"""

from __future__ import annotations

import sys
import zipfile

#: Where the emulator's modules live (before and after it became its own distribution).
EMULATOR_FOLDERS = ("airflow_provider_esign/sandbox/", "esign_sandbox/")
#: Text only the emulator has: its import names and its control API's route prefix.
EMULATOR_MARKERS = ("esign_sandbox", "airflow_provider_esign.sandbox", '"/_sandbox"')


def emulator_parts(wheel: str) -> list[str]:
    """:return: ``path: reason`` for every file of ``wheel`` that belongs to the emulator."""
    found = []
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(EMULATOR_FOLDERS):
                found.append(f"{name}: an emulator module")
            elif name.endswith(".py"):
                text = archive.read(name).decode("utf-8", errors="replace")
                found += [f"{name}: contains {marker}" for marker in EMULATOR_MARKERS if marker in text]
    return found


def main(wheels: list[str]) -> int:
    if not wheels:
        print("usage: check_provider_wheel.py WHEEL...", file=sys.stderr)
        return 2
    status = 0
    for wheel in wheels:
        found = emulator_parts(wheel)
        for line in found:
            print(f"{wheel}: {line}", file=sys.stderr)
        if found:
            status = 1
        else:
            with zipfile.ZipFile(wheel) as archive:
                print(f"{wheel}: {len(archive.namelist())} files, no emulator module")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
