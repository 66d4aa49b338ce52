"""The commit a benchmark measured, for the line above its table."""

from __future__ import annotations

import subprocess

from tests.support import ROOT


def commit() -> str:
    """The checkout's short commit, with ``+changes`` when the tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return head + ("+changes" if dirty.stdout.strip() else "")
