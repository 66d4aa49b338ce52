"""``python -m nst``: a thin command line over the library; defaults come from its options objects."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from nst import __version__
from nst.base import distributed, recipes
from nst.base.device import default_device
from nst.base.images import ImageError, load_image, load_mask, save_image
from nst.base.options import add_flags, from_flags
from nst.base.recipes import Recipe, RecipeError
from nst.base.settings import Settings, configure, current
from nst.base.weights import WeightsError
from nst.methods import again, arbitrary, batch, engine, fast, gatys, train, video
from nst.methods.catalogue import load_catalogue
from nst.methods.registry import ARBITRARY, FAST, GATYS, VIDEO

USER_ERRORS = (ImageError, RecipeError, ValueError, WeightsError, OSError)


def _add_masks(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mask",
        type=Path,
        nargs="+",
        metavar="MASK",
        help="one picture per style: white (or opaque) where that style goes; unpainted, the photo stays",
    )


def _masks(args: argparse.Namespace) -> list | None:
    return None if args.mask is None else [load_mask(m) for m in args.mask]


def _save(
    image: Image.Image,
    output: Path,
    recipe: Recipe,
    content: Image.Image,
    masks: Sequence[Image.Image] | None,
) -> None:
    """``image`` written to ``output``, a PNG with its recipe, content and masks; a note when the
    format cannot carry them."""
    if not recipes.save_with_recipe(image, output, recipe, content, masks):
        print(f"note: {output.name} carries no recipe (only a PNG does)", file=sys.stderr)


@contextlib.contextmanager
def _steps(total: int) -> Iterator[Callable[[gatys.Progress], None]]:
    """A bar of ``total`` Gatys steps; what it yields shows an event on it."""
    with tqdm(total=total, unit="step", disable=None) as bar:

        def show(event: gatys.Progress) -> None:
            bar.update(event.step - bar.n)
            bar.set_postfix(scale=f"{event.scale}/{event.scales}", loss=f"{event.losses['total']:.3g}")

        yield show


def _parser(
    sub: argparse._SubParsersAction, name: str, help: str, doc: str | None
) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=(doc or "").split("\n\n")[0])


def _add_gatys(sub: argparse._SubParsersAction) -> None:
    p = _parser(sub, GATYS.id, "optimise a pastiche (Gatys et al. 2016)", gatys.stylize.__doc__)
    p.add_argument("content", type=Path)
    p.add_argument("styles", type=Path, nargs="+", metavar="STYLE")
    p.add_argument("-o", "--output", type=Path, required=True, help="output image (PNG by default)")
    _add_masks(p)
    add_flags(p, gatys.GatysOptions)
    p.set_defaults(run=_run_gatys)


def _run_gatys(args: argparse.Namespace) -> None:
    content = load_image(args.content, alpha=True)
    styles = [load_image(s) for s in args.styles]
    digests = [recipes.file_digest(s) for s in args.styles]
    options = from_flags(args, gatys.GatysOptions)
    chosen = gatys.loss_network_for(options)
    if chosen.name != "vgg19":
        print(
            f"Gatys runs on {chosen.title} ({chosen.reason}); VGG-19 gives the paper's results. "
            + chosen.details,
            file=sys.stderr,
        )
    masks = _masks(args)
    events = gatys.stylize(content, styles, options, masks=masks)
    with _steps(options.steps) as show:
        for event in events:
            show(event)
    _save(event.image, args.output, again.recipe(GATYS.id, digests, options), content, masks)


def _add_fast(sub: argparse._SubParsersAction) -> None:
    p = _parser(sub, FAST.id, "stylise with a pretrained network (Johnson et al. 2016)", fast.stylize.__doc__)
    p.add_argument(
        "contents",
        nargs="+",
        metavar="CONTENT",
        help="photos, folders of photos, or Hugging Face datasets streamed (hf:NAME or hf:NAME:SPLIT)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output image, or a folder when there are several contents, a folder or a dataset",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--style",
        nargs="+",
        metavar="NAME",
        help="a catalogue name (see `python -m nst styles`); several built-in styles blend",
    )
    which.add_argument(
        "--weights", type=Path, help="a network from `train` (or any Johnson network), .safetensors or .pth"
    )
    p.add_argument(
        "--style-index",
        type=int,
        nargs="+",
        metavar="K",
        help="with --weights of a multi-style network: its style(s) K; several blend inside it",
    )
    _add_masks(p)
    add_flags(p, fast.FastOptions)
    p.set_defaults(run=_run_fast)


def _run_fast(args: argparse.Namespace) -> None:
    options = from_flags(args, fast.FastOptions)
    if len(args.contents) == 1 and not batch.many(args.contents[0]):
        masks = _masks(args)
        style = fast.load_style(
            args.style, options, masks=masks, weights=args.weights, style_index=args.style_index
        )
        image = load_image(args.contents[0], max_side=options.max_side, alpha=True)
        painted = engine.stylize(image, style, options)
        if args.weights is None:  # a network file is not a catalogue name: no recipe names it
            _save(painted, args.output, again.recipe(FAST.id, args.style, options), image, masks)
        else:
            save_image(painted, args.output)
        return
    if args.mask:
        raise ValueError("masks go with one photo; give one content image")
    ranks = distributed.join(default_device())
    style = fast.load_style(
        args.style, options, weights=args.weights, style_index=args.style_index, device=ranks.device
    )

    def paint(images: list) -> list:  # one size: one batch, which the engine splits to fit
        return engine.stylize(images, style, options)

    _paint_many(args.contents, args.output, paint, options, ranks, options.batch)


def _paint_many(
    contents: list[str],
    output: Path,
    paint: typing.Callable,
    options: engine.OnePassOptions,
    ranks: distributed.Ranks,
    size: int = 4,
) -> None:
    """Folders, files and streamed datasets of photos painted into ``output`` (folders mirrored),
    finished ones skipped, shared among torchrun's processes, ``size`` at a time; rank 0 shows the
    whole job's progress, counted by the pictures in ``output``."""
    total = batch.count(contents) if ranks.main else None
    counted = 0.0
    with tqdm(total=total, unit="image", disable=None if ranks.main else True) as bar:
        for progress in batch.paint_all(batch.jobs(contents, output), paint, ranks, size, options.max_side):
            if ranks.main and time.monotonic() - counted > 2:  # every rank's outputs, by the files
                bar.update(batch.finished(output) + len(progress.failed) - bar.n)
                counted = time.monotonic()
        if ranks.main:
            bar.update(batch.finished(output) + len(progress.failed) - bar.n)
    for path, why in progress.failed:
        print(f"error: {path}: {why}", file=sys.stderr)
    print(
        f"rank {ranks.rank}: painted {progress.painted}, skipped {progress.skipped} (done before), "
        f"failed {len(progress.failed)} of its {progress.share}",
        file=sys.stderr,
    )
    if progress.failed:
        raise ValueError(f"{len(progress.failed)} of {progress.share} images failed")


