"""Property tests of the recipe format: generated recipes round-trip through JSON, and any bytes given as a
recipe file either load or raise one `RecipeError` — never another exception."""

import dataclasses
import typing

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lepton_nb.errors import RecipeError
from lepton_nb.recipe import AUGMENT_OPS, SECTIONS, Recipe, default_op

PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def field_values(section_cls: type, prefix: str) -> dict[str, st.SearchStrategy]:
    """A strategy per scalar field of a section, drawn from the field's own metadata."""
    hints = typing.get_type_hints(section_cls)
    out: dict[str, st.SearchStrategy] = {}
    for f in dataclasses.fields(section_cls):
        typ, meta, key = hints[f.name], f.metadata, f"{prefix}.{f.name}"
        if dataclasses.is_dataclass(typ):
            out.update(field_values(typ, key))
        elif typ is bool:
            out[key] = st.booleans()
        elif typ is int:
            out[key] = st.integers(int(meta.get("min") or 0), int(min(meta.get("max") or 10_000, 10_000)))
        elif typ is float:
            out[key] = st.floats(meta.get("min") or 0.0, meta.get("max") or 1e6, allow_nan=False)
        elif typ is str and meta.get("choices"):
            out[key] = st.sampled_from(meta["choices"])
    return out


FIELDS = {k: v for name, cls in SECTIONS.items() for k, v in field_values(cls, name).items()}
ops = st.lists(st.sampled_from(sorted(AUGMENT_OPS)).map(default_op), max_size=4)


@st.composite
def recipes(draw) -> Recipe:
    keys = draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=12, unique=True))
    changes = {k: draw(FIELDS[k]) for k in keys}
    changes["augment.ops"] = draw(ops)
    changes["name"] = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True))
    try:
        return Recipe.default().updated(changes)
    except RecipeError:  # a combination the cross-field checks refuse (e.g. fp16 on cpu)
        assume(False)


@PROFILE
@given(recipes())
def test_generated_recipes_round_trip_through_json(recipe):
    again = Recipe.from_json(recipe.to_json())
    assert again == recipe and again.to_dict() == recipe.to_dict()
    assert again.validate() == []


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([".json", ".yaml", ".yml", ".txt"]))
def test_any_bytes_as_a_recipe_file_load_or_raise_a_recipe_error(tmp_path_factory, payload, suffix):
    path = tmp_path_factory.mktemp("r") / f"recipe{suffix}"
    path.write_bytes(payload)
    try:
        recipe = Recipe.from_file(path)
    except RecipeError as exc:
        assert exc.problems and all(p.field for p in exc.problems)
    else:
        assert isinstance(recipe, Recipe)


@settings(max_examples=80, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(
                        st.sampled_from(["name", "data", "train", "model", "lr", "ops", "", "source"]), children,
                        max_size=4), max_leaves=20))
def test_any_json_value_as_a_recipe_is_accepted_or_named(value):
    try:
        Recipe.from_dict(value)
    except RecipeError as exc:
        assert exc.problems and all(str(p).strip() for p in exc.problems)


def test_pathological_numbers_and_nesting_are_recipe_errors():
    for text in ('{"train": {"lr": 1' + "0" * 400 + "}}", "[" * 100_000, '{"train": {"epochs": ' + "9" * 5000 + "}}"):
        try:
            Recipe.from_json(text)
        except RecipeError as exc:
            assert len(str(exc)) < 400
        else:
            raise AssertionError(f"accepted {text[:30]!r}")


def test_pathological_yaml_files_are_recipe_errors(tmp_path):
    texts = {"deep": "[" * 100_000, "deep_map": "{a: " * 5000, "big_int": "train:\n  epochs: " + "9" * 5000,
             "big_float": "train:\n  lr: 1" + "0" * 400, "tag": "!!python/object/apply:os.system [ls]"}
    for name, text in texts.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        try:
            Recipe.from_file(path)
        except RecipeError as exc:
            assert len(str(exc)) < 400 and exc.problems[0].field in ("recipe file", "train.lr"), str(exc)
        else:
            raise AssertionError(f"accepted {name}")
