"""Gatys on each loss network: the app's and the CLI's runs, and the warm start against the photo start.

    python -m bench.gatys            # about 5 minutes on 2 cores
    python -m bench.gatys --quick    # tiny sizes: that every case runs (a test does)
    python -m bench.gatys --pairs photo.jpg:painting.jpg …  # measures on your own pictures

VGG-19 runs on its real weights when cached, else on seeded stand-ins of the same shapes (the
same speed; no pictures to judge). MobileNetV2 is the packaged network, so its rows also give
the picture measures of :mod:`tests.support.pictures`, which ``tests/test_gatys_mobilenet.py`` checks, on
a drawn scene painted in drawn stripes.

1. Seconds to the result, its size, steps per second, the first preview. The app's run asks for
   the network's size in the Space (VGG-19 512 px, MobileNetV2 1024) within its time limit, so its
   size is what fits (:func:`nst.methods.gatys.fit_scales`); the CLI's is the network's default.
2. The loss at equal wall time from the photo (``init="content"``) and from the any-style
   picture (``init="arbitrary"``, its painting counted in its time), one scale at a fixed size,
   on a shipped photo and painting.
3. On a CUDA device: 512, 1024 and 2048 px, seconds a step beside the plain loop of
   :mod:`tests.support.plain`.

With ``--pairs``, only the app's and the CLI's runs on MobileNetV2 (and on VGG-19 when its real
weights are cached), on each photo and painting given, with seconds, size, the peak RSS and three
measures: **structure**, the correlation of the photo's and the result's edge maps at 256 px
(Sobel of the luminance, :func:`bench.scale.structure`); **colour**, the Fréchet distance of the
result's pixel colours to the painting's over the photo's, at 256 px; **squares**
(:func:`tests.support.pictures.squares`) of the result, beside the photo's at the same size.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from PIL import Image

from bench.commit import commit
from bench.run import ensure_weights, print_table
from bench.scale import structure
from nst.base.images import load_image, resize_long_side, to_tensor
from nst.base.pictures import picture
from nst.base.settings import Settings
from nst.methods import gatys
from nst.space.presets import GATYS, gatys_size
from tests.support.pictures import diagonal, diagonal_stripes, drawn_scene, frechet, layout, squares
from tests.support.plain import plain_gatys, plain_vgg
from tests.support.server import scratch

# The app's Gatys tab (nst.space.presets.GATYS, within its time limit, at the network's size there);
# the CLI's GatysOptions' defaults (None: the network's size).
SETTINGS = (("app", "app", GATYS.steps, GATYS.time_limit), ("CLI", None, gatys.GatysOptions.steps, None))


def run(
    network: str, size: int | None, steps: int, seconds: float | None, **more
) -> tuple[float, float, gatys.Progress]:
    """(seconds to the result, to the first preview, the final event) for one run on the drawn pair."""
    content, style = drawn_scene(), diagonal_stripes(256)
    start, first = time.perf_counter(), None
    options = dict(size=size, steps=steps, loss_network=network, time_limit=seconds) | more
    for event in gatys.stylize(content, [style], **options):
        if first is None and event.image is not None:
            first = time.perf_counter() - start
    return time.perf_counter() - start, first, event


def measures(result: torch.Tensor) -> str:
    content, style = to_tensor(drawn_scene(*result.shape[-2:][::-1])), to_tensor(diagonal_stripes(256))
    return (
        f"colour distance {frechet(result, style) / frechet(content, style):.2f}× the photo's, "
        f"layout {layout(content, result):.2f}, stripes' orientation {diagonal(result):.2f} (photo "
        f"{diagonal(content):.2f}, style {diagonal(style):.2f}), squares {squares(result):.2f}"
    )


def speed_rows(settings: tuple, real_vgg: bool) -> list[tuple[str, ...]]:
    rows = []
    for network in ("vgg19", "mobilenet"):
        run(network, 64, 1, None)  # loads the network once, as in the running app
        for label, asked, steps, seconds in settings:
            size = gatys_size(Settings(), network, torch.device("cpu")) if asked == "app" else asked
            took, first, event = run(network, size, steps, seconds)
            size = size or gatys.resolve(gatys.GatysOptions(loss_network=network)).size
            real = network == "mobilenet" or real_vgg
            limit = "" if seconds is None else f", within {seconds:g} s"
            rows.append(
                (
                    f"{gatys.loss_network.TITLES[network]}, {label}: {size} px, {steps} steps{limit}",
                    f"{took:.1f} s",
                    "{} × {}".format(*event.image.size),
                    f"{event.step}, {event.step / took:.1f}/s",
                    f"{first:.2f} s",
                    measures(to_tensor(event.image)) if real else "stand-in weights: speed only",
                )
            )
    return rows


def warm_rows(size: int, seconds: float) -> list[tuple[str, ...]]:
    """The loss after ``seconds`` from each start, one scale at ``size``, on the astronaut in Starry Night."""
    content, style = load_image(picture("astronaut")), load_image(picture("starry_night"))
    rows = []
    for network in ("vgg19", "mobilenet"):
        for init in ("content", "arbitrary"):
            options = dict(size=size, steps=10**6, multiscale=False, time_limit=seconds, init=init)
            *_, event = gatys.stylize(content, [style], loss_network=network, **options)
            terms = ", ".join(f"{k} {v:.3f}" for k, v in event.losses.items() if k != "total")
            title = gatys.loss_network.TITLES[network]
            rows.append((f"{title}, from the {init}", f"{event.losses['total']:.3f}", terms, str(event.step)))
    return rows


def _peak_mb(reset: bool = False) -> float:
    """This process's peak RSS in MB since the last reset (``/proc/self/status``' VmHWM)."""
    if reset:
        Path("/proc/self/clear_refs").write_text("5")
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024


def pair_measures(photo: Image.Image, painting: Image.Image, result: Image.Image) -> str:
    """Structure and colour at 256 px, and the squares measure of the result and of the photo."""
    p, s = (resize_long_side(img, 256) for img in (photo, painting))
    r = result.resize(p.size, Image.Resampling.LANCZOS)
    colour = frechet(to_tensor(r), to_tensor(s)) / frechet(to_tensor(p), to_tensor(s))
    same_size = photo.resize(result.size, Image.Resampling.LANCZOS)
    return (
        f"structure {structure(p, r):.2f}, colour {colour:.2f}× the photo's, squares "
        f"{squares(to_tensor(result)):.2f} (the photo {squares(to_tensor(same_size)):.2f})"
    )


def pair_rows(pairs: list[str], settings: tuple, real_vgg: bool) -> list[tuple[str, ...]]:
    """Each setting's run on each ``photo:painting`` pair: seconds, size, peak RSS and the measures."""
    rows = []
    for network in ("vgg19", "mobilenet") if real_vgg else ("mobilenet",):
        run(network, 64, 1, None)
        for pair in pairs:
            photo, painting = (load_image(Path(p)) for p in pair.split(":", 1))
            for label, asked, steps, seconds in settings:
                size = gatys_size(Settings(), network, torch.device("cpu")) if asked == "app" else asked
                _peak_mb(reset=True)
                began = time.perf_counter()
                options = dict(size=size, steps=steps, loss_network=network, time_limit=seconds)
                *_, event = gatys.stylize(photo, [painting], **options)
                took = time.perf_counter() - began
                title = f"{Path(pair.split(':')[0]).stem} in {Path(pair.split(':')[1]).stem}"
                rows.append(
                    (
                        f"{gatys.loss_network.TITLES[network]}, {label}: {title}",
                        f"{took:.1f} s",
                        "{} × {}".format(*event.image.size),
                        f"{_peak_mb():.0f} MB",
                        pair_measures(photo, painting, event.image),
                    )
                )
    return rows


