"""Benchmarks, ours beside the plain implementations, printed as a markdown table.

    python -m bench.run            # the full set (about 10 minutes on 2 cores)
    python -m bench.run --quick    # smaller sizes and budgets

Uses the real weights when cached, else seeded stand-ins of the same shapes
(timings do not depend on the values). Cases that report peak memory run in a
subprocess of their own, whose peak RSS is the number given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SIZES = [(256, 256), (512, 512), (1024, 1024), (1536, 2048)]


def sync() -> None:
    """Wait for queued CUDA work, so that a timer stopped after it measures the work, not its launch."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, repeats: int = 3) -> float:
    """Median seconds of ``fn()`` after one warm-up call, CUDA work included (synchronised)."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def conv_flops(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Multiply-adds ×2 of every convolution in one forward pass."""
    total = 0.0

    def hook(module, args, out):
        nonlocal total
        if isinstance(module, torch.nn.ConvTranspose2d):
            spatial = args[0].shape[-2:].numel()
        else:
            spatial = out.shape[-2:].numel()
        k = module.kernel_size[0] * module.kernel_size[1]
        total += 2 * module.in_channels * module.out_channels * k * spatial

    hooks = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
    ]
    with torch.inference_mode():
        model(x)
    for h in hooks:
        h.remove()
    return total


def roof() -> float:
    """The best fp32 convolution throughput seen here, GFLOP/s (3×3 convolutions, both layouts)."""
    best = 0.0
    with torch.inference_mode():
        for c, side in ((128, 128), (256, 64), (512, 32)):
            w = torch.randn(c, c, 3, 3)
            for fmt in (torch.contiguous_format, torch.channels_last):
                x = torch.randn(1, c, side + 2, side + 2).contiguous(memory_format=fmt)
                seconds = timed(lambda x=x, w=w: F.conv2d(x, w), repeats=5)
                best = max(best, 2 * c * c * 9 * side * side / seconds / 1e9)
    return best


# --- cases that run in a subprocess of their own -------------------------------------------------


def case_fast(which: str, h: int, w: int, weights: str) -> dict:
    from bench.plain import PlainTransformerNet
    from nst import fast

    if which == "ours":
        model = fast.load_model(weights)
        x = (torch.rand(1, 3, h, w) * 255).contiguous(memory_format=torch.channels_last)
    else:
        model = PlainTransformerNet().eval()
        model.load_state_dict(torch.load(weights, weights_only=True))
        x = torch.rand(1, 3, h, w) * 255
    with torch.inference_mode():
        seconds = timed(lambda: model(x), repeats=3 if h * w <= 1024 * 1024 else 2)
    return {"seconds": seconds, "gflop": conv_flops(model, x) / 1e9, "peak_rss_mb": peak_rss_mb()}


def case_tiled(side: int, weights: str) -> dict:
    from nst import fast

    model = fast.load_model(weights)
    image = Image.effect_noise((side, side), 64).convert("RGB")
    start = time.perf_counter()
    fast.stylize(image, model)
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
    from bench.plain import plain_gatys, plain_vgg
    from nst import gatys
    from nst.base.images import to_tensor

    content = Image.effect_noise((width, height), 64).convert("RGB")
    style = Image.effect_noise((256, 256), 90).convert("RGB")
    side = max(width, height)

    def ours() -> None:
        for _ in gatys.stylize(
            content, [style], size=side, steps=steps, multiscale=False, preview_every=10**6
        ):
            pass

    vgg = plain_vgg()
    c, s = to_tensor(content), to_tensor(style)

    def plain() -> None:
        for _ in plain_gatys(vgg, c, s, steps, 1.0, gatys.GatysOptions.style_weight):
            pass

    ours(), plain()  # warm-up
    times: dict = {ours: [], plain: []}
    for _ in range(3):  # interleaved, as this machine's speed drifts
        for fn in (ours, plain):
            start = time.perf_counter()
            fn()
            times[fn].append((time.perf_counter() - start) / steps)
    return statistics.median(times[ours]), statistics.median(times[plain])


def first_preview_seconds() -> float:
    """From the call to the first streamed image, with VGG loaded (as in the running app), app defaults."""
    from nst import gatys

    content = Image.effect_noise((384, 288), 64).convert("RGB")
    style = Image.effect_noise((300, 300), 90).convert("RGB")
    next(iter(gatys.stylize(content, [style], size=64, steps=1)))  # loads VGG once
    start = time.perf_counter()
    for event in gatys.stylize(content, [style], size=256, steps=60, seed=1):
        if event.image is not None:
            return time.perf_counter() - start
    raise AssertionError("no preview")


