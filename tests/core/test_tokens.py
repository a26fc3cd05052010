"""Offline exact token counting: verified BPE files, real tiktoken, long-text splitting."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from pathlib import Path

import pytest

from tui.core.tokens import (
    CACHE_MAX_CHARS,
    CACHE_MAX_ENTRIES,
    CACHED_MIN_CHARS,
    ENCODING_SHA256,
    TokenCounter,
    TokenizerDataError,
    bpe_file,
    build_encoding,
    get_encoding,
    read_verified_ranks,
    token_counter,
)


def test_pinned_hashes_are_tiktokens_own() -> None:
    source = Path(__import__("tiktoken_ext.openai_public").openai_public.__file__).read_text()
    for digest in ENCODING_SHA256.values():
        assert f'expected_hash="{digest}"' in source


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_bundled_files_match_the_expected_sha256(name: str) -> None:
    data = gzip.decompress(bpe_file(name).read_bytes())
    assert hashlib.sha256(data).hexdigest() == ENCODING_SHA256[name]


def test_known_counts_match_the_cookbook_reference() -> None:
    enc = get_encoding("cl100k_base")
    # tiktoken's documented example: "tiktoken is great!" is 6 tokens in cl100k_base.
    assert len(enc.encode("tiktoken is great!")) == 6
    assert enc.name == "cl100k_base"
    assert get_encoding("o200k_base").n_vocab > 200_000
    assert get_encoding("cl100k_base") is enc  # cached per process


def test_special_tokens_are_the_same_as_tiktokens() -> None:
    enc = get_encoding("cl100k_base")
    assert enc.encode("<|endoftext|>", allowed_special="all") == [100257]
    assert "<|fim_suffix|>" in enc.special_tokens_set


def test_tampered_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    data = gzip.decompress(bpe_file("cl100k_base").read_bytes())
    tampered = tmp_path / "cl100k_base.tiktoken.gz"
    tampered.write_bytes(gzip.compress(data.replace(b" 100\n", b" 101\n", 1)))
    with pytest.raises(TokenizerDataError, match="tampered"):
        read_verified_ranks("cl100k_base", tampered)
    with pytest.raises(TokenizerDataError, match="sha256"):
        build_encoding("cl100k_base", tampered)


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "x.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(TokenizerDataError, match="cannot read BPE file"):
        read_verified_ranks("o200k_base", broken)
    with pytest.raises(TokenizerDataError, match="unknown encoding"):
        bpe_file("p50k_base")


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_long_text_counted_in_windows_gives_the_exact_count(name: str) -> None:
    counter = token_counter(name)
    words = ["hello", "world's", "中文", "测试，", "123", " ", "\n", "é", "e\u0301", "don't", "!!"]
    words += ["\t", "x1y", "Ωmega", "😀", "<|endoftext|>", "ABCdef", "  \n", "'s"]
    rng = random.Random(7)
    for _ in range(40):
        text = "".join(rng.choice(words) + rng.choice(["", " "]) for _ in range(300))
        whole = len(get_encoding(name).encode_ordinary(text))
        assert counter.count(text, window=29) == whole


def test_repeated_strings_count_the_same_from_cache() -> None:
    counter = token_counter("o200k_base")
    text = "You are a helpful assistant."
    assert counter.count_repeated(text) == counter.count(text) == counter.count_repeated(text)


def test_long_strings_are_counted_once_and_reused_exactly() -> None:
    counter = TokenCounter("cl100k_base")
    tools = json.dumps([{"type": "function", "function": {"name": f"tool_{i}"}} for i in range(40)])
    exact = len(get_encoding("cl100k_base").encode_ordinary(tools))
    assert counter.count(tools) == exact
    assert counter.cached_strings == 1
    assert [counter.count(tools) for _ in range(3)] == [exact] * 3
    assert counter.cached_strings == 1
    assert counter.count("short") == 1 and counter.cached_strings == 1  # short: not kept


def test_the_cache_stays_bounded_on_unique_strings() -> None:
    counter = TokenCounter("cl100k_base")
    enc = get_encoding("cl100k_base")
    for i in range(CACHE_MAX_ENTRIES + 10):
        counter.count(f"unique string number {i:08d} " + "x" * CACHED_MIN_CHARS)
        assert counter.cached_strings <= CACHE_MAX_ENTRIES
    huge = "word " * (CACHE_MAX_CHARS // 8)
    assert counter.count(huge) == len(enc.encode_ordinary(huge))
    before = counter.cached_strings
    assert counter.count(huge) == len(enc.encode_ordinary(huge))
    assert counter.cached_strings == before  # a huge string is counted, never kept


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_fast_length_equals_len_of_encode_ordinary(name: str) -> None:
    counter = token_counter(name)
    enc = get_encoding(name)
    texts = [
        "",
        "hello world",
        "<|endoftext|> and <|fim_suffix|> are plain text here",
        "中文文本，混合 English text 123 😀",
        "lone \ud800 surrogate",
        "  \n\t spaces\r\n",
    ]
    for text in texts:
        assert counter.count(text) == len(enc.encode_ordinary(text)), text
