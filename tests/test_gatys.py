import dataclasses
import math

import pytest
import torch
from PIL import Image

from nst.base.color import match_color
from nst.base.images import to_tensor
from nst.base.losses import TVLoss
from nst.base.settings import configure, current
from nst.methods import arbitrary, gatys
from nst.methods.gatys import loop, planner, targets
from nst.networks.vgg import VGGFeatures
from tests.support.device import CUDA
from tests.support.pictures import synthetic
from tests.support.standins import random_vgg19_features


def _run(**kwargs) -> list[gatys.Progress]:
    options = {"size": 48, "steps": 6, "multiscale": False} | kwargs
    content = options.pop("content", synthetic(60, 40))
    styles = options.pop("styles", [synthetic(40, 40, seed=1)])
    return list(gatys.stylize(content, styles, **options))


@pytest.mark.parametrize("optimizer", gatys.OPTIMIZERS)
@pytest.mark.parametrize("init", ["content", "noise"])
def test_loss_falls(optimizer, init):
    # Adam's first fixed-size steps overshoot from an already-matched content image.
    steps = 40 if (optimizer, init) == ("adam", "content") else 15
    events = _run(steps=steps, optimizer=optimizer, init=init)
    first, last = events[0].losses["total"], events[-1].losses["total"]
    assert last < 0.8 * first


def test_events_stream_previews_and_end_with_the_pastiche():
    events = _run(steps=7, preview_every=3)
    assert [e.step for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.image is not None for e in events] == [True, False, True, False, False, True, True]
    assert events[-1].done and not any(e.done for e in events[:-1])
    assert events[-1].image.size == (48, 32)
    assert set(events[-1].losses) == {"content", "style", "tv", "total"}


def test_multiscale_goes_coarse_to_fine_and_ends_at_the_requested_size():
    assert gatys.scales_for(512, 128) == [128, 181, 256, 362, 512]
    assert gatys.scales_for(96, 128) == [96]
    assert gatys.scales_for(3, 1) == [1, 2, 3], "ends where √2 steps stop shrinking"
    events = _run(content=synthetic(150, 100), size=96, steps=6, multiscale=True, min_scale=48)
    sizes = [e.size for e in events]
    assert sizes[0] == (48, 32) and (68, 45) in sizes and events[-1].size == (96, 64)
    assert events[-1].image.size == (96, 64)
    assert max(e.scale for e in events) == events[0].scales == 3


def test_same_seed_same_pastiche_other_seed_differs():
    a = _run(init="noise", seed=3)[-1].image.tobytes()
    b = _run(init="noise", seed=3)[-1].image.tobytes()
    c = _run(init="noise", seed=4)[-1].image.tobytes()
    assert a == b and a != c


def test_luminance_preservation_keeps_the_content_chroma():
    content = synthetic(48, 32)
    out = _run(content=content, steps=4, preserve_color="luminance")[-1].image
    chroma = lambda img: torch.tensor(list(img.convert("YCbCr").tobytes())).view(-1, 3)[:, 1:]  # noqa: E731
    # Mean, not max: pixels pushed out of the RGB gamut clip on the way back.
    assert (chroma(out) - chroma(content)).abs().float().mean() < 0.5


def test_histogram_matching_gives_the_style_the_content_statistics():
    torch.manual_seed(0)
    content = torch.rand(1, 3, 20, 20) * torch.tensor([0.5, 0.2, 0.9]).view(1, 3, 1, 1)
    style = torch.rand(1, 3, 30, 30) * 0.3 + 0.4
    matched = match_color(style, content)
    torch.testing.assert_close(matched.mean(dim=(2, 3)), content.mean(dim=(2, 3)), atol=1e-3, rtol=0)
    covariance = [torch.cov(t.reshape(3, -1), correction=0) for t in (matched, content)]
    torch.testing.assert_close(*covariance, atol=2e-3, rtol=0)  # the spread too, not only the means
    _run(steps=2, preserve_color="histogram")  # and the engine accepts the mode


