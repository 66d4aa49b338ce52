"""Mutation check: plant realistic bugs in the core, one at a time, and see whether the tests notice.

    python tests/mutations.py              # every mutation, in a worker a core and one more
    python tests/mutations.py draft blend  # those whose names contain "draft" or "blend"
    python tests/mutations.py --workers 2  # in two workers

Each mutation is one textual change to one file: a bug someone could write. Each worker copies
the working tree (tracked and untracked files, not the ignored ones) to a temporary folder,
imports the libraries the tests use once (torch, Gradio …, not ours), and then, for each
mutation it is given, makes the change in its copy and forks a process that runs the tests
guarding that behaviour (``pytest.main``), which imports ``nst`` and the tests afresh. A mutation
the tests do not fail on *survives*: a test is missing or does not check what its name says.
The table ends with the survivors; the exit status is their count. Nothing here touches the
checkout or the installed packages.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation(
        "MobileNetV2 reads the pastiche on one lattice again",
        "nst/methods/gatys/options.py",
        'optimizer="adam", jitter=16, size=1024)',
        'optimizer="adam", jitter=0, size=1024)',
        (
            "tests/test_gatys_mobilenet.py::test_at_the_defaults_the_pastiche_keeps_the_layout_takes_the_style_and_has_no_squares",
        ),
    ),
    Mutation(
        "the jittered MobileNetV2 run goes back to L-BFGS",
        "nst/methods/gatys/options.py",
        'tv=10.0, optimizer="adam"',
        'tv=10.0, optimizer="lbfgs"',
        (
            "tests/test_gatys_mobilenet.py::test_at_the_defaults_the_pastiche_keeps_the_layout_takes_the_style_and_has_no_squares",
        ),
    ),
    Mutation(
        "the squares measure looks at every angle alike",
        "tests/support/pictures.py",
        "power[band & (off_axis < 3)].mean()",
        "power[band].mean()",
        (
            "tests/test_gatys_mobilenet.py::test_the_squares_measure_sees_blocks_on_any_lattice_and_not_strokes",
        ),
    ),
    Mutation(
        "the warm start is ignored",
        "nst/methods/gatys/loop.py",
        'if previous is None and o.init == "arbitrary":',
        "if False:",
        ("tests/test_gatys.py::test_the_warm_start_is_the_any_style_picture_at_the_pastiches_size",),
    ),
    Mutation(
        "a time-limited plan keeps the requested size whatever it costs",
        "nst/methods/gatys/planner.py",
        "        if min(given) >= min(SCALE_STEPS, min(shares)) and min(given) > 0:",
        "        if True:",
        ("tests/test_gatys.py::test_a_time_limited_plan_ends_at_the_largest_scale_that_fits",),
    ),
    Mutation(
        "a time-limited plan ignores the steps it was given",
        "nst/methods/gatys/planner.py",
        "given = [min(share, afford) for share in shares]",
        "given = [afford for share in shares]",
        ("tests/test_gatys.py::test_a_time_limited_plan_ends_at_the_largest_scale_that_fits",),
    ),
    Mutation(
        "a run cut short is stretched to the size asked",
        "nst/methods/gatys/loop.py",
        "final = resize_long_side(original, max(pastiche.shape[-2:]))",
        "final = resize_long_side(original, o.size)",
        ("tests/test_gatys.py::test_a_time_limited_run_ends_at_the_size_of_its_last_finished_scale",),
    ),
    Mutation(
        "previews keep the size asked, not the size to come",
        "nst/methods/gatys/loop.py",
        "shown = resize_long_side(original, scale.last)",
        "shown = resize_long_side(original, o.size)",
        ("tests/test_gatys.py::test_a_time_limited_run_ends_at_the_size_of_its_last_finished_scale",),
    ),
    Mutation(
        "a finished rank leaves its process group to Python's exit",
        "nst/cli.py",
        "        distributed.leave()\n",
        "",
        ("tests/test_cli.py::test_the_command_line_leaves_the_process_group_it_ran_in",),
    ),
    Mutation(
        "every epoch of the photos in the same order",
        "nst/methods/train/data.py",
        "seed = o.seed + epoch",
        "seed = o.seed",
        ("tests/test_fast.py::test_a_resumed_stream_sees_the_same_batches_and_each_epoch_its_own_order",),
    ),
    Mutation(
        "a resumed run starts the photos from the beginning",
        "nst/methods/train/data.py",
        "if step >= start:",
        "if True:",
        ("tests/test_fast.py::test_a_resumed_stream_sees_the_same_batches_and_each_epoch_its_own_order",),
    ),
    Mutation(
        "every rank paints every photo of a batch job",
        "nst/methods/batch.py",
        "share = itertools.islice(all_jobs, ranks.rank, None, ranks.world)",
        "share = iter(all_jobs)",
        (
            "tests/test_distributed.py::test_two_ranks_paint_a_streamed_dataset_once_each_and_count_what_they_cannot_read",
            "tests/test_distributed.py::test_two_ranks_paint_each_photo_of_a_tree_once_as_one_process_does_and_a_rerun_does_nothing",
        ),
    ),
    Mutation(
        "multi-style training trains only the first style",
        "nst/methods/train/loop.py",
        "k = step % len(styles)",
        "k = 0",
        ("tests/test_multistyle.py::test_a_three_style_network_paints_three_pictures_and_blends_inside_it",),
    ),
    Mutation(
        "a blend of a set's styles gives the first one every share",
        "nst/methods/fast.py",
        "mix[index] += share",
        "mix[indices[0]] += share",
        ("tests/test_multistyle.py::test_a_three_style_network_paints_three_pictures_and_blends_inside_it",),
    ),
    Mutation(
        "fine-tuning trains the built-in convolutions too",
        "nst/networks/dumoulin.py",
        "parameter.requires_grad_(name.endswith(conditional))",
        "parameter.requires_grad_(True)",
        (
            "tests/test_multistyle.py::test_fine_tuning_trains_new_norms_on_the_built_in_networks_frozen_convolutions",
        ),
    ),
    Mutation(
        "the catalogue reads a multi-style file as one style",
        "nst/methods/catalogue.py",
        "count = styles_in(shapes)",
        "count = None",
        (
            "tests/test_multistyle.py",
            "tests/test_app.py::test_a_trained_set_in_the_weights_folder_is_in_the_apps_catalogue",
        ),
    ),
    Mutation(
        "training stops at a file that is not a picture",
        "nst/methods/train/data.py",
        "with contextlib.suppress(ImageError, OSError, ValueError):",
        "with contextlib.suppress(KeyError):",
        ("tests/test_distributed.py::test_unreadable_training_photos_are_skipped_and_counted_on_every_rank",),
    ),
    Mutation(
        "a batch rerun paints finished photos again",
        "nst/methods/batch.py",
        "if job.target.is_file():",
        "if False:",
        ("tests/test_distributed.py::test_a_stopped_job_resumes_and_a_bad_photo_is_counted_not_fatal",),
    ),
    Mutation(
        "torchrun processes each train on their own share, gradients not averaged",
        "nst/methods/train/loop.py",
        "trained = model if ranks.world == 1 else DistributedDataParallel(model)",
        "trained = model",
        ("tests/test_distributed.py",),
    ),
    Mutation(
        "torchrun shares of a short batch weighted alike",
        "nst/methods/train/loop.py",
        '(terms["total"] * (mine * ranks.world / good)).backward()',
        'terms["total"].backward()',
        ("tests/test_distributed.py",),
    ),
    Mutation(
        "live admits every visitor, over the cap",
        "nst/space/admission.py",
        "if session not in self.seen and len(self.seen) >= self.cap:",
        "if False:",
        ("tests/test_live_app.py::test_a_visitor_over_the_cap_is_told_live_is_full_until_a_stream_ends",),
    ),
    Mutation(
        "live keeps painting with the old colours after a change",
        "nst/methods/live.py",
        "self.style, self.options = style, options or self.options",
        "self.style = style",
        (
            "tests/test_live_app.py::test_a_change_of_style_strength_or_colours_takes_effect_on_the_next_frame",
        ),
    ),
    Mutation(
        "live shows the camera frame unpainted",
        "nst/space/handlers.py",
        "return state.session.paint(image), state",
        "return image, state",
        ("tests/test_live_app.py::test_browser_streams_a_fake_camera_and_shows_painted_frames",),
    ),
    Mutation(
        "live asks the camera for its largest frames (Gradio's default)",
        "nst/space/tabs/live.py",
        "                webcam_options=camera_options(settings.live_side),\n",
        "",
        ("tests/test_live_app.py::test_browser_streams_a_fake_camera_and_shows_painted_frames",),
    ),
    Mutation(
        "bench.live's yielding browser keeps its share of the CPU",
        "bench/live.py",
        'autogroup").write_text("19")',
        'autogroup").write_text("0")',
        ("tests/test_bench.py::test_the_live_benchmark_runs_in_chromium_against_the_test_server",),
    ),
    Mutation(
        "live visitors share one painter",
        "nst/methods/live.py",
        "self.painter = Painter(style, self.options)",
        "self.painter = getattr(Painter, 'shared', None) or Painter(style, self.options)\n"
        "        Painter.shared = self.painter",
        (
            "tests/test_live_app.py::test_two_visitors_streaming_at_once_each_get_the_librarys_steady_pictures",
        ),
    ),
    Mutation(
        "video blends the warped previous frame where the flow failed",
        "nst/methods/video/painter.py",
        "return (round_trip <= bound) & inside & alike, warped",
        "return np.ones_like(inside), warped",
        ("tests/test_video.py",),
    ),
    Mutation(
        "regions take the first style's statistics everywhere",
        "nst/networks/norms.py",
        "scale = torch.stack([a for a, _ in affines])",
        "scale = torch.stack([affines[0][0] for _ in affines])",
        ("tests/test_regions.py",),
    ),
    Mutation(
        "style scale drops the full-size detail",
        "nst/methods/engine.py",
        "return broad.add_(fine).sub_(up(down(fine))).clamp_(0, 1)",
        "return broad.clamp_(0, 1)",
        ("tests/test_regions.py",),
    ),
    Mutation(
        "JPEG draft removed: large photos decode whole",
        "nst/base/images.py",
        'img.draft("RGB", (math.ceil(w * scale), math.ceil(h * scale)))',
        "pass",
        ("tests/test_images.py", "tests/test_hostile.py::test_large_photo_and_bomb_stay_small_in_memory"),
    ),
    Mutation(
        "choosing the CPU raises torch's threads to every core, over OMP_NUM_THREADS",
        "nst/base/device.py",
        "torch.set_num_threads(max(1, min(torch.get_num_threads(), len(os.sched_getaffinity(0)))))",
        "torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))",
        ("tests/test_device.py::test_fewer_threads_asked_for_stay",),
    ),
    Mutation(
        "the largest Gatys size in the Space ignores the loss network",
        "nst/space/presets.py",
        'return settings.gatys_mobilenet_side if network == "mobilenet" else settings.gatys_side',
        "return settings.gatys_side",
        ("tests/test_space_wiring.py::test_the_largest_gatys_size_follows_the_loss_network_and_the_device",),
    ),
    Mutation(
        "the Space's MobileNetV2 runs start at VGG-19's size",
        "nst/space/presets.py",
        'GATYS_SIZES = {"vgg19": 512, "mobilenet": 1024}',
        'GATYS_SIZES = {"vgg19": 512, "mobilenet": 512}',
        (
            "tests/test_space_wiring.py::test_the_spaces_default_mobilenet_run_plans_1024_px_within_its_seconds",
        ),
    ),
    Mutation(
        "the Space's Gatys seconds too few for 1024 px on MobileNetV2",
        "nst/space/presets.py",
        "GATYS = gatys.GatysOptions(steps=100, preview_every=5, time_limit=30.0)",
        "GATYS = gatys.GatysOptions(steps=100, preview_every=5, time_limit=20.0)",
        (
            "tests/test_space_wiring.py::test_the_spaces_default_mobilenet_run_plans_1024_px_within_its_seconds",
        ),
    ),
    Mutation(
        "the Gatys endpoint runs on its default loss network whatever is asked",
        "nst/space/handlers.py",
        'gatys.GatysOptions(loss_network=loss_network or "auto")',
        'gatys.GatysOptions(loss_network="auto")',
        ("tests/test_app.py::test_the_loss_network_asked_for_runs_with_its_optimiser_and_is_in_the_recipe",),
    ),
    Mutation(
        "the Gatys endpoint paints any size on any loss network",
        "nst/space/handlers.py",
        "        if size > largest:",
        "        if False:",
        ("tests/test_app.py::test_the_loss_network_asked_for_runs_with_its_optimiser_and_is_in_the_recipe",),
    ),
    Mutation(
        "reuse settings leaves a Gatys run's loss network as it is",
        "nst/space/tabs/gatys.py",
        '        "loss_network": o["loss_network"],\n',
        "",
        (
            "tests/test_visitor.py::test_reuse_settings_puts_back_a_gatys_runs_loss_network_with_its_size_and_weights",
        ),
    ),
    Mutation(
        "EXIF orientation ignored",
        "nst/base/images.py",
        "img = ImageOps.exif_transpose(img)\n        rgb = _to_rgb(img, alpha)",
        "rgb = _to_rgb(img, alpha)",
        ("tests/test_images.py",),
    ),
    Mutation(
        "colour matching moves the means only",
        "nst/base/color.py",
        "out = transform @ (s - mu_s) + mu_c",
        "out = (s - mu_s) + mu_c",
        ("tests/test_gatys.py::test_histogram_matching_gives_the_style_the_content_statistics",),
    ),
    Mutation(
        "the pairs benchmark measures the painting, not the result",
        "bench/gatys.py",
        "r = result.resize(p.size, Image.Resampling.LANCZOS)",
        "r = s.resize(p.size, Image.Resampling.LANCZOS)",
        ("tests/test_bench.py::test_the_gatys_benchmark_measures_your_own_pairs",),
    ),
    Mutation(
        "the jitter keeps every shift's loss",
        "nst/methods/gatys/targets.py",
        'return self.build(pad)(F.pad(pastiche, pad, mode="replicate"))',
        'self.__dict__.setdefault("kept", {}).setdefault(pad, self.build(pad))\n'
        '        return self.kept[pad](F.pad(pastiche, pad, mode="replicate"))',
        ("tests/test_gatys_mobilenet.py::test_the_jitter_keeps_no_shifts_targets_between_steps",),
    ),
    Mutation(
        "the result view does not stay beside the controls",
        "nst/space/view.py",
        "#nst-view { position: sticky;",
        "#nst-view { position: static;",
        ("tests/test_visitor.py::test_after_a_click_on_stylise_the_result_is_in_sight",),
    ),
    Mutation(
        "a click does not bring the result view into sight",
        "nst/space/tabs/common.py",
        "    in_sight(button.click)\n",
        "",
        ("tests/test_visitor.py::test_after_a_click_on_stylise_the_result_is_in_sight",),
    ),
    Mutation(
        "the built-in styles are titled by number",
        "nst/methods/catalogue.py",
        "for i, title in enumerate(BUILTIN_TITLES)",
        'for i, title in enumerate(f"Built-in {i}" for i in range(STYLES))',
        ("tests/test_dumoulin.py::test_each_builtin_style_has_a_title_of_its_own_and_keeps_its_name",),
    ),
    Mutation(
        "the contact sheet's captions lose the style's name",
        "nst/space/handlers.py",
        'f"{titles[name]} ({name})"',
        "titles[name]",
        (
            "tests/test_visitor.py::test_the_contact_sheet_endpoint_gives_every_ready_style_by_name_and_a_bad_photo_one_line",
        ),
    ),
    Mutation(
        "the Video tab has no example",
        "nst/space/tabs/video.py",
        "    if VIDEO_EXAMPLE[1] not in page.ready:\n",
        "    if True:\n",
        ("tests/test_visitor.py::test_the_video_tab_picks_styles_by_picture_and_its_example_paints_a_clip",),
    ),
    Mutation(
        "the histogram colour choice leaves the result as it is",
        "nst/base/color.py",
        "    return to_image(match_color(to_tensor(pastiche), to_tensor(content)))",
        "    return pastiche",
        ("tests/test_fast.py::test_the_histogram_choice_gives_the_result_the_photos_colour_statistics",),
    ),
    Mutation(
        "the API's older preserve_color is ignored",
        "nst/base/color.py",
        'return "luminance" if choice is True or flag else "none"',
        'return "luminance" if choice is True else "none"',
        ("tests/test_app.py::test_the_colour_choice_and_the_older_flag_reach_the_recipe",),
    ),
    Mutation(
        "a painted sticker loses its alpha",
        "nst/base/alpha.py",
        "    painted.putalpha(alpha)\n",
        "",
        (
            "tests/test_alpha.py::test_a_sticker_keeps_its_alpha_exactly_through_every_method_and_its_opaque_part_is_painted",
        ),
    ),
    Mutation(
        "transparent pixels painted as they are, unfilled",
        "nst/base/alpha.py",
        'return to_image(fill_transparent(to_tensor(img.convert("RGB")), a)), alpha',
        'return img.convert("RGB"), alpha',
        ("tests/test_alpha.py::test_what_lies_under_transparent_pixels_does_not_reach_the_picture",),
    ),
    Mutation(
        "the fill leaves transparent pixels black",
        "nst/base/alpha.py",
        "filled = weighted + (1 - coverage) * coarse",
        "filled = weighted",
        (
            "tests/test_alpha.py::test_transparent_pixels_take_the_nearest_visible_colours_and_opaque_ones_keep_theirs",
        ),
    ),
    Mutation(
        "a Gatys run drops the content's alpha",
        "nst/methods/gatys/loop.py",
        "return events if alpha is None else _with_alpha(events, alpha)",
        "return events",
        (
            "tests/test_alpha.py::test_a_sticker_keeps_its_alpha_exactly_through_every_method_and_its_opaque_part_is_painted[gatys]",
        ),
    ),
    Mutation(
        "the photo's own embedding sees the hidden colours",
        "nst/methods/arbitrary.py",
        "ImageOps.fit(split(image)[0],",
        'ImageOps.fit(image.convert("RGB"),',
        (
            "tests/test_alpha.py::test_what_lies_under_transparent_pixels_does_not_reach_the_picture[arbitrary]",
        ),
    ),
    Mutation(
        "a picture with transparency decodes as RGB",
        "nst/base/images.py",
        "if alpha and rgba.getextrema()[3][0] < 255:",
        "if False:",
        ("tests/test_alpha.py::test_an_opaque_picture_decodes_as_rgb_even_with_an_alpha_channel",),
    ),
    Mutation(
        "a fully opaque RGBA picture keeps its alpha channel",
        "nst/base/images.py",
        "if alpha and rgba.getextrema()[3][0] < 255:",
        "if alpha:",
        ("tests/test_alpha.py::test_an_opaque_picture_decodes_as_rgb_even_with_an_alpha_channel",),
    ),
    Mutation(
        "the recipe does not note the alpha",
        "nst/base/recipes.py",
        'recipe = dataclasses.replace(recipe, alpha=content.mode == "RGBA")\n',
        "",
        ("tests/test_alpha.py::test_the_cli_keeps_alpha_in_its_result_recipe_again_and_batches",),
    ),
    Mutation(
        "a recipe's content read back without its alpha",
        "nst/base/recipes.py",
        "content = load_image(attached[CONTENT_KEY], alpha=True)",
        "content = load_image(attached[CONTENT_KEY])",
        ("tests/test_alpha.py::test_the_cli_keeps_alpha_in_its_result_recipe_again_and_batches",),
    ),
    Mutation(
        "a batch's photos decoded without their alpha",
        "nst/methods/batch.py",
        "image = load_image(job.data, max_side=max_side, alpha=True)",
        "image = load_image(job.data, max_side=max_side)",
        ("tests/test_alpha.py::test_the_cli_keeps_alpha_in_its_result_recipe_again_and_batches",),
    ),
    Mutation(
        "a JPEG result with alpha is not flattened",
        "nst/base/images.py",
        "and path.suffix.lower() not in ALPHA_SUFFIXES:",
        "and False:",
        ("tests/test_alpha.py::test_the_cli_keeps_alpha_in_its_result_recipe_again_and_batches",),
    ),
    Mutation(
        "the Space decodes the photo without its alpha",
        "nst/space/uploads.py",
        "return load_image(self.checked(upload, what), max_side=max_side, alpha=alpha)",
        "return load_image(self.checked(upload, what), max_side=max_side)",
        ("tests/test_alpha.py::test_the_app_gives_a_sticker_back_with_its_alpha_from_each_method",),
    ),
    Mutation(
        "a batch queues in the one CPU lane, ahead of single pictures",
        "nst/space/admission.py",
        '    if method == "batch":\n',
        '    if method == "never":\n',
        ("tests/test_batches.py::test_a_single_picture_is_served_while_a_batch_paints",),
    ),
    Mutation(
        "a bad photo ends the batch",
        "nst/space/batches.py",
        "                continue\n",
        "                break\n",
        (
            "tests/test_batches.py::test_a_batch_gives_every_good_photo_a_picture_and_a_zip_entry_and_the_bad_one_a_line",
        ),
    ),
    Mutation(
        "the batch's ZIP is downloaded under a random name",
        "nst/space/batches.py",
        'fresh(".zip", stem="stylised-photos")',
        'fresh(".zip")',
        (
            "tests/test_batches.py::test_a_batch_gives_every_good_photo_a_picture_and_a_zip_entry_and_the_bad_one_a_line",
        ),
    ),
    Mutation(
        "the ZIP's entries keep the server's file names",
        "nst/space/batches.py",
        "archive.write(file, name)",
        "archive.write(file, Path(file).name)",
        (
            "tests/test_batches.py::test_a_batch_gives_every_good_photo_a_picture_and_a_zip_entry_and_the_bad_one_a_line",
        ),
    ),
    Mutation(
        "the report does not name the photo being painted",
        "nst/space/batches.py",
        "failed, doing=shown)",
        "failed, doing=None)",
        (
            "tests/test_batches.py::test_a_batch_gives_every_good_photo_a_picture_and_a_zip_entry_and_the_bad_one_a_line",
        ),
    ),
    Mutation(
        "a batch over NST_BATCH_PHOTOS is painted anyway",
        "nst/space/batches.py",
        "if len(photos) > cap:",
        "if len(photos) > 10 * cap:",
        (
            "tests/test_batches.py::test_a_batch_with_a_style_image_paints_with_any_style_and_too_many_photos_are_refused",
        ),
    ),
    Mutation(
        "a batch's style image is ignored",
        "nst/space/batches.py",
        "if style_image is not None:",
        "if style_image is None and False:",
        (
            "tests/test_batches.py::test_a_batch_with_a_style_image_paints_with_any_style_and_too_many_photos_are_refused",
        ),
    ),
    Mutation(
        "two photos of one name overwrite each other in the ZIP",
        "nst/space/batches.py",
        'while (name := f"{stem}.png" if n == 1 else f"{stem}-{n}.png") in names:',
        'while (name := f"{stem}.png") in names and n < 1:',
        ("tests/test_batches.py::test_each_photo_is_named_after_itself_and_a_name_used_twice_is_numbered",),
    ),
    Mutation(
        "a request behind any wait is admitted",
        "nst/space/backlog.py",
        "if not self.limit or wait <= self.limit:",
        "if True:",
        (
            "tests/test_backlog.py::test_the_wait_is_the_work_waiting_and_left_running_over_the_lanes_jobs",
            "tests/test_backlog.py::test_a_request_behind_too_much_work_is_refused_and_told_the_wait",
        ),
    ),
    Mutation(
        "the runs going on are left out of the wait",
        "nst/space/backlog.py",
        "left = sum(max(0.0, expected - (now - start)) for start, expected in running)",
        "left = 0.0",
        ("tests/test_backlog.py::test_a_run_counts_while_it_goes_on_and_a_finished_one_teaches_its_cost",),
    ),
    Mutation(
        "the requests waiting in Gradio's queue are left out of the wait",
        "nst/space/backlog.py",
        "            found.append((gated.endpoint,",
        "            found and found.append((gated.endpoint,",
        ("tests/test_backlog.py::test_a_request_behind_too_much_work_is_refused_and_told_the_wait",),
    ),
    Mutation(
        "a finished run teaches nothing",
        "nst/space/backlog.py",
        "self.cost[endpoint] += LEARNING *",
        "self.cost[endpoint] += 0 *",
        ("tests/test_backlog.py::test_a_run_counts_while_it_goes_on_and_a_finished_one_teaches_its_cost",),
    ),
    Mutation(
        "the wait ignores the lane's jobs at once",
        "nst/space/backlog.py",
        'return (left + queued) / lane["concurrency_limit"]',
        "return left + queued",
        ("tests/test_backlog.py::test_the_wait_is_the_work_waiting_and_left_running_over_the_lanes_jobs",),
    ),
    Mutation(
        "the queue's gate is not installed",
        "nst/space/layout.py",
        '"app_kwargs": {"middleware": [Middleware(Gate)]},',
        '"app_kwargs": {},',
        ("tests/test_backlog.py::test_a_request_behind_too_much_work_is_refused_and_told_the_wait",),
    ),
    Mutation(
        "the crowd benchmark measures no cap",
        "bench/crowd.py",
        "            rows.append((cap, runs, peak_rss(proc.pid)))",
        "            rows.clear()",
        ("tests/test_bench.py::test_each_benchmark_runs_its_quick_mode_and_prints_its_table[bench.crowd]",),
    ),
    Mutation(
        "the result view reads a sticker as RGB",
        "nst/space/view.py",
        'type="filepath", format="png", image_mode=None, interactive=False',
        'type="filepath", format="png", interactive=False',
        ("tests/test_alpha.py::test_the_result_view_and_history_read_a_result_with_its_alpha",),
    ),
    Mutation(
        "TV squared instead of the gradient's length",
        "nst/base/losses.py",
        "return (dy.square() + dx.square() + 1e-8).sqrt().mean()",
        "return (dy.square() + dx.square()).mean()",
        ("tests/test_losses.py::test_tv_loss_is_the_gradients_mean_length",),
    ),
    Mutation(
        "TV anisotropic, favouring axis-aligned edges",
        "nst/base/losses.py",
        "return (dy.square() + dx.square() + 1e-8).sqrt().mean()",
        "return (dy.abs() + dx.abs()).mean()",
        ("tests/test_losses.py::test_tv_loss_charges_a_slope_alike_at_every_angle",),
    ),
    Mutation(
        "Gram matrix not divided by the layer's size",
        "nst/base/losses.py",
        "return _Gram.apply(features.permute(0, 2, 3, 1).reshape(b, h * w, c), c * h * w)",
        "return _Gram.apply(features.permute(0, 2, 3, 1).reshape(b, h * w, c), 1)",
        ("tests/test_losses.py",),
    ),
    Mutation(
        "loss terms not relative to their targets: the balance follows the network's scale",
        "nst/base/losses.py",
        "return (diff.square().flatten(1).sum(1) / target_norm).mean()",
        "return diff.square().flatten(1).sum(1).mean()",
        (
            "tests/test_losses.py",
            "tests/test_gatys.py::test_the_pastiche_does_not_depend_on_the_loss_networks_activation_scale",
        ),
    ),
    Mutation(
        "float16 asked for but not used",
        "nst/methods/engine.py",
        "with torch.autocast(device.type, torch.float16, enabled=half):",
        "with torch.autocast(device.type, torch.float16, enabled=False):",
        ("tests/test_engine.py::test_the_float16_branch_paints_the_float32_picture_to_within_rounding",),
    ),
    Mutation(
        "training resume restores no weights",
        "nst/methods/train/loop.py",
        'model.load_state_dict(saved["model"])',
        "pass",
        ("tests/test_fast.py::test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one",),
    ),
    Mutation(
        "training resume restores no optimiser state",
        "nst/methods/train/loop.py",
        'optimizer.load_state_dict(saved["optimizer"])',
        "pass",
        ("tests/test_fast.py::test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one",),
    ),
    Mutation(
        "thumbnails are the bare photo, not the network's picture",
        "nst/methods/fast.py",
        "picture = stylize(square, load_style(name, device=device))",
        "picture = square",
        ("tests/test_dumoulin.py::test_thumbnails_are_rendered_once_by_the_network",),
    ),
    Mutation(
        "video blending with the previous frame inverted",
        "nst/methods/video/painter.py",
        "Image.blend(frame, self.previous, self.options.blend_previous)",
        "Image.blend(frame, self.previous, 1 - self.options.blend_previous)",
        ("tests/test_video.py::test_blending_with_the_previous_frame_is_there_and_off_by_default",),
    ),
    Mutation(
        "MobileNetV2 loss network unpadded: a frame along the top and left",
        "nst/networks/mobilenet.py",
        "PAD = 8",
        "PAD = 0",
        ("tests/test_gatys_mobilenet.py",),
    ),
    Mutation(
        "Gatys style term dropped",
        "nst/methods/gatys/targets.py",
        '"style": style_terms(grams, layers.style_weights, options.style_weight)',
        '"style": style_terms(grams, layers.style_weights, 0.0)',
        ("tests/test_gatys_mobilenet.py",),
    ),
    Mutation(
        "the one-pass handler drops the second style",
        "nst/space/handlers.py",
        "picture = method.paint(image, styles, options, masks=masks)",
        "picture = method.paint(image, styles[:1], options, masks=masks)",
        ("tests/test_app.py::test_any_style_endpoint",),
    ),
    Mutation(
        "the one-pass handler ignores the strength asked for",
        "nst/space/handlers.py",
        "strength=strength,\n                preserve_color=colours,\n                style_blend",
        "strength=1.0,\n                preserve_color=colours,\n                style_blend",
        ("tests/test_app.py::test_any_style_endpoint",),
    ),
    Mutation(
        "the app builds its thumbnails and checks on the default device (CUDA on ZeroGPU)",
        "nst/space/layout.py",
        'BUILD_DEVICE = torch.device("cpu")',
        "BUILD_DEVICE = None",
        (
            "tests/test_app.py::test_building_the_app_does_no_cuda_work_and_gives_each_method_its_lane_on_a_gpu",
        ),
    ),
    Mutation(
        "the app switches off Gradio's check on the paths a request names",
        "nst/space/handlers.py",
        "import gradio as gr\n",
        "import gradio as gr\nimport gradio.processing_utils\n\n"
        "gradio.processing_utils._check_allowed = lambda path, check_in_upload_folder: None\n",
        ("tests/test_hostile.py::test_no_endpoint_reads_server_paths",),
    ),
    Mutation(
        "requests finishing together trip over each other's cleaning of old results",
        "nst/space/results.py",
        "with suppress(FileNotFoundError):",
        "with suppress():",
        ("tests/test_app.py::test_old_results_are_cleaned_and_the_before_after_pane_closes_what_it_reads",),
    ),
    Mutation(
        "an upload the cache has since removed fails as a server error",
        "nst/space/uploads.py",
        "        except FileNotFoundError as err:\n            raise gr.Error(",
        "        except NotImplementedError as err:\n            raise gr.Error(",
        ("tests/test_hostile.py::test_an_upload_the_server_has_since_removed_is_asked_for_again",),
    ),
    Mutation(
        "a network reaches up to a method for its catalogue",
        "nst/networks/dumoulin.py",
        "def builtin_network(device: torch.device | None = None) -> MultiStyleNet:\n",
        "def builtin_network(device: torch.device | None = None) -> MultiStyleNet:\n"
        "    from nst.methods.catalogue import load_catalogue  # noqa: F401\n",
        ("tests/test_house.py::test_no_floor_imports_from_a_floor_above_it",),
    ),
    Mutation(
        "importing app.py builds the Space (checks, thumbnails, temporary folders)",
        "app.py",
        'if __name__ == "__main__":\n',
        "from nst.space.layout import build\n\ndemo = build(Settings.from_env())\n\n"
        'if __name__ == "__main__":\n',
        (
            "tests/test_house.py::test_importing_every_module_writes_no_file_loads_no_weights_and_starts_no_thread",
        ),
    ),
    Mutation(
        "the device is read from the environment deep inside the library",
        "nst/base/device.py",
        "    return _chosen(current().device.strip())",
        '    return _chosen(os.environ.get("NST_DEVICE", "").strip())',
        ("tests/test_house.py::test_no_module_reads_the_environment_outside_the_settings_home",),
    ),
    Mutation(
        "the command line reads the app's variables too",
        "nst/base/settings.py",
        'if raw and surface in f.metadata["surfaces"]:',
        "if raw:",
        (
            "tests/test_house.py::test_each_surface_reads_its_own_variables_and_a_bad_value_names_the_variable",
        ),
    ),
    Mutation(
        "a default changed in the settings but not in the docs",
        "nst/base/settings.py",
        'upload_mb: int = setting(20, "NST_MAX_UPLOAD_MB"',
        'upload_mb: int = setting(25, "NST_MAX_UPLOAD_MB"',
        ("tests/test_docs.py::test_the_configuration_pages_table_is_the_settings",),
    ),
    Mutation(
        "a command-line flag renamed but not in the docs",
        "nst/cli.py",
        'p.add_argument("--repo-id", required=True',
        'p.add_argument("--repo", required=True',
        ("tests/test_docs.py::test_every_command_and_flag_the_docs_name_exists",),
    ),
    Mutation(
        "a subcommand renamed but not in the docs",
        "nst/cli.py",
        'sub.add_parser("styles", help=',
        'sub.add_parser("catalogue", help=',
        ("tests/test_docs.py::test_every_command_and_flag_the_docs_name_exists",),
    ),
    Mutation(
        "a setting renamed but not in the docs",
        "nst/base/settings.py",
        '100, "NST_QUEUE_SIZE"',
        '100, "NST_QUEUE_LENGTH"',
        ("tests/test_docs.py::test_every_setting_the_docs_name_is_declared",),
    ),
    Mutation(
        "an endpoint renamed but not in the docs",
        "nst/space/handlers.py",
        "    def contact_sheet(self, content: Upload)",
        "    def sheet(self, content: Upload)",
        ("tests/test_docs.py::test_every_endpoint_the_docs_name_is_one_of_the_spaces",),
    ),
    Mutation(
        "the README shows a picture that is not there",
        "README.md",
        "(docs/images/rocket.jpg)",
        "(docs/images/rocket.png)",
        ("tests/test_docs.py::test_every_picture_and_page_the_docs_link_is_there",),
    ),
    Mutation(
        "a heading renamed that another page links to",
        "docs/gatys.md",
        "## Gatys without VGG-19",
        "## Gatys on MobileNetV2",
        ("tests/test_docs.py::test_every_picture_and_page_the_docs_link_is_there",),
    ),
    Mutation(
        "the grid writes its results at full size",
        "bench/grid.py",
        "result = small(method(photo, paintings), side)",
        "result = method(photo, paintings)",
        ("tests/test_bench.py::test_the_grid_paints_every_method_small_and_prints_the_table_that_shows_it",),
    ),
    Mutation(
        "a tab wires its components without matching the handler's parameters",
        "nst/space/tabs/common.py",
        "    if sorted(names) != sorted(fields):",
        "    if False:",
        ("tests/test_space_wiring.py",),
    ),
    Mutation(
        "ZeroGPU's duration misses the defaults of what a request leaves out",
        "nst/space/admission.py",
        "        request.apply_defaults()\n",
        "",
        ("tests/test_space_wiring.py",),
    ),
    Mutation(
        "a raw request helper that lets a parameter go unnamed",
        "tests/test_hostile.py",
        "    if sorted(names) != sorted(named):",
        "    if False:",
        ("tests/test_hostile.py::test_a_raw_request_must_name_every_parameter",),
    ),
    Mutation(
        "thumbnails squash the photo into a square instead of cropping its centre",
        "nst/methods/fast.py",
        "square = ImageOps.fit(load_image(photo_bytes), (side, side), Image.Resampling.LANCZOS)",
        "square = load_image(photo_bytes).resize((side, side), Image.Resampling.LANCZOS)",
        (
            "tests/test_sheet.py::test_a_thumbnail_is_the_default_photos_centre_painted_and_is_painted_again_for_a_new_photo",
        ),
    ),
    Mutation(
        "a thumbnail cached for an earlier photo is served after the photo changed",
        "nst/methods/fast.py",
        'key = hashlib.blake2b(f"{source}:{scene}:{side}".encode(), digest_size=8).hexdigest()',
        'key = hashlib.blake2b(f"{source}:{side}".encode(), digest_size=8).hexdigest()',
        (
            "tests/test_sheet.py::test_a_thumbnail_is_the_default_photos_centre_painted_and_is_painted_again_for_a_new_photo",
        ),
    ),
    Mutation(
        "a shipped picture goes undescribed in its folder's README",
        "nst/pictures/README.md",
        "| `rocket.jpg` |",
        "| rocket |",
        ("tests/test_sheet.py::test_every_shipped_picture_is_there_small_and_listed_with_its_licence",),
    ),
    Mutation(
        "the Any style and Gatys examples show only one of the paintings",
        "nst/space/examples.py",
        "str(picture(PAINTINGS[i % len(PAINTINGS)]))",
        "str(picture(PAINTINGS[0]))",
        (
            "tests/test_sheet.py::test_the_examples_are_shipped_photos_with_the_paintings_or_ready_built_in_styles",
        ),
    ),
    Mutation(
        "the Fast examples offer built-in styles that are not ready",
        "nst/space/examples.py",
        "        if style in names\n",
        "",
        (
            "tests/test_sheet.py::test_the_examples_are_shipped_photos_with_the_paintings_or_ready_built_in_styles",
        ),
    ),
    Mutation(
        "the contact sheet paints every style of a pass in the pass's first style",
        "nst/methods/sheet.py",
        "mixes[row, style.index] = 1",
        "mixes[row, part[0].index] = 1",
        (
            "tests/test_sheet.py::test_the_contact_sheet_paints_each_style_as_it_paints_alone_in_the_order_asked",
        ),
    ),
    Mutation(
        "the contact sheet lists the styles network by network, not in the order asked",
        "nst/methods/sheet.py",
        "return [(name, painted[name]) for name in chosen]",
        "return list(painted.items())",
        (
            "tests/test_sheet.py::test_the_contact_sheet_paints_each_style_as_it_paints_alone_in_the_order_asked",
        ),
    ),
    Mutation(
        "the contact sheet paints a network's styles one pass each",
        "nst/methods/sheet.py",
        'per_pass = max(1, engine.fits_in_memory(style_device, style_device.type == "cuda") // (w * h))',
        "per_pass = 1",
        ("tests/test_sheet.py::test_the_styles_of_one_network_are_painted_together_in_one_pass",),
    ),
    Mutation(
        "the contact-sheet benchmark leaves out the one-by-one row",
        "bench/sheet.py",
        "        for way, seconds in times.items():\n",
        "        for way, seconds in list(times.items())[:1]:\n",
        ("tests/test_bench.py::test_each_benchmark_runs_its_quick_mode_and_prints_its_table[bench.sheet]",),
    ),
    Mutation(
        "recipes name another version than the project's",
        "nst/__init__.py",
        '__version__ = "0.1.0"',
        '__version__ = "0.0.0"',
        ("tests/test_recipes.py::test_a_recipe_keeps_every_option_through_json_and_names_this_version",),
    ),
    Mutation(
        "a recipe read back differs from the one written (its tuples come back as lists)",
        "nst/base/recipes.py",
        'object.__setattr__(self, "options", json.loads(json.dumps(self.options, allow_nan=False)))',
        "pass",
        ("tests/test_recipes.py::test_a_recipe_keeps_every_option_through_json_and_names_this_version",),
    ),
    Mutation(
        "painting a fast recipe again ignores its options",
        "nst/methods/registry.py",
        "return fast.stylize(content, styles, options, masks=masks)",
        "return fast.stylize(content, styles, masks=masks)",
        ("tests/test_recipes.py::test_fast_through_the_cli_is_painted_again_from_its_png_alone",),
    ),
    Mutation(
        "the content photo rides in the result as a JPEG",
        "nst/base/recipes.py",
        'img.save(out, format="PNG", compress_level=PNG_COMPRESSION)',
        'img.save(out, format="JPEG", quality=95)',
        ("tests/test_recipes.py::test_fast_through_the_cli_is_painted_again_from_its_png_alone",),
    ),
    Mutation(
        "a result does not carry its region masks",
        "nst/base/recipes.py",
        '{f"{MASK_KEY}{k}": m.convert("L") for k, m in enumerate(masks or [])}',
        "{}",
        (
            "tests/test_recipes.py::test_any_style_with_regions_is_painted_again_given_its_style_images_in_any_order",
        ),
    ),
    Mutation(
        "painting an any-style recipe again ignores its masks",
        "nst/methods/registry.py",
        "return arbitrary.stylize(content, styles, options, masks=masks)",
        "return arbitrary.stylize(content, styles, options)",
        (
            "tests/test_recipes.py::test_any_style_with_regions_is_painted_again_given_its_style_images_in_any_order",
        ),
    ),
    Mutation(
        "style images are decoded whole when a recipe is painted again",
        "nst/methods/again.py",
        "load_image(images[s], max_side=recipe.style_side)",
        "load_image(images[s])",
        ("tests/test_recipes.py::test_a_library_recipe_decodes_the_style_images_as_the_run_did",),
    ),
    Mutation(
        "painting a Gatys recipe again forgets its seed",
        "nst/methods/again.py",
        'seed = {} if recipe.seed is None or "seed" not in fields else {"seed": recipe.seed}',
        "seed = {}",
        (
            "tests/test_recipes.py::test_seeded_gatys_through_the_cli_paints_the_same_pastiche_again_on_the_network_it_ran_on",
        ),
    ),
    Mutation(
        "a Gatys recipe records auto, not the loss network the run used",
        "nst/methods/again.py",
        "options = find(method).resolve(options)",
        "options = options",
        (
            "tests/test_recipes.py::test_seeded_gatys_through_the_cli_paints_the_same_pastiche_again_on_the_network_it_ran_on",
        ),
    ),
    Mutation(
        "a clip's recipe is not written into its MP4",
        "nst/methods/video/transcode.py",
        "out.metadata[RECIPE_TAG] = recipe.to_json()",
        "pass",
        ("tests/test_recipes.py::test_a_clip_carries_its_recipe_in_its_mp4_and_is_painted_again_from_it",),
    ),
    Mutation(
        "a recipe of a newer format is read as this one",
        "nst/base/recipes.py",
        'if raw["format"] > FORMAT:',
        "if False:",
        ("tests/test_recipes.py::test_no_recipe_a_damaged_one_or_a_newer_one_is_one_line",),
    ),
    Mutation(
        "a changed byte in a recipe reads as another recipe",
        "nst/base/recipes.py",
        'if kind in (b"iTXt", ATTACHMENT) and zlib.crc32',
        "if kind in () and zlib.crc32",
        ("tests/test_recipes.py::test_no_recipe_a_damaged_one_or_a_newer_one_is_one_line",),
    ),
    Mutation(
        "a result cut short before its photo fails with a traceback",
        "nst/base/recipes.py",
        "if CONTENT_KEY not in attached:",
        "if False:",
        ("tests/test_recipes.py::test_no_recipe_a_damaged_one_or_a_newer_one_is_one_line",),
    ),
    Mutation(
        "a PNG without a recipe fails with a traceback",
        "nst/base/recipes.py",
        "if text is None:",
        "if False:",
        ("tests/test_recipes.py::test_no_recipe_a_damaged_one_or_a_newer_one_is_one_line",),
    ),
    Mutation(
        "again asks for a missing style image without naming the file or the flag",
        "nst/cli.py",
        "    if missing:\n        raise RecipeError(",
        "    if False:\n        raise RecipeError(",
        ("tests/test_recipes.py::test_a_missing_style_image_is_named_in_one_line",),
    ),
    Mutation(
        "the video and live tabs keep the photo and result panes",
        "nst/space/layout.py",
        "return gr.update(visible=photo), gr.update(visible=photo)",
        "return gr.update(visible=True), gr.update(visible=True)",
        ("tests/test_visitor.py::test_the_video_and_live_tabs_show_no_photo_or_result_pane",),
    ),
    Mutation(
        "the result view stretches a small picture to the column's width",
        "nst/space/view.py",
        "return gr.update(value=pair, width=round(width * scale)),",
        "return gr.update(value=pair),",
        ("tests/test_visitor.py::test_a_result_is_shown_at_its_own_size_never_stretched_and_says_it",),
    ),
    Mutation(
        "one history for every visitor, kept on the shared page",
        "nst/space/tabs/common.py",
        "history = history.remember(result, words, [f for f in files if isinstance(f, str)])",
        "page.shared = history = getattr(page, 'shared', history).remember(result, words)",
        ("tests/test_visitor.py::test_two_sessions_histories_stay_apart",),
    ),
    Mutation(
        "a history unbounded and holding results the app has cleaned away",
        "nst/space/view.py",
        "if len(kept) == HISTORY_COUNT or not Path(entry.path).exists():",
        "if False:",
        (
            "tests/test_visitor.py::test_a_history_keeps_the_newest_within_its_bounds_and_drops_cleaned_results",
        ),
    ),
    Mutation(
        "a contact-sheet click picks the first style whatever the tile",
        "nst/space/tabs/fast.py",
        'return event.value["caption"]',
        "return gr.skip()",
        ("tests/test_visitor.py::test_a_contact_sheet_click_selects_the_style_and_paints_it",),
    ),
    Mutation(
        "the app's results carry no recipe",
        "nst/space/handlers.py",
        "return self.results.png(picture, image, made, masks)",
        "return self.results.png(picture, image)",
        (
            "tests/test_visitor.py::test_every_methods_result_through_gradio_client_carries_its_recipe_and_paints_again",
            "tests/test_visitor.py::test_a_result_dropped_back_restores_its_controls_and_paints_the_same_picture",
        ),
    ),
    Mutation(
        "reuse settings restores the fast tab's strength as full",
        "nst/space/tabs/fast.py",
        '"second_style": recipe.styles[1] if len(recipe.styles) > 1 else "",\n'
        '        "strength": o["strength"],',
        '"second_style": recipe.styles[1] if len(recipe.styles) > 1 else "",\n        "strength": 1.0,',
        (
            "tests/test_visitor.py::test_a_result_dropped_back_restores_its_controls_and_paints_the_same_picture",
        ),
    ),
    Mutation(
        "a URL the app refuses to fetch gets Gradio's generic message",
        "nst/space/fetching.py",
        "    component.async_move_resource_to_block_cache = fetched\n",
        "",
        (
            "tests/test_visitor.py::test_the_contact_sheet_endpoint_gives_every_ready_style_by_name_and_a_bad_photo_one_line",
            "tests/test_app.py::test_mcp_clients_list_the_six_tools_get_a_picture_back_and_a_refused_url_in_one_line",
        ),
    ),
    Mutation(
        "the loss-network notice repeats the whole weights error",
        "nst/space/tabs/gatys.py",
        'gr.Markdown(f"Runs on **{chosen.title}**: {chosen.reason}.", elem_id="nst-loss-network")',
        'gr.Markdown(f"Runs on **{chosen.title}**: {chosen.reason}. {chosen.details}", '
        'elem_id="nst-loss-network")',
        (
            "tests/test_app.py::test_without_weights_the_ui_starts_says_what_is_missing_and_gatys_runs_on_mobilenet",
        ),
    ),
    Mutation(
        "the app's clips carry no recipe",
        "nst/space/handlers.py",
        "video.stylize_video(clip, target, chosen, options, recipe=made)",
        "video.stylize_video(clip, target, chosen, options)",
        (
            "tests/test_visitor.py::test_every_methods_result_through_gradio_client_carries_its_recipe_and_paints_again",
        ),
    ),
    Mutation(
        "the history forgets the style images its results used",
        "nst/space/view.py",
        "styles = {**self.styles, **{file_digest(f): f for f in style_files}}",
        "styles = dict(self.styles)",
        (
            "tests/test_visitor.py::"
            "test_reuse_settings_takes_a_style_image_from_the_session_and_asks_in_one_line_for_one_gone",
        ),
    ),
    Mutation(
        "a setting that may be None finds no parser for its type",
        "nst/base/settings.py",
        "    if typing.get_origin(kind) in (typing.Union, types.UnionType) and len(inner) == 1:\n"
        "        kind = inner[0]\n",
        "",
        (
            "tests/test_house.py::test_every_type_of_setting_reads_as_that_type_and_a_bad_value_says_what_it_is_not",
        ),
    ),
    Mutation(
        "a yes-or-no setting reads a word it does not know as no",
        "nst/base/settings.py",
        "    if word not in TRUE | FALSE:\n        raise ValueError(raw)\n",
        "",
        (
            "tests/test_house.py::test_every_type_of_setting_reads_as_that_type_and_a_bad_value_says_what_it_is_not",
        ),
    ),
    Mutation(
        "a whole-number setting reads a decimal too",
        "nst/base/settings.py",
        '    int: (int, "a whole number"),',
        '    int: (lambda raw: int(float(raw)), "a whole number"),',
        (
            "tests/test_house.py::test_every_type_of_setting_reads_as_that_type_and_a_bad_value_says_what_it_is_not",
        ),
    ),
    Mutation(
        "the Space's torch is upgraded but not the package's",
        "requirements.txt",
        "torch==2.14.1\n",
        "torch==2.15.0\n",
        (
            "tests/test_house.py::test_the_package_needs_what_the_space_installs_and_its_script_is_the_command_line",
        ),
    ),
    Mutation(
        "the base floor borrows a method, from above",
        "nst/base/images.py",
        '    """[1, 3, H, W] or [3, H, W] (see :func:`to_images`) → one RGB image."""\n',
        '    """[1, 3, H, W] or [3, H, W] (see :func:`to_images`) → one RGB image."""\n'
        "    from nst.methods import engine  # noqa: F401\n",
        ("tests/test_house.py::test_no_floor_imports_from_a_floor_above_it",),
    ),
    Mutation(
        "the command line borrows the Space's app.py",
        "nst/cli.py",
        '    top = argparse.ArgumentParser(prog="python -m nst", description=__doc__)\n',
        "    from app import main as serve  # noqa: F401\n\n"
        '    top = argparse.ArgumentParser(prog="python -m nst", description=__doc__)\n',
        ("tests/test_house.py::test_no_floor_imports_from_a_floor_above_it",),
    ),
    Mutation(
        "the page lays out only the five built-in tabs, not a method registered since",
        "nst/space/layout.py",
        "            for shown in TABS.values():",
        "            for shown in list(TABS.values())[:5]:",
        (
            "tests/test_registry.py::"
            "test_a_method_registered_once_is_a_tab_an_endpoint_an_mcp_tool_and_a_recipe_that_paints_again",
        ),
    ),
    Mutation(
        "the uploads override a misspelt Gradio method, which Gradio never calls",
        "nst/space/fetching.py",
        "    component.async_move_resource_to_block_cache = fetched\n",
        "    component.async_move_resource_to_cache = fetched\n",
        (
            "tests/test_space_wiring.py::test_the_gradio_method_the_uploads_override_is_still_how_gradio_fetches_a_url",
        ),
    ),
    Mutation(
        "every read of an endpoint wraps it for ZeroGPU anew (a GPU process a call)",
        "nst/space/admission.py",
        "handlers.__dict__[self.name] = wrapped = spaces.GPU(duration=duration)(bound)",
        "wrapped = spaces.GPU(duration=duration)(bound)",
        (
            "tests/test_space_wiring.py::"
            "test_each_endpoint_is_wrapped_once_bound_for_zerogpu_with_its_own_duration",
        ),
    ),
    Mutation(
        "NST_VGG_WEIGHTS is ignored",
        "nst/base/weights.py",
        "    explicit = current().vgg_weights.strip()\n",
        '    explicit = ""\n',
        ("tests/test_weights_vgg.py::test_explicit_features_only_file_is_accepted",),
    ),
    Mutation(
        "a cached VGG-19 that torch cannot unpickle escapes as a traceback",
        "nst/base/weights.py",
        "        except Exception as err:  # a cached file that torch cannot read",
        "        except OSError as err:  # a cached file that torch cannot read",
        ("tests/test_weights_vgg.py::test_a_damaged_vgg_file_is_one_line_and_exit_1_in_the_cli",),
    ),
    Mutation(
        "the Hub's copy of VGG-19 is read without its hash checked",
        "nst/base/weights.py",
        "    if sha256(blob) != expected:",
        "    if False:",
        ("tests/test_weights_vgg.py::test_a_damaged_hub_copy_is_named_in_one_line",),
    ),
    Mutation(
        "VGG-19's weights are loaded without their shapes checked",
        "nst/networks/vgg.py",
        "if key not in state or state[key].shape != tensor.shape:",
        "if key not in state:",
        ("tests/test_weights_vgg.py::test_wrong_shapes_are_refused",),
    ),
    Mutation(
        "auto without VGG-19's weights stops instead of falling back to MobileNetV2",
        "nst/networks/loss_network.py",
        '        return Chosen("mobilenet", "VGG-19\'s weights are not installed", str(err))',
        "        raise",
        ("tests/test_gatys_mobilenet.py::test_offline_without_vgg_the_cli_runs_on_mobilenet_and_says_why",),
    ),
    Mutation(
        "a Gram target made with one VGG-19's weights serves another's",
        "nst/methods/gatys/targets.py",
        '    weights = weights_location() if o.loss_network == "vgg19" else ()\n',
        "    weights = ()\n",
        ("tests/test_gatys.py::test_the_pastiche_does_not_depend_on_the_loss_networks_activation_scale",),
    ),
    Mutation(
        "VGG-19's features load once a process, whatever weights the settings name",
        "nst/networks/vgg.py",
        "    return _loaded(device, weights_location())\n",
        '    return _loaded(device, ("", ""))\n',
        ("tests/test_gatys.py::test_the_pastiche_does_not_depend_on_the_loss_networks_activation_scale",),
    ),
    Mutation(
        "app.py shows a traceback for a setting that does not parse",
        "app.py",
        '        raise SystemExit(f"error: {err}") from None\n',
        "        raise\n",
        ("tests/test_space.py::test_app_py_refuses_a_setting_that_does_not_parse_in_one_line",),
    ),
    Mutation(
        "app.py's main grows past sixty lines",
        "app.py",
        "    build(settings).launch(**launch_options(settings))\n",
        "    build(settings).launch(**launch_options(settings))\n" + "    pass\n" * 60,
        ("tests/test_house.py::test_rooms_stay_small_modules_under_400_lines_functions_under_60",),
    ),
)


LIBRARIES = (
    *("torch", "torchvision", "numpy", "PIL.Image", "cv2", "av", "safetensors.torch", "huggingface_hub"),
    *("httpx", "gradio", "gradio_client", "spaces", "playwright.sync_api", "pytest"),
)
"""What every worker imports once, before any fork: the tests' third-party libraries, not ours."""
SLOW_FIRST = tuple(f"tests/test_{name}.py" for name in ("distributed", "bench", "live_app", "app"))
"""Test files whose runs take longest: their mutations start first, so no worker idles at the end."""


