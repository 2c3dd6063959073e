"""Widget forms generated from the recipe's field metadata, validated as a whole on every change.

One builder serves every section: the widget kind comes from the field's type and metadata
(choices → dropdown, bool → checkbox, numbers → text boxes, metric lists → multi-select), the
help text sits beside the field (under it when the form is narrow), and problems found by
``Recipe.from_dict`` appear inline under the field they concern, with Start disabled until none
are left.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import re
import typing
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..recipe import Problem, Recipe, RecipeError, describe_fields
from ..recipe.defaults import DEPENDENT_DEFAULTS, dependent_keys, following, plain_default
from ..recipe.vocab import applies, applies_context
from .access import INPUT_WIDTH, LABEL_WIDTH, labelled, stepped

# Two-column panels: a form column holds label, field and 200 px of help side by side; when the
# notebook is too narrow for both columns, the row of columns wraps and they stack, full width.
FORM_COLUMN = "1 1 520px"
SIDE_COLUMN = "1 1 360px"


def _label(name: str, meta: dict[str, Any]) -> str:
    return meta.get("label") or name.replace("_", " ")


def _hover(info: dict[str, Any]) -> str:
    """A field's help, and the technical names behind choices shown in plain words."""
    words = info.get("choice_labels") or {}
    named = [f"{label} = {key}" for key, label in words.items() if label != key]
    return info.get("help", "") + (f" Technical names: {'; '.join(named)}." if named else "")


def _parse_float_list(text: str) -> Any:
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        return [float(p) for p in parts]
    except ValueError:
        return text  # left as text: validation reports it with what is allowed


class FieldControl:
    """One field: input widget named by its visible label (`labelled`), its help, and an inline problem line."""

    def __init__(self, path: str, info: dict[str, Any]):
        self.path = path
        self.name = info["name"]
        self.info = info
        self.applies_to = info.get("applies_to")
        typ = info["type"]
        layout = W.Layout(width=INPUT_WIDTH)
        self.kind = "text"
        words = info.get("choice_labels") or {}
        if info.get("choices"):
            self.widget: W.Widget = W.Dropdown(options=[(words.get(c, c), c) for c in info["choices"]],
                                               layout=layout)
            self.kind = "choice"
        elif typ is bool:
            self.widget = W.Checkbox(indent=False, layout=layout)
            self.kind = "bool"
        elif typ is int:
            self.widget = stepped(W.IntText(layout=layout), integer=True)
            self.kind = "int"
        elif typ is float:
            self.widget = stepped(W.FloatText(value=info.get("default") or 0.0, layout=layout), lo=info.get("min"),
                                  hi=info.get("max"), log=bool(info.get("log")))
            self.kind = "float"
        elif typing.get_origin(typ) is dict or (typing.get_origin(typ) is list
                                                and typing.get_origin(typing.get_args(typ)[0]) is dict):
            self.widget = W.Textarea(continuous_update=False, layout=W.Layout(width="420px", height="80px"))
            self.kind = "json"  # structured entries (e.g. augmentation ops) edited as JSON
        elif typing.get_origin(typ) is list and info.get("item_choices"):
            options = [(words.get(c, c), c) for c in info["item_choices"]]
            self.widget = W.SelectMultiple(options=options, rows=min(6, len(options)), layout=layout)
            self.kind = "multi"
        elif typing.get_origin(typ) is list and typing.get_args(typ)[0] is str:
            self.widget = W.Text(placeholder="comma-separated names", continuous_update=False, layout=layout)
            self.kind = "names"
        elif typing.get_origin(typ) is list:
            self.widget = W.Text(placeholder="comma-separated numbers", continuous_update=False, layout=layout)
            self.kind = "floats"
        else:
            self.widget = W.Text(continuous_update=False, layout=layout)
        self.widget.add_class(f"lnb-field-{path.replace('.', '-')}")
        # the label is the widget's own description (a <label> linked to the input), locked or not
        wide = self.kind == "json"
        labelled(self.widget, _label(self.name, info), input_width=None if wide else INPUT_WIDTH)
        if wide:
            self.widget.layout.width = f"{int(LABEL_WIDTH[:-2]) + 420}px"
        help_text = html.escape(info.get("help", ""), quote=True)
        hover = html.escape(_hover(info), quote=True)  # with the technical names behind plain-worded choices
        # the help wraps beside the field, or under it when the form is narrow (the studio's CSS)
        self.help = W.HTML(f"<div class='lnb-help-text' title=\"{hover}\">{help_text}</div>")
        self.help.add_class("lnb-help")
        self.error = W.HTML("", layout=W.Layout(display="none"))
        self.note = W.HTML("", layout=W.Layout(display="none"))  # "(default for text_transformer)"
        self.note.add_class("lnb-default-note")
        # the field, its search tick (Search tab), whose default it holds, and its help
        self.row = W.HBox([self.widget, self.note, self.help])
        self.row.add_class("lnb-field-row")
        self.line = W.HBox([self.row])
        self.line.add_class("lnb-field-line")
        self.box = W.VBox([self.line, self.error])

    def get(self) -> Any:
        return CODECS.get(self.kind, PLAIN)[0](self, self.widget.value)

    def set(self, value: Any) -> None:
        self.widget.value = CODECS.get(self.kind, PLAIN)[1](self, value)

    def show_problem(self, text: str | None) -> None:
        if text:
            self.error.value = (f"<span class='lnb-problem' style='font-size:11px;margin-left:{LABEL_WIDTH}'>"
                                f"⚠ {html.escape(text)}</span>")
            self.error.layout.display = ""
        else:
            self.error.value = ""
            self.error.layout.display = "none"

    def show_default(self, option: str | None) -> None:
        """Say that the value is the default of ``option`` (an architecture, an adapter kind), or nothing."""
        self.note.value = (f"<span style='font-size:11px;color:#555'>(default for {html.escape(option)})</span>"
                           if option else "")
        self.note.layout.display = "" if option else "none"

    def set_visible(self, visible: bool) -> None:
        self.box.layout.display = "" if visible else "none"


