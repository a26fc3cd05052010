"""The base-model options of `ft-tui serve` and what it says about its models at startup.

    --model [NAME=]SOURCE        repeatable; SOURCE = FOLDER | FILE.gguf | OWNER/NAME (Hub)
    --chat-template NAME=FILE    repeatable; a Jinja chat template for model NAME

At startup every Hub model gets one line: downloaded (and where), or not downloaded yet with the
command that pre-downloads it. A probe in the background then checks that the Hub answers for
each model that is not downloaded, and logs a warning naming the model and that command when it
does not (offline, unreachable, unknown or gated), so the user learns it before creating a job.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tui.local.model_sources import ModelSpec, parse_models

if TYPE_CHECKING:
    from tui.local.base_models import BaseModelRegistry
    from tui.local.settings import ServerSettings

log = logging.getLogger("ft_tui.server")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="[NAME=]SOURCE",
        help="add a base model: a Hugging Face Hub id (downloaded on first use), a model folder "
        "or a .gguf file (repeatable)",
    )
    parser.add_argument(
        "--chat-template",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="use the Jinja chat template in FILE for model NAME (repeatable)",
    )


def parse_model_args(args: argparse.Namespace) -> tuple[tuple[ModelSpec, ...], dict[str, Path]]:
    """Raises ValueError with a message for the user."""
    from tui.local.base_models import DEFAULT_BASE_MODEL

    return parse_models(args.model, args.chat_template, builtin=[DEFAULT_BASE_MODEL])


def with_models(
    settings: ServerSettings, models: tuple[ModelSpec, ...], templates: dict[str, Path]
) -> ServerSettings:
    return dataclasses.replace(settings, models=models, chat_templates=templates)


def report(registry: BaseModelRegistry) -> None:
    """One stdout line per Hub model, then a background reachability probe for the missing."""
    from tui.local import hub_models

    missing: list[str] = []
    for name in registry.names():
        spec = registry.spec(name)
        if spec is None or spec.kind != "hub":
            continue
        folder = registry.source_path(name)
        if folder is not None:
            print(f"Base model {spec.source}: downloaded ({folder})")
        else:
            missing.append(spec.source)
            print(
                f"Base model {spec.source}: not downloaded yet; the first job on it downloads "
                f"it (or now: {hub_models.download_command(spec.source)})"
            )
    sys.stdout.flush()
    if missing:
        threading.Thread(target=_probe, args=(missing,), name="hub-probe", daemon=True).start()


def _probe(repo_ids: list[str]) -> None:
    from tui.local import hub_models

    for repo_id in repo_ids:
        try:
            hub_models.repo_files(repo_id)
        except hub_models.HubError as exc:
            log.warning("%s", exc.message)
        except Exception:  # a probe never takes the server down
            log.exception("probing the Hugging Face Hub for %s failed", repo_id)
