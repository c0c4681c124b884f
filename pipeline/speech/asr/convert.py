"""Convert a CTranslate2 Whisper folder (model.bin, config.json) into an openai-whisper
checkpoint: the `dims` and `model_state_dict` that `whisper.load_model(path)` reads, plus
the alignment heads from config.json, which openai-whisper needs for good word timings.

The model.bin layout is documented in shared/OFFLINE_MODELS.md; variable names map one to
one onto openai-whisper's state dict (fused projections are split).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import PipelineError

CONVERTER_VERSION = 1  # bump when the checkpoint layout changes, so caches are rebuilt
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


class _Reader:
    """Little-endian reader over the bytes of a model.bin."""

    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.pos = 0

    def unpack(self, fmt: str) -> int:
        value = struct.unpack_from("<" + fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = self.unpack("H")  # includes the trailing NUL
        text = bytes(self.data[self.pos : self.pos + length - 1]).decode("utf-8")
        self.pos += length
        return text

    def take(self, nbytes: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return chunk


def read_ct2(data: bytes, source: Path | str = "model.bin") -> dict[str, np.ndarray]:
    """Parse a CTranslate2 model.bin into name -> array (aliases resolved)."""
    reader = _Reader(data)
    try:
        version = reader.unpack("I")
        if version >= 2:
            spec, _revision = reader.string(), reader.unpack("I")
            if spec != "WhisperSpec":
                raise PipelineError(f"holds a {spec}, not a Whisper model", source)
        variables = {name: array for name, array in _variables(reader)}
        for _ in range(reader.unpack("I")):
            alias, target = reader.string(), reader.string()
            variables[alias] = variables[target]
    except (struct.error, UnicodeDecodeError, KeyError, ValueError) as exc:
        raise PipelineError(f"not a readable CTranslate2 model.bin ({exc})", source,
                            "reinstall the model package") from None
    return variables


def _variables(reader: _Reader) -> Iterable[tuple[str, np.ndarray]]:
    for _ in range(reader.unpack("I")):
        name = reader.string()
        shape = [reader.unpack("I") for _ in range(reader.unpack("B"))]
        dtype = _DTYPES.get(reader.unpack("B"))
        raw = reader.take(reader.unpack("I"))
        if dtype is None:  # bfloat16 appears in no bundled model; skip rather than guess
            continue
        yield name, np.frombuffer(raw, dtype=dtype).reshape(shape)


def _split(array: np.ndarray, parts: int) -> list[np.ndarray]:
    return np.split(array, parts, axis=0)


def _linear(out: dict, prefix: str, var: dict, src: str) -> None:
    out[f"{prefix}.weight"] = var[f"{src}/weight"]
    if f"{src}/bias" in var:
        out[f"{prefix}.bias"] = var[f"{src}/bias"]


def _norm(out: dict, prefix: str, var: dict, src: str) -> None:
    out[f"{prefix}.weight"] = var[f"{src}/gamma"]
    out[f"{prefix}.bias"] = var[f"{src}/beta"]


def _fused_qkv(out: dict, prefix: str, var: dict, src: str, names: list[str]) -> None:
    weights = _split(var[f"{src}/weight"], len(names))
    biases = _split(var[f"{src}/bias"], len(names))
    for name, weight, bias in zip(names, weights, biases, strict=True):
        out[f"{prefix}.{name}.weight"] = weight
        if name != "key":  # Whisper's key projection has no bias (CT2 stores zeros)
            out[f"{prefix}.{name}.bias"] = bias


def _block(out: dict, dst: str, var: dict, src: str, cross: bool) -> None:
    _fused_qkv(out, f"{dst}.attn", var, f"{src}/self_attention/linear_0",
               ["query", "key", "value"])
    _linear(out, f"{dst}.attn.out", var, f"{src}/self_attention/linear_1")
    _norm(out, f"{dst}.attn_ln", var, f"{src}/self_attention/layer_norm")
    if cross:
        _linear(out, f"{dst}.cross_attn.query", var, f"{src}/attention/linear_0")
        _fused_qkv(out, f"{dst}.cross_attn", var, f"{src}/attention/linear_1",
                   ["key", "value"])
        _linear(out, f"{dst}.cross_attn.out", var, f"{src}/attention/linear_2")
        _norm(out, f"{dst}.cross_attn_ln", var, f"{src}/attention/layer_norm")
    _linear(out, f"{dst}.mlp.0", var, f"{src}/ffn/linear_0")
    _linear(out, f"{dst}.mlp.2", var, f"{src}/ffn/linear_1")
    _norm(out, f"{dst}.mlp_ln", var, f"{src}/ffn/layer_norm")


def _layers(var: dict, side: str) -> int:
    found = {int(m.group(1)) for k in var if (m := re.match(rf"{side}/layer_(\d+)/", k))}
    return max(found) + 1


def state_dict(var: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Map CTranslate2 variables onto openai-whisper's state dict names."""
    out: dict[str, np.ndarray] = {}
    for conv in ("conv1", "conv2"):
        _linear(out, f"encoder.{conv}", var, f"encoder/{conv}")
    out["encoder.positional_embedding"] = var["encoder/position_encodings/encodings"]
    for i in range(_layers(var, "encoder")):
        _block(out, f"encoder.blocks.{i}", var, f"encoder/layer_{i}", cross=False)
    _norm(out, "encoder.ln_post", var, "encoder/layer_norm")
    out["decoder.token_embedding.weight"] = var["decoder/embeddings/weight"]
    out["decoder.positional_embedding"] = var["decoder/position_encodings/encodings"]
    for i in range(_layers(var, "decoder")):
        _block(out, f"decoder.blocks.{i}", var, f"decoder/layer_{i}", cross=True)
    _norm(out, "decoder.ln", var, "decoder/layer_norm")
    return out


