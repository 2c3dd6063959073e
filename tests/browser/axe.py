"""axe-core (Deque's accessibility engine) for the browser tests, taken from the npm registry.

The script is not vendored: `ensure_axe` runs ``npm pack axe-core@VERSION`` once and keeps ``axe.min.js`` under
``.cache/`` (git-ignored). ``make test`` calls it before the suite (``python -m tests.browser.axe``); a test run
without it fetches it the first time the audit needs it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "4.14.1"
REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / f"axe-core-{VERSION}"
SCRIPT = CACHE / "axe.min.js"


def ensure_axe() -> Path:
    """The path of axe.min.js, fetched with npm when it is not cached yet; RuntimeError when npm is missing."""
    if SCRIPT.exists():
        return SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed once to fetch axe-core {VERSION} (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([npm, "pack", f"axe-core@{VERSION}", "--silent", "--pack-destination", tmp],
                             capture_output=True, text=True, timeout=300, check=True).stdout.split()[-1]
        with tarfile.open(Path(tmp) / out) as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None
            data = member.read()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp_path = SCRIPT.with_suffix(".tmp")
    tmp_path.write_bytes(data)
    tmp_path.replace(SCRIPT)
    return SCRIPT


if __name__ == "__main__":
    print(ensure_axe(), file=sys.stderr)