def _add_arbitrary(sub: argparse._SubParsersAction) -> None:
    doc = arbitrary.stylize.__doc__
    p = _parser(sub, ARBITRARY.id, "any style image in one pass (Ghiasi et al. 2017)", doc)
    p.add_argument(
        "content", help="a photo, a folder of photos, or a Hugging Face dataset streamed (hf:NAME[:SPLIT])"
    )
    p.add_argument("styles", type=Path, nargs="+", metavar="STYLE")
    p.add_argument("-o", "--output", type=Path, required=True, help="output image (PNG by default)")
    _add_masks(p)
    add_flags(p, arbitrary.ArbitraryOptions)
    p.set_defaults(run=_run_arbitrary)


def _run_arbitrary(args: argparse.Namespace) -> None:
    options = from_flags(args, arbitrary.ArbitraryOptions)
    styles = [load_image(s) for s in args.styles]
    if batch.many(args.content):
        if args.mask:
            raise ValueError("masks go with one photo; give one content image")
        ranks = distributed.join(default_device())

        style = arbitrary.load_style(styles, options, None, ranks.device) if options.strength == 1 else None

        def paint(images: list) -> list:  # below full strength, each photo pulls the style its way
            if style is not None:
                return engine.stylize(images, style, options)
            return [
                engine.stylize(image, arbitrary.load_style(styles, options, image, ranks.device), options)
                for image in images
            ]

        _paint_many([args.content], args.output, paint, options, ranks)
        return
    content = load_image(args.content, max_side=options.max_side, alpha=True)
    masks = _masks(args)
    recipe = again.recipe(ARBITRARY.id, [recipes.file_digest(s) for s in args.styles], options)
    _save(arbitrary.stylize(content, styles, options, masks=masks), args.output, recipe, content, masks)


def _add_video(sub: argparse._SubParsersAction) -> None:
    p = _parser(
        sub, VIDEO.id, "stylise a clip with a one-pass network, steady from frame to frame", video.__doc__
    )
    p.add_argument("input", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True, help="output MP4 (H.264, the input's audio)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--style", nargs="+", metavar="NAME", help="catalogue style(s); built-in ones blend")
    which.add_argument("--style-image", nargs="+", type=Path, metavar="IMAGE", help="any style image(s)")
    add_flags(p, video.VideoOptions)
    p.set_defaults(run=_run_video)


