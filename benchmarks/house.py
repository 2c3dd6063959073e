"""How the house reads to a newcomer: the path of a recipe through ``lnb.train``, and a few counts.

``python benchmarks/house.py`` writes ``benchmarks/results/house.json``:

* **recipe path** — while ``lnb.train`` runs a small fine-tune recipe (``model.init_from``: a run folder made
  first, outside the trace), a `sys.setprofile` tracer (`trace`) records the module of every ``lepton_nb``
  call that receives the `Recipe` object as an argument (``self`` included), and of every call such a
  function makes into another package: the rooms the code that holds the recipe reaches into (another run's
  folder, the data, the model...). The recipe package itself (validation, its properties) is where the
  recipe lives, not a step of its path. Sections handed to a room and a
  resolved plan are not followed: what the room does with them is that room's business. In call order with
  repeats collapsed, that is the path; from it: *modules entered* (distinct modules), *climbs* (a step to a
  module of a higher layer of the import-linter contract than the step before) and *returns* (a step back
  into a module the path had already left).
* ``== "literal"`` comparisons in the package (every ``== "`` or ``== '``), lines of ``ui/studio.py``,
  mixin classes of `Studio`, and ``type: ignore`` comments.

`tests/test_house.py` runs the same tracer and holds the targets (≤ 8 modules, ≤ 3 climbs, ≤ 10 returns).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lepton_nb"
RECIPE = "lepton_nb.recipe"  # the recipe's own package: where it lives, not a step of its path


def layers() -> dict[str, int]:
    """Top-level module → its layer in the import-linter contract (0 = the top)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    out: dict[str, int] = {}
    for i, layer in enumerate(contract["layers"]):
        for name in layer.split("|"):
            out[name.strip()] = i
    return out


def layer_of(module: str, table: dict[str, int]) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in table:
            return table[key]
    return len(table)  # the package root: below nothing, above nothing


def trace(run: Callable[[], Any], followed: tuple[type, ...]) -> list[str]:
    """The recipe's path: modules of the ``lepton_nb`` calls that receive one of ``followed`` (an argument,
    ``self`` included), and of the calls those functions make into another package — in order, repeats
    collapsed, the recipe package itself left out."""
    path: list[str] = []

    def holds(frame: Any) -> bool:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("lepton_nb") or module.startswith(RECIPE):
            return False
        code = frame.f_code
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        return any(isinstance(frame.f_locals.get(n), followed) for n in names)

    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("lepton_nb") or module.startswith(RECIPE) or frame.f_code.co_name.startswith("<"):
            return
        caller = frame.f_back
        on_path = holds(frame) or (caller is not None and holds(caller)
                                   and package(caller.f_globals["__name__"]) != package(module))
        if on_path and (not path or path[-1] != module):
            path.append(module)

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return path


def path_figures(path: list[str]) -> dict[str, Any]:
    table = layers()
    climbs = returns = 0
    left: set[str] = set()
    for before, after in zip(path, path[1:]):
        left.add(before)
        if layer_of(after, table) < layer_of(before, table):
            climbs += 1
        if after in left:
            returns += 1
    return {"modules_entered": len(set(path)), "climbs": climbs, "returns": returns, "path": path}


def recipe_path(workdir: Path) -> dict[str, Any]:
    """Follow a fine-tune recipe through ``lnb.train`` (its source run is trained first, untraced)."""
    sys.path.insert(0, str(ROOT))
    import lepton_nb as lnb
    from lepton_nb.recipe import Recipe

    base = {"data.limit": 300, "train.epochs": 1, "train.batch_size": 64, "model.width": 8, "model.hidden": 32,
            "interpret.enabled": False}
    source = lnb.train(Recipe.default().updated(base), progress=False, out=workdir, report=False)
    recipe = Recipe.default().updated({**base, "model.init_from": str(source.dir), "model.freeze": "features"})
    path = trace(lambda: lnb.train(recipe, progress=False, out=workdir, report=False), (Recipe,))
    return path_figures(path)


def literal_comparisons() -> int:
    pattern = re.compile(r"==\s*['\"]")
    return sum(len(pattern.findall(p.read_text(encoding="utf-8"))) for p in PACKAGE.rglob("*.py"))


def type_ignores() -> int:
    return sum(p.read_text(encoding="utf-8").count("type: ignore") for p in PACKAGE.rglob("*.py"))


def studio_shape() -> dict[str, int]:
    text = (PACKAGE / "ui" / "studio.py").read_text(encoding="utf-8")
    match = re.search(r"^class Studio\(([^)]*)\)", text, re.M)
    bases = [b for b in (match.group(1).split(",") if match else []) if b.strip() and b.strip() != "object"]
    return {"lines": len(text.splitlines()), "mixins": len(bases)}


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = {"recipe_path": recipe_path(Path(tmp)), "literal_comparisons": literal_comparisons(),
               "studio": studio_shape(), "type_ignores": type_ignores()}
    target = ROOT / "benchmarks" / "results" / "house.json"
    target.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    summary = {k: v for k, v in out["recipe_path"].items() if k != "path"}
    print(json.dumps({**out, "recipe_path": summary}, indent=2))
    return out


if __name__ == "__main__":
    main()