def test_blended_styles_change_the_target_and_the_gram_cache_serves_repeats():
    styles = [synthetic(40, 40, seed=1), synthetic(30, 50, seed=2)]
    layers = gatys.LAYERS["vgg19"]
    vgg = VGGFeatures((layers.content, *layers.style), pooling="avg")
    content = to_tensor(synthetic(48, 32))
    blended = targets._style_targets(vgg, layers, styles, [0.7, 0.3], 48, content, "none")
    first = targets._style_targets(vgg, layers, styles[:1], [1.0], 48, content, "none")
    second = targets._style_targets(vgg, layers, styles[1:], [1.0], 48, content, "none")
    for layer in layers.style:
        torch.testing.assert_close(blended[layer], 0.7 * first[layer] + 0.3 * second[layer])
        assert not torch.allclose(blended[layer], first[layer])
    only_first = _run(styles=styles, style_blend=[1.0, 0.0])[-1].image.tobytes()
    assert only_first == _run(styles=styles[:1])[-1].image.tobytes()
    hits = gatys.style_cache.hits
    mixed = _run(styles=styles, style_blend=[0.7, 0.3])[-1].image.tobytes()
    assert mixed != only_first
    assert _run(styles=styles, style_blend=[0.7, 0.3])[-1].image.tobytes() == mixed
    assert gatys.style_cache.hits == hits + 1


def test_time_limit_ends_early_with_a_final_image():
    events = _run(steps=1000, time_limit=0.5)
    assert events[-1].done and events[-1].step < 1000 and events[-1].image.size == (48, 32)


def test_caller_can_stop_iterating(monkeypatch):
    steps = []
    stepper = loop._stepper

    def counting(*args):
        step = stepper(*args)
        return lambda: steps.append(1) or step()

    monkeypatch.setattr(loop, "_stepper", counting)
    stream = gatys.stylize(synthetic(60, 40), [synthetic(40, 40)], size=48, steps=100)
    assert next(stream).step == 1 and len(steps) == 1
    stream.close()
    assert len(steps) == 1
    with pytest.raises(StopIteration):
        next(stream)
    assert len(steps) == 1


def test_sliver_and_single_pixel_contents_work():
    assert _run(content=Image.new("RGB", (1, 1), (9, 9, 9)), size=1, steps=2)[-1].image.size == (1, 1)
    assert _run(content=synthetic(600, 4), size=120, steps=2)[-1].image.size == (120, 1)


@pytest.mark.parametrize(
    "bad",
    [
        {"steps": 0},
        {"size": 0},
        {"style_blend": [1.0, 2.0]},
        {"style_weight": float("nan")},
        {"content_weight": -1.0},
        {"init": "zeros"},
        {"optimizer": "sgd"},
        {"preserve_color": "yes"},
        {"styles": []},
        {"style_blend": [0.0]},
        {"size": 100_000},
        {"min_scale": 0},
    ],
)
def test_bad_options_are_refused_before_any_work(bad, monkeypatch):
    def work(*args, **kwargs):
        raise AssertionError("the loss network was chosen or loaded before the options were checked")

    monkeypatch.setattr(gatys.loss_network, "choose", work)
    monkeypatch.setattr(gatys.loss_network, "features", work)
    with pytest.raises(ValueError):
        _run(**bad)


def test_a_time_limited_run_still_reaches_the_finest_scale():
    # Time for every step many times over: the plan by time must still end at the size asked. (With
    # the run bound by a tight limit instead, the last scale depends on the machine's speed that moment.)
    events = _run(
        content=synthetic(150, 100), size=96, steps=60, multiscale=True, min_scale=48, time_limit=30.0
    )
    assert events[-1].done and events[-1].scales == 3
    assert {e.scale for e in events} == {1, 2, 3}


