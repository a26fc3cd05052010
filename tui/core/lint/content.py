"""Checks on message content: text, image parts, special tokens and secrets."""

from __future__ import annotations

import base64
import json
import re

import orjson

from tui.core.rules import RuleId

FORBIDDEN_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
    "<|endofprompt|>",
)
_SPECIAL_RE = re.compile(
    rb"<\|(?:endoftext|fim_prefix|fim_middle|fim_suffix|im_start|im_end|im_sep|endofprompt)\|>"
)

MAX_IMAGES_PER_EXAMPLE = 10
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_DETAILS = frozenset({"low", "high", "auto"})
_DATA_URL_RE = re.compile(r"data:image/(jpeg|jpg|png|webp);base64,", re.IGNORECASE)
# Image token estimates: low detail is a fixed 85 tokens; high/auto depends on the image size,
# which we do not decode, so a 1024x1024 high-detail image (85 + 4 tiles x 170) is assumed.
IMAGE_TOKENS_LOW = 85
IMAGE_TOKENS_HIGH = 765

# Cheap substring tests for any secret prefix first (bytes `in` is a fast search, several times
# faster than one regex alternation over a long line); the precise patterns run only on lines
# that hold a prefix.
_SECRET_HINTS = (
    b"sk-", b"AKIA", b"ASIA", b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"github_pat_",
    b"PRIVATE KEY-----", b"xox", b"AIza",
)  # fmt: skip
# In raw JSON a secret may follow an escape such as \n, hence the second look-behind.
_LEAD = rb"(?:(?<![A-Za-z0-9_\-])|(?<=\\[nrt]))"
_SECRET_PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("an OpenAI API key", re.compile(_LEAD + rb"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,}")),
    ("an AWS access key id", re.compile(_LEAD + rb"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])")),
    ("a GitHub token", re.compile(_LEAD + rb"(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22,})")),
    ("a private key", re.compile(rb"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("a Slack token", re.compile(_LEAD + rb"xox[abprs]-[A-Za-z0-9\-]{10,}")),
    ("a Google API key", re.compile(_LEAD + rb"AIza[0-9A-Za-z_\-]{35}")),
)


def find_special_tokens(raw_line: bytes) -> list[str]:
    """Forbidden special tokens written literally anywhere in a raw JSON line."""
    if b"<|" not in raw_line:
        return []
    return sorted({m.group().decode() for m in _SPECIAL_RE.finditer(raw_line)})


def find_escaped_special_tokens(text: str) -> list[str]:
    return [t for t in FORBIDDEN_SPECIAL_TOKENS if t in text]


def find_secret(raw_line: bytes) -> str | None:
    """A description of the first likely secret in the line, with the value masked."""
    if not any(hint in raw_line for hint in _SECRET_HINTS):
        return None
    for label, pattern in _SECRET_PATTERNS:
        match = pattern.search(raw_line)
        if match is None:
            continue
        value = match.group().decode("ascii", "replace")
        if label == "an OpenAI API key" and sum(c.isdigit() for c in value) < 3:
            continue  # long hyphenated words such as "task-…" are not keys
        shown = value if label == "a private key" else f"{value[:6]}…{value[-4:]}"
        return f"{label} ({shown})"
    return None


def check_image_url(url: object) -> tuple[RuleId, str] | None:
    """(rule, message) for a bad image URL, else None."""
    if not isinstance(url, str) or not url:
        return ("invalid_image_url", "image_url.url must be a non-empty string")
    if url.startswith(("https://", "http://")):
        return None
    if not url.startswith("data:"):
        return ("invalid_image_url", f"image URL {url[:40]!r} is neither http(s) nor a data URL")
    match = _DATA_URL_RE.match(url)
    if match is None:
        head = url[: url.find(",")] if "," in url else url[:40]
        return (
            "invalid_image_url",
            f"data URL {head!r} is not data:image/jpeg|png|webp;base64",
        )
    payload = url[match.end() :]
    size = len(payload) * 3 // 4 - payload[-2:].count("=")
    if size > MAX_IMAGE_BYTES:
        return ("image_too_large", f"image is {size / 1e6:.1f} MB (limit 10 MB)")
    try:
        base64.b64decode(payload[:4096] + "=" * (-min(len(payload), 4096) % 4), validate=True)
    except ValueError:
        return ("invalid_image_url", "data URL payload is not valid base64")
    return None


def raw_line_issues(raw: bytes, example: object) -> list[tuple[RuleId, str]]:
    """Rules that read an example's JSON text: special tokens (written literally or JSON-escaped)
    and secrets. The one place for them: file lines and single examples (`lint_example`, which
    passes the example's own JSON) get the same checks."""
    issues: list[tuple[RuleId, str]] = []
    specials = find_special_tokens(raw)
    if not specials and b"\\u003" in raw:
        try:
            specials = find_escaped_special_tokens(orjson.dumps(example).decode())
        except orjson.JSONEncodeError:  # nested deeper than orjson writes (255 levels)
            specials = find_escaped_special_tokens(json.dumps(example, ensure_ascii=False))
    if specials:
        issues.append(("forbidden_special_token", "text contains " + ", ".join(specials)))
    secret = find_secret(raw)
    if secret is not None:
        issues.append(("possible_secret", f"looks like {secret}"))
    return issues
