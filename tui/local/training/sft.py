"""Supervised fine-tuning on TRL's `SFTTrainer`: LoRA, padding-free batches, chunked loss.

The examples arrive tokenized with their labels (`examples.py`: only assistant turns with
`weight != 0` are supervised), so TRL takes them as a processed dataset and keeps the labels.
Batches are padding-free (TRL's collator flattens a micro-batch into one row with per-example
position ids; attention stays within each example) and the loss comes from a fused LM head that
never builds the full-vocabulary logits of the whole batch: TRL's Triton kernel on CUDA,
`cpu_lm_head` on CPU (TRL's CPU fallback scores every position and recomputes it).
`packing: true` packs examples into rows of `max_seq_length` tokens with TRL's best-fit-decreasing
packer; steps then count packed rows.
"""

from __future__ import annotations

from typing import Any

from tui.local.training import cpu_lm_head, engine
from tui.local.training.bridge import BridgeConfig, SinkBridge
from tui.local.training.examples import TokenizedExample, load_examples
from tui.local.training.hf import quiet_transformers
from tui.local.training.interface import TrainingOutcome, TrainingRequest, TrainingSink


def _dataset(examples: list[TokenizedExample]) -> Any:
    from datasets import Dataset

    return Dataset.from_dict(
        {"input_ids": [e.input_ids for e in examples], "labels": [e.labels for e in examples]}
    )


def _train_metrics(logs: dict[str, float]) -> dict[str, float]:
    return {
        "train_loss": float(logs["loss"]),
        "train_mean_token_accuracy": float(logs.get("mean_token_accuracy", 0.0)),
    }


def _eval_metrics(result: dict[str, float], prefix: str) -> dict[str, float]:
    return {
        f"{prefix}_loss": float(result[f"{prefix}_loss"]),
        f"{prefix}_mean_token_accuracy": float(result.get("eval_mean_token_accuracy", 0.0)),
    }


def train_sft(req: TrainingRequest, sink: TrainingSink) -> TrainingOutcome:
    quiet_transformers()
    from trl.trainer.sft_config import SFTConfig
    from trl.trainer.sft_trainer import SFTTrainer

    base = engine.load_base(req)
    hp = req.hyperparameters
    max_length = min(hp.max_seq_length or base.max_length, base.max_length)
    train_set, cut = load_examples(req.training_file, base.tokenizer, max_length)
    valid_set: list[TokenizedExample] = []
    if req.validation_file is not None:
        valid_set, valid_cut = load_examples(
            req.validation_file, base.tokenizer, max_length, what="validation file"
        )
        cut += valid_cut
    engine.prepare_work_dir(req)
    longest = max_length if hp.packing else max(len(e.input_ids) for e in train_set)
    args = engine.common_args(req, base, longest)
    config = SFTConfig(
        **args,
        max_length=max_length if hp.packing else None,
        packing=hp.packing,
        packing_strategy="bfd",
        padding_free=True,
    )
    bridge = SinkBridge(
        BridgeConfig(
            sink=sink,
            fine_tuned_model=req.fine_tuned_model,
            work_dir=req.work_dir,
            steps_per_epoch=1,  # set below, once the (maybe packed) dataset is known
            batch_size=hp.batch_size,
            train_metrics=_train_metrics,
            eval_metrics=_eval_metrics,
            is_main=engine.is_main_process(),
            world_size=engine.world_size(),
        )
    )
    with engine.out_of_memory_as_error():
        trainer = SFTTrainer(
            model=base.model,
            args=config,
            train_dataset=_dataset(train_set),
            processing_class=base.tokenizer,
            callbacks=[bridge],
        )
    if base.device_type == "cpu":  # on CUDA, TRL's Triton kernel already scores only labels
        cpu_lm_head.install(base.model.get_base_model())  # the model TRL gave its fused head
    engine.attach(trainer, bridge)
    if cut and engine.is_main_process():
        sink.event(
            f"{cut} example(s) longer than {max_length} tokens were truncated to that length",
            level="warn",
        )
    prepared: Any = trainer.train_dataset  # packing may have merged rows
    bridge.config.steps_per_epoch = engine.steps_per_epoch(len(prepared), hp.batch_size)
    if valid_set:
        bridge.config.valid_dataset = _dataset(valid_set)
    return engine.train_and_finish(trainer, bridge, req, len(train_set))
