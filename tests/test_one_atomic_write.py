"""Every file the package writes goes through `lepton_nb.files` (atomic_write / atomic_path): no other module
writes, renames or opens a file for writing itself (a kill -9 mid-write would leave half a file)."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lepton_nb"
WRITES = re.compile(r"(?<!folder)(?<!self)\.write_text\(|\.write_bytes\(|os\.replace\(|\.replace\(tmp|\.rename\("
                    r"|open\([^)]*['\"][wa]b?['\"]|fdopen\([^)]*['\"]w|\.tmp['\"]|np\.save|torch\.save\([^)]*,\s*(str\(|path|Path)")
ALLOWED = {
    "files.py": "the one atomic write",
    "cli.py": "the internal-error log: a new file of its own (tempfile.mkstemp), never one a run reads",
}


def test_no_module_but_files_writes_a_file_itself():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ALLOWED and path.parent == PACKAGE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if WRITES.search(code) and "atomic_write(" not in code:
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == [], "write through lepton_nb.files.atomic_write instead:\n" + "\n".join(offenders)
