"""The endpoints: what a click, a ``gradio_client`` call or an MCP tool runs.

Each public method is one endpoint, under its ZeroGPU decorator (:func:`~nst.space.admission.on_gpu`);
its name, parameters and docstring are the API's and the MCP tool's. Data flows one way: uploads are
decoded and checked (:mod:`~nst.space.uploads`), a method of the library paints, and the result is
written (:mod:`~nst.space.results`). Fast and any style share one body, :meth:`Handlers._one_pass`.
Nothing here is kept on the shared networks: a Live stream's state is the visitor's own ``gr.State``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import gradio as gr
from PIL import Image

from nst.base.color import colour_choice
from nst.base.device import default_device
from nst.base.images import load_image
from nst.base.recipes import Recipe, file_digest
from nst.base.settings import Settings
from nst.methods import again, arbitrary, engine, fast, gatys, live, registry, sheet, video
from nst.methods.catalogue import load_catalogue
from nst.networks.loss_network import TITLES
from nst.space.admission import Durations, Streams, gatys_limit, on_gpu
from nst.space.batches import Batches
from nst.space.presets import ARBITRARY, FAST, GATYS, VIDEO, Presets, gatys_side, gatys_size
from nst.space.results import Results
from nst.space.uploads import Upload, Uploads, user_errors


@dataclass
class LiveState:
    """One visitor's stream: its painter, and the choices it was made for (a change restyles it)."""

    choices: tuple
    session: live.LiveSession


