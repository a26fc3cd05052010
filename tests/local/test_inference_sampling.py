"""Streaming text safely: stop strings across token boundaries, partial characters."""

from __future__ import annotations

from tui.local.inference.sampling import StopMatcher


def feed_all(matcher: StopMatcher, pieces: list[str]) -> tuple[str, bool]:
    text, out = "", ""
    for piece in pieces:
        text += piece
        delta, stopped = matcher.feed(text)
        out += delta
        if stopped:
            return out, True
    return out + matcher.flush(), False


def test_stop_string_split_over_tokens_is_never_emitted() -> None:
    out, stopped = feed_all(StopMatcher(["END"]), ["hello E", "N", "D and more"])
    assert (out, stopped) == ("hello ", True)


def test_false_alarm_prefix_is_released() -> None:
    out, stopped = feed_all(StopMatcher(["END"]), ["hello E", "N", "! bye"])
    assert (out, stopped) == ("hello EN! bye", False)


def test_earliest_of_several_stops_wins() -> None:
    out, _ = feed_all(StopMatcher(["b", "xyz"]), ["a xyz b"])
    assert out == "a "


def test_partial_utf8_character_is_held_back() -> None:
    matcher = StopMatcher([])
    assert matcher.feed("caf\ufffd") == ("caf", False)
    assert matcher.feed("café") == ("é", False)
