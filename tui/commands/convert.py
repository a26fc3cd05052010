"""`ft-tui convert IN OUT`: CSV, TSV, JSON, JSONL, XLSX or prompt/completion → chat JSONL."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands.dataset_tool_cli import print_lines, run_tool, stderr_progress

ROLES_HELP = "ROLE=COLUMN with ROLE one of system, user, assistant; join columns with +"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="IN", help="source file")
    parser.add_argument("output", type=Path, metavar="OUT", help="chat JSONL file to write")
    parser.add_argument(
        "--map", action="append", default=[], metavar="ROLE=COLUMN", help=ROLES_HELP
    )
    parser.add_argument("--system", metavar="TEXT", help="a fixed system message for every example")
    parser.add_argument(
        "--sheet", metavar="NAME", help="sheet of an .xlsx workbook (default first)"
    )
    parser.add_argument(
        "--format", choices=("csv", "tsv", "json", "jsonl", "xlsx"), help="override the extension"
    )
    parser.add_argument("--encoding", help="text encoding of IN (default UTF-8, UTF-16 by BOM)")
    parser.add_argument("--model", help="model to lint against (token limits)")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument(
        "--dry-run", action="store_true", help="show the mapping and the first examples only"
    )


def _convert(args: argparse.Namespace) -> int:
    import orjson

    from tui.core.tools.convert import convert, preview_examples
    from tui.core.tools.files import check_output
    from tui.core.tools.lint_bridge import example_linter
    from tui.core.tools.mapping import parse_map_options, resolve_mapping
    from tui.core.tools.sources import open_source

    explicit = parse_map_options(args.map)
    source = open_source(args.input, fmt=args.format, encoding=args.encoding, sheet=args.sheet)
    mapping = resolve_mapping(source.columns, explicit, args.system)
    if not args.dry_run:
        check_output(args.output, [args.input], force=args.force)
    guessed = [
        r for r in ("system", "user", "assistant") if mapping.columns(r) and r not in explicit
    ]
    print(f"columns: {', '.join(source.columns)}")
    print(f"mapping: {mapping.describe()}")
    if guessed and not mapping.passthrough:
        print(f"guessed from column names: {', '.join(guessed)} (change with --map ROLE=COLUMN)")
    if args.dry_run:
        for example in preview_examples(source, mapping):
            print(orjson.dumps(example).decode())
        return 0
    summary = convert(
        source,
        mapping,
        args.output,
        force=args.force,
        lint=example_linter(args.model),
        progress=stderr_progress("converting", unit="rows" if source.kind == "xlsx" else "bytes"),
    )
    print_lines(summary.lines())
    return 0


def run(args: argparse.Namespace) -> int:
    return run_tool("convert", lambda: _convert(args))
