"""Configuration problems in the operator's words, each naming the key as the file spells it.

pydantic's messages are written for programmers ("Extra inputs are not permitted", "Input tag
'gm65' found using 'kind' does not match any of the expected tags"). A volunteer fixing a gate's
TOML needs to know which key, what is wrong with it and, for a typo, what was probably meant
(``hold_sec`` → ``hold_s``): the known keys come from the settings models themselves.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

Loc = tuple[int | str, ...]


def field_path(loc: Loc) -> str:
    """``lanes[0].relay.pin``: the key as the TOML file spells it."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts:
            parts.append(f".{item}")
        else:
            parts.append(str(item))
    return "".join(parts) or "(top level)"


def describe(error: ErrorDetails, root: type[BaseModel]) -> str:
    """One problem as 'key: what is wrong', in plain words (a check across sections may give
    several, a line each)."""
    loc = _without_tags(tuple(error["loc"]), root)
    kind = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "extra_forbidden":
        known = _known_keys(root, loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"; did you mean '{guess[0]}'?" if guess else ""
        where = field_path(loc[:-1])
        return f"{field_path(loc)}: unknown key in {where}{hint}"
    if kind == "missing":
        return f"{field_path(loc)}: required, but missing"
    if kind == "union_tag_invalid":
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        return f"{field_path(loc)}: kind '{ctx.get('tag')}' is not one of: {tags}"
    if kind == "union_tag_not_found":
        return f"{field_path(loc)}: needs a kind ({ctx.get('discriminator', '')})"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"{field_path(loc)}: {_shown(error)} is not one of: {expected}"
    message = _plain(error, ctx)
    if not loc:  # a check across sections names its keys itself, one problem a line
        return message
    return f"{field_path(loc)}: {message}"


def _plain(error: ErrorDetails, ctx: Mapping[str, Any]) -> str:
    kind = error["type"]
    got = _shown(error)
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}, got {got}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number, got {got}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number, got {got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false, got {got}"
    if kind in ("string_type",):
        return f"must be text in quotes, got {got}"
    if kind in ("list_type",):
        return f"must be a list [ ... ], got {got}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a table {{ ... }} or a [section], got {got}"
    if kind == "string_pattern_mismatch":
        return f"{got} is not in the allowed form ({ctx.get('pattern')})"
    if kind in ("too_short", "too_long"):
        return str(error["msg"]).replace("List", "the list").replace("Value", "the value")
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _shown(error: ErrorDetails) -> str:
    value = error.get("input")
    text = repr(value) if not isinstance(value, Mapping | list) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _known_keys(root: type[BaseModel], loc: Loc) -> list[str]:
    models = _models_at(root, loc)
    return sorted({name for model in models for name in model.model_fields})


def _models_at(root: type[BaseModel], loc: Loc) -> list[type[BaseModel]]:
    """The settings models a location may name (several where a union allows several)."""
    models: list[type[BaseModel]] = [root]
    for item in loc:
        if isinstance(item, int):
            continue  # a list index: the list's item type was taken with the list's field
        found: list[type[BaseModel]] = []
        for model in models:
            field = model.model_fields.get(item)
            if field is not None:
                found.extend(_model_types(field.annotation))
        models = found
    return models


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    """The BaseModel classes an annotation holds (through Optional, Union, list, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    args: Sequence[Any] = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_types(args[0])
    if origin in (typing.Union, types.UnionType, list, tuple) or args:
        return [model for arg in args for model in _model_types(arg)]
    return []


def _without_tags(loc: Loc, root: type[BaseModel]) -> Loc:
    """pydantic puts a discriminated union's tag in the location (``scanner.serial.baud``); the
    file has no such key, so it is left out."""
    kept: list[int | str] = []
    models: list[type[BaseModel]] = [root]
    for item in loc:
        if isinstance(item, str) and models and all(item not in m.model_fields for m in models):
            tagged = [m for m in models if _tag_of(m) == item]
            if tagged:
                models = tagged
                continue
        kept.append(item)
        if isinstance(item, str):
            models = _models_at_step(models, item)
    return tuple(kept)


def _models_at_step(models: Iterable[type[BaseModel]], name: str) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for model in models:
        field = model.model_fields.get(name)
        if field is not None:
            found.extend(_model_types(field.annotation))
    return found


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("kind")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return str(args[0]) if len(args) == 1 else None
