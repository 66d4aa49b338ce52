"""Benchmarks, ours beside the plain implementations, printed as a markdown table.

    python -m bench.run            # the full set (about 12 minutes on 2 cores)
    python -m bench.run --quick    # tiny sizes and budgets: that every case runs (a test does)

Uses the real weights when cached, else seeded stand-ins of the same shapes
(timings do not depend on the values). Cases that report peak memory run in a
subprocess of their own, whose peak RSS is the number given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from PIL import Image

from bench.timing import conv_flops, peak_rss_mb, roof, timed
from nst.base.device import default_device, memory_format
from nst.base.settings import Settings, configure, current
from tests.support import ROOT
from tests.support.server import scratch

SIZES = [(256, 256), (512, 512), (1024, 1024), (1536, 2048)]


# --- cases that run in a subprocess of their own -------------------------------------------------


def case_fast(which: str, h: int, w: int, weights: str) -> dict:
    from nst.networks.transformer import load_model
    from tests.support.plain import PlainTransformerNet

    device = default_device()
    if which == "ours":
        model = load_model(weights, device)
        x = (torch.rand(1, 3, h, w) * 255).to(device, memory_format=memory_format(device))
    else:
        model = PlainTransformerNet().eval().to(device)
        model.load_state_dict(torch.load(weights, weights_only=True))
        x = (torch.rand(1, 3, h, w) * 255).to(device)
    with torch.inference_mode():
        seconds = timed(lambda: model(x), repeats=3 if h * w <= 1024 * 1024 else 2)
    return {"seconds": seconds, "gflop": conv_flops(model, x) / 1e9, "peak_rss_mb": peak_rss_mb()}


def case_tiled(side: int, weights: str, max_pixels: int, tile_pixels: int) -> dict:
    from nst.methods import engine
    from nst.networks.transformer import load_model

    style = engine.NetworkStyle(load_model(weights))
    image = Image.effect_noise((side, side), 64).convert("RGB")
    options = engine.OnePassOptions(max_pixels=max_pixels, tile_pixels=tile_pixels)
    start = time.perf_counter()
    engine.stylize(image, style, options)
    return {"seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}


CASES = {"fast": case_fast, "tiled": case_tiled}


def run_case(name: str, *args) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.run", "--case", name, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


# --- in-process benchmarks -----------------------------------------------------------------------


def gatys_step_seconds(width: int, height: int, steps: int) -> tuple[float, float]:
    """Seconds per full-resolution step, (ours, plain), on a ``width``×``height`` content."""
    from nst.base.images import to_tensor
    from nst.methods import gatys
    from tests.support.plain import plain_gatys, plain_vgg

    content = Image.effect_noise((width, height), 64).convert("RGB")
    style = Image.effect_noise((256, 256), 90).convert("RGB")
    side = max(width, height)

    def ours() -> None:
        for _ in gatys.stylize(
            content,
            [style],
            size=side,
            steps=steps,
            multiscale=False,
            preview_every=10**6,
            loss_network="vgg19",
        ):
            pass

    vgg = plain_vgg()
    c, s = to_tensor(content), to_tensor(style)

    def plain() -> None:
        for _ in plain_gatys(vgg, c, s, steps, 1.0, gatys.DEFAULTS["vgg19"].style):
            pass

    ours(), plain()  # warm-up
    times: dict = {ours: [], plain: []}
    for _ in range(3):  # interleaved, as this machine's speed drifts
        for fn in (ours, plain):
            start = time.perf_counter()
            fn()
            times[fn].append((time.perf_counter() - start) / steps)
    return statistics.median(times[ours]), statistics.median(times[plain])


def first_preview_seconds(size: int) -> float:
    """From the call to the first streamed image, with VGG loaded (as in the running app), app defaults."""
    from nst.methods import gatys

    content = Image.effect_noise((384, 288), 64).convert("RGB")
    style = Image.effect_noise((300, 300), 90).convert("RGB")
    next(iter(gatys.stylize(content, [style], size=64, steps=1, loss_network="vgg19")))  # loads VGG once
    start = time.perf_counter()
    for event in gatys.stylize(content, [style], size=size, steps=60, seed=1, loss_network="vgg19"):
        if event.image is not None:
            return time.perf_counter() - start
    raise AssertionError("no preview")


def loss_after_budget(side: int, seconds: float) -> tuple[dict, tuple[float, int]]:
    """Full-resolution loss (the plain loop's definition: max pooling) and steps after ``seconds``.

    Ours (L-BFGS, multi-scale by default, and single-scale) by variant, then the plain loop's.
    """
    from nst.base.images import to_tensor
    from nst.methods import gatys
    from tests.support.plain import STYLE, gram_matrix, objective, plain_features, plain_gatys, plain_vgg

    content = Image.effect_noise((side, side * 3 // 4), 64).convert("RGB")
    style = Image.effect_noise((side, side), 90).convert("RGB")
    vgg = plain_vgg()
    c, s = to_tensor(content), to_tensor(style)
    with torch.no_grad():
        target = plain_features(vgg, c)["relu4_2"]
        grams = {k: gram_matrix(v) for k, v in plain_features(vgg, s).items() if k in STYLE}

    def loss(img: torch.Tensor) -> float:
        with torch.no_grad():
            f = plain_features(vgg, img)
            return objective(f, target, grams, 1.0, gatys.DEFAULTS["vgg19"].style).item()

    ours = {}
    for label, options in (("multi-scale", {}), ("single-scale", {"multiscale": False})):
        *_, event = gatys.stylize(
            content,
            [style],
            size=side,
            steps=10**6,
            time_limit=seconds,
            pooling="max",
            loss_network="vgg19",
            **options,
        )
        ours[label] = (loss(to_tensor(event.image)), event.step)
    start, plain_steps = time.perf_counter(), 0
    for plain_steps, _, pastiche in plain_gatys(vgg, c, s, 10**6, 1.0, gatys.DEFAULTS["vgg19"].style):  # noqa: B007
        if time.perf_counter() - start >= seconds:
            break
    return ours, (loss(pastiche), plain_steps)


def cli_seconds(weights: str, folder: Path, size: tuple[int, int], runs: int) -> tuple[float, float]:
    """Whole ``python -m nst fast`` on a PNG of ``size`` vs the plain script, startup included."""
    photo = folder / "photo.png"
    Image.effect_noise(size, 64).convert("RGB").save(photo)
    ours = [
        sys.executable,
        "-m",
        "nst",
        "fast",
        str(photo),
        "-o",
        str(folder / "a.png"),
        "--weights",
        weights,
    ]
    plain = [sys.executable, "bench/plain_cli.py", str(photo), str(folder / "b.png"), weights]

    def run(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start

    times: dict = {"ours": [], "plain": []}
    for _ in range(runs):  # interleaved, as this machine's speed drifts
        times["ours"].append(run(ours))
        times["plain"].append(run(plain))
    return statistics.median(times["ours"]), statistics.median(times["plain"])


def ensure_weights(folder: Path) -> tuple[str, str]:
    """(VGG source, fast weights path): real ones when available, else seeded stand-ins."""
    from tests.support.standins import random_transformer, random_vgg19_features

    cached = Path(torch.hub.get_dir()) / "checkpoints" / "vgg19-dcbb9e9d.pth"
    if os.environ.get("NST_VGG_WEIGHTS") or cached.exists():
        vgg = "real VGG-19 weights"
    else:
        torch.save(random_vgg19_features(), folder / "vgg.pth")
        os.environ["NST_VGG_WEIGHTS"] = str(folder / "vgg.pth")  # for the command lines it runs
        configure(dataclasses.replace(current(), vgg_weights=str(folder / "vgg.pth")))  # and itself
        vgg = "seeded stand-in VGG-19 weights"
    weights = folder / "fast.pth"
    torch.save(random_transformer("deconv").state_dict(), weights)
    return vgg, str(weights)


Row = tuple[str, str, str, str]
"""A table row: the benchmark, ours, the plain implementation's, and ours / plain."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        name, *rest = args.case
        params = [int(x) if x.isdigit() else x for x in rest]
        print(json.dumps(CASES[name](*params)))
        return

    folder = scratch("nst-bench-")
    vgg_source, weights = ensure_weights(folder)
    top = roof()
    rows = [("conv roof (best fp32 3×3 conv)", f"{top:.0f} GFLOP/s", "", "")]
    fast_rows, fast_seconds = forward_rows([(64, 64)] if args.quick else SIZES, weights, top)
    rows += fast_rows
    rows += whole_run_rows(args.quick, weights, folder)
    rows += gatys_rows(args.quick)
    if not args.quick:
        rows += table_one_rows(fast_seconds)
    print_table(vgg_source, ("benchmark", "ours", "plain", "ours / plain"), rows)


def forward_rows(sizes: list[tuple[int, int]], weights: str, top: float) -> tuple[list[Row], dict]:
    """The fast network's forward pass at each of ``sizes``, ours and plain, each in a subprocess; and
    our seconds by (h, w)."""
    rows, seconds = [], {}
    for h, w in sizes:
        ours, plain = run_case("fast", "ours", h, w, weights), run_case("fast", "plain", h, w, weights)
        rows.append(
            (
                f"fast forward {w}×{h}",
                f"{ours['seconds']:.3f} s, {ours['gflop'] / ours['seconds']:.0f} GFLOP/s "
                f"({ours['gflop'] / ours['seconds'] / top:.0%} of roof), {ours['peak_rss_mb']:.0f} MB",
                f"{plain['seconds']:.3f} s, {plain['gflop'] / plain['seconds']:.0f} GFLOP/s, "
                f"{plain['peak_rss_mb']:.0f} MB",
                f"{ours['seconds'] / plain['seconds']:.2f}",
            )
        )
        seconds[h, w] = ours["seconds"]
    return rows, seconds


def whole_run_rows(quick: bool, weights: str, folder: Path) -> list[Row]:
    """A tiled fast run (its peak memory) and the whole ``python -m nst fast`` beside the plain script."""
    defaults = Settings()
    full = (defaults.one_pass_pixels, defaults.tile_pixels)
    tile_side, tiles = (256, (160 * 160, 256 * 256)) if quick else (4096, full)
    tiled = run_case("tiled", tile_side, weights, *tiles)
    cli_size = (256, 192) if quick else (2048, 1536)
    ours_cli, plain_cli = cli_seconds(weights, folder, cli_size, 1 if quick else 3)
    return [
        (
            f"fast tiled {tile_side}² ({'small' if quick else 'default'} tiles)",
            f"{tiled['seconds']:.1f} s, peak RSS {tiled['peak_rss_mb']:.0f} MB",
            "",
            "",
        ),
        (
            f"`python -m nst fast` {cli_size[0]}×{cli_size[1]}, whole run",
            f"{ours_cli:.2f} s",
            f"{plain_cli:.2f} s",
            f"{ours_cli / plain_cli:.2f}",
        ),
    ]


def gatys_rows(quick: bool) -> list[Row]:
    """Gatys: seconds a full-resolution step, the first streamed preview, and the loss after a budget."""
    rows: list[Row] = []
    steps = 2 if quick else 5
    for side in (64,) if quick else (256, 384):
        ours, plain = gatys_step_seconds(side, side * 3 // 4, steps)
        rows.append(
            (
                f"Gatys s/step, {side}×{side * 3 // 4} full resolution",
                f"{ours:.3f} s",
                f"{plain:.3f} s",
                f"{ours / plain:.2f}",
            )
        )
    preview = first_preview_seconds(64 if quick else 256)
    rows.append(("Gatys first streamed preview (app defaults, VGG loaded)", f"{preview:.2f} s", "", ""))
    budget, budget_side = (1.0, 64) if quick else (30.0, 256)
    ours_by_variant, (plain_loss, plain_n) = loss_after_budget(budget_side, budget)
    for label, (ours_loss, ours_n) in ours_by_variant.items():
        rows.append(
            (
                f"Gatys loss after {budget:.0f} s at {budget_side}×{budget_side * 3 // 4}, {label} "
                "(max-pool VGG loss)",
                f"{ours_loss:.4g} ({ours_n} steps, L-BFGS)",
                f"{plain_loss:.4g} ({plain_n} steps, Adam)",
                f"{ours_loss / plain_loss:.2f}",
            )
        )
    return rows


def table_one_rows(fast_seconds: dict) -> list[Row]:
    """Johnson et al.'s Table 1: 500 Gatys steps against one fast forward pass, at 256² and 512²."""
    rows: list[Row] = []
    for side in (256, 512):
        square, _ = gatys_step_seconds(side, side, 2)
        fast = fast_seconds.get((side, side), float("nan"))
        rows.append(
            (
                f"Johnson Table 1: Gatys 500 steps / fast forward, {side}²",
                f"{500 * square / fast:.0f}× ({500 * square:.0f} s / {fast:.2f} s)",
                "",
                "",
            )
        )
    return rows


def print_table(vgg_source: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """The machine, then ``rows`` as a markdown table under ``header``."""
    print(
        f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {vgg_source}\n"
    )
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
