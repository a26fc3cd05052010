"""Mode 3, Chat: talk to any model (base, fine-tuned, a checkpoint), compare two side by side,
and save a good turn back into a dataset.

Opens on the model (or conversation) another screen handed over with `FtApp.open_chat` (taken
once, not again when the screen is shown later), else on the profile's most
recent fine-tuned model, else on its default base model. The prompt has the focus: Enter sends,
Ctrl+N adds a line, Escape stops a reply and puts the prompt back. Replies stream as Markdown;
each one ends with tokens in/out, time to first token, tokens/s and the cost where it is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label

from screens.base import ModeScreen, copy_text
from screens.model_picker import ModelPickerScreen, PickerItem, PickerScreen
from tui import config
from tui.core.models_catalog import DEFAULT_MODEL
from tui.services.chat import (
    ChatError,
    ChatMessage,
    ChatSettings,
    ModelChoice,
    Reply,
    chat_price,
    default_model,
    list_model_choices,
    parse_settings,
    stream_reply,
)
from tui.services.conversations import ConversationStore, StoreError
from tui.widgets.chat_view import ChatView
from tui.widgets.prompt_input import PromptInput

log = logging.getLogger("ft-tui.chat")

MODEL_LIST_TTL_S = 60.0
KIND_TITLES = {"fine-tuned": "Fine-tuned", "checkpoint": "Checkpoints", "base": "Base models"}


class ChatScreen(ModeScreen):
    MODE = "chat"
    DEFAULT_CSS = """
    ChatScreen #chat-settings { height: 1; padding: 0 1; background: $panel; }
    ChatScreen #chat-settings Label { padding: 0 1 0 0; color: $text-muted; }
    ChatScreen #chat-settings Input { border: none; height: 1; padding: 0; background: $boost; }
    ChatScreen #system-prompt { width: 1fr; margin: 0 1 0 0; }
    ChatScreen #temperature, ChatScreen #max-tokens { width: 7; margin: 0 1 0 0; }
    ChatScreen #chat-panes { height: 1fr; }
    ChatScreen #right-view { display: none; border-left: vkey $panel; }
    ChatScreen.comparing #right-view { display: block; }
    """
    BINDINGS = [
        # `?` is typed into the prompt here: F1 opens the keys, early in the footer to be seen
        Binding("f1", "app.toggle_help", "Keys", id="chat.help"),
        Binding("escape", "stop", "Stop reply", id="chat.stop"),
        Binding("escape", "leave_prompt", "Leave prompt", id="chat.leave_prompt"),
        Binding("f2", "pick_model", "Model", id="chat.model"),
        Binding("f3", "settings", "Settings", id="chat.settings"),
        Binding("f4", "toggle_compare", "Compare", id="chat.compare"),
        Binding("f5", "save_example", "Save turn", id="chat.save_example"),
        # priority: the prompt (a TextArea) would take F6 as "select line"
        Binding("f6", "save_preference", "Save pair", id="chat.save_preference", priority=True),
        Binding("ctrl+t", "pick_right_model", "Right model", id="chat.right_model"),
        Binding("ctrl+r", "history", "History", id="chat.history"),
        Binding("f8", "export", "Export", id="chat.export"),
        Binding("f9", "copy_reply", "Copy reply", id="chat.copy"),
        Binding("ctrl+l", "new_chat", "New chat", id="chat.new"),
        Binding("i", "focus_prompt", "Type", show=False, id="chat.focus_prompt"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._choices: list[ModelChoice] = []
        self._choices_at = 0.0
        self._models_ready = asyncio.Event()
        self._store: ConversationStore | None = None
        self._store_failed = False
        self._active: ChatView | None = None
        self._replying = False
        self._prefilled: str | None = None  # the system prompt Chat filled in, not the user
        self.dataset_path: Path | None = None
        """Where F5 saved last; the next save offers it again."""

    # -- layout ------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="chat-settings"):
            yield Label("System")
            yield Input(placeholder="system prompt (optional)", id="system-prompt")
            yield Label("Temp")
            yield Input(placeholder="auto", id="temperature")
            yield Label("Max")
            yield Input(placeholder="auto", id="max-tokens")
        with Horizontal(id="chat-panes"):
            yield ChatView(id="left-view")
            yield ChatView(id="right-view")
        yield PromptInput(id="prompt")

    @property
    def left(self) -> ChatView:
        return self.query_one("#left-view", ChatView)

    @property
    def right(self) -> ChatView:
        return self.query_one("#right-view", ChatView)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one("#prompt", PromptInput)

    @property
    def comparing(self) -> bool:
        return self.has_class("comparing")

    def views(self) -> list[ChatView]:
        return [self.left, self.right] if self.comparing else [self.left]

    def on_mount(self) -> None:
        self.prompt.focus()
        if not self._take_pending_model():
            self.left.set_model("")
        self._load_models()

    def on_screen_resume(self) -> None:
        self._take_pending_model()
        self.prompt.focus()

    def on_profile_changed(self) -> None:
        """Another backend: its own models, so pick its default again."""
        self._choices = []
        self._models_ready.clear()
        for view in self.views():
            view.set_model("")
        self.remove_class("comparing")
        self._load_models()

    def on_descendant_focus(self) -> None:
        focused = self.focused
        if focused is not None:
            view = next((v for v in (self.right, self.left) if focused in (v, *v.ancestors)), None)
            if view is not None:
                self._active = view

    def _take_pending_model(self) -> bool:
        handoff = self.ft.handoffs.take_chat()
        if handoff is None:
            return False
        if handoff.turns is not None:
            self._show_conversation(handoff.system_prompt or "", handoff.turns)
        model = handoff.model
        if model:
            self.left.set_model(model)
            self._models_ready.set()
            self._prefill_system_prompt(model)
            return True
        return False

    # -- models ------------------------------------------------------------------------------

    async def _model_choices(self) -> list[ModelChoice]:
        if not self._choices or time.monotonic() - self._choices_at > MODEL_LIST_TTL_S:
            client = await self.ft.connection.client()
            self._choices = await list_model_choices(client)
            self._choices_at = time.monotonic()
        return self._choices

    async def _picker_items(self) -> list[PickerItem]:
        return [
            PickerItem(c.id, c.id, c.detail, KIND_TITLES.get(c.kind, c.kind))
            for c in await self._model_choices()
        ]

    @work(exclusive=True, group="chat-models", exit_on_error=False, description="Listing models")
    async def _load_models(self) -> None:
        try:
            choices = await self._model_choices()
            if not self.left.model:
                self.left.set_model(default_model(choices, DEFAULT_MODEL))
                self._prefill_system_prompt(self.left.model)
        finally:
            self._models_ready.set()

    def action_pick_model(self) -> None:
        self._pick_model(self.left)

    def action_pick_right_model(self) -> None:
        if self.comparing:
            self._pick_model(self.right)
        else:
            self.notify("Compare is off: F4 starts comparing two models.", timeout=4)

    @work(group="chat-pick", exit_on_error=False)
    async def _pick_model(self, view: ChatView) -> None:
        choice = await self.app.push_screen_wait(
            ModelPickerScreen(self._picker_items, current=view.model)
        )
        if choice:
            view.set_model(choice)
            self._models_ready.set()
            if view is self.left:
                self._prefill_system_prompt(choice)
        self.prompt.focus()

    @work(exclusive=True, group="chat-system-prompt", exit_on_error=False)
    async def _prefill_system_prompt(self, model: str) -> None:
        """A fine-tune opens with the system prompt its training file used most (it answers
        best with it); a prompt the user typed is never replaced."""
        from tui.services.trained_prompt import trained_system_prompt

        field = self.query_one("#system-prompt", Input)
        if field.value.strip() and field.value != self._prefilled:
            return
        client = await self.ft.connection.client()
        found = await trained_system_prompt(client, model)
        if field.value.strip() and field.value != self._prefilled:
            return  # typed while we looked
        if found is None:
            if self._prefilled is not None and field.value == self._prefilled:
                field.value = ""  # the pre-filled prompt belonged to the previous model
            self._prefilled = None
            return
        field.value = found.prompt
        self._prefilled = found.prompt
        self.notify(
            f"System prompt pre-filled from {model}'s training file (used by {found.examples:,}"
            f" of {found.counted:,} examples). F3 edits it; Ctrl+U there clears it.",
            title="System prompt pre-filled",
            timeout=8,
        )

    # -- sending -----------------------------------------------------------------------------

    def _settings(self, model: str) -> ChatSettings | None:
        try:
            return parse_settings(
                model,
                self.query_one("#system-prompt", Input).value,
                self.query_one("#temperature", Input).value,
                self.query_one("#max-tokens", Input).value,
            )
        except ValueError as exc:
            self.notify(str(exc), title="Check the settings row", severity="error")
            return None

    @on(PromptInput.Submitted)
    def _submitted(self, event: PromptInput.Submitted) -> None:
        if self._replying:
            self._restore_prompt(event.text)
            self.notify("A reply is still streaming: Escape stops it.", timeout=4)
            return
        if self._settings(self.left.model or "?") is None:
            self._restore_prompt(event.text)
            return
        self._set_busy(True)
        self._reply_all(event.text)

    def _set_busy(self, busy: bool) -> None:
        self._replying = busy
        self.prompt.border_title = "replying… Escape stops" if busy else ""
        self.refresh_bindings()

    @work(exclusive=True, group="chat-reply", exit_on_error=False, description="Chat reply")
    async def _reply_all(self, text: str) -> None:
        try:
            if not self.left.model:
                self.prompt.border_title = "waiting for the model list…"
                await self._models_ready.wait()
            views = [v for v in self.views() if v.model]
            if not views:
                self._restore_prompt(text)
                self.notify("Pick a model first (F2).", severity="warning")
                return
            client = await self.ft.connection.client()
            results = await asyncio.gather(*(self._reply(client, v, text) for v in views))
            if not any(results):
                self._restore_prompt(text)
        except asyncio.CancelledError:
            self._restore_prompt(text)
            raise
        except Exception:
            self._restore_prompt(text)
            raise
        finally:
            self._set_busy(False)

    async def _reply(self, client: Any, view: ChatView, text: str) -> bool:
        """Stream one model's answer into `view`; True when it completed."""
        settings = self._settings(view.model)
        if settings is None:
            return False
        user = await view.add_message("user", "You", text)
        bubble = await view.add_message("assistant", view.model)
        bubble.set_footer("waiting for the first token…")
        history = [*view.history, ChatMessage("user", text)]
        try:
            reply = await stream_reply(client, settings, history, bubble.append, price=chat_price)
        except asyncio.CancelledError:
            await bubble.finish("cancelled")
            await view.remove_message(bubble)
            await view.remove_message(user)
            raise
        except ChatError as err:
            await bubble.finish("failed")
            bubble.set_footer(f"⚠ {err.message}", error=True)
            user.add_class("unsent")
            self.notify(err.message, title=f"{view.model}: no reply", severity="error", timeout=10)
            self._report_connection(err)
            return False
        await bubble.finish("done", reply.text)
        footer = reply.metrics.describe()
        if reply.truncated:
            footer += " · cut off at max tokens"
        bubble.set_footer(footer)
        view.history = [*history, ChatMessage("assistant", reply.text)]
        await self._keep_turn(view, settings, text, reply)
        return True

    def _report_connection(self, err: ChatError) -> None:
        cause = err.__cause__
        if cause is not None:
            with contextlib.suppress(Exception):
                self.ft.connection.report_failure(cause)

    def _restore_prompt(self, text: str) -> None:
        self.prompt.restore(text)
        self.prompt.focus()

    def action_stop(self) -> None:
        if self._replying:
            for worker in self.workers:
                if worker.group == "chat-reply":
                    worker.cancel()
            self.notify("Reply stopped; your prompt is back.", timeout=3)

    def action_leave_prompt(self) -> None:
        if self.focused is self.prompt:
            self.left.focus()  # lets the mode keys 1-4 work; `i` comes back here

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_right_model":
            return self.comparing
        if action == "stop":  # Escape stops a reply only while one streams
            return self._replying
        if action == "leave_prompt":
            return not self._replying and self.focused is self.prompt
        return True

    def action_focus_prompt(self) -> None:
        self.prompt.focus()

    def action_settings(self) -> None:
        self.query_one("#system-prompt", Input).focus()

    @on(Input.Submitted, "#chat-settings Input")
    def _settings_done(self) -> None:
        self.prompt.focus()

    # -- keeping conversations ---------------------------------------------------------------

    async def _conversations(self) -> ConversationStore | None:
        if self._store is None and not self._store_failed:
            try:
                self._store = await asyncio.to_thread(ConversationStore)
            except StoreError as exc:
                self._store_failed = True
                self.notify(f"{exc}. Chats are not kept.", severity="warning", timeout=8)
        return self._store

    async def _keep_turn(
        self, view: ChatView, settings: ChatSettings, text: str, reply: Reply
    ) -> None:
        store = await self._conversations()
        if store is None:
            return
        try:
            if view.conversation_id is None:
                view.conversation_id = await asyncio.to_thread(
                    store.create, view.model, settings.system_prompt
                )
                # a compare pane starts from the other side's turns: keep them too
                for earlier in view.history[:-2]:
                    await asyncio.to_thread(
                        store.add_message, view.conversation_id, earlier.role, earlier.content
                    )
            else:
                await asyncio.to_thread(
                    store.update_settings,
                    view.conversation_id,
                    view.model,
                    settings.system_prompt,
                )
            await asyncio.to_thread(
                store.add_message,
                view.conversation_id,
                "user",
                text,
                None,
                settings.system_prompt,  # what this turn was sent with (export keeps it there)
            )
            await asyncio.to_thread(
                store.add_message, view.conversation_id, "assistant", reply.text, reply.metrics
            )
        except StoreError as exc:
            log.warning("turn not kept: %s", exc)
            self.notify(str(exc), title="Turn not kept", severity="warning")

    async def action_new_chat(self) -> None:
        if self._replying:
            self.notify("A reply is still streaming: Escape stops it first.", timeout=4)
            return
        for view in self.views():
            await view.clear_messages()
        self.prompt.focus()

    def action_history(self) -> None:
        if self._replying:
            self.notify("A reply is still streaming: Escape stops it first.", timeout=4)
            return
        self._open_history()

    async def _history_items(self) -> list[PickerItem]:
        store = await self._conversations()
        if store is None:
            return []
        summaries = await asyncio.to_thread(store.recent, 200)
        return [PickerItem(str(s.id), s.title or "(untitled)", s.detail) for s in summaries]

    @work(group="chat-history", exit_on_error=False, description="Opening a kept conversation")
    async def _open_history(self) -> None:
        choice = await self.app.push_screen_wait(
            PickerScreen("Kept conversations", self._history_items)
        )
        store = await self._conversations()
        if choice and store is not None:
            conversation = await asyncio.to_thread(store.load, int(choice))
            self.remove_class("comparing")
            self.query_one("#system-prompt", Input).value = conversation.system_prompt
            self.left.set_model(conversation.model)
            await self.left.show_history(
                [m.as_chat() for m in conversation.messages], conversation.model
            )
            self.left.conversation_id = conversation.id
            self._models_ready.set()
        self.prompt.focus()

    @work(group="chat-handoff", exit_on_error=False, description="Opening a conversation")
    async def _show_conversation(self, system_prompt: str, turns: list[ChatMessage]) -> None:
        """A conversation handed over by another screen: shown, continued from here."""
        self.remove_class("comparing")
        self.query_one("#system-prompt", Input).value = system_prompt
        await self.left.show_history(turns, self.left.model or "assistant")
        self.left.conversation_id = None
        self.prompt.focus()

    @work(group="chat-export", exit_on_error=False, description="Exporting conversations")
    async def action_export(self) -> None:
        store = await self._conversations()
        if store is None:
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = config.data_dir() / "exports" / f"conversations-{stamp}.jsonl"
        count = await asyncio.to_thread(store.export_jsonl, path)
        if count == 0:
            self.notify("No kept conversations to export yet.", timeout=4)
            return
        self.notify(
            f"{count} conversation{'s' if count != 1 else ''} written to {path}",
            title="Exported as chat-format JSONL",
            timeout=10,
        )
        copy_text(self, str(path), "export path", echo=False)

    # -- compare, copy, save -----------------------------------------------------------------

    def action_toggle_compare(self) -> None:
        if self._replying:
            self.notify("A reply is still streaming: Escape stops it first.", timeout=4)
            return
        if self.comparing:
            self.remove_class("comparing")
            self.prompt.focus()
            return
        self._start_compare()

    @work(group="chat-pick", exit_on_error=False)
    async def _start_compare(self) -> None:
        choice = await self.app.push_screen_wait(
            ModelPickerScreen(
                self._picker_items, current=self.left.model, title="Compare with which model?"
            )
        )
        if choice:
            self.right.set_model(choice)
            await self.right.show_history(self.left.history, choice)
            self.right.conversation_id = None
            self.add_class("comparing")
        self.prompt.focus()

    def action_copy_reply(self) -> None:
        view = self._active or self.left
        reply = view.last_reply or self.left.last_reply
        if not reply:
            self.notify("No reply to copy yet.", timeout=3)
        else:
            copy_text(self, reply, "reply", echo=False)

    def action_save_example(self) -> None:
        view = self._active if self._active in self.views() else self.left
        if view is None or not view.last_reply:
            self.notify("Nothing to save yet: chat first, then F5 saves the last turn.")
            return
        self._save_example(view)

    @work(group="chat-save", exit_on_error=False, description="Saving a training example")
    async def _save_example(self, view: ChatView) -> None:
        from screens.save_example import SaveExampleScreen, default_dataset_path

        path = self.dataset_path or default_dataset_path(self.ft.start_path)
        saved = await self.app.push_screen_wait(
            SaveExampleScreen(
                system_prompt=self.query_one("#system-prompt", Input).value,
                history=view.history,
                path=path,
                model=view.model,
            )
        )
        if saved is not None:
            self.dataset_path = saved.path
            self.notify(
                f"Line {saved.line} of {saved.path}",
                title="Training example saved",
                timeout=6,
            )
        self.prompt.focus()

    def action_save_preference(self) -> None:
        from screens.save_preference import open_for_compare

        if not self.comparing:
            self.notify("F6 saves a compared pair: F4 compares two models first.", timeout=4)
        else:
            open_for_compare(self, [self.left, self.right])

    def on_worker_failed(self, worker: Any) -> None:
        if worker.group == "chat-models":
            self.left.set_model(self.left.model)
            self.notify(
                "Press F2 to type a model id, or check the connection.",
                title="Models not listed",
                severity="warning",
            )