def gpu_rows(sides: tuple[int, ...], steps: int) -> list[tuple[str, ...]]:
    """On VGG-19: seconds to our default run's result (multi-scale, L-BFGS), and a step of ours and of
    the plain loop alike (one scale, Adam)."""
    vgg, rows = plain_vgg().cuda(), []
    for side in sides:
        content, style = drawn_scene(side, side * 3 // 4), diagonal_stripes(256)
        took, _, _ = run("vgg19", side, steps, None)
        alike, _, _ = run("vgg19", side, steps, None, multiscale=False, optimizer="adam")
        c, s = to_tensor(content, "cuda"), to_tensor(style.resize((side, side)), "cuda")
        torch.cuda.synchronize()
        began = time.perf_counter()
        for _ in plain_gatys(vgg, c, s, steps, 1.0, gatys.DEFAULTS["vgg19"].style):
            pass
        torch.cuda.synchronize()
        plain = (time.perf_counter() - began) / steps
        ours = alike / steps * 1000
        rows.append(
            (f"{side} × {side * 3 // 4}", f"{took:.2f} s", f"{ours:.0f} ms", f"{plain * 1000:.0f} ms")
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pairs", nargs="+", metavar="PHOTO:PAINTING", help="measure on your own pictures")
    args = parser.parse_args(argv)
    vgg_source, _ = ensure_weights(scratch("nst-bench-"))
    settings = (("quick", 64, 3, None), ("quick, timed", 96, 6, 2.0)) if args.quick else SETTINGS
    if args.pairs:
        print(f"\nGatys on your pairs ({commit()})")
        header = ("run", "to the result", "size", "peak RSS", "the picture")
        print_table(vgg_source, header, pair_rows(args.pairs, settings, vgg_source.startswith("real")))
        return
    header = ("run", "to the result", "size", "steps", "first preview", "the picture")
    print(f"\nGatys on the drawn pair ({commit()})")
    print_table(vgg_source, header, speed_rows(settings, vgg_source.startswith("real")))
    size, seconds = (64, 1.0) if args.quick else (384, 15.0)
    pair = "the astronaut in The Starry Night"
    print(f"\nThe loss after {seconds:g} s at {size} px, one scale: {pair} ({commit()})")
    print_table(vgg_source, ("start", "loss", "its terms", "steps"), warm_rows(size, seconds))
    if torch.cuda.is_available():
        sides, steps = ((64,), 3) if args.quick else ((512, 1024, 2048), 300)
        print(f"\nOn {torch.cuda.get_device_name()}: {steps} steps ({commit()})")
        print_table(
            vgg_source,
            ("size", "ours, to the result", "ours, a step", "plain loop, a step"),
            gpu_rows(sides, steps),
        )
    print("\n| loss network | content layer | style layers | β | γ (TV) | optimiser, jitter |")
    print("|---|---|---|---|---|---|")
    for network, layers in gatys.LAYERS.items():
        d = gatys.DEFAULTS[network]
        title = gatys.loss_network.TITLES[network]
        style = ", ".join(layers.style)
        print(f"| {title} | {layers.content} | {style} | {d.style} | {d.tv} | {d.optimizer}, {d.jitter} px |")


if __name__ == "__main__":
    main()
