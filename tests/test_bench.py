"""Every benchmark runs: each module's quick mode, called as ``python -m bench.X --quick`` would.

A benchmark that stops running (a module moved, an option renamed) fails here, not months later.
"""

from __future__ import annotations

import importlib
import re

import pytest
from PIL import Image

from tests.support.browser import needs_chromium
from tests.support.pictures import diagonal_stripes, drawn_scene

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "module",
    [
        *("bench.run", "bench.networks", "bench.video", "bench.gatys", "bench.scale", "bench.train"),
        *("bench.imports", "bench.suite", "bench.sheet", "bench.crowd"),
    ],
)
def test_each_benchmark_runs_its_quick_mode_and_prints_its_table(module, capsys):
    importlib.import_module(module).main(["--quick"])
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert len(table) >= 4, table  # a header, its rule and rows
    assert not any("nan" in line for line in table), table


def test_the_app_round_trip_benchmark_runs_against_the_test_server(server, capsys):
    importlib.import_module("bench.app").main(["--quick", "--url", server])
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert [line.split(" | ")[0] for line in table[2:4]] == ["| any style", "| built-in"], table
    parts = [line.split(" | ")[0] for line in table[6:9]]
    assert parts == ["| upload", "| call", "| download"], table
    assert table[9].startswith("| call beyond the library's") and len(table) == 10, table
    assert not any("nan" in line for line in table), table


@needs_chromium
def test_the_live_benchmark_runs_in_chromium_against_the_test_server(server, capsys):
    importlib.import_module("bench.live").main(["--quick", "--url", server])
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert len(table) == 4 and all(row.startswith("| 160×120 |") for row in table[2:]), table
    assert [row.split(" | ")[2] for row in table[2:]] == ["nice 0", "nice 19"], table
    assert not any("nan" in line for line in table), table


def test_the_grid_paints_every_method_small_and_prints_the_table_that_shows_it(tmp_path, capsys):
    importlib.import_module("bench.grid").main(["--quick", "--out", str(tmp_path)])
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert len(table) == 3 and table[0].count("|") == 8, table  # the photo and six results
    shown = re.findall(r"\]\(([^)]+\.jpg)\)", table[2])
    assert len(shown) == 7 and len(set(shown)) == 7, shown
    for path in shown:
        with Image.open(path) as picture:
            assert picture.format == "JPEG" and max(picture.size) == 48, (path, picture.size)


def test_the_gatys_benchmark_measures_your_own_pairs(tmp_path, capsys):
    """A few steps from the photo keep its drawing (structure well above 0), whatever the painting."""
    photo, painting = tmp_path / "photo.png", tmp_path / "painting.png"
    drawn_scene(96, 64).save(photo)
    diagonal_stripes(64).save(painting)
    importlib.import_module("bench.gatys").main(["--quick", "--pairs", f"{photo}:{painting}"])
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| MobileNetV2")]
    assert len(table) == 2 and all("photo in painting" in row for row in table), table  # app, CLI
    for row in table:
        kept = float(re.search(r"structure (-?[\d.]+)", row).group(1))
        assert kept > 0.6 and re.search(r"squares [\d.]+ \(the photo [\d.]+\)", row), row