def _rescaled(state: dict[str, torch.Tensor], seed: int, powers_of_two: bool) -> dict[str, torch.Tensor]:
    """VGG-19 with conv k's weight × c_k and bias × Π_{j≤k} c_j: every activation a positive multiple.

    The cumulative products are drawn log-uniformly in [1e-3, 1e3] (fp32 must hold the Gram
    matrices). With ``powers_of_two`` they are rounded to powers of two, which floating point
    multiplies exactly: the network is then exactly a rescaled copy, and any difference in the
    pastiche comes from the objective, not from the rounding of the rescaled weights (which
    the optimisers, Adam's sign-like first steps especially, amplify into a few levels).
    """
    generator = torch.Generator().manual_seed(seed)
    convs = sorted({int(k.split(".")[1]) for k in state})
    exponents = torch.rand(len(convs), generator=generator, dtype=torch.float64) * 6 - 3
    cumulative = 2 ** (exponents * math.log2(10)).round() if powers_of_two else 10**exponents
    out, before = dict(state), 1.0
    for index, product in zip(convs, cumulative.tolist(), strict=True):
        out[f"features.{index}.weight"] = state[f"features.{index}.weight"] * (product / before)
        out[f"features.{index}.bias"] = state[f"features.{index}.bias"] * product
        before = product
    return out


VARIANTS = {"lbfgs": {}, "adam": {"optimizer": "adam"}, "single-scale": {"multiscale": False}}


@pytest.fixture(scope="module")
def pastiches(tmp_path_factory) -> dict[tuple[str, str], torch.Tensor]:
    """Each variant's pastiche on VGG-19, on an exactly rescaled copy (powers of two) and on an
    arbitrarily rescaled one, each weights file given as NST_VGG_WEIGHTS (VGG-19 loads once per file)."""
    folder = tmp_path_factory.mktemp("rescaled")
    content, style = synthetic(90, 60, seed=1), synthetic(64, 64, seed=2)
    state = random_vgg19_features()
    weights = {
        "vgg": (state, VARIANTS),
        "exact": (_rescaled(state, seed=7, powers_of_two=True), VARIANTS),
        "any": (_rescaled(state, seed=7, powers_of_two=False), ["lbfgs"]),
    }
    previous, out = current(), {}
    try:
        for name, (state_dict, variants) in weights.items():
            torch.save(state_dict, folder / f"{name}.pth")
            configure(
                dataclasses.replace(previous, vgg_weights=str(folder / f"{name}.pth"), loss_network="vgg19")
            )
            loaded = VGGFeatures(("relu1_1",)).layers[0].weight.cpu()
            assert torch.equal(loaded, state_dict["features.0.weight"]), f"{name}.pth runs"
            for variant in variants:
                run = gatys.stylize(content, [style], size=72, steps=12, min_scale=40, **VARIANTS[variant])
                [*_, last] = run
                out[name, variant] = to_tensor(last.image, scale=1)
    finally:
        configure(previous)
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_pastiche_does_not_depend_on_the_loss_networks_activation_scale(pastiches, variant):
    original, rescaled = pastiches["vgg", variant], pastiches["exact", variant]
    assert (original - rescaled).abs().max() <= 1
    content = to_tensor(synthetic(90, 60, seed=1).resize((72, 48)), scale=1)
    assert (original - content).abs().mean() > 1, "the run did change the picture"


def test_any_positive_rescaling_changes_the_default_pastiche_by_rounding_only(pastiches):
    original, rescaled = pastiches["vgg", "lbfgs"], pastiches["any", "lbfgs"]
    if CUDA:  # TF32's 10-bit rounding of rescaled activations sends L-BFGS along another path
        assert (original - rescaled).abs().mean() < 4
        return
    # Rounding, as threads split sums: mean 0.07 and max 1 level in one thread, 0.39 and 3 in two.
    assert (original - rescaled).abs().mean() < 1 and (original - rescaled).abs().max() <= 4


def test_a_style_start_has_the_styles_colours():
    style = Image.new("RGB", (40, 40), (200, 40, 90))
    style.paste((220, 60, 70), (0, 0, 20, 40))
    # Adam with a vanishing step leaves the pastiche where it started.
    start = _run(styles=[style], init="style", optimizer="adam", lr=1e-9, steps=1)[-1].image
    mean = to_tensor(start).mean(dim=(2, 3))
    torch.testing.assert_close(mean, to_tensor(style).mean(dim=(2, 3)), atol=0.02, rtol=0)
    assert to_tensor(start).std(dim=(2, 3)).max() > 0.01  # noise in those colours, not a flat fill


