"""``python -m nst``: a thin command line over the library; defaults come from its options objects."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import sys
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from nst.base.images import ImageError, load_image, save_image
from nst.base.weights import WeightsError
from nst.methods import arbitrary, fast, gatys, train, video
from nst.methods.catalogue import load_catalogue

USER_ERRORS = (ImageError, ValueError, WeightsError, OSError)


def _defaults(func: Callable) -> dict:
    return {name: p.default for name, p in inspect.signature(func).parameters.items()}


def _float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def _add_blend(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--style-blend",
        type=_float_list,
        help="shares of several styles, comma-separated, e.g. 0.7,0.3 (default: equal)",
    )


def _add_gatys(sub: argparse._SubParsersAction) -> None:
    d = dataclasses.asdict(gatys.GatysOptions())
    p = sub.add_parser(
        "gatys",
        help="optimise a pastiche (Gatys et al. 2016)",
        description=gatys.stylize.__doc__.split("\n\n")[0],
    )
    p.add_argument("content", type=Path)
    p.add_argument("styles", type=Path, nargs="+", metavar="STYLE")
    p.add_argument("-o", "--output", type=Path, required=True, help="output image (PNG by default)")
    p.add_argument("--steps", type=int, default=d["steps"], help="optimisation steps in all (%(default)s)")
    p.add_argument("--size", type=int, default=d["size"], help="output long side in pixels (%(default)s)")
    _add_blend(p)
    p.add_argument("--content-weight", type=float, default=d["content_weight"], help="α (%(default)s)")
    p.add_argument("--style-weight", type=float, default=d["style_weight"], help="β (%(default)s)")
    p.add_argument("--tv-weight", type=float, default=d["tv_weight"], help="total variation (%(default)s)")
    p.add_argument("--init", choices=gatys.INITS, default=d["init"])
    p.add_argument("--optimizer", choices=gatys.OPTIMIZERS, default=d["optimizer"])
    p.add_argument("--lr", type=float, default=d["lr"], help="Adam step size (%(default)s)")
    p.add_argument(
        "--single-scale",
        dest="multiscale",
        action="store_false",
        help="optimise at the output size only (default: coarse to fine)",
    )
    p.add_argument("--min-scale", type=int, default=d["min_scale"], help="coarsest long side (%(default)s)")
    p.add_argument(
        "--preserve-color",
        nargs="?",
        const="luminance",
        default=d["preserve_color"],
        choices=gatys.PRESERVE_COLOR,
        help="keep the content's colours (default mode: luminance)",
    )
    p.add_argument(
        "--style-scale", type=float, default=d["style_scale"], help="style size relative to output"
    )
    p.add_argument("--pooling", choices=gatys.POOLINGS, default=d["pooling"])
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--time-limit", type=float, default=d["time_limit"], help="seconds")
    p.set_defaults(run=_run_gatys)


def _run_gatys(args: argparse.Namespace) -> None:
    content = load_image(args.content)
    styles = [load_image(s) for s in args.styles]
    options = {
        k: v for k, v in vars(args).items() if k not in ("content", "styles", "output", "run", "command")
    }
    events = gatys.stylize(content, styles, gatys.GatysOptions(**options))
    with tqdm(total=args.steps, unit="step", disable=None) as bar:
        for event in events:
            bar.update(event.step - bar.n)
            bar.set_postfix(scale=f"{event.scale}/{event.scales}", loss=f"{event.losses['total']:.3g}")
    save_image(event.image, args.output)


def _add_fast(sub: argparse._SubParsersAction) -> None:
    d = _defaults(fast.stylize)
    p = sub.add_parser(
        "fast",
        help="stylise with a pretrained network (Johnson et al. 2016)",
        description=fast.stylize.__doc__.split("\n\n")[0],
    )
    p.add_argument("contents", type=Path, nargs="+", metavar="CONTENT")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output image, or a folder when there are several contents",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--style",
        nargs="+",
        metavar="NAME",
        help="a catalogue name (see `python -m nst styles`); several built-in styles blend",
    )
    which.add_argument("--weights", type=Path, help="a Johnson network, .safetensors or .pth, any naming")
    _add_blend(p)
    p.add_argument("--strength", type=float, default=d["strength"], help="0 content … 1 style (%(default)s)")
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    p.add_argument("--max-side", type=int, help="shrink contents to this long side first (default: never)")
    p.add_argument("--max-pixels", type=int, help="tile larger images (default: NST_FAST_MAX_PIXELS)")
    p.add_argument("--tile-pixels", type=int, default=d["tile_pixels"], help="pixels a tile (%(default)s)")
    p.add_argument("--batch", type=int, default=4, help="images of one size per forward pass (%(default)s)")
    p.set_defaults(run=_run_fast)


def _run_fast(args: argparse.Namespace) -> None:
    model = fast.load_model(args.weights) if args.weights else fast.load_style(args.style, args.style_blend)
    options = {
        "strength": args.strength,
        "preserve_color": args.preserve_color,
        "max_pixels": args.max_pixels,
        "tile_pixels": args.tile_pixels,
    }
    if len(args.contents) == 1:
        save_image(
            fast.stylize(load_image(args.contents[0], max_side=args.max_side), model, **options), args.output
        )
        return
    args.output.mkdir(parents=True, exist_ok=True)
    failed = 0
    with tqdm(total=len(args.contents), unit="image", disable=None) as bar:
        for start in range(0, len(args.contents), args.batch):
            by_size: dict[tuple[int, int], list] = {}
            for path in args.contents[start : start + args.batch]:
                try:
                    image = load_image(path, max_side=args.max_side)
                    by_size.setdefault(image.size, []).append((path, image))
                except (ImageError, ValueError) as err:  # a bad file in a batch: report it, go on
                    failed += 1
                    tqdm.write(f"error: {path}: {err}", file=sys.stderr)
                    bar.update()
            for (w, h), same in by_size.items():
                fits = len(same) * w * h <= (args.max_pixels or fast.MAX_PIXELS)
                for group in [same] if fits else [[one] for one in same]:  # one size: one forward pass
                    outs = fast.stylize([image for _, image in group], model, **options)
                    for (path, _), out in zip(group, outs, strict=True):
                        save_image(out, args.output / f"{path.stem}.png")
                    bar.update(len(group))
    if failed:
        raise ValueError(f"{failed} of {len(args.contents)} images failed")


def _add_arbitrary(sub: argparse._SubParsersAction) -> None:
    d = _defaults(arbitrary.stylize)
    p = sub.add_parser(
        "arbitrary",
        help="any style image in one pass (Ghiasi et al. 2017)",
        description=arbitrary.stylize.__doc__.split("\n\n")[0],
    )
    p.add_argument("content", type=Path)
    p.add_argument("styles", type=Path, nargs="+", metavar="STYLE")
    p.add_argument("-o", "--output", type=Path, required=True, help="output image (PNG by default)")
    p.add_argument("--strength", type=float, default=d["strength"], help="0 content … 1 style (%(default)s)")
    _add_blend(p)
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    p.add_argument("--max-side", type=int, help="shrink the content to this long side first (default: never)")
    p.set_defaults(run=_run_arbitrary)


def _run_arbitrary(args: argparse.Namespace) -> None:
    content = load_image(args.content, max_side=args.max_side)
    styles = [load_image(s) for s in args.styles]
    out = arbitrary.stylize(
        content,
        styles,
        style_blend=args.style_blend,
        strength=args.strength,
        preserve_color=args.preserve_color,
    )
    save_image(out, args.output)


def _add_video(sub: argparse._SubParsersAction) -> None:
    d = dataclasses.asdict(video.VideoOptions())
    p = sub.add_parser(
        "video",
        help="stylise a clip with a one-pass network, steady from frame to frame",
        description=video.__doc__.split("\n\n")[0],
    )
    p.add_argument("input", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True, help="output MP4 (H.264, the input's audio)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--style", nargs="+", metavar="NAME", help="catalogue style(s); built-in ones blend")
    which.add_argument("--style-image", nargs="+", type=Path, metavar="IMAGE", help="any style image(s)")
    _add_blend(p)
    p.add_argument("--strength", type=float, default=d["strength"], help="0 content … 1 style (%(default)s)")
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    p.add_argument("--max-side", type=int, help="shrink frames to this long side (default: keep)")
    p.add_argument("--max-seconds", type=float, help="stylise only the clip's first seconds")
    p.add_argument(
        "--steady",
        type=float,
        default=d["steady"],
        help="momentum of the held norm statistics; 0 = per frame (%(default)s)",
    )
    p.add_argument("--blend-previous", dest="blend", type=float, default=d["blend"], help="(%(default)s)")
    p.add_argument("--batch", type=int, default=d["batch"], help="frames per forward pass (%(default)s)")
    p.set_defaults(run=_run_video)


def _run_video(args: argparse.Namespace) -> None:
    strength = args.strength
    if args.style_image:
        styles = [load_image(s) for s in args.style_image]
        content = video.first_frame(args.input) if strength < 1 else None
        model = arbitrary.load_style(styles, args.style_blend, strength, content)
        strength = 1.0  # any style's strength moves the embedding, not the pixels
    else:
        model = fast.load_style(args.style, args.style_blend)
    options = video.VideoOptions(
        max_side=args.max_side,
        max_seconds=args.max_seconds,
        strength=strength,
        preserve_color=args.preserve_color,
        steady=args.steady,
        blend=args.blend,
        batch=args.batch,
    )
    with tqdm(unit="frame", disable=None) as bar:
        for event in video.stylize_video(args.input, args.output, model, options):
            bar.total = event.total
            bar.update(event.frame - bar.n)
    print(args.output)


def _list_styles(_: argparse.Namespace) -> None:
    for s in load_catalogue().values():
        where = "built-in network" if s.kind == "builtin" else f"{s.repo_id or 'weights'}/{s.filename}"
        print(f"{s.name:16} {s.title:20} {where}")


def _add_styles(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("styles", help="list the style catalogue").set_defaults(run=_list_styles)


def _add_train(sub: argparse._SubParsersAction) -> None:
    d = dataclasses.asdict(train.TrainOptions())
    p = sub.add_parser(
        "train", help="train a fast network for a style", description=train.train.__doc__.split("\n\n")[0]
    )
    p.add_argument("--style", type=Path, required=True, help="the style image")
    p.add_argument("--data", type=Path, required=True, help="a folder of training photos (searched deeply)")
    p.add_argument("--output", type=Path, required=True, help="folder for the model, card and checkpoints")
    p.add_argument("--name", help="model name (default: the style file's name)")
    for flag, kind in (
        ("steps", int),
        ("image_size", int),
        ("batch_size", int),
        ("lr", float),
        ("content_weight", float),
        ("style_weight", float),
        ("tv_weight", float),
        ("style_size", int),
        ("checkpoint_every", int),
        ("seed", int),
    ):
        p.add_argument(
            f"--{flag.replace('_', '-')}", dest=flag, type=kind, default=d[flag], help="(%(default)s)"
        )
    p.add_argument("--no-resume", dest="resume", action="store_false", help="ignore an existing checkpoint")
    p.set_defaults(run=_run_train)


def _run_train(args: argparse.Namespace) -> None:
    options = {k: v for k, v in vars(args).items() if k not in ("style", "data", "output", "run", "command")}
    options["name"] = args.name or args.style.stem
    progress = train.train(load_image(args.style), args.data, args.output, train.TrainOptions(**options))
    with tqdm(total=args.steps, unit="step", disable=None) as bar:
        for event in progress:
            bar.update(event.step - bar.n)
            bar.set_postfix(loss=f"{event.losses['total']:.3g}")
    print(args.output / f"{options['name']}.safetensors")


def _add_push(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="upload a trained model folder to the Hugging Face Hub")
    p.add_argument("folder", type=Path)
    p.add_argument("--repo-id", required=True, help="USER/NAME")
    p.add_argument("--private", action="store_true")
    p.set_defaults(run=lambda args: print(train.push(args.folder, args.repo_id, private=args.private)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nst", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_gatys(sub)
    _add_fast(sub)
    _add_arbitrary(sub)
    _add_video(sub)
    _add_styles(sub)
    _add_train(sub)
    _add_push(sub)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
