"""The `gguf` export: one GGUF file for llama.cpp and Ollama, from a merged model folder.

When llama.cpp's own converter, `convert_hf_to_gguf.py`, is on PATH it is used (it knows every
architecture llama.cpp runs). Otherwise the file is written here with the `gguf` package
(llama.cpp's gguf-py): `GGUFWriter` for the file, `get_tensor_name_map` for tensor names,
`SpecialVocab` for merges, special token ids and the chat template, `gguf.quants` for Q8_0.
What the package does not ship is the per-architecture glue of llama.cpp's converter (which
metadata keys a Llama needs, the rotary permutation of the q/k projections, token types), so that
glue is written here for the Llama architecture (which covers SmolLM2) and byte-level BPE
tokenizers; any other model gets a clear `unsupported_architecture` error naming the converter.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tui.local.export import ExportError

Progress = Callable[[float, str], None]
LLAMA_CPP_CONVERTER = "convert_hf_to_gguf.py"
SUPPORTED_MODEL_TYPES = ("llama",)
Q8_BLOCK = 32


def converter_on_path() -> str | None:
    return shutil.which(LLAMA_CPP_CONVERTER)


def write_gguf(merged_dir: Path, target: Path, quantization: str, progress: Progress) -> str:
    """Write `target` (a .gguf file) from `merged_dir`; returns which converter was used."""
    external = converter_on_path()
    if external is not None:
        return _run_llama_cpp(external, merged_dir, target, quantization)
    return _write_with_gguf_py(merged_dir, target, quantization, progress)


def _run_llama_cpp(script: str, merged_dir: Path, target: Path, quantization: str) -> str:
    command = [sys.executable, script, str(merged_dir), "--outfile", str(target)]
    command += ["--outtype", quantization]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not target.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ExportError(
            "conversion_failed", f"{LLAMA_CPP_CONVERTER} failed: {' | '.join(tail) or 'no output'}"
        )
    return f"llama.cpp {LLAMA_CPP_CONVERTER} ({script})"


# ---- the gguf-py writer ----------------------------------------------------------------------


def _config(merged_dir: Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((merged_dir / "config.json").read_text(encoding="utf-8"))
    model_type = str(config.get("model_type"))
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ExportError(
            "unsupported_architecture",
            f"GGUF export of a {model_type!r} model is not supported by ft-tui's gguf-py writer "
            f"(it writes {', '.join(SUPPORTED_MODEL_TYPES)}); put llama.cpp's "
            f"{LLAMA_CPP_CONVERTER} on PATH to convert other architectures, or export `merged`.",
        )
    rope = config.get("rope_scaling") or config.get("rope_parameters") or {}
    rope_type = rope.get("rope_type", rope.get("type", "default")) if rope else "default"
    if rope_type not in ("default", None):
        raise ExportError(
            "unsupported_architecture",
            f"GGUF export of rope scaling {rope_type!r} is not supported by ft-tui's writer; "
            f"put llama.cpp's {LLAMA_CPP_CONVERTER} on PATH.",
        )
    return config


def _rope_theta(config: dict[str, Any]) -> float:
    parameters = config.get("rope_parameters") or {}
    return float(parameters.get("rope_theta", config.get("rope_theta", 10000.0)))


def _pre_tokenizer(tokenizer_json: dict[str, Any]) -> str | None:
    """llama.cpp's name of the pre-tokenizer, for the shapes this writer recognises."""
    pre = tokenizer_json.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt2"
    parts = pre.get("pretokenizers") if pre.get("type") == "Sequence" else None
    if parts and len(parts) == 2:
        first, second = parts
        if (
            first.get("type") == "Digits"
            and first.get("individual_digits")
            and second.get("type") == "ByteLevel"
            and second.get("use_regex", True)
        ):
            return "smollm"
    return None


