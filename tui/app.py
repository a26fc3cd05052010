"""The Textual app: five modes, global bindings, the palette, profile and connection state.

Screens live in the top-level `screens` package and are imported when their mode is first shown,
so startup stays fast. The connection to the active profile's backend is created lazily: nothing
touches the network (or starts the local server) until a screen asks for a client.
"""

from __future__ import annotations

import importlib
import logging
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen

from tui import config
from tui.core.assets import asset
from tui.core.log_buffer import LogBuffer
from tui.gc_policy import tune_for_ui
from tui.handoffs import ChatHandoff, EvalFormHandoff, Handoffs

if TYPE_CHECKING:
    from tui.services.connection import Connection, ConnectionHealth

log = logging.getLogger("ft-tui")

MODE_TITLES = {
    "datasets": "Datasets",
    "jobs": "Jobs",
    "chat": "Chat",
    "files": "Files & models",
    "eval": "Eval",
}


def _lazy_screen(module: str, name: str) -> Callable[[], Screen[Any]]:
    def factory() -> Screen[Any]:
        screen_class = getattr(importlib.import_module(module), name)
        return screen_class()  # type: ignore[no-any-return]

    return factory


class FtApp(App[None]):
    """ft-tui. `start_path` is the dataset file or directory given on the command line."""

    CSS_PATH = str(asset("app.tcss"))
    TITLE = "ft-tui"
    ENABLE_COMMAND_PALETTE = True
    MODES = {
        "datasets": _lazy_screen("screens.datasets", "DatasetsScreen"),
        "jobs": _lazy_screen("screens.jobs", "JobsScreen"),
        "chat": _lazy_screen("screens.chat", "ChatScreen"),
        "files": _lazy_screen("screens.files", "FilesScreen"),
        "eval": _lazy_screen("screens.eval", "EvalScreen"),
    }
    BINDINGS = [
        Binding("1", "switch_mode('datasets')", "Datasets", id="mode.datasets", show=False),
        Binding("2", "switch_mode('jobs')", "Jobs", id="mode.jobs", show=False),
        Binding("3", "switch_mode('chat')", "Chat", id="mode.chat", show=False),
        Binding("4", "switch_mode('files')", "Files", id="mode.files", show=False),
        Binding("5", "switch_mode('eval')", "Eval", id="mode.eval", show=False),
        Binding("question_mark,f1", "toggle_help", "Keys", id="app.help"),
        Binding("f12", "show_log", "Log", id="app.log", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, show=False),
    ]

    status_text: reactive[str] = reactive("")
    """Profile and connection health, shown in every screen's header."""

    def __init__(
        self,
        start_path: Path | None = None,
        *,
        connection: Connection | None = None,
        log_buffer: LogBuffer | None = None,
    ) -> None:
        super().__init__()
        self.start_path = (start_path or Path.cwd()).expanduser()
        self._connection = connection
        self.log_buffer = log_buffer or LogBuffer()
        self.animation_level = "none"  # repaint cost matters over slow links
        self.handoffs = Handoffs()  # between modes: see open_chat, start_job, open_eval_form
        self._toasts_until: dict[tuple[str, str, str], float] = {}  # toast → shown until

    # -- lifecycle -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        try:
            self.set_keymap(config.keymap())
        except config.ConfigError as exc:
            self.notify(str(exc), title="Keymap not applied", severity="error", timeout=10)
        if self._connection is not None:  # injected (tests, embedding)
            self._connection.add_listener(self._on_health)
        self.switch_mode("datasets")
        try:  # cheap: reads the settings file, touches no network
            _ = self.connection
        except Exception as exc:
            self.status_text = "no usable profile"
            self.notify(str(exc), title="Settings problem", severity="error", timeout=12)
        self._refresh_status()
        self.call_after_refresh(tune_for_ui)  # once the first screen's objects exist

    async def on_unmount(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.aclose()
            except Exception:
                log.exception("closing the connection failed")

    # -- connection ----------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        """The active profile's connection, created on first use."""
        if self._connection is None:
            from tui.services.connection import connection_for

            self._connection = connection_for(None)
            self._connection.add_listener(self._on_health)
            self._refresh_status()
        return self._connection

    def use_profile(self, name: str) -> None:
        """Switch to another profile; screens refetch on their next refresh."""
        from tui.services.connection import connection_for

        old = self._connection
        try:
            self._connection = connection_for(name)
        except Exception as exc:  # a broken profile must not take the app down
            self.notify(str(exc), title=f"Profile {name!r} unusable", severity="error")
            return
        self._connection.add_listener(self._on_health)
        if old is not None:
            self.run_worker(old.aclose(), group="connection-close", exit_on_error=False)
        self._refresh_status()
        self.notify(f"Using profile {name!r}", timeout=3)
        self.notify_screens("profile_changed")

    # -- hand-offs between modes ---------------------------------------------------------------

    def open_chat(
        self, model: str, system_prompt: str | None = None, turns: list[Any] | None = None
    ) -> None:
        """Chat (mode 3) with `model`, optionally showing a conversation (system prompt, turns)."""
        self.handoffs.chat = ChatHandoff(model, system_prompt, turns)
        self.switch_mode("chat")

    async def start_job(self, dataset: Path) -> None:
        """The new-job form of mode 2, pre-filled with `dataset`, over whatever mode 2 shows."""
        from screens.jobs import take_new_job_handoff

        self.handoffs.new_job_file = dataset
        await self.switch_mode("jobs")
        take_new_job_handoff(self)  # a job view may be on top of the list: show the form

    async def open_eval_form(self, dataset: str | Path, models: list[str]) -> None:
        """Mode 5's new-run form, pre-filled."""
        from screens.eval import take_eval_handoff

        self.handoffs.eval_form = EvalFormHandoff(str(dataset), list(models))
        await self.switch_mode("eval")
        take_eval_handoff(self)  # a run view may be on top of the list

    def notify_screens(self, hook: str) -> None:
        """Call `on_<hook>()` on every screen of every mode, not only the current mode's: a job
        view left open in mode 2 must hear of a profile switch made in mode 1. Textual keeps one
        stack per mode and exposes only the current one (`screen_stack`)."""
        stacks: dict[str, list[Screen[Any]]] = getattr(self, "_screen_stacks", {})
        for stack in list(stacks.values()) or [self.screen_stack]:
            for screen in list(stack):
                callback = getattr(screen, f"on_{hook}", None)
                if callable(callback):
                    callback()

    def _on_health(self, health: ConnectionHealth) -> None:
        # Listeners may fire from worker threads or tasks; hop onto the UI loop safely.
        try:
            self.call_later(self._refresh_status)
        except Exception:
            self.call_from_thread(self._refresh_status)

    def _refresh_status(self) -> None:
        if self._connection is None:
            return
        conn = self._connection
        self.status_text = f"{conn.profile.name} · {conn.health.describe()}"

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast, unless the same one is still on screen: a poll that fails every few
        seconds, or a worker error reported by two layers, shows it once."""
        key = (str(message), title, severity)
        now = time.monotonic()
        if self._toasts_until.get(key, 0.0) > now:
            return
        shown_for = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        self._toasts_until = {k: t for k, t in self._toasts_until.items() if t > now}
        self._toasts_until[key] = now + shown_for
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- actions -------------------------------------------------------------------------------

    def action_toggle_help(self) -> None:
        from screens.help import KeysScreen

        if isinstance(self.screen, KeysScreen):
            self.screen.dismiss()
        else:
            self.push_screen(KeysScreen(self.screen))

    def action_show_help_panel(self) -> None:  # Textual's own entry points open the same list
        self.action_toggle_help()

    def action_show_log(self) -> None:
        from screens.log import LogScreen

        self.push_screen(LogScreen(self.log_buffer))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from screens.help import HELP_ACTIONS, binding_entries

        seen: set[str] = {"Keys"}  # Textual's "Keys" is replaced by the keys list below
        for command in super().get_system_commands(screen):
            if command.title not in seen:
                seen.add(command.title)
                yield command
        yield SystemCommand("Keys", "The keys of this screen (? or F1)", self.action_toggle_help)
        for mode, title in MODE_TITLES.items():
            yield SystemCommand(
                f"Go to {title}", f"Switch to the {title} screen", self._switcher(mode)
            )
        yield SystemCommand(
            "Show log", "Recent messages and errors of this session", self.action_show_log
        )
        try:
            from tui.services.profiles import list_profiles

            for profile in list_profiles():
                yield SystemCommand(
                    f"Use profile: {profile.name}",
                    profile.describe(),
                    self._profile_switcher(profile.name),
                )
        except Exception as exc:
            log.warning("profiles unavailable: %s", exc)
        # Every action bound on the current screen is reachable from the palette too, once.
        for entry in binding_entries(screen):
            if entry.action.startswith("switch_mode") or entry.action in HELP_ACTIONS:
                continue
            if entry.description in seen:
                continue
            seen.add(entry.description)
            yield SystemCommand(
                entry.description,
                f"key: {' '.join(entry.keys)}",
                self._binding_runner(entry.node, entry.action),
            )

    def _switcher(self, mode: str) -> Callable[[], object]:
        return lambda: self.switch_mode(mode)

    def _profile_switcher(self, name: str) -> Callable[[], None]:
        return lambda: self.use_profile(name)

    def _binding_runner(self, node: Any, action: str) -> Callable[[], Any]:
        async def run() -> None:
            await self.run_action(action, node)

        return run

    # -- errors: never a traceback on the terminal ---------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        self._last_error = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        crash = write_crash_report(getattr(self, "_last_error", None))
        self.bell()
        self._exit_renderables.append(
            f"ft-tui stopped after an unexpected error. Details: {crash}\n"
            "Please report it with that file."
        )
        self._close_messages_no_wait()


def write_crash_report(error: BaseException | None) -> Path:
    path = config.data_dir() / "crash.log"
    details = "".join(traceback.format_exception(error)) if error else traceback.format_exc()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(details)
            handle.write("\n")
    except OSError:
        return Path("(could not write crash log)")
    return path
