"""What SFT and DPO runs share on TRL/transformers: model + LoRA, trainer arguments, the run.

Why TRL on transformers' Trainer (on accelerate): the Trainer already owns everything that makes
training scale — DDP/FSDP/DeepSpeed through accelerate, mixed precision with loss scaling,
gradient checkpointing, exact checkpoint/resume (optimizer, scheduler, RNG, data position) — and
TRL adds padding-free batching, packing, the chunked LM-head loss and the DPO loss on top. What
stays ours: per-message `weight` masking (`examples.py`, which TRL's assistant-only loss cannot
express), OpenAI's step/metric semantics (`bridge.py`) and the job's files.

Step semantics: one optimizer step = `batch_size` examples over all processes
(`per_device_train_batch_size x gradient_accumulation_steps x processes`), so
`total_steps = n_epochs x ceil(n / batch_size)`. Micro-batches are sized so that a forward pass
holds at most `FT_TUI_TRAIN_TOKEN_BUDGET` tokens (default 512 on CPU, 16384 on CUDA).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.local.training import state
from tui.local.training.interface import TrainingError, TrainingOutcome, TrainingRequest

MAX_GRAD_NORM = 1.0
DEFAULT_TOKEN_BUDGET_CPU = 512
DEFAULT_TOKEN_BUDGET_CUDA = 16384
MAX_TRAIN_LENGTH = 4096


def configured_token_budget() -> int | None:
    """`FT_TUI_TRAIN_TOKEN_BUDGET` of this process, if set to a positive whole number."""
    configured = os.environ.get("FT_TUI_TRAIN_TOKEN_BUDGET", "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else None


def token_budget(device_type: str, requested: int | None = None) -> int:
    """The request's budget (the server's setting), else this process's, else the default."""
    budget = requested or configured_token_budget()
    if budget:
        return budget
    return DEFAULT_TOKEN_BUDGET_CUDA if device_type == "cuda" else DEFAULT_TOKEN_BUDGET_CPU


def micro_batch_size(per_rank_batch: int, longest: int, budget: int) -> int:
    """The largest divisor of the per-process batch whose micro-batch fits the token budget."""
    best = 1
    for size in range(1, per_rank_batch + 1):
        if per_rank_batch % size == 0 and size * longest <= budget:
            best = size
    return best


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0") or 0) == 0


@dataclass(frozen=True)
class Base:
    tokenizer: Any
    model: Any  # a peft model with a trainable LoRA adapter
    device_type: str
    precision: str  # "fp32", "bf16" or "fp16"
    max_length: int


def load_base(req: TrainingRequest) -> Base:
    """Tokenizer and base model with LoRA (fresh, or the `init_adapter` of a fine-tune)."""
    import torch

    from tui.local.training.device import DeviceError, pick_device
    from tui.local.training.hf import ModelLoadError, context_length, load_model, load_tokenizer

    try:
        device, dtype = pick_device()
    except DeviceError as exc:
        raise TrainingError("invalid_device", str(exc)) from exc
    if device.type == "cuda" and world_size() > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0") or 0))
    precision = "fp32"
    if device.type == "cuda":
        precision = "bf16" if dtype == torch.bfloat16 else "fp16"
        if precision == "fp16":
            dtype = torch.float32  # fp16 autocast + loss scaling over fp32 master weights
    quantization = req.hyperparameters.quantization
    try:
        tokenizer = load_tokenizer(req.model_dir)
        if quantization:
            model = _load_quantized(req, device, quantization)
        else:
            model = load_model(req.model_dir, device, dtype)
    except ModelLoadError as exc:
        raise TrainingError("invalid_model", str(exc)) from exc
    max_length = min(context_length(model), MAX_TRAIN_LENGTH)
    from transformers import set_seed

    set_seed(req.seed)
    model = _with_lora(model, req)
    return Base(tokenizer, model, device.type, precision, max_length)