def loss_after_budget(side: int, seconds: float) -> tuple[dict, tuple[float, int]]:
    """Full-resolution loss (the plain loop's definition: max pooling) and steps after ``seconds``.

    Ours (L-BFGS, multi-scale by default, and single-scale) by variant, then the plain loop's.
    """
    from bench.plain import STYLE, gram_matrix, objective, plain_features, plain_gatys, plain_vgg
    from nst import gatys
    from nst.base.images import to_tensor

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
            return objective(f, target, grams, 1.0, gatys.GatysOptions.style_weight).item()

    ours = {}
    for label, options in (("multi-scale", {}), ("single-scale", {"multiscale": False})):
        *_, event = gatys.stylize(
            content, [style], size=side, steps=10**6, time_limit=seconds, pooling="max", **options
        )
        ours[label] = (loss(to_tensor(event.image)), event.step)
    start, plain_steps = time.perf_counter(), 0
    for plain_steps, _, pastiche in plain_gatys(vgg, c, s, 10**6, 1.0, gatys.GatysOptions.style_weight):  # noqa: B007
        if time.perf_counter() - start >= seconds:
            break
    return ours, (loss(pastiche), plain_steps)


def cli_seconds(weights: str, folder: Path) -> tuple[float, float]:
    """Whole ``python -m nst fast`` on a 2048×1536 PNG vs the plain script, startup included."""
    photo = folder / "photo.png"
    Image.effect_noise((2048, 1536), 64).convert("RGB").save(photo)
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

    return statistics.median(run(ours) for _ in range(2)), statistics.median(run(plain) for _ in range(2))


def ensure_weights(folder: Path) -> tuple[str, str]:
    """(VGG source, fast weights path): real ones when available, else seeded stand-ins."""
    from bench.standins import random_transformer, random_vgg19_features

    cached = Path(torch.hub.get_dir()) / "checkpoints" / "vgg19-dcbb9e9d.pth"
    if os.environ.get("NST_VGG_WEIGHTS") or cached.exists():
        vgg = "real VGG-19 weights"
    else:
        torch.save(random_vgg19_features(), folder / "vgg.pth")
        os.environ["NST_VGG_WEIGHTS"] = str(folder / "vgg.pth")
        vgg = "seeded stand-in VGG-19 weights"
    weights = folder / "fast.pth"
    torch.save(random_transformer("deconv").state_dict(), weights)
    return vgg, str(weights)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        name, *rest = args.case
        params = [int(x) if x.isdigit() else x for x in rest]
        print(json.dumps(CASES[name](*params)))
        return

    folder = Path(tempfile.mkdtemp(prefix="nst-bench-"))
    vgg_source, weights = ensure_weights(folder)
    sizes = SIZES[:2] if args.quick else SIZES
    rows = []
    fast_256 = fast_512 = float("nan")
    top = roof()
    rows.append(("conv roof (best fp32 3×3 conv)", f"{top:.0f} GFLOP/s", "", ""))
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
        fast_256 = ours["seconds"] if (h, w) == (256, 256) else fast_256
        fast_512 = ours["seconds"] if (h, w) == (512, 512) else fast_512
    tile_side = 2048 if args.quick else 4096
    tiled = run_case("tiled", tile_side, weights)
    rows.append(
        (
            f"fast tiled {tile_side}² (default tiles)",
            f"{tiled['seconds']:.1f} s, peak RSS {tiled['peak_rss_mb']:.0f} MB",
            "",
            "",
        )
    )
    if not args.quick:
        ours_cli, plain_cli = cli_seconds(weights, folder)
        rows.append(
            (
                "`python -m nst fast` 2048×1536, whole run",
                f"{ours_cli:.2f} s",
                f"{plain_cli:.2f} s",
                f"{ours_cli / plain_cli:.2f}",
            )
        )
    steps = 3 if args.quick else 5
    per_step = {}
    for side in (256, 384):
        ours, plain = gatys_step_seconds(side, side * 3 // 4, steps)
        per_step[side] = ours
        rows.append(
            (
                f"Gatys s/step, {side}×{side * 3 // 4} full resolution",
                f"{ours:.3f} s",
                f"{plain:.3f} s",
                f"{ours / plain:.2f}",
            )
        )
    rows.append(
        (
            "Gatys first streamed preview (app defaults, VGG loaded)",
            f"{first_preview_seconds():.2f} s",
            "",
            "",
        )
    )
    budget = 10.0 if args.quick else 30.0
    ours, (plain_loss, plain_n) = loss_after_budget(256, budget)
    for label, (ours_loss, ours_n) in ours.items():
        rows.append(
            (
                f"Gatys loss after {budget:.0f} s at 256×192, {label} (max-pool VGG loss)",
                f"{ours_loss:.4g} ({ours_n} steps, L-BFGS)",
                f"{plain_loss:.4g} ({plain_n} steps, Adam)",
                f"{ours_loss / plain_loss:.2f}",
            )
        )
    for side, fast_seconds in ((256, fast_256), (512, fast_512))[: 1 if args.quick else 2]:
        square, _ = gatys_step_seconds(side, side, 2)
        rows.append(
            (
                f"Johnson Table 1: Gatys 500 steps / fast forward, {side}²",
                f"{500 * square / fast_seconds:.0f}× ({500 * square:.0f} s / {fast_seconds:.2f} s)",
                "",
                "",
            )
        )

    print(
        f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {vgg_source}\n"
    )
    print("| benchmark | ours | plain | ours / plain |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