class Handlers(Batches):
    """The app's endpoints over its presets, uploads, results and Live streams (batches: their base)."""

    def __init__(self, settings: Settings, presets: Presets, results: Results, streams: Streams) -> None:
        self.settings, self.presets, self.results, self.streams = settings, presets, results, streams
        self.uploads = Uploads(settings.upload_mb)

    def _one_pass(
        self,
        method: registry.Method,
        options: engine.OnePassOptions,
        content: Upload,
        given: Sequence[str | Upload],
        *,
        decode: Callable[[Upload], Image.Image] | None = None,
        strength: float,
        colours: str,
        second_style_share: float,
        working_side: int,
        mask: Upload,
        second_mask: Upload,
    ) -> str:
        """Fast and any style: ``method`` paints with the ``given`` styles, catalogue names as they are,
        or style images decoded here (``decode`` given) and named in the recipe by their digests; a
        second style's share ``s`` becomes the blend ``(1 − s, s)``, unless masks place the styles."""
        with user_errors():
            image = self.uploads.image(content, "content", options.max_side, alpha=True)
            styles = list(given) if decode is None else [decode(s) for s in given]
            masks = self.uploads.regions(mask, second_mask, len(styles))
            share = second_style_share
            options = dataclasses.replace(
                options,
                strength=strength,
                preserve_color=colours,
                style_blend=(1 - share, share) if len(styles) > 1 and masks is None else None,
                working_side=int(working_side),
            )
            picture = method.paint(image, styles, options, masks=masks)
            names = list(given) if decode is None else [file_digest(s) for s in given]
            made = again.recipe(method.id, names, options, style_side=options.max_side)
            return self.results.png(picture, image, made, masks)

    @on_gpu(Durations.one_pass)
    def stylize_fast(
        self,
        content: Upload,
        style: str,
        strength: float = FAST.strength,
        preserve_color: bool = False,
        second_style: str = "",
        second_style_share: float = 0.5,
        working_side: int = FAST.working_side,
        mask: Upload = None,
        second_mask: Upload = None,
        colours: str | None = None,
    ) -> str:
        """Paint a photo in a catalogue style with that style's feed-forward network, in about a second.

        The result keeps the photo's size (shrunk to NST_FAST_MAX_SIDE on its long side if larger).

        Args:
            content: the photo, as an image file or URL.
            style: a catalogue style: mosaic, rain_princess, scream, starry_night, builtin_00 to builtin_25.
            strength: 0 gives the photo back, 1 the full style.
            preserve_color: keep the photo's colours, only the style's light and texture (colours empty).
            second_style: optionally, another style of the same multi-style network, mixed inside it.
            second_style_share: the second style's share of the mix, 0 to 1 (not used with masks).
            working_side: style scale, the long side the network paints at (smaller: bigger strokes); 0: off.
            mask: optionally, where the style goes: white or opaque there (the photo stays elsewhere).
            second_mask: optionally, where the second style goes; with one mask, the other takes the rest.
            colours: "luminance" (the photo's colours), "histogram" (its palette), "none"; empty: see above.

        Returns:
            The path of the stylised PNG.
        """
        return self._one_pass(
            registry.FAST,
            self.presets.fast,
            content,
            [style, second_style] if second_style else [style],
            strength=strength,
            colours=colour_choice(colours, preserve_color),
            second_style_share=second_style_share,
            working_side=working_side,
            mask=mask,
            second_mask=second_mask,
        )

    @on_gpu(Durations.one_pass)
    def contact_sheet(self, content: Upload) -> list[tuple[str, str]]:
        """Paint a photo small in every catalogue style at once, to choose a style by (seconds on a CPU).

        Args:
            content: the photo, as an image file or URL.

        Returns:
            One (picture, caption) pair per ready style, in catalogue order; the caption is the
            style's title and, in parentheses, its name, which stylize_fast takes as its style:
            "Stained glass (builtin_13)".
        """
        with user_errors():
            image = self.uploads.image(content, "content", self.presets.fast.max_side)
            titles = {name: style.title for name, style in load_catalogue().items()}
            return [
                (self.results.file(tile), f"{titles[name]} ({name})")
                for name, tile in sheet.contact_sheet(image)
            ]

    @on_gpu(Durations.one_pass)
    def stylize_arbitrary(
        self,
        content: Upload,
        style_image: Upload,
        strength: float = ARBITRARY.strength,
        preserve_color: bool = False,
        second_style_image: Upload = None,
        second_style_share: float = 0.5,
        working_side: int = ARBITRARY.working_side,
        mask: Upload = None,
        second_mask: Upload = None,
        colours: str | None = None,
    ) -> str:
        """Paint a photo in the style of any picture, in one pass (Ghiasi et al. 2017).

        The result keeps the photo's size (shrunk to NST_ARBITRARY_MAX_SIDE on its long side if larger).

        Args:
            content: the photo, as an image file or URL.
            style_image: the picture whose style to paint in (a painting, a texture), as an image file or URL.
            strength: 0 gives about the photo back, 1 the full style.
            preserve_color: keep the photo's colours, only the style's light and texture (colours empty).
            second_style_image: optionally, a second style picture, blended in.
            second_style_share: the second style's share of the blend, 0 to 1 (not used with masks).
            working_side: style scale, the long side the network paints at (smaller: bigger strokes); 0: off.
            mask: optionally, where the style goes: white or opaque there (the photo stays elsewhere).
            second_mask: optionally, where the second style goes; with one mask, the other takes the rest.
            colours: "luminance" (the photo's colours), "histogram" (its palette), "none"; empty: see above.

        Returns:
            The path of the stylised PNG.
        """
        side = self.presets.arbitrary.max_side
        return self._one_pass(
            registry.ARBITRARY,
            self.presets.arbitrary,
            content,
            [style_image, second_style_image] if second_style_image else [style_image],
            decode=lambda style: self.uploads.image(style, "style", side),
            strength=strength,
            colours=colour_choice(colours, preserve_color),
            second_style_share=second_style_share,
            working_side=working_side,
            mask=mask,
            second_mask=second_mask,
        )

    @on_gpu(Durations.gatys)
    def stylize_gatys(
        self,
        content: Upload,
        style_image: Upload,
        steps: int = GATYS.steps,
        size: int | None = GATYS.size,
        style_weight: float | None = GATYS.style_weight,
        preserve_color: bool = False,
        optimizer: str | None = GATYS.optimizer,
        seed: int = GATYS.seed,
        second_style_image: Upload = None,
        second_style_share: float = 0.5,
        mask: Upload = None,
        second_mask: Upload = None,
        seconds: float = GATYS.time_limit,
        loss_network: str | None = None,
        colours: str | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[str]:
        """Optimise a pastiche of a photo in the style of any picture (Gatys et al. 2016), slowly but closely.

        Args:
            content: the photo, as an image file or URL.
            style_image: the picture whose style to paint in, as an image file or URL.
            steps: optimisation steps in all (at most the settings' NST_GATYS_MAX_STEPS).
            size: the result's largest long side, within the settings' for the network; empty: its own.
            style_weight: the style term's weight (the content's is 1); empty for the loss network's default.
            preserve_color: keep the photo's colours (when colours is empty).
            optimizer: "lbfgs" or "adam"; empty for the loss network's.
            seed: the seed of any noise.
            second_style_image: optionally, a second style picture, blended in.
            second_style_share: the second style's share of the blend, 0 to 1 (not used with masks).
            mask: optionally, where the style goes: white or opaque there (the photo stays elsewhere).
            second_mask: optionally, where the second style goes; with one mask, the other takes the rest.
            seconds: the time the run is given; the result is the largest size up to ``size`` that fits.
            loss_network: "vgg19" (the paper's) or "mobilenet" (faster, larger); empty: VGG-19 if installed.
            colours: "luminance" (the photo's colours), "histogram" (its palette), "none"; empty: see above.

        Returns:
            The path of a PNG: previews while it runs (every few steps), then the pastiche.
        """
        with user_errors():
            base, side = self._gatys_base(loss_network, size, seconds)
            image = self.uploads.image(content, "content", side, alpha=True)
            given = [style_image, second_style_image] if second_style_image else [style_image]
            styles = [self.uploads.image(s, "style", side) for s in given]
            masks = self.uploads.regions(mask, second_mask, len(styles))
            share = second_style_share
            options = dataclasses.replace(
                base,
                style_blend=(1 - share, share) if len(styles) > 1 and not masks else None,
                steps=int(steps),
                style_weight=style_weight,
                preserve_color=colour_choice(colours, preserve_color),
                optimizer=optimizer,
                seed=int(seed),
            )
            made = again.recipe(registry.GATYS.id, [file_digest(s) for s in given], options, style_side=side)
            events = gatys.stylize(image, styles, options, masks=masks)
            yield from self._previews(events, image, progress, made, masks)

    def _gatys_base(
        self, loss_network: str | None, size: int | None, seconds: float
    ) -> tuple[gatys.GatysOptions, int]:
        """The app's Gatys options on the loss network a request runs on (None: ``auto``, resolved), at its
        size and within its seconds (:func:`gatys_limit`), and the largest size the Space paints
        there (:func:`~nst.space.presets.gatys_side`). A size left None is the network's in the Space
        (:func:`~nst.space.presets.gatys_size`); one over the largest is refused."""
        network = gatys.loss_network_for(gatys.GatysOptions(loss_network=loss_network or "auto")).name
        device = default_device()
        largest = gatys_side(self.settings, network, device)
        size = gatys_size(self.settings, network, device) if size is None else int(size)
        if size > largest:
            raise ValueError(f"Size {size} is over {largest}, the largest on {TITLES[network]} here.")
        limit = gatys_limit(self.settings, seconds)
        options = dataclasses.replace(self.presets.gatys, loss_network=network, size=size, time_limit=limit)
        return options, largest

    def _previews(
        self,
        events: Iterator,
        content: Image.Image,
        progress: gr.Progress,
        recipe: Recipe,
        masks: list[Image.Image] | None,
    ) -> Iterator[str]:
        """Each Gatys event as progress (scale, steps, time left), and each pastiche as a PNG; the
        last one, the result, carries ``recipe``."""
        for event in events:
            left = event.elapsed / event.step * (event.total - event.step)
            progress(
                (event.step, event.total),
                desc=f"scale {event.scale}/{event.scales} · about {left:.0f} s left",
            )
            if event.image is not None:
                yield self.results.png(event.image, content, *((recipe, masks) if event.done else ()))

    @on_gpu(Durations.video)
    def stylize_video(
        self,
        clip: str | None,
        style: str = "builtin_00",
        style_image: Upload = None,
        strength: float = VIDEO.strength,
        preserve_color: bool = False,
        steady: bool = True,
        working_side: int = VIDEO.working_side,
        flow: float = VIDEO.flow,
        colours: str | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator:
        """Stylise a short clip with a catalogue style or any style picture; keeps its frame rate and sound.

        Frames are shrunk to NST_VIDEO_MAX_SIDE; clips over NST_VIDEO_MAX_SECONDS are refused.

        Args:
            clip: the video file or URL.
            style: a catalogue style's name, used when no style_image is given.
            style_image: optionally, any picture whose style to paint in.
            strength: 0 gives the clip back, 1 the full style.
            preserve_color: keep the clip's colours (when colours is empty).
            steady: hold the networks' statistics from frame to frame, for steady colours.
            working_side: style scale, the long side the network paints at (smaller: bigger strokes); 0: off.
            flow: weight of the previous output warped by the clip's optical flow, for steady pixels; 0: off.
            colours: "luminance" (the clip's colours), "histogram" (its palette), "none"; empty: see above.

        Returns:
            The path of the stylised MP4.
        """
        with user_errors():
            if clip is None:
                raise gr.Error("Please add a clip.")
            info, longest = video.probe(clip), self.settings.video_seconds
            if info.seconds > longest:
                raise ValueError(
                    f"The clip is {info.seconds:.0f} s long; this app takes up to {longest:.0f} s "
                    "(NST_VIDEO_MAX_SECONDS). Trim it, or use `python -m nst video --max-seconds`."
                )
            side = self.presets.arbitrary.max_side
            chosen = style if style_image is None else [self.uploads.image(style_image, "style", side)]
            options = dataclasses.replace(
                self.presets.video,
                strength=strength,
                preserve_color=colour_choice(colours, preserve_color),
                steady=self.presets.video.steady if steady else 0.0,
                flow=float(flow),
                working_side=int(working_side),
            )
            target = self.results.fresh(".mp4")
            names = [style] if style_image is None else [file_digest(style_image)]
            made = again.recipe(registry.VIDEO.id, names, options, style_side=side)
            for event in video.stylize_video(clip, target, chosen, options, recipe=made):
                progress((event.frame, event.total), desc="frames", unit="frames")
                yield gr.skip()
            yield str(target)

    @on_gpu(Durations.live)
    def stylize_live(
        self,
        frame: Upload,
        state: LiveState | None,
        style: str,
        style_image: Upload,
        strength: float,
        preserve_color: str,
        request: gr.Request,
    ) -> tuple:
        """Paint the newest webcam frame of this visitor's stream, held steady against the frames before.

        A change of style, style image, strength or colours takes effect on this frame. Streams are
        capped at NST_LIVE_STREAMS at once and NST_LIVE_MAX_SECONDS of painting each; frames are
        shrunk to NST_LIVE_MAX_SIDE.
        """
        with user_errors():
            if frame is None:
                return gr.skip(), state
            if not self.streams.admit(request.session_hash):
                n = self.streams.cap
                raise gr.Error(
                    f"Live is full: this machine paints {n} stream{'s' * (n > 1)} at a time "
                    "(NST_LIVE_STREAMS). Try again in a minute, or use the Video tab."
                )
            image = load_image(self.uploads.checked(frame, "camera"), max_side=self.presets.live.max_side)
            choices = (style, style_image, float(strength), colour_choice(preserve_color))
            if state is None or state.choices != choices:
                state = self._restyled(state, choices, image)
            return state.session.paint(image), state

    def _restyled(self, state: LiveState | None, choices: tuple, frame: Image.Image) -> LiveState:
        """The visitor's stream painting with ``choices`` (style, style image, strength, colours)."""
        style, style_image, strength, preserve_color = choices
        options = dataclasses.replace(self.presets.live, strength=strength, preserve_color=preserve_color)
        if style_image is None:
            chosen = fast.load_style(style, options)
        else:
            painting = self.uploads.image(style_image, "style", self.presets.arbitrary.max_side)
            chosen = arbitrary.load_style([painting], options, frame)
        if state is None:
            return LiveState(choices, live.LiveSession(chosen, options))
        state.session.restyle(chosen, options)
        state.choices = choices
        return state
