"""Writes the fuzz outcome tally when ``LEPTON_NB_FUZZ_TALLY`` names a file (see `helpers`)."""

import json
import os

from tests.fuzz.helpers import PROFILE, TALLY


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("LEPTON_NB_FUZZ_TALLY")
    if path:
        rows: dict = {}
        for (target, outcome), n in sorted(TALLY.items()):
            rows.setdefault(target, {})[outcome] = n
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"profile": PROFILE, "targets": rows}, fh, indent=2)
