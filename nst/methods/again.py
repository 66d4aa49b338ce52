"""Recipes made and painted again: what a surface records of a run, and the run repeated from it.

A surface (the CLI, the app) makes a result's :class:`~nst.base.recipes.Recipe` with :func:`recipe`
from what it passed to the method, and writes it with
:func:`~nst.base.recipes.save_with_recipe`. :func:`paint_again` paints a recipe's picture again from
the content photo and masks a result carries and the style images it names; on the same device the
one-pass methods and a seeded Gatys run give the same picture. :func:`options_of` gives the options
object back (to restore a form's controls).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from PIL import Image

from nst.base.images import ImageSource, load_image
from nst.base.recipes import DIGEST, Recipe, RecipeError, shown
from nst.methods.registry import find


def recipe(method: str, styles: Sequence[str], options: object, *, style_side: int | None = None) -> Recipe:
    """The recipe of a run of ``method`` with ``styles`` (catalogue names, or the
    :func:`~nst.base.recipes.file_digest` of each style image file) and ``options``, the method's
    options object as the method got it (any changes applied); ``style_side`` is the ``max_side``
    the style images were decoded with (None: as they are).

    The options are resolved first (the method's
    :attr:`~nst.methods.registry.Method.resolve`: Gatys' loss network and its default weights made
    concrete), so that the run is repeated on the same network where ``auto`` would choose another;
    their seed becomes the recipe's.
    """
    kind = find(method).options
    if type(options) is not kind:
        raise TypeError(f"a {method} recipe takes {kind.__name__}, not {type(options).__name__}")
    options = find(method).resolve(options)
    values = dataclasses.asdict(options)
    seed = values.pop("seed", None)
    return Recipe(method, tuple(styles), values, seed, style_side)


def options_of(recipe: Recipe) -> object:
    """The options object ``recipe`` was painted with (its seed put back); options this version
    does not know, or that it refuses, and a method this version does not know or styles it does not
    take, are a :class:`~nst.base.recipes.RecipeError`."""
    method = find(recipe.method)
    if not method.takes(recipe.styles):
        raise RecipeError(f"The recipe's styles are not what a {method.label} run takes.")
    kind = method.options
    fields = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(recipe.options) - fields)
    if unknown:
        raise RecipeError(f"The recipe has options this version does not know: {', '.join(unknown)}.")
    seed = {} if recipe.seed is None or "seed" not in fields else {"seed": recipe.seed}
    try:
        return kind(**recipe.options, **seed)
    except (TypeError, ValueError) as err:
        raise RecipeError(f"The recipe's options are refused: {err}") from err


def styles_of(recipe: Recipe, images: Mapping[str, ImageSource]) -> list[str | Image.Image]:
    """The recipe's styles as its method takes them: catalogue names as they are, each digest as its
    image from ``images`` (digest → file, bytes or picture), decoded as the run decoded it
    (:func:`~nst.base.images.load_image` at the recipe's ``style_side``). A missing one is a
    :class:`~nst.base.recipes.RecipeError` naming it."""
    missing = recipe.missing(images)
    if missing:
        raise RecipeError(f"The recipe needs the style image {', '.join(shown(d) for d in missing)}.")
    return [
        load_image(images[s], max_side=recipe.style_side) if s.startswith(DIGEST) else s
        for s in recipe.styles
    ]


def paint_again(
    recipe: Recipe,
    content: Image.Image,
    images: Mapping[str, ImageSource] | None = None,
    masks: Sequence[Image.Image] | None = None,
    *,
    on_step: Callable[[object], None] | None = None,
) -> Image.Image:
    """``recipe``'s picture painted again from ``content`` (the photo as the method received it, which
    the result carries), the style ``images`` it names by digest (:func:`styles_of`) and its region
    ``masks``; a Gatys run is followed to its last event, each given to ``on_step``.

    The one-pass methods and a seeded Gatys run give the same picture on the same device. A Gatys
    run that its time limit stopped is painted within the same limit, so it may stop elsewhere. A
    clip's recipe is painted again by :func:`~nst.methods.video.stylize_video` with
    :func:`options_of` and :func:`styles_of`.
    """
    options = options_of(recipe)
    styles = styles_of(recipe, images or {})
    method = find(recipe.method)
    if method.paint is None:
        raise RecipeError(f"A {method.label} recipe paints no picture: give it to its method with its clip.")
    return method.paint(content, styles, options, masks=masks, on_step=on_step)
