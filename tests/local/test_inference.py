"""The inference engine: streaming, usage, stop conditions, adapters, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import RecordingSink, build_tiny_model, pattern_examples, write_jsonl
from tui.local.inference import GenerationParams, InferenceEngine, InferenceError, Usage
from tui.local.training import Hyperparameters, TrainingRequest, run_training

GREEDY = GenerationParams(max_tokens=12, temperature=0.0, top_p=1.0, stop=[], seed=None)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def adapter_dir(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA trained to answer "say <colour>" with exactly that colour word."""
    root = tmp_path_factory.mktemp("train")
    req = TrainingRequest(
        job_id="ftjob-i",
        model_dir=model_dir,
        training_file=write_jsonl(root / "train.jsonl", pattern_examples(12)),
        validation_file=None,
        hyperparameters=Hyperparameters(n_epochs=10, batch_size=4, learning_rate_multiplier=40.0),
        seed=1,
        work_dir=root / "work",
        fine_tuned_model="ft:tiny:local::ftjob-i",
    )
    outcome = run_training(req, RecordingSink())
    assert outcome.adapter_dir is not None
    return outcome.adapter_dir


@pytest.fixture(scope="module")
def engine() -> InferenceEngine:
    return InferenceEngine()


def ask(content: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


def chat(
    engine: InferenceEngine,
    model_dir: Path,
    adapter: Path | None,
    content: str,
    params: GenerationParams = GREEDY,
) -> tuple[str, Usage]:
    parts = list(engine.stream_chat(model_dir, adapter, ask(content), params))
    usages = [p for p in parts if isinstance(p, Usage)]
    assert len(usages) == 1 and parts[-1] is usages[0], "exactly one Usage, last"
    texts = [p for p in parts if isinstance(p, str)]
    assert all(texts), "no empty deltas"
    return "".join(texts), usages[0]


def test_stream_yields_deltas_then_one_usage(engine: InferenceEngine, model_dir: Path) -> None:
    from transformers import AutoTokenizer

    text, usage = chat(engine, model_dir, None, "say red")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    prompt = tokenizer.apply_chat_template(
        ask("say red"), tokenize=False, add_generation_prompt=True
    )
    assert usage.prompt_tokens == len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert 1 <= usage.completion_tokens <= 12
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    if usage.finish_reason == "length":
        assert usage.completion_tokens == 12
    assert text


def test_max_tokens_ends_with_length(engine: InferenceEngine, model_dir: Path) -> None:
    params = GenerationParams(max_tokens=3, temperature=0.0, top_p=1.0, stop=[], seed=None)
    _, usage = chat(engine, model_dir, None, "hello", params)
    assert (usage.completion_tokens, usage.finish_reason) == (3, "length")


def test_adapter_changes_the_answer_and_stops_at_end_of_turn(
    engine: InferenceEngine, model_dir: Path, adapter_dir: Path
) -> None:
    for colour in ("red", "green", "blue"):
        text, usage = chat(engine, model_dir, adapter_dir, f"say {colour}")
        assert text == colour
        assert usage.finish_reason == "stop"
        assert usage.completion_tokens == 2  # the colour, then <|im_end|>
        base_text, _ = chat(engine, model_dir, None, f"say {colour}")
        assert base_text != colour  # the base model is untouched by the adapter


def test_stop_string_cuts_the_text(engine: InferenceEngine, model_dir: Path) -> None:
    full, _ = chat(engine, model_dir, None, "hello")
    stop = full[len(full) // 2 : len(full) // 2 + 2]
    assert stop
    params = GenerationParams(max_tokens=12, temperature=0.0, top_p=1.0, stop=[stop], seed=None)
    cut, usage = chat(engine, model_dir, None, "hello", params)
    assert cut == full[: full.index(stop)]
    assert usage.finish_reason == "stop"


def test_seeded_sampling_is_reproducible(engine: InferenceEngine, model_dir: Path) -> None:
    params = GenerationParams(max_tokens=10, temperature=1.0, top_p=0.9, stop=[], seed=5)
    first, _ = chat(engine, model_dir, None, "hello", params)
    again, _ = chat(engine, model_dir, None, "hello", params)
    assert first == again


def test_cancel_event_stops_the_stream(engine: InferenceEngine, model_dir: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    parts = list(engine.stream_chat(model_dir, None, ask("hi"), GREEDY, cancel))
    assert len(parts) == 1 and isinstance(parts[0], Usage)
    assert parts[0].completion_tokens == 0


def test_concurrent_requests_are_serialised_correctly(
    engine: InferenceEngine, model_dir: Path, adapter_dir: Path
) -> None:
    expected_base, _ = chat(engine, model_dir, None, "say blue")
    results: dict[str, str] = {}

    def run(key: str, adapter: Path | None) -> None:
        results[key] = chat(engine, model_dir, adapter, "say blue")[0]

    threads = [
        threading.Thread(target=run, args=(f"{kind}{i}", adapter_dir if kind == "ft" else None))
        for i in range(3)
        for kind in ("ft", "base")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert {k: v for k, v in results.items() if k.startswith("ft")} == {
        f"ft{i}": "blue" for i in range(3)
    }
    assert all(results[f"base{i}"] == expected_base for i in range(3))


def test_unload_adapter_forgets_it(
    engine: InferenceEngine, model_dir: Path, adapter_dir: Path, tmp_path: Path
) -> None:
    import shutil

    copy = Path(shutil.copytree(adapter_dir, tmp_path / "copy"))
    assert chat(engine, model_dir, copy, "say red")[0] == "red"
    engine.unload_adapter(copy)
    shutil.rmtree(copy)
    with pytest.raises(InferenceError) as caught:
        chat(engine, model_dir, copy, "say red")
    assert caught.value.code == "model_not_found"
    assert chat(engine, model_dir, adapter_dir, "say red")[0] == "red"  # others still work


def test_errors_are_clear(engine: InferenceEngine, model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InferenceError) as caught:
        chat(engine, tmp_path / "missing", None, "hi")
    assert caught.value.code == "model_not_found"
    with pytest.raises(InferenceError) as caught:
        chat(engine, model_dir, None, "word " * 600)  # the tiny model's context is 512
    assert caught.value.code == "context_length_exceeded"
    with pytest.raises(InferenceError) as caught:
        list(engine.stream_chat(model_dir, None, [], GREEDY))
    assert caught.value.code == "invalid_value"
    image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    with pytest.raises(InferenceError, match="image_url"):
        list(engine.stream_chat(model_dir, None, image, GREEDY))


def test_models_are_kept_in_a_small_lru(model_dir: Path, tmp_path: Path) -> None:
    engine = InferenceEngine(max_models=1)
    other = build_tiny_model(tmp_path / "other", seed=1)
    chat(engine, model_dir, None, "hi")
    chat(engine, other, None, "hi")
    assert engine.loaded_models() == [other.resolve()]


def test_concurrent_requests_are_batched_and_match_sequential_answers(model_dir: Path) -> None:
    """Prompts of different lengths (left padding) batched together answer exactly as alone."""
    engine = InferenceEngine(batch_window_s=0.5)
    prompts = [f"hello {'word ' * i}{i}" for i in range(6)]
    alone = [chat(engine, model_dir, None, p)[0] for p in prompts]
    assert set(engine.batch_rows) == {1}
    results: dict[int, str] = {}

    def run(i: int) -> None:
        results[i] = chat(engine, model_dir, None, prompts[i])[0]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prompts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [results[i] for i in range(len(prompts))] == alone
    assert max(engine.batch_rows) > 1  # they shared a generate call


def test_a_short_request_leaves_its_batch_early(model_dir: Path) -> None:
    engine = InferenceEngine(batch_window_s=0.5)
    long = GenerationParams(max_tokens=200, temperature=0.0, top_p=1.0, stop=[], seed=None)
    order: list[str] = []

    def run(name: str, params: GenerationParams) -> None:
        list(engine.stream_chat(model_dir, None, ask("hi"), params))
        order.append(name)

    threads = [
        threading.Thread(target=run, args=("long", long)),
        threading.Thread(target=run, args=("short", GREEDY)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert list(engine.batch_rows) == [2]
    assert order == ["short", "long"]


def test_n_choices_and_seeded_sampling(engine: InferenceEngine, model_dir: Path) -> None:
    from tui.local.inference import ChatJob, Finish, Piece

    params = GenerationParams(max_tokens=8, temperature=1.2, top_p=1.0, stop=[], seed=11, n=3)
    job = ChatJob("tiny", "tiny", model_dir, None, ask("hello"), params)

    def texts() -> list[str]:
        out = ["", "", ""]
        finishes = []
        for item in engine.chat(job):
            if isinstance(item, Piece):
                out[item.index] += item.text
            elif isinstance(item, Finish):
                finishes.append(item.index)
        assert sorted(finishes) == [0, 1, 2]
        return out

    first = texts()
    assert texts() == first  # the seed reproduces every choice
    assert len(set(first)) > 1  # choices are independent samples
