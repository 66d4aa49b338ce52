"""Gatys on each loss network: seconds to a result, steps per second, first preview; and the settings.

    python -m bench.gatys            # app and CLI defaults (about 2 minutes on 2 cores)
    python -m bench.gatys --quick    # tiny sizes: that every case runs (a test does)

VGG-19 runs on its real weights when cached, else on seeded stand-ins of the same shapes (the
same speed; no pictures to judge). MobileNetV2 is the packaged network, so its rows also give
the picture measures of :mod:`bench.pictures`, which ``tests/test_gatys_mobilenet.py`` checks, on
a drawn scene painted in drawn stripes.
"""

from __future__ import annotations

import argparse
import time

import torch

from bench.pictures import diagonal, frechet, layout, stripes
from bench.run import ensure_weights, print_table
from bench.server import scratch
from nst.base.images import drawn_scene, to_tensor
from nst.methods import gatys

# The app's Gatys tab starts at 256 px and 60 steps (app.GATYS); the CLI at GatysOptions' defaults.
SETTINGS = (("app", 256, 60), ("CLI", gatys.GatysOptions.size, gatys.GatysOptions.steps))


def run(network: str, size: int, steps: int) -> tuple[float, float, torch.Tensor]:
    """(seconds to the result, seconds to the first preview, the result) for one run from the content."""
    content, style = drawn_scene(), stripes(256)
    start, first = time.perf_counter(), None
    for event in gatys.stylize(content, [style], size=size, steps=steps, loss_network=network):
        if first is None and event.image is not None:
            first = time.perf_counter() - start
    return time.perf_counter() - start, first, to_tensor(event.image)


def measures(result: torch.Tensor) -> str:
    content, style = to_tensor(drawn_scene(*result.shape[-2:][::-1])), to_tensor(stripes(256))
    return (
        f"colour distance {frechet(result, style) / frechet(content, style):.2f}× the photo's, "
        f"layout {layout(content, result):.2f}, stripes' orientation {diagonal(result):.2f} (photo "
        f"{diagonal(content):.2f}, style {diagonal(style):.2f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    vgg_source, _ = ensure_weights(scratch("nst-bench-"))
    settings = (("quick", 64, 3),) if args.quick else SETTINGS
    rows = []
    for network in ("vgg19", "mobilenet"):
        run(network, 64, 1)  # loads the network once, as in the running app
        for label, size, steps in settings:
            seconds, first, result = run(network, size, steps)
            real = network == "mobilenet" or vgg_source.startswith("real")
            seen = measures(result) if real else "stand-in weights: speed only"
            rows.append(
                (
                    f"{gatys.loss_network.TITLES[network]}, {label}: {size} px, {steps} steps",
                    f"{seconds:.1f} s",
                    f"{steps / seconds:.1f}",
                    f"{first:.2f} s",
                    seen,
                )
            )
    print_table(vgg_source, ("run", "to the result", "steps/s", "first preview", "the picture"), rows)
    print("\n| loss network | content layer | style layers | β | γ (TV) | optimiser |")
    print("|---|---|---|---|---|---|")
    for network, layers in gatys.LAYERS.items():
        defaults = gatys.DEFAULTS[network]
        print(
            f"| {gatys.loss_network.TITLES[network]} | {layers.content} | {', '.join(layers.style)} | "
            f"{defaults.style} | {defaults.tv} | {defaults.optimizer}, jitter {defaults.jitter} px |"
        )


if __name__ == "__main__":
    main()
