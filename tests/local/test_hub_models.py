"""Base models from every source, through the real SDK against the real `ft-tui serve`.

No hub is reachable here, so Hub downloads go to `tests/local/hub_standin.py`, a loopback server
with the Hugging Face Hub's file API (HF_ENDPOINT points at it) serving a tiny random model built
in the test; the real `huggingface_hub` does the downloading. The other case is a Hugging Face
cache filled before the server starts (as `hf download` would), used offline (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.local.conftest import LocalServer, dataset, wait_for_status
from tests.local.hub_standin import StandInHub

REPO = "acme/tiny-chat"
SHARDED = "acme/tiny-sharded"
SHARD_2 = "model-00002-of-00002.safetensors"
SHARD_1 = "model-00001-of-00002.safetensors"


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, Path]:
    """The tiny model as a one-file repo and as a two-shard repo (same weights)."""
    from safetensors.torch import load_file, save_file

    root = tmp_path_factory.mktemp("hub-repos")
    single = _wider_model(tiny_model_dir, root / "single")
    sharded = root / "sharded"
    shutil.copytree(tiny_model_dir, sharded, ignore=shutil.ignore_patterns("model.safetensors"))
    tensors = load_file(str(tiny_model_dir / "model.safetensors"))
    names = sorted(tensors)
    half = len(names) // 2
    weight_map = {}
    for shard, part in ((SHARD_1, names[:half]), (SHARD_2, names[half:])):
        save_file({n: tensors[n] for n in part}, str(sharded / shard), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, shard))
    index = {"metadata": {}, "weight_map": weight_map}
    (sharded / "model.safetensors.index.json").write_text(json.dumps(index))
    for repo in (single, sharded):  # files every Hub repo has, which the server skips
        (repo / "README.md").write_text("# A tiny random model\n")
        (repo / ".gitattributes").write_text("*.safetensors filter=lfs diff=lfs merge=lfs -text\n")
        (repo / "onnx").mkdir()
        (repo / "onnx" / "model.onnx").write_bytes(b"not fetched")
        (repo / "pytorch_model.bin").write_bytes(b"not fetched either: safetensors are there")
    return {REPO: single, SHARDED: sharded}


def _wider_model(tiny_model_dir: Path, target: Path) -> Path:
    """The tiny model's tokenizer on a wider random Llama (~30 MB of weights): huggingface_hub
    writes downloads in 10 MB chunks, so a download of this one has observable steps."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    shutil.copytree(tiny_model_dir, target, ignore=shutil.ignore_patterns("model.safetensors"))
    config = LlamaConfig.from_pretrained(str(tiny_model_dir))
    config.hidden_size, config.intermediate_size, config.num_hidden_layers = 384, 1024, 4
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        LlamaForCausalLM(config).save_pretrained(str(target))
    return target


@pytest.fixture()
def hub(repos: dict[str, Path]) -> Iterator[StandInHub]:
    with StandInHub(repos) as standin:
        yield standin