def _read_json(control: FieldControl, text: str) -> Any:
    try:
        return json.loads(text or ("{}" if typing.get_origin(control.info["type"]) is dict else "[]"))
    except json.JSONDecodeError:
        return text  # left as text: validation reports it with what is allowed


Codec = tuple[Callable[["FieldControl", Any], Any], Callable[["FieldControl", Any], Any]]
#: a field's kind → (its widget's value → the recipe's value, and back); other kinds show the value as it is
CODECS: dict[str, Codec] = {
    "multi": (lambda c, v: list(v), lambda c, v: tuple(x for x in v if x in {o for _, o in c.widget.options})),
    "floats": (lambda c, text: _parse_float_list(text), lambda c, v: ", ".join(f"{x:g}" for x in v)),
    "names": (lambda c, text: [p for p in re.split(r"[,\s]+", text.strip()) if p], lambda c, v: ", ".join(v)),
    "json": (_read_json, lambda c, v: json.dumps(v)),
}
PLAIN: Codec = (lambda c, v: v, lambda c, v: v)


class SectionForm:
    """Controls for one recipe section (nested sections become indented groups)."""

    def __init__(self, path: str, section: Any, skip: tuple[str, ...] = (), applies_to: Any = None):
        self.path = path
        self.applies_to = applies_to  # where the whole section matters (the recipe's metadata of the section)
        self.controls: dict[str, FieldControl] = {}
        self.subsections: dict[str, SectionForm] = {}
        children: list[W.Widget] = []
        for info in describe_fields(section):
            name = info["name"]
            if name in skip:
                continue
            full = f"{path}.{name}" if path else name
            value = getattr(section, name)
            if dataclasses.is_dataclass(value):
                sub = SectionForm(full, value, applies_to=info.get("applies_to"))
                self.subsections[name] = sub
                title = W.HTML(f"<b>{html.escape(_label(name, info))}</b>")
                sub.frame = W.VBox([title, sub.box], layout=W.Layout(margin="4px 0 4px 16px"))
                children.append(sub.frame)
            else:
                control = FieldControl(full, info)
                control.set(value)
                self.controls[name] = control
                children.append(control.box)
        self.box = W.VBox(children)
        self.frame = self.box  # what is hidden with the section (a nested one's title too)

    def all_sections(self) -> list[SectionForm]:
        return [self, *(s for sub in self.subsections.values() for s in sub.all_sections())]

    def all_controls(self) -> dict[str, FieldControl]:
        out = {c.path: c for c in self.controls.values()}
        for sub in self.subsections.values():
            out.update(sub.all_controls())
        return out

    def values(self) -> dict[str, Any]:
        out = {name: c.get() for name, c in self.controls.items()}
        out.update({name: sub.values() for name, sub in self.subsections.items()})
        return out

    def set(self, section: Any) -> None:
        for name, control in self.controls.items():
            control.set(getattr(section, name))
        for name, sub in self.subsections.items():
            sub.set(getattr(section, name))


