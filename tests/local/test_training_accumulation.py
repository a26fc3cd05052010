"""A step's loss is the token mean over the whole step, however it is split into micro-batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import RecordingSink, build_tiny_model, write_jsonl
from tui.local.training import Hyperparameters, TrainingRequest, run_training
from tui.local.training.engine import micro_batch_size

REPLIES = ["red", "green green green green green", "blue blue", "hello world, the capital"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def examples() -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"question {i}"},
                {"role": "assistant", "content": reply},
            ]
        }
        for i, reply in enumerate(REPLIES)
    ]


def losses(model_dir: Path, root: Path, budget: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FT_TUI_TRAIN_TOKEN_BUDGET", budget)
    sink = RecordingSink()
    request = TrainingRequest(
        job_id="ftjob-acc",
        model_dir=model_dir,
        training_file=write_jsonl(root / "train.jsonl", examples()),
        validation_file=None,
        # no dropout: both runs must compute the same function
        hyperparameters=Hyperparameters(2, 4, 10.0, lora_dropout=0.0),
        seed=5,
        work_dir=root / "work",
        fine_tuned_model="ft:tiny:local::acc",
    )
    run_training(request, sink)
    return sink.train_losses()


def test_split_into_micro_batches_changes_nothing(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = losses(model_dir, tmp_path / "whole", "1000000", monkeypatch)  # one micro-batch
    split = losses(model_dir, tmp_path / "split", "1", monkeypatch)  # one example each
    assert len(whole) == len(split) == 2
    assert split == pytest.approx(whole, rel=1e-4)


def test_loss_is_token_weighted_not_a_mean_of_means(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from tui.local.training.examples import tokenize_example
    from tui.local.training.hf import load_model, load_tokenizer

    tokenizer = load_tokenizer(model_dir)
    model = load_model(model_dir, torch.device("cpu"), torch.float32).eval()
    sums, counts = [], []
    for example in examples():
        ids, labels = tokenize_example(tokenizer, example)
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
        n = sum(1 for label in labels[1:] if label != -100)
        sums.append(float(out.loss) * n)
        counts.append(n)
    token_mean = sum(sums) / sum(counts)
    mean_of_means = sum(s / n for s, n in zip(sums, counts, strict=True)) / len(sums)
    assert abs(token_mean - mean_of_means) > 1e-3
    # Step 1 trains from the untouched base (LoRA starts as the identity), on all 4 examples.
    first = losses(model_dir, tmp_path / "split", "1", monkeypatch)[0]
    assert first == pytest.approx(token_mean, rel=1e-4)


def test_micro_batches_respect_the_token_budget() -> None:
    assert micro_batch_size(8, longest=100, budget=512) == 4
    assert micro_batch_size(8, longest=100, budget=50) == 1  # never less than one example
    assert micro_batch_size(6, longest=10, budget=45) == 3  # a divisor of the batch
    assert micro_batch_size(4, longest=10, budget=10**6) == 4


def test_every_rank_sizes_micro_batches_by_the_servers_budget(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A node whose own FT_TUI_TRAIN_TOKEN_BUDGET differs still follows the request (which
    carries the server's), so the ranks of a multi-node run agree on their micro-batches."""
    from tui.local.training import Hyperparameters, TrainingRequest
    from tui.local.training.engine import token_budget
    from tui.local.training.worker import request_from_json, request_to_json

    request = TrainingRequest(
        "ftjob-1",
        tmp_path,
        tmp_path / "t.jsonl",
        None,
        Hyperparameters(1, 4, 1.0),
        0,
        tmp_path,
        "ft:x",
        token_budget=4096,
    )
    carried = request_from_json(request_to_json(request))
    monkeypatch.setenv("FT_TUI_TRAIN_TOKEN_BUDGET", "64")  # this node's own setting
    assert token_budget("cpu", carried.token_budget) == 4096
    assert token_budget("cpu") == 64
    monkeypatch.delenv("FT_TUI_TRAIN_TOKEN_BUDGET")
    assert token_budget("cpu") == 512 and token_budget("cuda") == 16384
