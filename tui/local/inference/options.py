"""The chat options of `ft-tui serve`, checked, and the inference driver they select."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from tui.local.drivers import InferenceDriver
from tui.local.inference.defaults import Sampling, parse_sampling_option
from tui.local.settings import DEFAULT_MAX_TOKENS


@dataclass(frozen=True)
class ChatOptions:
    max_tokens_default: int = DEFAULT_MAX_TOKENS
    sampling: dict[str, Sampling] = field(default_factory=dict)
    inference: str = "transformers"
    vllm_url: str | None = None

    @classmethod
    def from_args(
        cls,
        *,
        max_tokens_default: int,
        sampling: list[str],
        inference: str,
        vllm_url: str | None,
    ) -> ChatOptions:
        """Raises ValueError with a message for the user."""
        if max_tokens_default < 1:
            raise ValueError(f"--max-tokens-default must be at least 1, got {max_tokens_default}")
        parsed: dict[str, Sampling] = {}
        for value in sampling:
            name, settings = parse_sampling_option(value)
            parsed[name] = settings.over(parsed.get(name, Sampling()))
        if inference == "vllm":
            if not vllm_url:
                raise ValueError("--inference vllm needs --vllm-url URL (the vLLM server)")
            url = urlparse(vllm_url)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError(f"--vllm-url expects http(s)://host:port, got {vllm_url!r}")
        elif vllm_url:
            raise ValueError("--vllm-url is only used with --inference vllm")
        return cls(max_tokens_default, parsed, inference, vllm_url)

    def driver(self) -> InferenceDriver | None:
        """The vLLM driver, or None for the server's default in-process engine."""
        if self.inference != "vllm" or not self.vllm_url:
            return None
        from tui.local.inference.vllm import VllmDriver

        return VllmDriver(self.vllm_url)
