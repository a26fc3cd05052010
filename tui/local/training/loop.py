"""The training loop behind `run_training`: LoRA on a causal LM, OpenAI step semantics.

* LoRA: r=8, alpha=16, dropout 0.05 on every linear projection of the transformer blocks
  (peft "all-linear": attention q/k/v/o and MLP gate/up/down; not the LM head).
* AdamW (no weight decay), LR = multiplier x 2e-4, linear decay to 0 over all steps, gradient
  norm clipped to 1.0.
* One optimizer step = one OpenAI step over `batch_size` examples; the data order of an epoch is
  a seeded shuffle, so `total_steps = n_epochs x ceil(n / batch_size)`.
* `valid_*` every `validation_interval(total_steps)` steps (and at the last one) on one
  validation batch, `full_valid_*` over the whole validation file at each epoch end, where a
  checkpoint is saved too.
"""

from __future__ import annotations

import math
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.local.training import state
from tui.local.training.examples import TokenizedExample, load_examples
from tui.local.training.interface import (
    TrainingError,
    TrainingOutcome,
    TrainingRequest,
    TrainingSink,
)
from tui.local.training.results import ResultCsv
from tui.local.training.steps import accumulate_gradients, evaluate

LORA_R = 8
LORA_ALPHA = 16
LORA_DROPOUT = 0.05
MAX_GRAD_NORM = 1.0
# Padded tokens per forward pass; bounds memory (logits are tokens x vocab floats). On CPU small
# micro-batches are also faster (cache-friendly, less padding once sorted by length) and keep a
# cancel within a few seconds even for a 135M model.
DEFAULT_TOKEN_BUDGET_CPU = 512
DEFAULT_TOKEN_BUDGET_CUDA = 16384
MAX_TRAIN_LENGTH = 4096


