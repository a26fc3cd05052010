"""The `adapter` export: the PEFT folder as the trainer saved it, loadable as it is by peft
(`PeftModel.from_pretrained(base, dir)`) and by vLLM (`--lora-modules name=dir`).

Only `base_model_name_or_path` in `adapter_config.json` changes: the trainer wrote the server's
private copy of the base model there; the export names the base a user can load (the hub id of
the bundled default model, else the base model directory the server was given).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tui.local.export import ExportError

CONFIG = "adapter_config.json"
WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def write_adapter(adapter_dir: Path, base_reference: str, out: Path) -> list[str]:
    """Copy the adapter into `out` (an existing empty folder); returns the file names."""
    weights = next((adapter_dir / name for name in WEIGHTS if (adapter_dir / name).is_file()), None)
    if weights is None or not (adapter_dir / CONFIG).is_file():
        raise ExportError("model_not_found", f"no PEFT adapter in {adapter_dir}")
    config = json.loads((adapter_dir / CONFIG).read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base_reference
    (out / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    shutil.copyfile(weights, out / weights.name)
    return [CONFIG, weights.name]
