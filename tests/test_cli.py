import subprocess
import sys

from PIL import Image

from conftest import synthetic


def _nst(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nst", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_gatys_cli_writes_a_png_at_the_requested_long_side(tmp_path):
    synthetic(150, 100).save(tmp_path / "content.jpg")
    synthetic(64, 64, seed=1).save(tmp_path / "style.jpg")
    result = _nst(
        "gatys",
        str(tmp_path / "content.jpg"),
        str(tmp_path / "style.jpg"),
        "-o",
        str(tmp_path / "out.png"),
        "--steps",
        "10",
        "--size",
        "96",
    )
    assert result.returncode == 0, result.stderr
    out = Image.open(tmp_path / "out.png")
    assert out.format == "PNG" and out.size == (96, 64)


def test_gatys_cli_bad_input_is_one_line_and_nonzero(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    synthetic(32, 32).save(tmp_path / "style.png")
    result = _nst("gatys", str(tmp_path / "text.png"), str(tmp_path / "style.png"), "-o", "x.png")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: ")
    result = _nst(
        "gatys",
        str(tmp_path / "style.png"),
        str(tmp_path / "style.png"),
        "-o",
        str(tmp_path / "x.png"),
        "--steps",
        "-3",
    )
    assert result.returncode == 1 and "steps" in result.stderr