def _run_video(args: argparse.Namespace) -> None:
    options = from_flags(args, video.VideoOptions)
    style = args.style or [load_image(s) for s in args.style_image]
    recipe = again.recipe(VIDEO.id, args.style or [recipes.file_digest(s) for s in args.style_image], options)
    with tqdm(unit="frame", disable=None) as bar:
        for event in video.stylize_video(args.input, args.output, style, options, recipe=recipe):
            bar.total = event.total
            bar.update(event.frame - bar.n)
    print(args.output)


def _add_again(sub: argparse._SubParsersAction) -> None:
    doc = "Paint a result again from the recipe, photo and masks its PNG carries."
    p = _parser(sub, "again", "paint a result PNG again from its recipe", doc)
    p.add_argument("result", type=Path, metavar="RESULT", help="a PNG that nst wrote")
    p.add_argument("-o", "--output", type=Path, required=True, help="output image (PNG by default)")
    p.add_argument(
        "--style-image",
        type=Path,
        nargs="+",
        default=[],
        metavar="IMAGE",
        help="the style images the recipe names by digest, in any order",
    )
    p.set_defaults(run=_run_again)


def _run_again(args: argparse.Namespace) -> None:
    painted = recipes.read_recipe(args.result)
    images = {recipes.file_digest(path): path for path in args.style_image}
    missing = painted.recipe.missing(images)
    if missing:
        raise RecipeError(
            f"{args.result.name}'s recipe needs the style image{'s' * (len(missing) > 1)} "
            f"{', '.join(map(recipes.shown, missing))}; pass it with --style-image"
        )
    options = again.options_of(painted.recipe)
    steps = _steps(options.steps) if isinstance(options, gatys.GatysOptions) else None
    with steps or contextlib.nullcontext() as show:
        image = again.paint_again(painted.recipe, painted.content, images, painted.masks, on_step=show)
    made = dataclasses.replace(painted.recipe, version=__version__)
    _save(image, args.output, made, painted.content, painted.masks)


def _list_styles(_: argparse.Namespace) -> None:
    for s in load_catalogue().values():
        where = "built-in network" if s.kind == "builtin" else f"{s.repo_id or 'weights'}/{s.filename}"
        if s.kind != "builtin" and s.index is not None:
            where += f", style {s.index}"
        print(f"{s.name:16} {s.title:20} {where}")


def _add_styles(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("styles", help="list the style catalogue").set_defaults(run=_list_styles)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = _parser(sub, "train", "train a fast network for a style, or one for several", train.train.__doc__)
    p.add_argument(
        "--style",
        type=Path,
        nargs="+",
        required=True,
        metavar="IMAGE",
        help="the style image; several train one multi-style network (Dumoulin et al.)",
    )
    p.add_argument(
        "--data",
        required=True,
        help="a folder of training photos (searched deeply), or a Hugging Face dataset streamed: "
        "hf:NAME or hf:NAME:SPLIT (e.g. hf:detection-datasets/coco:val)",
    )
    p.add_argument("--output", type=Path, required=True, help="folder for the model, card and checkpoints")
    add_flags(p, train.TrainOptions)
    p.set_defaults(run=_run_train)


def _run_train(args: argparse.Namespace) -> None:
    stems = tuple(path.stem for path in args.style)
    name = args.name or (stems[0] if len(stems) == 1 else "multistyle")
    options = from_flags(args, train.TrainOptions, name=name, style_titles=stems)
    progress = train.train([load_image(path) for path in args.style], args.data, args.output, options)
    main = os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 alone reports
    with tqdm(total=options.steps, unit="step", disable=None if main else True) as bar:
        for event in progress:
            bar.update(event.step - bar.n)
            if event.losses:
                bar.set_postfix(loss=f"{event.losses['total']:.3g}")
    if main and event.unreadable:
        print(f"skipped {event.unreadable} training photos that could not be read", file=sys.stderr)
    if main:
        print(args.output / f"{options.name}.safetensors")


def _add_push(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="upload a trained model folder to the Hugging Face Hub")
    p.add_argument("folder", type=Path)
    p.add_argument("--repo-id", required=True, help="USER/NAME")
    p.add_argument("--private", action="store_true")
    p.set_defaults(run=lambda args: print(train.push(args.folder, args.repo_id, private=args.private)))


def parser() -> argparse.ArgumentParser:
    """The command line's parser: a subcommand each, its flags made from its options object."""
    top = argparse.ArgumentParser(prog="python -m nst", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    subcommands = (_add_gatys, _add_fast, _add_arbitrary, _add_video, _add_again, _add_styles, _add_train)
    for add in (*subcommands, _add_push):
        add(sub)
    return top


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    """Run the command line on ``argv`` with ``settings`` (default: the ``NST_*`` variables, read
    here once), installed for the library while it runs; the exit status."""
    args = parser().parse_args(argv)
    previous = current()
    try:
        configure(Settings.from_env(surface="cli") if settings is None else settings)
        args.run(args)
        distributed.leave()
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        configure(previous)
    return 0
