"""``python -m nst``: a thin command line over the library; defaults come from its signatures."""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from nst import gatys
from nst.images import ImageError, load_image, save_image
from nst.vgg import WeightsNotFoundError

USER_ERRORS = (ImageError, ValueError, WeightsNotFoundError, OSError)


def _defaults(func: Callable) -> dict:
    return {name: p.default for name, p in inspect.signature(func).parameters.items()}


def _float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def _add_gatys(sub: argparse._SubParsersAction) -> None:
    d = _defaults(gatys.stylize)
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
    p.add_argument(
        "--style-weights",
        type=_float_list,
        dest="style_blend",
        default=d["style_blend"],
        help="blend weights for several styles, comma-separated, e.g. 0.7,0.3",
    )
    p.add_argument("--content-weight", type=float, default=d["content_weight"], help="α (%(default)s)")
    p.add_argument("--style-weight", type=float, default=d["style_weight"], help="β (%(default)s)")
    p.add_argument("--tv-weight", type=float, default=d["tv_weight"], help="total variation (%(default)s)")
    p.add_argument("--init", choices=gatys.INITS, default=d["init"])
    p.add_argument("--optimizer", choices=gatys.OPTIMIZERS, default=d["optimizer"])
    p.add_argument("--lr", type=float, default=d["lr"], help="Adam step size (0.02)")
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
    p.add_argument("--pooling", choices=("avg", "max"), default=d["pooling"])
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--time-limit", type=float, default=d["time_limit"], help="seconds")
    p.set_defaults(run=_run_gatys)


def _run_gatys(args: argparse.Namespace) -> None:
    content = load_image(args.content)
    styles = [load_image(s) for s in args.styles]
    options = {
        k: v for k, v in vars(args).items() if k not in ("content", "styles", "output", "run", "command")
    }
    events = gatys.stylize(content, styles, **options)
    with tqdm(total=args.steps, unit="step", disable=None) as bar:
        for event in events:
            bar.update(event.step - bar.n)
            bar.set_postfix(scale=f"{event.scale}/{event.scales}", loss=f"{event.losses['total']:.3g}")
    save_image(event.image, args.output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nst", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_gatys(sub)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