def _pixels(**options) -> torch.Tensor:
    return to_tensor(_run(**options)[-1].image, scale=1)


@pytest.mark.parametrize("change", [{"pooling": "max"}, {"style_scale": 0.5}, {"tv_weight": 1.0}])
def test_each_option_changes_the_pastiche(change):
    assert (_pixels(**change) - _pixels()).abs().mean() > 0.5


def test_a_tv_weight_makes_the_pastiche_smoother():
    tv = TVLoss()
    assert tv(_pixels(tv_weight=50.0, steps=10)) < 0.8 * tv(_pixels(tv_weight=0.0, steps=10))


def _area(side: int) -> float:
    return side * side * 3 / 4


def test_a_time_limited_plan_ends_at_the_largest_scale_that_fits():
    def cost(side: int) -> float:  # a step's seconds, by its pixels
        return 1e-5 * _area(side)

    plan = gatys.fit_scales(512, 128, 128, 40, 1000.0, cost)
    assert plan == [(181, 10), (256, 10), (362, 10), (512, 10)], "time enough: the plan by steps"
    plan = gatys.fit_scales(512, 128, 128, 40, 25.0, cost)
    last = plan[-1][0]
    assert 256 < last < 512 and all(n >= gatys.SCALE_STEPS for _, n in plan)
    assert sum((n + 2) * cost(side) for side, n in plan) <= 25.0
    bigger = gatys.fit_scales(last + 16, 128, 128, 40, 25.0, cost)
    assert bigger[-1][0] == last, "16 px more does not fit"
    assert [side for side, _ in plan] == [s for s in gatys.scales_for(last, 128) if s >= 160]
    assert gatys.fit_scales(512, 128, 128, 40, 0.5, cost) == [], "nothing fits: the run ends where it is"
    assert gatys.fit_scales(512, 128, 128, 0, 1000.0, cost) == [], "no step left"
    unlimited = gatys.fit_scales(512, 128, 128, 10**6, 25.0, cost)
    assert unlimited[-1][0] == last and len({n for _, n in unlimited}) == 1, "steps set by the time"
    assert unlimited[0][1] >= gatys.SCALE_STEPS


def test_a_time_limited_run_ends_at_the_size_of_its_last_finished_scale(monkeypatch):
    planned = []

    def small(size, min_scale, done, steps, seconds, cost):
        planned.append(done)
        return [(72, 2)] if done < 72 else []  # as if the time allowed one more scale of 72 px

    monkeypatch.setattr(planner, "fit_scales", small)
    options = {"size": 96, "steps": 20, "multiscale": True, "min_scale": 48, "preview_every": 1}
    events = _run(content=synthetic(150, 100), time_limit=60, **options)
    assert planned == [48, 72] and [e.scale for e in events[-3:]] == [2, 2, 2]
    assert events[-1].done and events[-1].image.size == events[-2].size == (72, 48)
    shown = [e.image.size for e in events if e.image is not None and e.scale == 2]
    assert shown == [(72, 48)] * len(shown) and len(shown) >= 2, "previews at the size to come"


def test_the_warm_start_is_the_any_style_picture_at_the_pastiches_size():
    content, style = synthetic(120, 80), synthetic(64, 64, seed=1)
    painted = arbitrary.stylize(content.resize((96, 64), Image.Resampling.LANCZOS), [style])
    options = {"size": 96, "steps": 1, "multiscale": False, "optimizer": "adam", "lr": 1e-6}
    *_, warm = gatys.stylize(content, [style], init="arbitrary", **options)
    *_, photo = gatys.stylize(content, [style], init="content", **options)
    difference = (to_tensor(warm.image) - to_tensor(painted)).abs().mean().item()
    assert difference < 2 / 255 < (to_tensor(photo.image) - to_tensor(painted)).abs().mean().item()
