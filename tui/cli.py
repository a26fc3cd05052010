"""Command line entry point: `ft-tui [PATH]` opens the app; subcommands run headless.

Startup matters: `ft-tui --version` and `ft-tui lint` never import Textual or openai. Each
subcommand lives in `tui.commands.<name>` and is imported only when it is run; its module must
keep heavy imports (textual, openai, torch) inside its `run` function.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tui import __version__

# name -> (module, one-line help). Modules expose `add_arguments(parser)` and `run(args) -> int`.
COMMANDS: dict[str, tuple[str, str]] = {
    "lint": ("tui.commands.lint", "check a dataset file and estimate tokens, epochs and cost"),
    "serve": ("tui.commands.serve", "run the local OpenAI-compatible fine-tuning server"),
    "train-node": (
        "tui.commands.train_node",
        "join every training run of a multi-node ft-tui serve from another machine",
    ),
    "convert": (
        "tui.commands.convert",
        "convert CSV/TSV/JSON/XLSX/completions to chat JSONL",
    ),
    "split": ("tui.commands.split", "split a dataset into training and validation files"),
    "fix": ("tui.commands.fix", "fix what can be fixed mechanically in a dataset"),
    "eval": ("tui.commands.eval", "evaluate models side by side on a held-out dataset"),
    "record": (
        "tui.commands.record",
        "re-answer a dataset with a model: a golden set to train or evaluate against",
    ),
    "export": (
        "tui.commands.export",
        "export a fine-tuned model: PEFT adapter, merged weights, GGUF or Ollama",
    ),
}


def _build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ft-tui",
        description="Fine-tune chat models from the terminal. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"ft-tui {__version__}")
    first = next((a for a in argv if not a.startswith("-")), None)
    if first in COMMANDS:
        sub = parser.add_subparsers(dest="command", metavar="COMMAND")
        for name, (module_name, help_text) in COMMANDS.items():
            sp = sub.add_parser(name, help=help_text, description=help_text)
            if name == first:  # import only the module of the command being run
                importlib.import_module(module_name).add_arguments(sp)
    else:
        parser.add_argument("path", nargs="?", default=".", help="dataset file or directory")
        parser.epilog = "commands: " + ", ".join(COMMANDS) + "  (ft-tui COMMAND --help)"
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser(args_list)
    args = parser.parse_args(args_list)
    command = getattr(args, "command", None)
    try:
        if command:
            module = importlib.import_module(COMMANDS[command][0])
            return int(module.run(args))
        from tui.app_runner import run_app  # imports Textual

        return run_app(args.path)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