def dims(var: dict[str, np.ndarray]) -> dict[str, int]:
    """openai-whisper's ModelDimensions, read off the shapes and the num_heads scalars."""
    n_audio_ctx, n_audio_state = var["encoder/position_encodings/encodings"].shape
    n_text_ctx, n_text_state = var["decoder/position_encodings/encodings"].shape
    return {
        "n_mels": int(var["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(n_audio_ctx),
        "n_audio_state": int(n_audio_state),
        "n_audio_head": int(var["encoder/num_heads"]),
        "n_audio_layer": _layers(var, "encoder"),
        "n_vocab": int(var["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(n_text_ctx),
        "n_text_state": int(n_text_state),
        "n_text_head": int(var["decoder/num_heads"]),
        "n_text_layer": _layers(var, "decoder"),
    }


def alignment_heads_dump(pairs: list[list[int]], n_layer: int, n_head: int) -> bytes:
    """Encode (layer, head) pairs the way `Whisper.set_alignment_heads` decodes them."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in pairs:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def read_parts(paths: list[Path]) -> bytes:
    """The bytes of model.bin, joined byte for byte from its parts in order."""
    try:
        return b"".join(path.read_bytes() for path in paths)
    except OSError as exc:
        raise PipelineError(f"cannot read the model ({exc.strerror})", exc.filename,
                            "reinstall the model package") from None


def checkpoint(model_bin: bytes, config: dict[str, Any], source: Path | str) -> dict[str, Any]:
    """An openai-whisper checkpoint dict (torch tensors) from model.bin bytes and config.json."""
    import torch

    var = read_ct2(model_bin, source)
    d = dims(var)
    weights = {k: torch.from_numpy(np.array(v)) for k, v in state_dict(var).items()}
    heads = alignment_heads_dump(config.get("alignment_heads", []), d["n_text_layer"],
                                 d["n_text_head"])
    return {"dims": d, "model_state_dict": weights,
            "alignment_heads": heads.decode("ascii"), "converter_version": CONVERTER_VERSION}


def convert(model_parts: list[Path], config_path: Path, target: Path) -> Path:
    """Convert once: write the checkpoint to `target` atomically; return it."""
    import torch

    from pipeline.util.fsutil import atomic_path

    config = json.loads(config_path.read_text(encoding="utf-8"))
    ckpt = checkpoint(read_parts(model_parts), config, model_parts[0])
    with atomic_path(target) as tmp:
        torch.save(ckpt, tmp)
    return target