def _start(
    tmp_path: Path,
    model_dir: Path,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
) -> LocalServer:
    for key in ("HF_ENDPOINT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    server = LocalServer(tmp_path / "server-data", model_dir, args)
    server.start()
    return server


def _train_file(client: Any) -> str:
    return str(client.files.create(file=("train.jsonl", dataset(10)), purpose="fine-tune").id)


def _job(client: Any, model: str, training_file: str) -> Any:
    return client.fine_tuning.jobs.create(
        model=model,
        training_file=training_file,
        hyperparameters={"n_epochs": 1, "batch_size": 5},
    )


def _messages(client: Any, job_id: str) -> list[str]:
    events = client.fine_tuning.jobs.list_events(job_id, limit=200).data
    return [e.message for e in reversed(events)]


def _models(client: Any) -> dict[str, dict[str, Any]]:
    return {m.id: m.model_dump() for m in client.models.list().data}


def _wait_for_text(path: Path, text: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        content = path.read_text(errors="replace") if path.exists() else ""
        if text in content:
            return content
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared in {path}:\n{content}")
        time.sleep(0.2)


def _stdout_until(server: LocalServer, text: str, max_lines: int = 20) -> str:
    assert server.process is not None and server.process.stdout is not None
    seen = []
    for _ in range(max_lines):
        line = server.process.stdout.readline()
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"{text!r} not in the server's first lines: {seen}")


def test_a_hub_model_downloads_on_first_use_with_progress_then_trains_and_chats(
    tmp_path: Path, tiny_model_dir: Path, hub: StandInHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.throttle_bps = 8_000_000  # the ~30 MB weights take ~4 s: progress is observable
    hub.gated[SHARDED] = "hf_other_token"
    args = ["--model", REPO, "--model", "acme/no-such-repo", "--model", SHARDED]
    env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_test_token"}
    server = _start(tmp_path, tiny_model_dir, args, monkeypatch, env)
    try:
        client = server.client()
        _stdout_until(server, f"Base model {REPO}: not downloaded yet")
        listed = _models(client)[REPO]
        assert listed["downloaded"] is False and listed["source"] == "hub"
        training_file = _train_file(client)
        with pytest.raises(openai.BadRequestError) as missing:
            _job(client, "acme/no-such-repo", training_file)
        assert isinstance(missing.value.body, dict)
        assert missing.value.body["code"] == "model_not_found"
        with pytest.raises(openai.BadRequestError) as gated:
            _job(client, SHARDED, training_file)
        assert isinstance(gated.value.body, dict)
        assert gated.value.body["code"] == "model_access_denied"
        assert "HF_TOKEN" in gated.value.body["message"]
        with pytest.raises(openai.BadRequestError) as not_yet:  # chat does not download
            client.chat.completions.create(model=REPO, messages=[{"role": "user", "content": "hi"}])
        assert f"hf download {REPO}" in str(not_yet.value)
        job = _job(client, REPO, training_file)
        done = wait_for_status(client, job.id, {"succeeded", "failed"}, timeout=300)
        assert done.status == "succeeded", done.error
        messages = _messages(client, job.id)
        progress = [m for m in messages if m.startswith(f"Downloading base model {REPO}: ")]
        percents = [int(m.split(": ")[1].split("%")[0]) for m in progress]
        assert percents[-1] == 100 and any(0 < p < 100 for p in percents), progress
        assert percents == sorted(percents)
        assert messages.index(progress[-1]) < messages.index("Fine-tuning job started")
        log = (server.data_dir / "server.log").read_text()
        assert f"Downloading base model {REPO}: 100%" in log
        assert _models(client)[REPO]["downloaded"] is True
        snapshot = tmp_path / "hf-home" / "hub" / "models--acme--tiny-chat" / "snapshots"
        assert any(snapshot.glob("*/model.safetensors"))  # HF_HOME was respected
        reply = client.chat.completions.create(
            model=done.fine_tuned_model, messages=[{"role": "user", "content": "hello 1"}]
        )
        assert reply.choices[0].message.content is not None
        # A second job uses the cache: no weight file is fetched again.
        before = hub.downloads_of("model.safetensors")
        again = _job(client, REPO, _train_file(client))
        assert wait_for_status(client, again.id, {"succeeded", "failed"}).status == "succeeded"
        assert hub.downloads_of("model.safetensors") == before
        sent = {
            t for (_, path, _), t in zip(hub.requests, hub.tokens, strict=True) if "acme/" in path
        }
        assert sent == {"hf_test_token"}  # HF_TOKEN went with every request for the model
        skipped = ("model.onnx", "README.md", "pytorch_model.bin")
        assert [hub.downloads_of(name) for name in skipped] == [0, 0, 0]
    finally:
        server.stop()


def test_an_interrupted_download_fails_the_job_and_a_retry_resumes_it(
    tmp_path: Path, tiny_model_dir: Path, hub: StandInHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.break_file, hub.break_after = SHARD_2, 100_000  # cut mid-file, then 500s
    server = _start(
        tmp_path, tiny_model_dir, ["--model", SHARDED], monkeypatch, {"HF_ENDPOINT": hub.url}
    )
    try:
        client = server.client()
        training_file = _train_file(client)
        first = _job(client, SHARDED, training_file)
        failed = wait_for_status(client, first.id, {"succeeded", "failed"}, timeout=120)
        assert failed.status == "failed"
        assert failed.error.code == "model_download_failed"
        assert failed.error.param == "model"
        assert "Create the job again" in failed.error.message
        assert f"hf download {SHARDED}" in failed.error.message
        assert hub.downloads_of(SHARD_1) == 1
        hub.broken = False  # the network is back
        retry = _job(client, SHARDED, training_file)
        done = wait_for_status(client, retry.id, {"succeeded", "failed"}, timeout=300)
        assert done.status == "succeeded", done.error
        assert hub.downloads_of(SHARD_1) == 1  # kept from the first attempt
        assert hub.downloads_of(SHARD_2) >= 2
        progress = [m for m in _messages(client, retry.id) if "Downloading base model" in m]
        assert progress and "100%" in progress[-1]
    finally:
        server.stop()


def test_a_server_stopped_mid_download_continues_it_at_the_next_start(
    tmp_path: Path,
    tiny_model_dir: Path,
    hub: StandInHub,
    repos: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hashlib

    hub.throttle_bps, hub.slow_file = 20_000, SHARD_2  # shard 2 takes ~15 s, shard 1 is quick
    server = _start(
        tmp_path, tiny_model_dir, ["--model", SHARDED], monkeypatch, {"HF_ENDPOINT": hub.url}
    )
    blob = hashlib.sha256((repos[SHARDED] / SHARD_1).read_bytes()).hexdigest()
    shard_1 = tmp_path / "hf-home" / "hub" / "models--acme--tiny-sharded" / "blobs" / blob
    try:
        client = server.client()
        job = _job(client, SHARDED, _train_file(client))
        deadline = time.monotonic() + 120
        while not (shard_1.is_file() and hub.downloads_of(SHARD_2) == 1):
            assert time.monotonic() < deadline, "shard 1 never reached the cache"
            time.sleep(0.2)
        server.stop()  # mid-download: shard 2 is still coming
        hub.slow_file = "nothing"  # full speed from now on
        server.start()
        client = server.client()
        done = wait_for_status(client, job.id, {"succeeded", "failed"}, timeout=300)
        assert done.status == "succeeded", done.error
        assert hub.downloads_of(SHARD_1) == 1  # kept across the restart
        assert hub.downloads_of(SHARD_2) == 2
    finally:
        server.stop()


def test_a_prefilled_cache_trains_offline_and_a_missing_id_names_the_command(
    tmp_path: Path, tiny_model_dir: Path, hub: StandInHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import snapshot_download

    cache = tmp_path / "hf-home" / "hub"
    snapshot_download(REPO, endpoint=hub.url, cache_dir=cache)  # what `hf download` does
    requests_before = len(hub.requests)
    missing = "acme/not-downloaded"
    server = _start(
        tmp_path,
        tiny_model_dir,
        ["--model", REPO, "--model", missing],
        monkeypatch,
        {"HF_HUB_OFFLINE": "1", "HF_ENDPOINT": hub.url},
    )
    try:
        client = server.client()
        assert "downloaded (" in _stdout_until(server, f"Base model {REPO}:")
        stderr = _wait_for_text(server.stderr_path, f"hf download {missing}")
        assert missing in stderr and "Traceback" not in stderr
        listed = _models(client)
        assert listed[REPO]["downloaded"] is True and listed[missing]["downloaded"] is False
        training_file = _train_file(client)
        with pytest.raises(openai.BadRequestError) as refused:
            _job(client, missing, training_file)
        error = refused.value.body
        assert refused.value.status_code == 400
        assert isinstance(error, dict) and error["code"] == "model_not_downloaded"
        assert error["param"] == "model" and error["type"] == "invalid_request_error"
        assert missing in error["message"] and f"hf download {missing}" in error["message"]
        job = _job(client, REPO, training_file)
        done = wait_for_status(client, job.id, {"succeeded", "failed"}, timeout=300)
        assert done.status == "succeeded", done.error
        assert len(hub.requests) == requests_before  # offline: the hub was never asked
    finally:
        server.stop()


def test_an_unreachable_hub_is_a_clear_400_and_a_startup_warning(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = _start(
        tmp_path, tiny_model_dir, ["--model", REPO], monkeypatch, {"HF_ENDPOINT": closed}
    )
    try:
        client = server.client()
        stderr = _wait_for_text(server.stderr_path, f"hf download {REPO}")
        assert "cannot be reached" in stderr and "Traceback" not in stderr
        with pytest.raises(openai.BadRequestError) as refused:
            _job(client, REPO, _train_file(client))
        body = refused.value.body
        assert isinstance(body, dict) and body["code"] == "model_not_downloaded"
        assert "cannot be reached" in body["message"] and f"hf download {REPO}" in body["message"]
    finally:
        server.stop()


def test_folder_and_gguf_sources_and_an_unknown_model(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.local.export.gguf_writer import write_gguf

    folder = tmp_path / "my-folder-model"
    shutil.copytree(tiny_model_dir, folder)
    gguf = tmp_path / "tiny-q.gguf"
    write_gguf(tiny_model_dir, gguf, "f32", lambda fraction, stage: None)
    server = _start(
        tmp_path, tiny_model_dir, ["--model", str(folder), "--model", str(gguf)], monkeypatch, {}
    )
    try:
        client = server.client()
        listed = _models(client)
        assert listed["my-folder-model"]["source"] == "folder"
        assert listed["tiny-q"]["source"] == "gguf"
        assert all(m["downloaded"] for m in listed.values() if m.get("kind") == "base")
        training_file = _train_file(client)
        jobs = [_job(client, name, training_file) for name in ("my-folder-model", "tiny-q")]
        for job in jobs:
            done = wait_for_status(client, job.id, {"succeeded", "failed"}, timeout=300)
            assert done.status == "succeeded", (job.model, done.error)
        with pytest.raises(openai.BadRequestError) as unknown:
            _job(client, "no-such-model", training_file)
        body = unknown.value.body
        assert isinstance(body, dict) and body["code"] == "model_not_available"
        assert body["param"] == "model" and "tiny-q" in body["message"]
    finally:
        server.stop()


def test_no_chat_template_is_refused_and_the_chat_template_option_fixes_it(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.local.tiny_model import TINY_CHAT_TEMPLATE

    bare = tmp_path / "bare-model"
    shutil.copytree(tiny_model_dir, bare, ignore=shutil.ignore_patterns("chat_template.jinja"))
    template = tmp_path / "chatml.jinja"
    template.write_text(TINY_CHAT_TEMPLATE)
    args = ["--model", f"bare={bare}", "--model", f"fixed={bare}"]
    args += ["--chat-template", f"fixed={template}"]
    server = _start(tmp_path, tiny_model_dir, args, monkeypatch, {})
    try:
        client = server.client()
        training_file = _train_file(client)
        with pytest.raises(openai.BadRequestError) as refused:
            _job(client, "bare", training_file)
        body = refused.value.body
        assert isinstance(body, dict) and body["code"] == "model_has_no_chat_template"
        assert "--chat-template bare=" in body["message"] and "chat_templates" in body["message"]
        job = _job(client, "fixed", training_file)
        done = wait_for_status(client, job.id, {"succeeded", "failed"}, timeout=300)
        assert done.status == "succeeded", done.error
        assert not (bare / "chat_template.jinja").exists()  # the original folder is untouched
        reply = client.chat.completions.create(
            model="fixed", messages=[{"role": "user", "content": "hello"}], max_tokens=4
        )
        assert reply.usage is not None and reply.usage.prompt_tokens > 0
    finally:
        server.stop()
