"""The README's front matter is a Space configuration the Hub accepts (its documented fields and limits)."""

import re

import gradio
import pytest
import yaml

from nst.base.weights import VGG19_HUB
from nst.methods.catalogue import load_catalogue
from tests.support import ROOT

COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
HARDWARE = {"cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "l4x4", "a10g-small", "a10g-large"}


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, "the README starts with a --- YAML block"
    return yaml.safe_load(match.group(1))


def test_the_front_matter_is_what_the_hub_accepts():
    meta = front_matter()
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == gradio.__version__
    assert (ROOT / meta["app_file"]).is_file()
    assert 0 < len(meta["short_description"]) <= 60, len(meta["short_description"])
    assert {meta["colorFrom"], meta["colorTo"]} <= COLOURS
    assert len(meta["emoji"]) == 1 and re.fullmatch(r"3\.\d+(\.\d+)?", meta["python_version"])
    assert meta["suggested_hardware"] in HARDWARE
    assert all(isinstance(tag, str) and tag == tag.lower() for tag in meta["tags"])


def test_every_hub_file_the_app_reads_is_preloaded_at_build():
    preloaded = {}
    for entry in front_matter()["preload_from_hub"]:
        repo, *rest = entry.split(" ")
        assert len(rest) <= 2, entry  # repo, files, revision
        preloaded[repo] = set(rest[0].split(",")) if rest else {"*"}
    repo, filename, _ = VGG19_HUB
    assert filename in preloaded[repo] and repo in front_matter()["models"]
    for name, style in load_catalogue().items():
        if style.kind == "hub":
            assert style.filename in preloaded.get(style.repo_id, set()), name
            assert style.repo_id in front_matter()["models"]


def test_readme_keeps_two_set_up_commands():
    setup = (ROOT / "README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    assert len(re.findall(r"```bash\n(.*?)\n```", setup, re.S)) == 2
    assert (ROOT / "requirements.txt").read_text().splitlines()[0].startswith("spaces")


def test_app_py_refuses_a_setting_that_does_not_parse_in_one_line(monkeypatch):
    import app

    monkeypatch.setenv("NST_MCP", "maybe")
    with pytest.raises(SystemExit) as stopped:
        app.main()
    assert str(stopped.value).startswith("error: NST_MCP") and "\n" not in str(stopped.value)