def _vocabulary(merged_dir: Path, vocab_size: int) -> tuple[list[str], list[int], str | None]:
    """Tokens, token types and pre-tokenizer of a byte-level BPE tokenizer."""
    import gguf
    from transformers import AutoTokenizer

    try:
        tokenizer_json = json.loads((merged_dir / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tokenizer_json = {}
    model = tokenizer_json.get("model") or {}
    decoder = tokenizer_json.get("decoder") or {}
    if model.get("type") != "BPE" or decoder.get("type") != "ByteLevel":
        raise ExportError(
            "unsupported_architecture",
            "GGUF export needs a byte-level BPE tokenizer (tokenizer.json) with ft-tui's writer; "
            f"put llama.cpp's {LLAMA_CPP_CONVERTER} on PATH for other tokenizers.",
        )
    tokenizer: Any = AutoTokenizer.from_pretrained(str(merged_dir), local_files_only=True)
    added = tokenizer.added_tokens_decoder
    tokens: list[str] = []
    types: list[int] = []
    known = len(tokenizer)
    for index in range(vocab_size):
        if index >= known:  # embedding rows past the tokenizer: padding, never produced
            tokens.append(f"[PAD{index}]")
            types.append(int(gguf.TokenType.UNUSED))
            continue
        tokens.append(str(tokenizer.convert_ids_to_tokens(index)))
        if index in added:
            special = bool(added[index].special)
            types.append(int(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED))
        else:
            types.append(int(gguf.TokenType.NORMAL))
    return tokens, types, _pre_tokenizer(tokenizer_json)


def _permute_rotary(weights: Any, heads: int) -> Any:
    """HF stores each head's rotary halves apart; llama.cpp wants them interleaved in pairs."""
    rows = weights.shape[0]
    return (
        weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _tensors(merged_dir: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    found: dict[str, Any] = {}
    for path in sorted(merged_dir.glob("*.safetensors")):
        found.update(load_file(str(path)))
    if not found:
        raise ExportError("conversion_failed", f"no safetensors weights in {merged_dir}")
    return found


def _write_with_gguf_py(
    merged_dir: Path, target: Path, quantization: str, progress: Progress
) -> str:
    import gguf
    import numpy as np

    config = _config(merged_dir)
    heads = int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    hidden = int(config["hidden_size"])
    head_dim = int(config.get("head_dim") or hidden // heads)
    layers = int(config["num_hidden_layers"])
    vocab_size = int(config["vocab_size"])
    q8 = quantization == "q8_0"

    writer = gguf.GGUFWriter(str(target), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    writer.add_name(merged_dir.name)
    writer.add_context_length(int(config.get("max_position_embeddings") or 2048))
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(_rope_theta(config))
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    if head_dim != hidden // heads:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))
    writer.add_vocab_size(vocab_size)
    file_type = gguf.LlamaFileType.MOSTLY_Q8_0 if q8 else gguf.LlamaFileType.MOSTLY_F16
    writer.add_file_type(int(file_type))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    tokens, types, pre = _vocabulary(merged_dir, vocab_size)
    writer.add_tokenizer_model("gpt2")
    if pre is not None:
        writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    special = gguf.SpecialVocab(str(merged_dir), load_merges=True, n_vocab=len(tokens))
    special.add_to_gguf(writer, quiet=True)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, layers)
    tensors = _tensors(merged_dir)
    tied = bool(config.get("tie_word_embeddings"))
    for index, (name, tensor) in enumerate(sorted(tensors.items())):
        progress(index / max(1, len(tensors)), f"converting {name}")
        if name.endswith("rotary_emb.inv_freq") or (tied and name == "lm_head.weight"):
            continue
        mapped = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if mapped is None:
            raise ExportError("unsupported_architecture", f"no GGUF name for tensor {name!r}")
        data = tensor.float().numpy()
        if name.endswith("q_proj.weight"):
            data = _permute_rotary(data, heads)
        elif name.endswith("k_proj.weight"):
            data = _permute_rotary(data, kv_heads)
        if data.ndim == 1:  # norms stay float32, as llama.cpp keeps them
            writer.add_tensor(mapped, data.astype(np.float32))
        elif q8 and data.shape[-1] % Q8_BLOCK == 0:
            packed = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(mapped, packed, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(mapped, data.astype(np.float16))
    progress(1.0, "writing the GGUF file")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return f"gguf-py {version('gguf')} (ft-tui's Llama writer)"
