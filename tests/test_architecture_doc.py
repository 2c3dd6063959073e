"""docs/ARCHITECTURE.md stays true: every file, folder and test it names exists, and so does every name it gives
as the protocol's messages or the panel protocol's methods."""

import re
import typing
from pathlib import Path

from lepton_nb.ui.panels.base import Panel
from lepton_nb.workflows.session import protocol

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_every_path_the_page_names_exists():
    paths = set(re.findall(r"`((?:lepton_nb|tests|benchmarks|docs)/[\w/.]*)`", DOC))
    assert len(paths) > 30
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []


def test_the_protocol_and_panel_methods_it_lists_are_the_codes():
    block = DOC.split("kernel → process:")[1].split("```")[0]
    messages = set(re.findall(r"\b([A-Z][a-z]+[A-Za-z]*)\(", block))
    assert messages == {name for name, value in vars(protocol).items() if isinstance(value, type) and
                        value.__module__ == protocol.__name__ and name in messages}
    union = {t.__name__ for t in (*typing.get_args(protocol.Request), *typing.get_args(protocol.Reply))}
    assert messages == union  # every message each way, and no other
    named = set(re.findall(r"`(\w+)`", DOC.split("implements the `Panel`")[1].split("\n\n")[0]))
    assert {"refresh", "show_run", "follow", "shown", "wait", "stop", "close"} <= named
    assert all(hasattr(Panel, name) for name in named - {"Panel", "lepton_nb"})