def copy_tree(target: Path) -> None:
    """The working tree's tracked and untracked (not ignored) files, copied under ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _start_worker(threads: int) -> None:
    """A worker: its own copy of the tree and its own offline caches (set before huggingface_hub reads
    them), the libraries imported, ``threads`` threads for torch and the processes the tests start."""
    tree = Path(tempfile.mkdtemp(prefix="nst-mutants-"))
    copy_tree(tree)
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    for name in [n for n in sys.modules if n.partition(".")[0] == "tests"]:
        del sys.modules[name]  # run as ``python -m tests.mutations``: the checkout's; the copy's are tested
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from tests.support.environment import prepare

    prepare()
    for name in LIBRARIES:
        __import__(name)
    import torch

    torch.set_num_threads(threads)


def _tests_fail(tests: tuple[str, ...], log: Path) -> tuple[int, float]:
    """The exit status of a forked ``pytest`` on ``tests`` (whatever their tier), its output in ``log``,
    and the CPU seconds it and the processes it waited for (servers, browsers, torchrun) used."""
    pid = os.fork()
    if pid == 0:
        status = 3
        try:
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(out, 1)
            os.dup2(out, 2)
            import pytest

            status = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-m", "", *tests]))
        finally:
            os._exit(status)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def run(index: int) -> tuple[int, int, float, float, str]:
    """(index, exit status, seconds, CPU seconds, output's end): mutation ``index``'s tests against this
    worker's tree, changed."""
    mutation = MUTATIONS[index]
    path = Path(mutation.file)
    original = path.read_text()
    if original.count(mutation.old) != 1:
        return index, -1, 0.0, 0.0, f"{mutation.old!r} is not once in {mutation.file}; update it"
    path.write_text(original.replace(mutation.old, mutation.new))
    log = Path(tempfile.mkstemp(prefix="nst-mutant-", suffix=".log")[1])
    start = time.perf_counter()
    try:
        status, cpu = _tests_fail(mutation.tests, log)
    finally:
        path.write_text(original)
    printed = log.read_text(errors="replace")
    log.unlink()
    return index, status, time.perf_counter() - start, cpu, printed[-2000:]


def verdict(status: int, printed: str) -> bool:
    """Whether the tests failed on the mutation (killed it); a run that gave no verdict (the change did
    not apply, a test named that does not exist, none collected) stops the check. A mutation that
    breaks the import of the tests' own fixtures is caught too: pytest exits 4 then."""
    if status == -1 or status == 5 or (status == 4 and "ImportError while loading conftest" not in printed):
        raise SystemExit(f"no verdict (exit {status}):\n{printed}")
    return status != 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("words", nargs="*", help="run the mutations whose names contain one of these")
    parser.add_argument(
        "--workers",
        type=int,
        default=(os.cpu_count() or 1) + 1,
        help="default: one a core and one more, as many runs wait on a server, a browser or processes",
    )
    args = parser.parse_args(argv)
    wanted = args.words
    chosen = [i for i, m in enumerate(MUTATIONS) if not wanted or any(w in m.name for w in wanted)]
    chosen.sort(key=lambda i: not any(t.startswith(SLOW_FIRST) for t in MUTATIONS[i].tests))
    workers = max(1, min(len(chosen), args.workers))
    threads = max(1, (os.cpu_count() or 1) // workers)  # fewer cores than workers: one thread each
    print("| mutation | file | tests | outcome | seconds | CPU s |\n|---|---|---|---|---|---|", flush=True)
    survivors, began, cpu_total = [], time.perf_counter(), 0.0
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _start_worker, (threads,), maxtasksperchild=None) as pool:
        for index, status, seconds, cpu, printed in pool.imap_unordered(run, chosen):
            mutation = MUTATIONS[index]
            killed = verdict(status, f"{mutation.name}: {printed}")
            tests = ", ".join(t.removeprefix("tests/") for t in mutation.tests)
            outcome = "killed" if killed else "**survived**"
            cpu_total += cpu
            print(
                f"| {mutation.name} | {mutation.file} | {tests} | {outcome} | {seconds:.0f} | {cpu:.0f} |",
                flush=True,
            )
            if not killed:
                survivors.append(mutation.name)
    minutes = (time.perf_counter() - began) / 60
    killed = len(chosen) - len(survivors)
    print(f"\n{killed} of {len(chosen)} killed in {minutes:.1f} min ({cpu_total / 60:.1f} CPU min).")
    for name in survivors:
        print(f"survived: {name}")
    return len(survivors)


if __name__ == "__main__":
    sys.exit(main())
