"""Pick a model: fine-tuned models (newest first, each followed by its checkpoints), then base
models. Type to filter; Enter picks the highlighted one, or the typed id when nothing matches;
Escape closes without a choice.

    choice = await self.app.push_screen_wait(ModelPickerScreen(load_choices, current="gpt-4o"))

`load` is awaited inside the picker (in a worker), so the dialog opens at once and shows what
it is waiting for. `PickerScreen` is the same dialog for any list of `PickerItem`s (the chat
screen uses it for past conversations).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from screens.base import error_text


@dataclass(frozen=True)
class PickerItem:
    value: str
    label: str
    detail: str = ""
    group: str = ""


ItemLoader = Callable[[], Awaitable[Sequence[PickerItem]]]


class PickerScreen(ModalScreen[str | None]):
    """A filterable list in a dialog; dismisses with the chosen item's `value` or None."""

    DEFAULT_CSS = """
    PickerScreen > .dialog { height: 80%; }
    PickerScreen OptionList { height: 1fr; border: none; }
    PickerScreen #picker-filter { border: none; height: 1; margin: 0 0 1 0; }
    PickerScreen #picker-status { height: auto; color: $text-muted; }
    PickerScreen OptionList > .option-list--option-highlighted { background: $accent 50%;
                                                                 text-style: bold; }
    """
    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="picker.close"),
        Binding("down", "move(1)", "Next", show=False, id="picker.next"),
        Binding("up", "move(-1)", "Previous", show=False, id="picker.previous"),
    ]

    def __init__(
        self,
        title: str,
        load: ItemLoader,
        *,
        current: str = "",
        allow_typed: bool = False,
        placeholder: str = "type to filter",
    ) -> None:
        super().__init__()
        self._title = title
        self._load = load
        self._current = current
        self._allow_typed = allow_typed
        self._placeholder = placeholder
        self._items: list[PickerItem] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="title")
            yield Input(placeholder=self._placeholder, id="picker-filter")
            yield Static("Loading…", id="picker-status")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self.query_one("#picker-filter", Input).focus()
        self._fetch()

    @work(exclusive=True, group="picker-load", exit_on_error=False)
    async def _fetch(self) -> None:
        status = self.query_one("#picker-status", Static)
        try:
            self._items = list(await self._load())
        except Exception as exc:
            status.update(Text(f"Could not load the list: {error_text(exc)}", style="red"))
            self._items = []
        else:
            status.display = False
        self._show(self.query_one("#picker-filter", Input).value)

    def _show(self, query: str) -> None:
        options = self.query_one("#picker-options", OptionList)
        options.clear_options()
        needle = query.strip().lower()
        shown = [
            item
            for item in self._items
            if not needle or needle in item.label.lower() or needle in item.detail.lower()
        ]
        group = None
        highlight: int | None = None
        exact: int | None = None
        entries: list[Option | None] = []
        index = 0
        for item in shown:
            if item.group and item.group != group:
                group = item.group
                entries.append(Option(Text(group, style="bold underline"), disabled=True))
                index += 1
            label = Text(item.label, style="bold" if item.value == self._current else "")
            if item.detail:
                label.append(f"  {item.detail}", style="dim")
            entries.append(Option(label, id=item.value))
            if item.value.lower() == needle:
                exact = index
            if highlight is None and (item.value == self._current or needle):
                highlight = index
            index += 1
        options.add_options(entries)
        if exact is not None:
            highlight = exact  # a typed id that names a listed model picks that model
        if not shown and self._items and self._allow_typed and needle:
            options.add_option(Option(Text(f"Use {query.strip()!r}", style="italic"), id=""))
            highlight = 0
        if highlight is None:
            highlight = next(
                (i for i, e in enumerate(entries) if e is not None and not e.disabled), None
            )
        options.highlighted = highlight

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _submit_filter(self) -> None:
        options = self.query_one("#picker-options", OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted))
        elif self._allow_typed and self.query_one("#picker-filter", Input).value.strip():
            self.dismiss(self.query_one("#picker-filter", Input).value.strip())

    @on(OptionList.OptionSelected, "#picker-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option)

    def _choose(self, option: Option) -> None:
        if option.disabled:
            return
        if option.id == "":
            self.dismiss(self.query_one("#picker-filter", Input).value.strip())
        elif option.id is not None:
            self.dismiss(option.id)

    def action_move(self, delta: int) -> None:
        options = self.query_one("#picker-options", OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ModelPickerScreen(PickerScreen):
    """The model picker: any model id can also be typed."""

    def __init__(self, load: ItemLoader, *, current: str = "", title: str = "Pick a model") -> None:
        super().__init__(
            title,
            load,
            current=current,
            allow_typed=True,
            placeholder="type to filter or a model id",
        )