class RecipeForm:
    """Every section's form plus extra value providers (e.g. the augmentation editor).

    ``recipe`` is the last valid recipe; ``problems`` the current ones. Listeners registered with
    `on_change` get ``(recipe_or_None, problems)`` after each edit.

    Choosing another architecture or adapter kind sets the fields it implies (`recipe.defaults`) that the
    user has not edited since the recipe was loaded (``touched``); a field holding such a default says so.
    """

    def __init__(self, recipe: Recipe, skip: dict[str, tuple[str, ...]] | None = None):
        skip = skip or {}
        self.recipe = recipe
        self.problems: list[Problem] = []
        self.name = FieldControl("name", next(i for i in describe_fields(recipe) if i["name"] == "name"))
        self.name.set(recipe.name)
        where = {i["name"]: i.get("applies_to") for i in describe_fields(recipe)}
        self.sections = {name: SectionForm(name, getattr(recipe, name), skip.get(name, ()), where[name])
                         for name in ("data", "normalize", "augment", "model", "train", "evaluate", "interpret",
                                      "pretrain", "search")}
        self._followers: list[tuple[W.Widget, Any]] = []  # panel parts shown with a section (see `follow`)
        self.extra: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self.general_problems = W.HTML("")
        self._listeners: list[Callable[[Recipe | None, list[Problem]], None]] = []
        self._muted = False
        self.touched: set[str] = set()
        for path, control in self.controls().items():
            control.widget.observe(functools.partial(self._edited, path), names="value")
        self._update_visibility(recipe.to_dict())
        self._show_defaults(recipe.to_dict())

    def controls(self) -> dict[str, FieldControl]:
        out = {"name": self.name}
        for section in self.sections.values():
            out.update(section.all_controls())
        return out

    def add_extra(self, key: str, get: Callable[[], Any], set_: Callable[[Any], None]) -> None:
        """A dotted key (e.g. ``augment.ops``) whose value comes from a custom editor."""
        self.extra[key] = (get, set_)

    def on_change(self, callback: Callable[[Recipe | None, list[Problem]], None]) -> None:
        self._listeners.append(callback)

    def values(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name.get()}
        data.update({name: form.values() for name, form in self.sections.items()})
        for key, (get, _) in self.extra.items():
            section, field = key.split(".")
            data[section][field] = get()
        return data

    def changed(self, _change: Any = None) -> None:
        """Revalidate after an edit (also called by custom editors); quiet while a recipe is being loaded."""
        if not self._muted:
            self.validate()

    def _edited(self, path: str, change: Any) -> None:
        if self._muted:
            return
        if path in DEPENDENT_DEFAULTS:
            self._follow(path, change["old"], change["new"])
        else:
            self.touched.add(path)
        self.validate()

    def _follow(self, option: str, old: Any, new: Any) -> None:
        """Set the fields the new option implies (and those the old one set) unless the user edited them."""
        controls = self.controls()
        table = DEPENDENT_DEFAULTS[option].get(new, {}) if isinstance(new, str) else {}
        self._muted = True
        try:
            for key in sorted(dependent_keys(option, old, new) - self.touched):
                value = table[key] if key in table else plain_default(key)
                if key in controls:
                    controls[key].set(value)
                elif key in self.extra:
                    self.extra[key][1](value)
        finally:
            self._muted = False

    def validate(self) -> Recipe | None:
        """Re-read every control, show problems inline, notify listeners; the recipe when valid."""
        data = self.values()
        self._update_visibility(data)
        self._show_defaults(data)
        try:
            recipe = Recipe.from_dict(data)
            problems: list[Problem] = []
        except RecipeError as exc:
            recipe, problems = None, exc.problems
        self.problems = problems
        self._show(problems)
        if recipe is not None:
            self.recipe = recipe
        for cb in list(self._listeners):
            cb(recipe, problems)
        return recipe

    def _show(self, problems: list[Problem]) -> None:
        controls = self.controls()
        by_field: dict[str, list[str]] = {}
        general = []
        for p in problems:
            key = re.sub(r"\[\d+\].*$", "", p.field)
            if key in controls:
                by_field.setdefault(key, []).append(f"{p.value!r} — {p.allowed}" if p.value is not None else p.allowed)
            else:
                general.append(str(p))
        for path, control in controls.items():
            control.show_problem("; ".join(by_field.get(path, [])) or None)
        self.general_problems.value = "".join(
            f"<div class='lnb-problem'>⚠ {html.escape(g)}</div>" for g in general)

    def follow(self, widget: W.Widget, section: str) -> None:
        """Show ``widget`` (a panel's part that belongs to a recipe section) exactly when the section applies."""
        self._followers.append((widget, self.sections[section].applies_to))
        self._update_visibility(self.values())

    def _update_visibility(self, data: dict[str, Any]) -> None:
        """Fields, sections and the panel parts that follow them are shown where they apply (one rule:
        `lepton_nb.recipe.fields.applies`)."""
        context = applies_context(data)
        for control in self.controls().values():
            if control.applies_to:
                control.set_visible(applies(control.applies_to, context))
        parts = [(s.frame, s.applies_to) for form in self.sections.values() for s in form.all_sections()]
        for widget, applies_to in parts + self._followers:
            if applies_to:
                widget.layout.display = "" if applies(applies_to, context) else "none"

    def _show_defaults(self, data: dict[str, Any]) -> None:
        for path, control in self.controls().items():
            control.show_default(None if path in self.touched else following(data, path))

    def set_recipe(self, recipe: Recipe) -> None:
        """Show a recipe in every control (e.g. loaded from a finished run), then validate once; its values
        count as not edited (another architecture brings its own defaults)."""
        self.touched.clear()
        self._muted = True
        try:
            self.name.set(recipe.name)
            for name, form in self.sections.items():
                form.set(getattr(recipe, name))
            for key, (_, set_) in self.extra.items():
                set_(recipe.get(key))
        finally:
            self._muted = False
        self.validate()


def button(description: str, **kwargs: Any) -> W.Button:
    """A button as wide as its label: ipywidgets' fixed 148 px width cuts longer labels off."""
    return W.Button(description=description, layout=W.Layout(width="auto", min_width="148px"), **kwargs)
