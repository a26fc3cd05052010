"""A live loss chart drawn with braille dots (2×4 dots per cell).

The widget never touches the full history: it asks its `source` for a `ChartFrame` already
reduced to the chart's width in dots (`FrameCache` over `tui.core.metrics`: only the buckets that
received new steps are recomputed), so a redraw costs O(width × height) whatever the job length.
Updates are throttled: `mark_dirty()` is cheap and the frame is rebuilt at most `max_fps` times
a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.metrics import MetricsSeries

# Bit for each dot of a braille cell, indexed [row][column] (Unicode braille pattern layout).
_DOT_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE_BASE = 0x2800
Y_LABEL_WIDTH = 7


@dataclass(frozen=True)
class PlotSeries:
    """One curve, already reduced to at most a few points per dot column."""

    label: str
    style: str
    xs: Sequence[float]
    ys: Sequence[float]
    last: float | None = None
    lows: Sequence[float] | None = None  # per point: the bucket's min and max (noise band)
    highs: Sequence[float] | None = None


@dataclass(frozen=True)
class ChartFrame:
    """What the chart draws: curves plus the x range (steps) they live in."""

    series: Sequence[PlotSeries]
    x_min: float = 0.0
    x_max: float = 0.0
    title: str = "loss"
    points: int = 0  # total history length, for the caption only
    empty_text: str = "No metrics yet."
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not any(len(s.xs) for s in self.series)


LOSS_SERIES = (
    ("train_loss", "train", "bright_cyan"),
    ("valid_loss", "valid", "yellow"),
    ("full_valid_loss", "full valid", "bright_magenta"),
)
ACCURACY_SERIES = (
    ("train_mean_token_accuracy", "train", "bright_cyan"),
    ("valid_mean_token_accuracy", "valid", "yellow"),
    ("full_valid_mean_token_accuracy", "full valid", "bright_magenta"),
)

FrameSource = Callable[[int, bool], ChartFrame]
"""`source(width_in_dots, accuracy)` → the frame to draw."""


def format_value(value: float) -> str:
    """A short label for an axis or legend value: 3 significant digits, never scientific
    for ordinary loss values."""
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1 or magnitude == 0:
        return f"{value:.2f}"
    if magnitude >= 0.001:
        return f"{value:.3f}"
    return f"{value:.1e}"


class BrailleCanvas:
    """A grid of braille cells; each cell keeps the style of the last series drawn into it."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self._bits = [0] * (width * height)
        self._styles: list[str] = [""] * (width * height)

    @property
    def dot_width(self) -> int:
        return self.width * 2

    @property
    def dot_height(self) -> int:
        return self.height * 4

    def plot(self, x: int, y: int, style: str) -> None:
        """Set dot (x, y); y grows downwards. Out-of-range dots are ignored."""
        if 0 <= x < self.dot_width and 0 <= y < self.dot_height:
            index = (y >> 2) * self.width + (x >> 1)
            self._bits[index] |= _DOT_BITS[y & 3][x & 1]
            self._styles[index] = style

    def marker(self, x: int, y: int, style: str) -> None:
        """A 2×2-dot blob at (x, y)."""
        for dx in (0, 1):
            for dy in (-1, 0):
                self.plot(x - dx, y + dy, style)

    def line(self, x0: int, y0: int, x1: int, y1: int, style: str) -> None:
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        step_x = 1 if x0 < x1 else -1
        step_y = 1 if y0 < y1 else -1
        error = dx + dy
        while True:
            self.plot(x0, y0, style)
            if x0 == x1 and y0 == y1:
                return
            doubled = 2 * error
            if doubled >= dy:
                error += dy
                x0 += step_x
            if doubled <= dx:
                error += dx
                y0 += step_y

    def row_text(self, row: int) -> Text:
        text = Text(no_wrap=True)
        start = row * self.width
        run_chars: list[str] = []
        run_style = self._styles[start] if self.width else ""
        for index in range(start, start + self.width):
            bits = self._bits[index]
            style = self._styles[index] if bits else ""
            if style != run_style and run_chars:
                text.append("".join(run_chars), style=run_style)
                run_chars = []
            run_style = style
            run_chars.append(chr(_BRAILLE_BASE + bits) if bits else " ")
        if run_chars:
            text.append("".join(run_chars), style=run_style)
        return text


def _y_range(series: Sequence[PlotSeries]) -> tuple[float, float]:
    values = [y for s in series for y in s.ys if math.isfinite(y)]
    for s in series:
        values += [y for y in (s.lows or ()) if math.isfinite(y)]
        values += [y for y in (s.highs or ()) if math.isfinite(y)]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    flat = high - low < 1e-12
    pad = (abs(high) * 0.1 or 0.5) if flat else (high - low) * 0.05
    # Losses and accuracies are never negative: an axis below zero would only confuse.
    bottom = max(0.0, low - pad) if low >= 0 else low - pad
    return bottom, high + pad


