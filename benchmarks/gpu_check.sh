#!/usr/bin/env bash
# Checks that need a CUDA GPU, which this project's development machine does not have.
#
#     benchmarks/gpu_check.sh [SECTION ...]      (default: every section)
#
# Each section is a function `section_<name>` below; add yours as its own function and list it
# in SECTIONS. Output goes to stdout; the exit status is non-zero when a check fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
SECTIONS=(vllm)
WORK="$(mktemp -d -t ft-tui-gpu-check-XXXXXX)"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_http() {  # URL SECONDS
  local deadline=$((SECONDS + $2))
  until curl -sf -o /dev/null "$1"; do
    if ((SECONDS > deadline)); then echo "FAIL: $1 did not answer in $2 s" >&2; return 1; fi
    sleep 2
  done
}

# ---- vLLM: ft-tui serve --inference vllm against a real vLLM server --------------------------
# Needs: `pip install vllm` in the same environment (or VLLM=/path/to/vllm), a CUDA GPU.
# 1. `ft-tui serve` (in-process engine) fine-tunes SmolLM2-135M on the drone tool-calling sample.
# 2. vLLM serves the converted base model under its ft-tui name, LoRA enabled, runtime loading on.
# 3. `ft-tui serve --inference vllm` restarts on the same data dir; the SDK chats with the base
#    model and the fine-tune (streaming and not, with the sample's tools) through it, and the
#    answers are compared with the in-process engine's greedy answers.
section_vllm() {
  local vllm="${VLLM:-vllm}" data="$WORK/vllm-data" key="sk-gpu-check"
  local port=18765 vport=18000 base="HuggingFaceTB/SmolLM2-135M-Instruct"
  command -v "$vllm" >/dev/null || { echo "FAIL: vllm is not installed (pip install vllm)"; return 1; }

  "$PY" -m tui serve --data-dir "$data" --port "$port" --api-key "$key" >"$WORK/serve1.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$port/health" 120
  FT_TUI_CHECK_PORT=$port "$PY" - <<'EOF'
import json, os, time
from pathlib import Path
from openai import OpenAI
client = OpenAI(base_url=f"http://127.0.0.1:{os.environ['FT_TUI_CHECK_PORT']}/v1", api_key="sk-gpu-check")
sample = Path("assets/datasets/drone_training.jsonl")
f = client.files.create(file=(sample.name, sample.read_bytes()), purpose="fine-tune")
job = client.fine_tuning.jobs.create(model="HuggingFaceTB/SmolLM2-135M-Instruct", training_file=f.id,
                                     hyperparameters={"n_epochs": 3})
while (job := client.fine_tuning.jobs.retrieve(job.id)).status not in ("succeeded", "failed", "cancelled"):
    time.sleep(5)
assert job.status == "succeeded", job.error
example = json.loads(sample.read_text().splitlines()[0])
ask = dict(messages=example["messages"][:-1], tools=example["tools"], temperature=0, max_tokens=60)
answers = {m: client.chat.completions.create(model=m, **ask).choices[0].message.model_dump()
           for m in ("HuggingFaceTB/SmolLM2-135M-Instruct", job.fine_tuned_model)}
Path(os.environ.get("TMPDIR", "/tmp"), "ft-tui-gpu-check-inprocess.json").write_text(
    json.dumps({"model": job.fine_tuned_model, "answers": answers}))
print("in-process answers:", json.dumps(answers, indent=1))
EOF
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

  VLLM_ALLOW_RUNTIME_LORA_UPDATING=True "$vllm" serve "$data/models/HuggingFaceTB--SmolLM2-135M-Instruct" \
    --served-model-name "$base" --enable-lora --max-lora-rank 16 --port "$vport" \
    >"$WORK/vllm.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$vport/health" 600
  "$PY" -m tui serve --data-dir "$data" --port "$port" --api-key "$key" \
    --inference vllm --vllm-url "http://127.0.0.1:$vport" >"$WORK/serve2.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$port/health" 120
  FT_TUI_CHECK_PORT=$port "$PY" - <<'EOF'
import json, os, time
from pathlib import Path
from openai import OpenAI
client = OpenAI(base_url=f"http://127.0.0.1:{os.environ['FT_TUI_CHECK_PORT']}/v1", api_key="sk-gpu-check")
before = json.loads(Path(os.environ.get("TMPDIR", "/tmp"), "ft-tui-gpu-check-inprocess.json").read_text())
sample = Path("assets/datasets/drone_training.jsonl")
example = json.loads(sample.read_text().splitlines()[0])
ask = dict(messages=example["messages"][:-1], tools=example["tools"], temperature=0, max_tokens=60)
failed = False
for model in ("HuggingFaceTB/SmolLM2-135M-Instruct", before["model"]):
    started = time.perf_counter()
    reply = client.chat.completions.create(model=model, **ask)
    took = time.perf_counter() - started
    streamed = "".join(c.choices[0].delta.content or "" for c in
                       client.chat.completions.create(model=model, stream=True, **ask) if c.choices)
    message = reply.choices[0].message.model_dump()
    def calls(m):  # ids are random: compare what was called
        return [(c["function"]["name"], c["function"]["arguments"]) for c in m.get("tool_calls") or []]
    earlier = before["answers"][model]
    same = calls(message) == calls(earlier) and message["content"] == earlier["content"]
    print(f"{model}: {took:.2f} s, finish {reply.choices[0].finish_reason}, "
          f"same as in-process greedy: {same}\n  vLLM: {json.dumps(message)}\n  streamed: {streamed!r}")
    failed |= reply.model != model
print("FAIL" if failed else "OK: chats through ft-tui serve --inference vllm answered with ft: ids")
raise SystemExit(1 if failed else 0)
EOF
  grep -c "load_lora_adapter" "$WORK/vllm.log" | sed 's/^/vLLM log lines mentioning load_lora_adapter: /'
}

cd "$ROOT"
status=0
for section in "${@:-${SECTIONS[@]}}"; do
  echo "== $section"
  if ! "section_$section"; then status=1; echo "== $section: FAILED"; fi
done
exit "$status"
