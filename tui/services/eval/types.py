"""The typed public API of evaluation (`ft-tui eval`, `ft-tui record`, the Eval screen).

Everything here is plain data: the runner (`runner.run_eval`) produces it, the store
(`store.EvalStore`) persists it, the CLI prints it and the screen shows it.

    spec = EvalSpec(Path("held_out.jsonl"), [ModelRef.parse("gpt-4o-mini"),
                    ModelRef.parse("local=ft:smollm2:acme:1")])
    summary = await run_eval(spec, store=EvalStore())
    print(json.dumps(summary.to_json()))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from tui.services.errors import ServiceError

RunStatus = Literal["running", "completed", "cancelled", "failed"]
RUN_STATUSES: tuple[RunStatus, ...] = ("running", "completed", "cancelled", "failed")
DEFAULT_SCORERS: tuple[str, ...] = ("exact", "normalized", "f1")
DEFAULT_CONCURRENCY = 4


class EvalError(ServiceError):
    """Bad input for an eval or a recording (unreadable dataset, lint errors, unknown scorer,
    unknown profile, unknown run id…). The message names the file/line/flag; the CLI prints
    it as one `error:` line and exits 2, the app shows it as a toast."""

    title = "Evaluation"


@dataclass(frozen=True)
class ModelRef:
    """A model of a profile. `profile` None means the active profile."""

    profile: str | None
    model: str

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """`MODEL` or `PROFILE=MODEL` (model ids never contain `=`). Raises `EvalError`."""
        text = text.strip()
        profile, sep, model = text.partition("=")
        if not sep:
            profile, model = "", text
        profile, model = profile.strip(), model.strip()
        if not model or (sep and not profile) or "=" in model:
            raise EvalError(f"--model {text!r}: expected MODEL or PROFILE=MODEL")
        return cls(profile or None, model)

    @property
    def label(self) -> str:
        """How the model is named in tables and in `--json`/`--out` (`PROFILE=MODEL` or
        `MODEL`)."""
        return f"{self.profile}={self.model}" if self.profile else self.model

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class EvalSpec:
    """What to evaluate. `scorers` are names like `exact`, `regex:^yes`, `judge`."""

    dataset: Path
    models: list[ModelRef]
    scorers: list[str] = field(default_factory=lambda: list(DEFAULT_SCORERS))
    judge: ModelRef | None = None
    limit: int | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": str(self.dataset),
            "models": [m.label for m in self.models],
            "scorers": list(self.scorers),
            "judge": self.judge.label if self.judge else None,
            "limit": self.limit,
            "concurrency": self.concurrency,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalSpec:
        judge = data.get("judge")
        return cls(
            dataset=Path(str(data["dataset"])),
            models=[ModelRef.parse(str(m)) for m in data["models"]],
            scorers=[str(s) for s in data.get("scorers") or DEFAULT_SCORERS],
            judge=ModelRef.parse(str(judge)) if judge else None,
            limit=data.get("limit"),
            concurrency=int(data.get("concurrency") or DEFAULT_CONCURRENCY),
            temperature=data.get("temperature"),
            max_tokens=data.get("max_tokens"),
            seed=data.get("seed"),
        )


@dataclass
class Answer:
    """One model's answer to one row. `error` set means the call failed (after retries);
    its scores are then empty and it does not count as answered."""

    text: str | None = None
    tool_calls: list[Any] | None = None
    scores: dict[str, float] = field(default_factory=dict)
    latency_s: float | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(
            text=data.get("text"),
            tool_calls=data.get("tool_calls"),
            scores={str(k): float(v) for k, v in (data.get("scores") or {}).items()},
            latency_s=data.get("latency_s"),
            error=data.get("error"),
            prompt_tokens=int(data.get("prompt_tokens") or 0),
            completion_tokens=int(data.get("completion_tokens") or 0),
        )


@dataclass
class RowResult:
    """One evaluated row. `line` is the 1-based line in the dataset; `answers` is keyed by
    `ModelRef.label`. `judge` holds the pairwise verdicts when a judge ran:
    {"A|B": "a" | "b" | "tie"} keyed by the two labels joined with `|`."""

    line: int
    prompt: list[dict[str, Any]]
    reference: dict[str, Any]
    answers: dict[str, Answer] = field(default_factory=dict)
    judge: dict[str, Any] | None = None

    def to_out_json(self) -> dict[str, Any]:
        """The `--out FILE` line: {line, prompt, reference, answers: {model: {text, scores,
        latency_s, error}}} (tool calls are included when a model made some)."""
        answers: dict[str, Any] = {}
        for label, a in self.answers.items():
            item: dict[str, Any] = {
                "text": a.text,
                "scores": a.scores,
                "latency_s": a.latency_s,
                "error": a.error,
            }
            if a.tool_calls:
                item["tool_calls"] = a.tool_calls
            answers[label] = item
        out: dict[str, Any] = {
            "line": self.line,
            "prompt": self.prompt,
            "reference": self.reference,
            "answers": answers,
        }
        if self.judge is not None:
            out["judge"] = self.judge
        return out


@dataclass
class ModelSummary:
    """Aggregates of one model over the rows done so far. `scores` are means in [0, 1] over
    answered rows; `ci95` the 95% interval of each mean (see `tui.core.eval.stats`)."""

    model: str  # ModelRef.model
    profile: str | None  # the profile the model was reached through
    scores: dict[str, float] = field(default_factory=dict)
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)
    answered: int = 0
    errors: int = 0
    mean_latency_s: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    label: str = ""  # the ModelRef label: the key of RowResult.answers (not in --json)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = ModelRef(self.profile, self.model).label

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "profile": self.profile,
            "scores": dict(self.scores),
            "ci95": {k: [lo, hi] for k, (lo, hi) in self.ci95.items()},
            "answered": self.answered,
            "errors": self.errors,
            "mean_latency_s": self.mean_latency_s,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
        }


@dataclass
class PairwiseSummary:
    """Row-by-row wins of model `a` over `b` (labels), decided by the judge when there is
    one, otherwise by the first scorer."""

    a: str
    b: str
    wins_a: int = 0
    wins_b: int = 0
    ties: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "wins_a": self.wins_a,
            "wins_b": self.wins_b,
            "ties": self.ties,
        }


@dataclass
class RunSummary:
    """A run as stored: its spec, progress and aggregates."""

    run_id: str
    dataset: str
    created_at: float  # time.time()
    status: RunStatus
    examples: int  # rows to evaluate (after --limit)
    done_rows: int
    spec: EvalSpec
    models: list[ModelSummary] = field(default_factory=list)
    pairwise: list[PairwiseSummary] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Exactly the `--json` contract of `ft-tui eval`."""
        return {
            "run_id": self.run_id,
            "dataset": self.dataset,
            "examples": self.examples,
            "models": [m.to_json() for m in self.models],
            "pairwise": [p.to_json() for p in self.pairwise],
        }


@dataclass(frozen=True)
class RecordResult:
    """What `record_golden` wrote: `written` rows to `out`, `rejected` rows (with reasons)
    to `rejected_path` (None when nothing was rejected)."""

    out: Path
    written: int
    rejected: int
    rejected_path: Path | None
    skipped: int = 0  # rows already in `out` from an earlier run (--resume)