def draw_plot(frame: ChartFrame, width: int, height: int) -> list[Text]:
    """The plot rows (y labels + braille area), `height` lines of `width` cells."""
    plot_width = max(1, width - Y_LABEL_WIDTH - 1)
    canvas = BrailleCanvas(plot_width, height)
    low, high = _y_range(frame.series)
    x_min, x_max = frame.x_min, frame.x_max
    x_span = x_max - x_min
    y_span = high - low
    last_dot_x = canvas.dot_width - 1
    last_dot_y = canvas.dot_height - 1

    def to_dot(x: float, y: float) -> tuple[int, int]:
        col = round((x - x_min) / x_span * last_dot_x) if x_span > 0 else last_dot_x // 2
        row = round((high - y) / y_span * last_dot_y)
        return col, row

    for series in frame.series:
        previous: tuple[int, int] | None = None
        # Few points: mark each one so that 3 measurements do not read as a smooth curve.
        marked = len(series.xs) <= canvas.dot_width // 8
        for x, y in zip(series.xs, series.ys, strict=False):
            if not (math.isfinite(x) and math.isfinite(y)):
                previous = None
                continue
            dot = to_dot(x, y)
            if previous is None:
                canvas.plot(dot[0], dot[1], series.style)
            else:
                canvas.line(previous[0], previous[1], dot[0], dot[1], series.style)
            if marked:
                canvas.marker(dot[0], dot[1], series.style)
            previous = dot
        if series.lows is not None and series.highs is not None:
            for x, low_y, high_y in zip(series.xs, series.lows, series.highs, strict=False):
                if low_y < high_y:
                    top, bottom = to_dot(x, high_y), to_dot(x, low_y)
                    canvas.line(top[0], top[1], bottom[0], bottom[1], series.style)

    rows: list[Text] = []
    label_rows = {0: high, height - 1: low}
    if height >= 5:
        label_rows[(height - 1) // 2] = (high + low) / 2
    for row in range(height):
        value = label_rows.get(row)
        label = (
            format_value(value).rjust(Y_LABEL_WIDTH)[-Y_LABEL_WIDTH:] if value is not None else ""
        )
        line = Text(label.rjust(Y_LABEL_WIDTH), style="dim", no_wrap=True)
        line.append("┤" if value is not None else "│", style="dim")
        line.append_text(canvas.row_text(row))
        rows.append(line)
    return rows


def x_axis(frame: ChartFrame, width: int) -> Text:
    plot_width = max(1, width - Y_LABEL_WIDTH - 1)
    left = f"step {frame.x_min:.0f}"
    right = f"{frame.x_max:.0f}"
    gap = max(1, plot_width - len(left) - len(right))
    text = Text(" " * (Y_LABEL_WIDTH + 1), no_wrap=True)
    text.append(f"{left}{' ' * gap}{right}", style="dim")
    return text


def legend(frame: ChartFrame) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{frame.title} ", style="bold")
    for series in frame.series:
        text.append("━━ ", style=series.style)
        text.append(series.label)
        if series.last is not None:
            text.append(f" {format_value(series.last)}", style="bold")
        text.append("  ")
    if frame.points:
        text.append(f"({frame.points:,} points)", style="dim")
    return text


def render_frame(frame: ChartFrame, width: int, height: int) -> Text:
    """The whole chart as text: legend, plot, x axis. Pure, so it can be benchmarked alone."""
    if height <= 0 or width <= 0:
        return Text()
    if frame.is_empty:
        return Text(frame.empty_text, style="dim")
    if height < 4 or width < Y_LABEL_WIDTH + 6:
        return legend(frame)
    lines = [legend(frame), *draw_plot(frame, width, height - 2), x_axis(frame, width)]
    return Text("\n", no_wrap=True).join(lines)


def bucket_bounds(first: int, last: int, width: int) -> list[tuple[int, int]]:
    """The step ranges `MetricsSeries.downsample` uses for `width` buckets over [first, last]."""
    span = last - first + 1
    count = min(width, span)
    return [(first + span * b // count, first + span * (b + 1) // count - 1) for b in range(count)]


class FrameCache:
    """Chart frames that stay cheap as history grows.

    The step axis runs to `total_steps` (known from the first metrics event), so bucket bounds
    do not move while a job trains: a new frame recomputes only the buckets holding steps that
    arrived since the last one (O(new points)); anything else (width, series object, axis
    change) rebuilds all ≤ width buckets in O(width · log n)."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._bounds: list[tuple[int, int]] = []
        self._buckets: dict[str, list[tuple[float, float] | None]] = {}
        self._upto = 0
        self.rebuilt = 0  # full rebuilds, for tests and the benchmark

    def frame(self, series: MetricsSeries, width: int, accuracy: bool = False) -> ChartFrame:
        keys = ACCURACY_SERIES if accuracy else LOSS_SERIES
        first = series.steps[0] if len(series) else 0
        last = max(series.last_step or 0, series.total_steps or 0)
        key = (id(series), width, accuracy, first, last)
        newest = series.last_step or 0
        if key != self._key:
            self._key = key
            self._bounds = bucket_bounds(first, last, width) if len(series) else []
            self._buckets = {name: self._compute(series, name) for name, _, _ in keys}
            self.rebuilt += 1
        elif newest >= self._upto:  # equal: a repeated step may have changed the last bucket
            for name, _, _ in keys:
                self._refresh(series, name, self._upto)
        self._upto = newest
        plotted: list[PlotSeries] = []
        for name, label, style in keys:
            # count() first: last() scans back over missing points, all n of them if none
            latest = series.last(name) if series.count(name) else None
            if latest is None:
                continue
            xs: list[float] = []
            lows: list[float] = []
            highs: list[float] = []
            for (lo_step, hi_step), bucket in zip(self._bounds, self._buckets[name], strict=True):
                if bucket is not None:
                    xs.append((lo_step + hi_step) / 2)
                    lows.append(bucket[0])
                    highs.append(bucket[1])
            ys = [(low + high) / 2 for low, high in zip(lows, highs, strict=True)]
            plotted.append(PlotSeries(label, style, xs, ys, latest[1], lows, highs))
        return ChartFrame(
            series=plotted,
            x_min=float(first),
            x_max=float(last),
            title="token accuracy" if accuracy else "loss",
            points=len(series),
            empty_text="No metrics yet: they appear once training starts.",
        )

    def _compute(self, series: MetricsSeries, name: str) -> list[tuple[float, float] | None]:
        if not self._bounds:
            return []
        window = (self._bounds[0][0], self._bounds[-1][1])
        found = {
            b.step_lo: (b.lo, b.hi) for b in series.downsample(name, len(self._bounds), window)
        }
        return [found.get(lo) for lo, _ in self._bounds]

    def _refresh(self, series: MetricsSeries, name: str, since_step: int) -> None:
        start = next(
            (i for i, (_, hi) in enumerate(self._bounds) if hi >= since_step), len(self._bounds)
        )
        stale = self._buckets[name]
        for index in range(start, len(self._bounds)):
            lo, hi = self._bounds[index]
            if lo > (series.last_step or 0):
                break  # buckets beyond the newest step stay empty
            single = series.downsample(name, 1, (lo, hi))
            stale[index] = (single[0].lo, single[0].hi) if single else None


def frame_from_series(series: MetricsSeries, width: int, accuracy: bool = False) -> ChartFrame:
    """A one-off frame (no cache): every curve cut into ≤ `width` buckets, O(width · log n)."""
    return FrameCache().frame(series, width, accuracy)


def _empty_source(_width: int, accuracy: bool) -> ChartFrame:
    return ChartFrame(series=(), title="token accuracy" if accuracy else "loss")


class LossChart(Widget, can_focus=True):
    """Train / valid / full-valid loss, or token accuracy (`show_accuracy`; the job screen binds
    `a` to `action_toggle_accuracy`)."""

    DEFAULT_CSS = """
    LossChart { height: 1fr; min-height: 6; padding: 0 1; }
    LossChart:focus { background: $boost; }
    """

    show_accuracy: reactive[bool] = reactive(False)

    def __init__(
        self,
        source: FrameSource | None = None,
        *,
        max_fps: float = 4.0,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(id=id)
        self._source: FrameSource = source or _empty_source
        self._interval = 1.0 / max_fps
        self._dirty = True
        self._frame: ChartFrame | None = None
        self._frame_width = -1
        self.redraws = 0  # frames built; tests and the benchmark read it

    def on_mount(self) -> None:
        self.set_interval(self._interval, self._tick)

    def mark_dirty(self) -> None:
        """New data arrived: the frame is rebuilt on the next tick, not now."""
        self._dirty = True

    def _tick(self) -> None:
        if self._dirty:
            self.refresh()

    def watch_show_accuracy(self, _value: bool) -> None:
        self._dirty = True
        self.refresh()

    def action_toggle_accuracy(self) -> None:
        self.show_accuracy = not self.show_accuracy

    def current_frame(self) -> ChartFrame:
        """The frame for the current size, rebuilt only when data or width changed."""
        dots = max(2, (self.content_size.width - Y_LABEL_WIDTH - 1) * 2)
        if self._dirty or self._frame is None or dots != self._frame_width:
            self._frame = self._source(dots, self.show_accuracy)
            self._frame_width = dots
            self._dirty = False
            self.redraws += 1
        return self._frame

    def render(self) -> Text:
        size = self.content_size
        return render_frame(self.current_frame(), size.width, size.height)