def validation_interval(total_steps: int) -> int:
    """Steps between `valid_*` metrics: every 10 steps, more often for short jobs."""
    return max(1, min(10, total_steps // 5))


def token_budget(device: Any) -> int:
    configured = os.environ.get("FT_TUI_TRAIN_TOKEN_BUDGET", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return DEFAULT_TOKEN_BUDGET_CUDA if device.type == "cuda" else DEFAULT_TOKEN_BUDGET_CPU


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    order = list(range(n))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return order


@dataclass
class _Run:
    req: TrainingRequest
    sink: TrainingSink
    model: Any
    pad_id: int
    device: Any
    budget: int
    train_set: list[TokenizedExample]
    valid_set: list[TokenizedExample]
    steps_per_epoch: int
    total_steps: int

    def batch(self, step: int) -> list[TokenizedExample]:
        epoch, index = divmod(step - 1, self.steps_per_epoch)
        size = self.req.hyperparameters.batch_size
        order = epoch_order(len(self.train_set), self.req.seed, epoch)
        return [self.train_set[i] for i in order[index * size : (index + 1) * size]]

    def validation_batch(self, step: int) -> list[TokenizedExample]:
        size = min(self.req.hyperparameters.batch_size, len(self.valid_set))
        start = (step // validation_interval(self.total_steps) - 1) * size
        return [self.valid_set[(start + i) % len(self.valid_set)] for i in range(size)]

    def evaluate(self, examples: list[TokenizedExample]) -> tuple[float, float]:
        sums = evaluate(
            self.model, examples, pad_id=self.pad_id, device=self.device, token_budget=self.budget
        )
        return sums.loss, sums.accuracy


def train(req: TrainingRequest, sink: TrainingSink) -> TrainingOutcome:
    import torch

    from tui.local.training.device import DeviceError, pick_device
    from tui.local.training.hf import ModelLoadError, context_length, load_model, load_tokenizer

    try:
        device, dtype = pick_device()
    except DeviceError as exc:
        raise TrainingError("invalid_device", str(exc)) from exc
    try:
        tokenizer = load_tokenizer(req.model_dir)
        model = load_model(req.model_dir, device, dtype)
    except ModelLoadError as exc:
        raise TrainingError("invalid_model", str(exc)) from exc
    max_length = min(context_length(model), MAX_TRAIN_LENGTH)
    train_set, cut = load_examples(req.training_file, tokenizer, max_length)
    valid_set: list[TokenizedExample] = []
    if req.validation_file is not None:
        valid_set, valid_cut = load_examples(
            req.validation_file, tokenizer, max_length, what="validation file"
        )
        cut += valid_cut
    if cut:
        sink.event(
            f"{cut} example(s) longer than {max_length} tokens were truncated to that length",
            level="warn",
        )
    hp = req.hyperparameters
    steps_per_epoch = math.ceil(len(train_set) / hp.batch_size)
    total_steps = hp.n_epochs * steps_per_epoch
    req.work_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(req.seed)
    model = _with_lora(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=hp.learning_rate, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda done: max(0.0, 1.0 - done / total_steps)
    )
    fingerprint = {
        "seed": req.seed,
        "n_epochs": hp.n_epochs,
        "batch_size": hp.batch_size,
        "learning_rate_multiplier": hp.learning_rate_multiplier,
        "n_examples": len(train_set),
    }
    finished, trained_tokens = 0, 0
    if req.resume:
        finished, trained_tokens = state.load_pause_state(
            req.work_dir,
            model=model,
            optimizer=optimizer,
            scheduler=scheduler,
            fingerprint=fingerprint,
        )
    else:
        state.clear_previous_run(req.work_dir)
    run = _Run(
        req=req,
        sink=sink,
        model=model,
        pad_id=int(tokenizer.pad_token_id),
        device=device,
        budget=token_budget(device),
        train_set=train_set,
        valid_set=valid_set,
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
    )
    csv_file = ResultCsv(req.work_dir / state.RESULT_CSV, keep_until_step=finished)
    model.train()

    def cancel_requested() -> bool:
        return sink.stop_requested() == "cancel"

    for step in range(finished + 1, total_steps + 1):
        stop = sink.stop_requested()
        if stop == "cancel":
            return TrainingOutcome("cancelled", trained_tokens, None, csv_file.path)
        if stop == "pause":
            adapter = state.save_pause_state(
                req.work_dir,
                model=model,
                optimizer=optimizer,
                scheduler=scheduler,
                finished_steps=step - 1,
                trained_tokens=trained_tokens,
                fingerprint=fingerprint,
            )
            return TrainingOutcome("paused", trained_tokens, adapter, csv_file.path)
        try:
            sums = accumulate_gradients(
                model,
                run.batch(step),
                pad_id=run.pad_id,
                device=device,
                token_budget=run.budget,
                should_stop=cancel_requested,
            )
        except (MemoryError, torch.cuda.OutOfMemoryError) as exc:
            raise TrainingError(
                "out_of_memory",
                f"out of memory at step {step}; lower FT_TUI_TRAIN_TOKEN_BUDGET "
                f"(now {run.budget} tokens per forward pass) or use shorter examples",
            ) from exc
        if sums is None:
            return TrainingOutcome("cancelled", trained_tokens, None, csv_file.path)
        torch.nn.utils.clip_grad_norm_(trainable, MAX_GRAD_NORM)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        trained_tokens += sums.tokens
        metrics = _step_metrics(run, step, sums.loss, sums.accuracy)
        sink.event(_metrics_message(metrics), type="metrics", data=dict(metrics))
        csv_file.append(metrics)
        if step % steps_per_epoch == 0:
            _save_checkpoint(run, step, metrics)
    final = req.work_dir / state.FINAL_ADAPTER_DIR
    # The last step always ends an epoch, so its checkpoint holds the final weights.
    shutil.copytree(state.checkpoint_dir(req.work_dir, total_steps), final)
    state.drop_pause_state(req.work_dir)
    return TrainingOutcome("succeeded", trained_tokens, final, csv_file.path)


def _with_lora(model: Any) -> Any:
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=LORA_R,
        lora_alpha=LORA_ALPHA,
        lora_dropout=LORA_DROPOUT,
        target_modules="all-linear",
    )
    return get_peft_model(model, config)


def _step_metrics(run: _Run, step: int, loss: float, accuracy: float) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "step": step,
        "total_steps": run.total_steps,
        "train_loss": loss,
        "train_mean_token_accuracy": accuracy,
    }
    if not run.valid_set:
        return metrics
    if step % validation_interval(run.total_steps) == 0 or step == run.total_steps:
        valid_loss, valid_accuracy = run.evaluate(run.validation_batch(step))
        metrics["valid_loss"] = valid_loss
        metrics["valid_mean_token_accuracy"] = valid_accuracy
    if step % run.steps_per_epoch == 0:
        full_loss, full_accuracy = run.evaluate(run.valid_set)
        metrics["full_valid_loss"] = full_loss
        metrics["full_valid_mean_token_accuracy"] = full_accuracy
    return metrics


def _metrics_message(metrics: dict[str, Any]) -> str:
    text = f"Step {metrics['step']}/{metrics['total_steps']}: "
    text += f"training loss={metrics['train_loss']:.2f}"
    if "valid_loss" in metrics:
        text += f", validation loss={metrics['valid_loss']:.2f}"
    if "full_valid_loss" in metrics:
        text += f", full validation loss={metrics['full_valid_loss']:.2f}"
    return text


def _save_checkpoint(run: _Run, step: int, metrics: dict[str, Any]) -> None:
    directory: Path = state.checkpoint_dir(run.req.work_dir, step)
    run.model.save_pretrained(str(directory))
    name = f"{run.req.fine_tuned_model}:ckpt-step-{step}"
    values = {k: float(v) for k, v in metrics.items() if k != "total_steps"}
    run.sink.checkpoint(step=step, metrics=values, adapter_dir=directory, model_name=name)
    run.sink.event(f"Checkpoint created at step {step} with Snapshot ID: {name}")
    state.prune_checkpoints(run.req.work_dir)
