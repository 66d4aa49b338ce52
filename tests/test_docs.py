"""What the README and ``docs/`` name still exists: commands and their flags, endpoints, settings,
benchmarks, pictures and links; and the configuration page's table is the settings'."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import re
from pathlib import Path

from nst import cli
from nst.base.settings import Settings, markdown_table
from tests.support import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OTHER_TOOLS_FLAGS = {"--quick", "--url", "--out", "--share", "--extra-index-url"}
"""Flags the pages name for something other than ``python -m nst``: the benchmarks' (``--quick``,
``--url``, ``--out``), ``python app.py --share`` and pip's index line."""


def named(pattern: str) -> list[tuple[str, str]]:
    """``(page, match)`` for every match of ``pattern``'s first group on every page."""
    return [(p.name, m) for p in PAGES for m in re.findall(pattern, p.read_text())]


def commands() -> list[tuple[str, str]]:
    """``(page, command)`` for every ``-m nst`` command, from its subcommand to the line's end
    (or the closing backtick), lines ending in ``\\`` joined and ``#`` comments left out."""
    found = []
    for page in PAGES:
        text = page.read_text().replace("\\\n", " ")
        for line in text.splitlines():
            for command in re.findall(r"-m nst ([^`#]*)", line):
                found.append((page.name, command.strip()))
    return found


def subcommands() -> dict[str, set[str]]:
    """Each subcommand of the command line's parser, with its option strings."""
    (sub,) = [a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: set(p._option_string_actions) for name, p in sub.choices.items()}


def test_every_command_and_flag_the_docs_name_exists():
    known = subcommands()
    seen = commands()
    assert len(seen) > 20, seen
    for page, command in seen:
        name, *rest = command.split()
        assert name in known, f"{page}: `python -m nst {command}`: no subcommand {name!r}"
        flags = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", " ".join(rest)))
        assert flags <= known[name], f"{page}: `python -m nst {command}`: {flags - known[name]}"
    every = set().union(*known.values()) | OTHER_TOOLS_FLAGS
    for page, flag in named(r"`(--[a-z][\w-]*)"):
        assert flag in every, f"{page} names {flag}, which no subcommand takes"


def test_every_endpoint_the_docs_name_is_one_of_the_spaces():
    from nst.space.handlers import Handlers

    endpoints = {f"/{name}" for name in dir(Handlers) if not name.startswith("_")}
    seen = named(r'api_name="(/\w+)"') + named(r"`(/\w+)`")
    assert {e for _, e in seen} >= {"/stylize_fast", "/stylize_gatys", "/contact_sheet"}, seen
    for page, endpoint in seen:
        assert endpoint in endpoints, f"{page} names the endpoint {endpoint}, which the Space lacks"


def test_every_setting_the_docs_name_is_declared():
    declared = {f.metadata["env"] for f in dataclasses.fields(Settings)}
    seen = named(r"\b(NST_[A-Z0-9_]+)")
    assert len(seen) > 20, seen
    for page, name in seen:
        assert name in declared, f"{page} names {name}, which nst.base.settings does not declare"


def test_every_benchmark_the_docs_name_is_a_module():
    seen = named(r"\bbench\.(\w+)")
    assert {n for _, n in seen} >= {"run", "grid"}, seen
    for page, name in seen:
        assert importlib.util.find_spec(f"bench.{name}"), f"{page} names bench.{name}, which is not there"


def test_every_picture_and_page_the_docs_link_is_there():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#([\w-]+))?\)", page.read_text()):
            path, anchor = target
            if re.match(r"\w+://", path):
                continue
            linked = (page.parent / path).resolve()
            assert linked.exists(), f"{page.name} links {path}, which is not there"
            if anchor:
                assert anchor in anchors(linked), f"{page.name} links {path}#{anchor}: no such heading"


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives ``page``'s headings: lower case, punctuation dropped, spaces as ``-``."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_the_configuration_pages_table_is_the_settings():
    page = (ROOT / "docs" / "configuration.md").read_text()
    table = page.split("## Settings\n\n", 1)[1].split("\n\n", 1)[0]
    assert table == markdown_table()
