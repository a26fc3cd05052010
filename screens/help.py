"""`?` (or F1): the keys of what is on screen, the screen's own actions first.

A modal list rather than Textual's side HelpPanel: the panel listed the focused widget's scroll
and cursor keys first, so at 24 rows a screen's own actions fell below the fold, and it did not
scroll. Here the sections are: this screen's actions, keys that work everywhere, then the focused
pane's keys; PageUp/PageDown/Home/End scroll the list; Esc, `?`, F1 or q close it.
The same grouping (`binding_entries`) feeds the command palette, so each action appears once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

_TEXTUAL_SCREEN_ACTIONS = frozenset(
    b.action for b in Screen.BINDINGS if isinstance(b, Binding) and b.action
)
HELP_ACTIONS = ("toggle_help", "app.toggle_help", "show_help_panel", "hide_help_panel")


@dataclass
class KeyEntry:
    section: str  # "screen", "app" or "pane"
    keys: list[str]
    description: str
    node: DOMNode
    action: str
    enabled: bool


def binding_entries(screen: Screen[Any]) -> list[KeyEntry]:
    """The active bindings of `screen`, one entry per action, the screen's own first."""
    app = screen.app
    entries: dict[tuple[int, str], KeyEntry] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if binding.system or not binding.description:
            continue
        node = active.node
        section = "screen" if node is screen else "app" if node is app else "pane"
        if section == "screen" and binding.action in _TEXTUAL_SCREEN_ACTIONS:
            section = "app"  # Tab, Shift+Tab, copy: Textual's, on every screen
        display = app.get_key_display(binding) or key
        found = entries.get((id(node), binding.action))
        if found is None:
            entries[(id(node), binding.action)] = KeyEntry(
                section, [display], binding.description, node, binding.action, active.enabled
            )
        elif display not in found.keys:
            found.keys.append(display)
    order = {"screen": 0, "app": 1, "pane": 2}
    return sorted(entries.values(), key=lambda e: order[e.section])


def _section_title(section: str, screen: Screen[Any]) -> str:
    if section == "screen":
        mode = getattr(screen, "MODE", "") or type(screen).__name__.removesuffix("Screen")
        return f"{str(mode).capitalize()} keys"
    if section == "app":
        return "Everywhere"
    focused = screen.focused
    return f"In the focused pane ({type(focused).__name__})" if focused else "In the focused pane"


def render_keys(screen: Screen[Any]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column()
    last = None
    for entry in binding_entries(screen):
        if entry.section != last:
            if last is not None:
                table.add_row("", "")
            table.add_row("", Text(_section_title(entry.section, screen), style="bold underline"))
            last = entry.section
        table.add_row(
            Text(" ".join(entry.keys), style="cyan"),
            Text(entry.description, style="" if entry.enabled else "dim"),
        )
    return table


class KeysScreen(ModalScreen[None]):
    """The keys of `under` (the screen that was showing when help was asked for)."""

    BINDINGS = [
        Binding("escape,question_mark,f1,q", "dismiss", "Close", id="help.close"),
        Binding("home", "scroll('home')", "Top", show=False, id="help.top"),
        Binding("end", "scroll('end')", "Bottom", show=False, id="help.bottom"),
    ]
    DEFAULT_CSS = """
    KeysScreen { align: right top; }
    KeysScreen > #keys-box { width: 60; max-width: 100%; height: 100%; border-left: vkey $accent;
                             background: $surface; padding: 0 1; }
    KeysScreen #keys-title { background: $panel; text-style: bold; }
    """

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self._table = render_keys(under)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="keys-box"):
            yield Static("Keys · PgUp/PgDn scroll · Esc closes", id="keys-title")
            yield Static(self._table, id="keys-table")

    def on_mount(self) -> None:
        self.query_one("#keys-box").focus()

    def action_scroll(self, where: str) -> None:
        box = self.query_one("#keys-box", VerticalScroll)
        if where == "home":
            box.scroll_home(animate=False)
        else:
            box.scroll_end(animate=False)
