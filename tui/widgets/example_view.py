"""Shows one dataset line as a conversation: roles, text, tool calls, images named.

Works for chat SFT, DPO preference and legacy prompt/completion lines; anything else is shown raw
with the reason it could not be read. Only the shown line is parsed, so file size does not matter.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

ROLE_STYLES = {
    "system": "magenta",
    "developer": "magenta",
    "user": "cyan",
    "assistant": "green",
    "tool": "yellow",
    "function": "yellow",
}
MAX_SHOWN_CHARS = 20_000  # a 50 MB line is shown as a prefix; the linter still sees it all


def _describe_image(part: dict[str, Any]) -> str:
    image = part.get("image_url")
    url = image.get("url", "") if isinstance(image, dict) else str(image or "")
    detail = image.get("detail") if isinstance(image, dict) else None
    if url.startswith("data:"):
        kind = url[5 : url.find(";")] if ";" in url else "data"
        size_kb = len(url) * 3 // 4 // 1024
        name = f"inline {kind}, ~{size_kb} KB"
    else:
        name = url if len(url) <= 80 else url[:77] + "…"
    return f"[image: {name}{f', detail={detail}' if detail else ''}]"


def _content_text(content: Any) -> Text:
    if content is None:
        return Text("(no content)", style="dim italic")
    if isinstance(content, str):
        if not content.strip():
            return Text("(empty)", style="dim italic")
        shown = content if len(content) <= MAX_SHOWN_CHARS else content[:MAX_SHOWN_CHARS] + " …"
        return Text(shown)
    if isinstance(content, list):
        text = Text()
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                text.append(str(part.get("text", "")))
            elif isinstance(part, dict) and part.get("type") == "image_url":
                text.append(_describe_image(part), style="bold blue")
            else:
                text.append(f"[{escape(json.dumps(part)[:200])}]", style="red")
            text.append("\n")
        return text
    return Text(repr(content)[:500], style="red")


def _message_panel(message: Any, index: int) -> RenderableType:
    if not isinstance(message, dict):
        return Panel(Text(repr(message)[:500], style="red"), title=f"#{index} not an object")
    role = str(message.get("role", "?"))
    style = ROLE_STYLES.get(role, "red")
    has_call = bool(message.get("tool_calls") or message.get("function_call"))
    body: list[RenderableType] = []
    if message.get("content") is not None or not has_call:
        body.append(_content_text(message.get("content")))
    for call in message.get("tool_calls") or []:
        fn = call.get("function", {}) if isinstance(call, dict) else {}
        body.append(
            Text(f"→ {fn.get('name', '?')}({fn.get('arguments', '')})", style="bold yellow")
        )
    if isinstance(message.get("function_call"), dict):
        fc = message["function_call"]
        body.append(Text(f"→ {fc.get('name', '?')}({fc.get('arguments', '')})", style="yellow"))
    title = role
    if message.get("name"):
        title += f" ({message['name']})"
    if message.get("tool_call_id"):
        title += f" ← {message['tool_call_id']}"
    if message.get("weight") == 0:
        title += " · weight 0 (not trained)"
    return Panel(Group(*body), title=escape(title), title_align="left", border_style=style)


def render_example(raw: bytes, line_number: int, full_length: int | None = None) -> RenderableType:
    """A renderable for one raw dataset line (1-based `line_number` for messages).

    `full_length` is the line's real size when `raw` is only its prefix (huge lines).
    """
    if full_length is not None and full_length > len(raw):
        return Group(
            Text(
                f"Line {line_number} is {full_length / 1e6:.1f} MB; showing its beginning raw.",
                style="bold yellow",
            ),
            Text(raw[:MAX_SHOWN_CHARS].decode("utf-8", "replace"), style="dim"),
        )
    try:
        text = raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        return Text(
            f"Line {line_number} is not valid UTF-8 ({exc.reason} at byte {exc.start}).",
            style="red",
        )
    if not text.strip():
        return Text(f"Line {line_number} is blank.", style="dim")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        prefix = text[:MAX_SHOWN_CHARS]
        return Group(
            Text(
                f"Line {line_number} is not valid JSON: {exc.msg} (column {exc.colno}).",
                style="bold red",
            ),
            Text(prefix, style="dim"),
        )
    if not isinstance(data, dict):
        return Text(f"Line {line_number} is JSON but not an object: {text[:300]}", style="red")
    parts: list[RenderableType] = []
    if "messages" in data:
        parts += [_message_panel(m, i + 1) for i, m in enumerate(data.get("messages") or [])]
        if data.get("tools") or data.get("functions"):
            names = [
                (t.get("function", t) or {}).get("name", "?")
                for t in (data.get("tools") or data.get("functions") or [])
                if isinstance(t, dict)
            ]
            parts.insert(0, Text("tools: " + ", ".join(map(str, names)), style="bold yellow"))
    elif "input" in data:
        inp = data.get("input") or {}
        messages = inp.get("messages", []) if isinstance(inp, dict) else []
        parts += [_message_panel(m, i + 1) for i, m in enumerate(messages)]
        for key, label, style in (
            ("preferred_output", "preferred", "green"),
            ("non_preferred_output", "non-preferred", "red"),
        ):
            for message in data.get(key) or []:
                content = message.get("content") if isinstance(message, dict) else message
                parts.append(
                    Panel(
                        _content_text(content), title=label, title_align="left", border_style=style
                    )
                )
    elif "prompt" in data or "completion" in data:
        parts.append(
            Panel(
                _content_text(data.get("prompt")),
                title="prompt",
                title_align="left",
                border_style="cyan",
            )
        )
        parts.append(
            Panel(
                _content_text(data.get("completion")),
                title="completion",
                title_align="left",
                border_style="green",
            )
        )
    else:
        parts.append(Text(json.dumps(data, ensure_ascii=False, indent=2)[:MAX_SHOWN_CHARS]))
    return Group(*parts) if parts else Text("(no messages)", style="dim")


class ExampleView(VerticalScroll):
    """The conversation of the selected line, scrollable."""

    DEFAULT_CSS = """
    ExampleView { height: 1fr; }
    ExampleView > #example-title { background: $panel; width: 100%; }
    """
    can_focus = True

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="example-title")
        yield Static("Select a dataset on the left.", id="example-body")

    def show(self, title: str, renderable: RenderableType) -> None:
        self.query_one("#example-title", Static).update(title)
        self.query_one("#example-body", Static).update(renderable)
        self.scroll_home(animate=False)