def _load_quantized(req: TrainingRequest, device: Any, quantization: str) -> Any:
    """QLoRA: the base in 4-bit NF4 (double quantized, bf16 compute) or 8-bit, via bitsandbytes,
    prepared for k-bit training by peft. CUDA only."""
    import importlib.util

    import torch

    if device.type != "cuda":
        raise TrainingError(
            "quantization_unavailable",
            f"quantization {quantization!r} needs a CUDA GPU; this server trains on "
            f"{device.type}. Set quantization to null.",
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise TrainingError(
            "quantization_unavailable",
            f"quantization {quantization!r} needs bitsandbytes: pip install 'ft-tui[gpu]'",
        )
    import peft
    import transformers

    bits_and_bytes: Any = transformers.BitsAndBytesConfig  # untyped constructors
    prepare_for_kbit: Any = peft.prepare_model_for_kbit_training

    compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if quantization == "4bit":
        config = bits_and_bytes(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
    else:
        config = bits_and_bytes(load_in_8bit=True)
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(req.model_dir),
            quantization_config=config,
            dtype=compute,
            device_map={"": device.index or 0},
            local_files_only=True,
        )
    except Exception as exc:  # transformers/bitsandbytes raise many kinds
        raise TrainingError(
            "invalid_model", f"cannot load {req.model_dir} in {quantization}: {exc}"
        ) from exc
    checkpointing = req.hyperparameters.gradient_checkpointing
    return prepare_for_kbit(model, use_gradient_checkpointing=checkpointing is not False)


def _with_lora(model: Any, req: TrainingRequest) -> Any:
    from peft import LoraConfig, PeftModel, TaskType, get_peft_model

    hp = req.hyperparameters
    if req.init_adapter is not None:
        try:
            return PeftModel.from_pretrained(model, str(req.init_adapter), is_trainable=True)
        except Exception as exc:  # peft raises several kinds; the message is what matters
            raise TrainingError(
                "invalid_model", f"cannot load the fine-tune's adapter {req.init_adapter}: {exc}"
            ) from exc
    config = LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=hp.lora_r,
        lora_alpha=hp.lora_alpha,
        lora_dropout=hp.lora_dropout,
        target_modules=list(hp.lora_target_modules) or "all-linear",
    )
    try:
        return get_peft_model(model, config)
    except ValueError as exc:  # e.g. target modules not found in the model
        raise TrainingError("invalid_hyperparameters", f"lora_target_modules: {exc}") from exc


def common_args(req: TrainingRequest, base: Base, longest: int) -> dict[str, Any]:
    """Keyword arguments for SFTConfig / DPOConfig shared by both methods."""
    hp = req.hyperparameters
    processes = world_size()
    if hp.batch_size % processes:
        raise TrainingError(
            "invalid_hyperparameters",
            f"batch_size ({hp.batch_size}) must be a multiple of the number of training "
            f"processes ({processes})",
        )
    per_rank = hp.batch_size // processes
    micro = micro_batch_size(per_rank, longest, token_budget(base.device_type, req.token_budget))
    checkpointing = hp.gradient_checkpointing
    if checkpointing is None:
        checkpointing = base.device_type == "cuda"
    return {
        "output_dir": str(state.pause_dir(req.work_dir)),
        "per_device_train_batch_size": micro,
        "per_device_eval_batch_size": micro,
        "gradient_accumulation_steps": per_rank // micro,
        "num_train_epochs": hp.n_epochs,
        "learning_rate": hp.learning_rate,
        "lr_scheduler_type": "linear",
        "warmup_steps": hp.warmup_ratio,  # a float < 1 is a ratio of the total steps
        "weight_decay": hp.weight_decay,
        "max_grad_norm": MAX_GRAD_NORM,
        "logging_nan_inf_filter": False,  # a NaN loss must reach the job (training_diverged)
        "optim": "adamw_torch",
        "logging_strategy": "steps",
        "logging_steps": 1,
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "log_level": "error",
        "seed": req.seed,
        "data_seed": req.seed,
        "use_cpu": base.device_type == "cpu",
        "bf16": base.precision == "bf16",
        "fp16": base.precision == "fp16",
        "gradient_checkpointing": checkpointing,
        "include_num_input_tokens_seen": "all",
        "dataloader_pin_memory": base.device_type == "cuda",
        "ddp_find_unused_parameters": False,
    }


_BACKEND_NAMES = {"MULTI_CPU": "DDP", "MULTI_GPU": "DDP", "FSDP": "FSDP", "DEEPSPEED": "DeepSpeed"}


