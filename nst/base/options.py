"""What every method's options share: fields that carry their help, the command-line flags made
from them, and checks that refuse bad values with the same words."""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Sequence
from typing import Any

Options = typing.TypeVar("Options")


def option(default: Any, help: str, **cli: Any) -> Any:
    """A dataclass field with its one-line ``help``, from which the command line makes its flag.

    ``cli`` may say how the flag differs from ``--field-name``: ``flag`` (another name; for a
    bool, the flag that flips its default), ``const`` (the value of a bare flag), or
    ``cli=False`` (no flag).
    """
    return dataclasses.field(default=default, metadata={"help": help, **cli})


def _float_list(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(","))


def add_flags(p: argparse.ArgumentParser, options: type) -> None:
    """A flag for each field of the ``options`` dataclass, with its default, type and help (its metadata)."""
    hints = typing.get_type_hints(options)
    for f in dataclasses.fields(options):
        meta = f.metadata
        if not meta.get("cli", True):
            continue
        kind = hints[f.name]
        args = typing.get_args(kind)
        if typing.get_origin(kind) in (types.UnionType, typing.Union) and type(None) in args:  # X | None
            kind = next(a for a in args if a is not type(None))
        flag = meta.get("flag", f"--{f.name.replace('_', '-')}")
        shown = "" if f.default is None or kind is bool else " (%(default)s)"
        spec: dict = {"dest": f.name, "default": f.default, "help": meta.get("help", "") + shown}
        if kind is bool and "flag" in meta:
            spec["action"] = "store_false" if f.default else "store_true"
            spec["help"] = meta.get("help", "")
        elif kind is bool:
            spec["action"] = argparse.BooleanOptionalAction if f.default is not False else "store_true"
        elif typing.get_origin(kind) is typing.Literal:
            spec["choices"] = typing.get_args(kind)
            if "const" in meta:
                spec.update(nargs="?", const=meta["const"])
        elif typing.get_origin(kind) is tuple:
            spec.update(type=_float_list, metavar="W1,W2,…")
        else:
            spec["type"] = kind
        p.add_argument(flag, **spec)


def from_flags(args: argparse.Namespace, options: type[Options], **changes: object) -> Options:
    """The ``options`` dataclass made from the parsed flags, with ``changes``."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(options) if hasattr(args, f.name)}
    return options(**{**given, **changes})


def check(ok: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``ok``."""
    if not ok:
        raise ValueError(message)


def check_positive(name: str, value: float) -> None:
    check(math.isfinite(value) and value > 0, f"{name} must be a finite number > 0, not {value}")


def check_non_negative(name: str, value: float) -> None:
    check(math.isfinite(value) and value >= 0, f"{name} must be a finite number ≥ 0, not {value}")


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    check(value in choices, f"{name} must be one of {', '.join(choices)}, not {value!r}")


def check_fraction(name: str, value: float) -> None:
    check(math.isfinite(value) and 0 <= value <= 1, f"{name} must be between 0 and 1, not {value}")


def blend_weights(blend: Sequence[float] | None, count: int) -> list[float]:
    """``b / Σ b`` for ``count`` styles (equal shares when ``blend`` is None).

    Refuses a length that differs from ``count``, negative or non-finite weights, and all zeros.
    """
    check(count >= 1, "at least one style is needed")
    blend = [1.0] * count if blend is None else [float(b) for b in blend]
    check(len(blend) == count, f"{count} styles but {len(blend)} blend weights")
    check(
        all(math.isfinite(b) and b >= 0 for b in blend) and sum(blend) > 0,
        "style blend weights must be finite, non-negative and not all zero",
    )
    return [b / sum(blend) for b in blend]


def check_regions(masks: Sequence[Any] | None, styles: int, style_blend: Sequence[float] | None) -> None:
    """Refuse masks that are not one per style, or that come with a blend (masks place the styles)."""
    if masks is None:
        return
    check(len(masks) == styles, f"{styles} styles but {len(masks)} masks: one mask per style")
    check(style_blend is None, "masks place each style in its region: give no style_blend with them")
