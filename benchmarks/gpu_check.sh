#!/usr/bin/env bash
# One command for the whole GPU path (bf16 + QLoRA training, chat), one JSON line on stdout.
#   benchmarks/gpu_check.sh [HUB_ID_OR_MODEL_DIR ...]   e.g. Qwen/Qwen2.5-0.5B-Instruct
# Needs a CUDA torch and `pip install -e '.[local,gpu]'`; extra models must be downloaded
# already (huggingface-cli download ID). Training logs go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
export TOKENIZERS_PARALLELISM=false
exec timeout 600 "$PYTHON" -m benchmarks.gpu_check "$@"