def attach(trainer: Any, bridge: Any) -> None:
    """Give the bridge its trainer; drop the callback that prints every log line to stdout;
    say on how many processes, with which backend, the job trains (its first event)."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    bridge.trainer = trainer
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    if bridge.config.is_main:
        bridge.config.sink.event(describe_processes(trainer))


def describe_processes(trainer: Any) -> str:
    """`Training on N processes (DDP, gloo)`; one process: `Training on 1 process (cpu, fp32)`."""
    accelerator = trainer.accelerator
    n = int(accelerator.num_processes)
    kind = str(getattr(accelerator.distributed_type, "name", accelerator.distributed_type))
    if n == 1:
        precision = "bf16" if trainer.args.bf16 else "fp16" if trainer.args.fp16 else "fp32"
        return f"Training on 1 process ({accelerator.device.type}, {precision})"
    backend = getattr(accelerator.state, "backend", None) or "default backend"
    return f"Training on {n} processes ({_BACKEND_NAMES.get(kind, kind)}, {backend})"


def steps_per_epoch(n_rows: int, batch_size: int) -> int:
    return max(1, math.ceil(n_rows / batch_size))


@contextlib.contextmanager
def out_of_memory_as_error() -> Iterator[None]:
    """Any of torch's out-of-memory shapes becomes the job's `out_of_memory` error
    (`failures.out_of_memory_error` words it)."""
    from tui.local.training.failures import out_of_memory_error

    try:
        yield
    except (MemoryError, RuntimeError) as exc:  # torch.OutOfMemoryError is a RuntimeError
        memory = out_of_memory_error(exc)
        if memory is None:
            raise
        raise memory from exc


def prepare_work_dir(req: TrainingRequest) -> None:
    """The job's folder; a fresh (not resumed) run starts without the files of an earlier one."""
    req.work_dir.mkdir(parents=True, exist_ok=True)
    if not req.resume and is_main_process():
        state.clear_previous_run(req.work_dir)


def train_and_finish(
    trainer: Any, bridge: Any, req: TrainingRequest, n_examples: int
) -> TrainingOutcome:
    """Check a resume against this request, open the result CSV (kept up to the resumed step),
    then train (see `run`)."""
    from tui.local.training.results import ResultCsv

    hp = req.hyperparameters
    fingerprint = {
        "seed": req.seed,
        "n_examples": n_examples,
        **{k: v for k, v in vars(hp).items() if not isinstance(v, tuple)},
        "lora_target_modules": list(hp.lora_target_modules),
    }
    resume_from = None
    finished = 0
    if req.resume:
        resume_from = str(state.checked_resume_checkpoint(req.work_dir, fingerprint))
        finished = int(Path(resume_from).name.removeprefix("checkpoint-"))
    if is_main_process():
        bridge.config.csv = ResultCsv(req.work_dir / state.RESULT_CSV, keep_until_step=finished)
    return run(trainer, bridge, req, fingerprint, resume_from)


def run(
    trainer: Any,
    bridge: Any,
    req: TrainingRequest,
    fingerprint: dict[str, Any],
    resume_from: str | None,
) -> TrainingOutcome:
    """Train (or resume from `resume_from`), then turn the end of the run into an outcome."""
    from tui.local.training.bridge import RunStopped

    csv_path = req.work_dir / state.RESULT_CSV
    try:
        with out_of_memory_as_error():
            trainer.train(resume_from_checkpoint=resume_from)
    except RunStopped:
        return TrainingOutcome("cancelled", _tokens(trainer), None, csv_path)
    tokens = _tokens(trainer)
    step = int(trainer.state.global_step)
    if bridge.paused:
        checkpoint = state.latest_trainer_checkpoint(req.work_dir)
        if is_main_process():
            state.write_pause_meta(req.work_dir, fingerprint, step)
            for other in state.pause_dir(req.work_dir).glob("checkpoint-*"):
                if other != checkpoint:
                    shutil.rmtree(other, ignore_errors=True)
        return TrainingOutcome("paused", tokens, checkpoint, csv_path)
    final = req.work_dir / state.FINAL_ADAPTER_DIR
    if is_main_process():
        shutil.rmtree(final, ignore_errors=True)
        shutil.copytree(state.checkpoint_dir(req.work_dir, step), final)
        state.drop_pause_state(req.work_dir)
    return TrainingOutcome("succeeded", tokens, final, csv_path)


def _tokens(trainer: Any) -> int:
    return int(getattr(trainer.state, "num_input_tokens_seen", 0) or 0)
