"""Stop-string matching for streamed text (sampling itself is transformers' `generate`)."""

from __future__ import annotations


class StopMatcher:
    """Turns the growing decoded text into safe deltas: never emits text that could still become
    (part of) a stop string, nor a trailing partial UTF-8 character."""

    def __init__(self, stops: list[str]) -> None:
        self._stops = [s for s in stops if s]
        self._sent = 0
        self._text = ""
        self.stopped = False

    def feed(self, text: str) -> tuple[str, bool]:
        """Given the full text so far, return (new safe text, whether a stop string matched)."""
        self._text = text
        cut = self._first_stop(text)
        if cut is not None:
            self.stopped = True
            delta = text[self._sent : cut] if cut > self._sent else ""
            self._sent = max(self._sent, cut)
            return delta, True
        safe = len(text) - self._held_back(text)
        if text.endswith("\ufffd"):  # an incomplete multi-byte character
            safe = min(safe, len(text) - 1)
        if safe <= self._sent:
            return "", False
        delta = text[self._sent : safe]
        self._sent = safe
        return delta, False

    def flush(self) -> str:
        delta = self._text[self._sent :]
        self._sent = len(self._text)
        return delta

    def _first_stop(self, text: str) -> int | None:
        start = max(0, self._sent - max((len(s) for s in self._stops), default=0))
        hits = [i for s in self._stops if (i := text.find(s, start)) != -1]
        return min(hits) if hits else None

    def _held_back(self, text: str) -> int:
        """Length of the longest tail of `text` that is a proper prefix of some stop string."""
        longest = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:size]):
                    longest = size
                    break
        return longest
