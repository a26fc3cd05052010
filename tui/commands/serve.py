"""`ft-tui serve`: the local OpenAI-compatible fine-tuning server (needs the `local` extra)."""

from __future__ import annotations

import argparse
import errno
import logging
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands import serve_models
from tui.config import local_server_dir

if TYPE_CHECKING:
    from tui.local.drivers import TrainingDriver
    from tui.local.inference.options import ChatOptions

_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help=f"where state lives ({local_server_dir()})"
    )
    parser.add_argument(
        "--api-key", default=None, help="the key clients must send (default: generated, stored)"
    )
    serve_models.add_arguments(parser)  # --model, --chat-template
    parser.add_argument(
        "--max-tokens-default",
        type=int,
        default=2048,
        metavar="N",
        help="answer length cap of chat requests without max_tokens (default 2048)",
    )
    parser.add_argument(
        "--sampling",
        action="append",
        default=[],
        metavar="NAME:temperature=T,top_p=P",
        help="default sampling of a base model for requests that omit them (repeatable)",
    )
    parser.add_argument(
        "--inference",
        choices=("transformers", "vllm"),
        default="transformers",
        help="chat engine: in-process transformers (default) or an external vLLM server",
    )
    parser.add_argument(
        "--vllm-url",
        default=None,
        metavar="URL",
        help="base URL of the vLLM OpenAI server for --inference vllm (e.g. http://gpu:8000)",
    )
    parser.add_argument(
        "--train-processes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="train each job as N processes under accelerate (DDP; gloo on CPU, NCCL on CUDA)",
    )
    parser.add_argument(
        "--accelerate-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="accelerate config for training (FSDP, DeepSpeed ZeRO, several machines)",
    )
    parser.add_argument(
        "--max-upload-size",
        default="512M",
        metavar="SIZE",
        help="largest accepted upload, e.g. 512M, 2G, 100K (default 512M)",
    )
    parser.add_argument(
        "--body-timeout",
        type=_positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="a request body that sends nothing for this long is answered 408 (default 30)",
    )


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"expected seconds from 0 to 86400, got {text!r}")
    return value


def _chat_options(args: argparse.Namespace) -> ChatOptions:
    from tui.local.inference.options import ChatOptions

    return ChatOptions.from_args(
        max_tokens_default=args.max_tokens_default,
        sampling=args.sampling,
        inference=args.inference,
        vllm_url=args.vllm_url,
    )


def _training_driver(args: argparse.Namespace) -> TrainingDriver | None:
    """None (one spawned process per job) unless --train-processes/--accelerate-config ask for
    accelerate; raises ValueError for a config accelerate cannot read."""
    processes: int | None = getattr(args, "train_processes", None)
    config: Path | None = getattr(args, "accelerate_config", None)
    if config is None and (processes is None or processes == 1):
        return None
    from tui.local.launch import (
        AccelerateConfigError,
        LaunchTrainingDriver,
        check_accelerate_config,
    )

    if config is not None:
        config = config.expanduser().resolve()
        try:
            check_accelerate_config(config, processes)
        except AccelerateConfigError as exc:
            raise ValueError(str(exc)) from None
    return LaunchTrainingDriver(processes, config)


def parse_size(text: str) -> int:
    value = text.strip().upper().removesuffix("B")
    unit = value[-1:] if value[-1:] in _SIZE_UNITS and not value[-1:].isdigit() else ""
    number = value[: len(value) - len(unit)]
    if not number.isdigit() or int(number) <= 0:
        raise ValueError(f"--max-upload-size expects a size like 512M or 1G, got {text!r}")
    return int(number) * _SIZE_UNITS[unit]


class _ConciseFormatter(logging.Formatter):
    """One line per record on the terminal; tracebacks go to the log file only."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"ft-tui serve: {record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            line += f" ({record.exc_info[1]})"
        return line


def _configure_logging(data_dir: Path) -> Path:
    log_file = data_dir / "server.log"
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler.setLevel(logging.INFO)
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(_ConciseFormatter())
    terminal.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [file_handler, terminal]
    root.setLevel(logging.INFO)
    return log_file


_held_locks: list[object] = []


def _lock_data_dir(data_dir: Path) -> bool:
    """One server per data dir: hold an exclusive lock on `server.lock` while running."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; run one server per data dir by hand
        return True
    handle = (data_dir / "server.lock").open("a+b")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    _held_locks.append(handle)  # released when the process exits
    return True


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it every keep-alive request (the SDK's) waits
    # ~40 ms on Nagle + delayed ACK between the response's header and body writes.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(args: argparse.Namespace) -> int:
    from tui.local.settings import (
        ServerSettings,
        is_loopback,
        load_or_create_api_key,
    )

    try:
        models, templates = serve_models.parse_model_args(args)
        extra: dict[str, Path] = {}  # every --model is in `models`
        max_upload = parse_size(args.max_upload_size)
        chat_options = _chat_options(args)
        training = _training_driver(args)
    except ValueError as exc:
        print(f"ft-tui serve: {exc}", file=sys.stderr)
        return 2
    data_dir = (args.data_dir or local_server_dir()).expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        key, generated = (args.api_key, False) if args.api_key else load_or_create_api_key(data_dir)
    except OSError as exc:
        print(f"ft-tui serve: cannot use data dir {data_dir}: {exc}", file=sys.stderr)
        return 2
    if not _lock_data_dir(data_dir):
        print(
            f"ft-tui serve: another ft-tui serve is already using {data_dir}; stop it or pass "
            "--data-dir",
            file=sys.stderr,
        )
        return 2
    try:
        import uvicorn

        from tui.local.server import create_app
    except ImportError as exc:
        print(
            f"ft-tui serve needs the local extra ({exc.name} is missing): "
            "pip install 'ft-tui[local]'",
            file=sys.stderr,
        )
        return 2
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(
                f"ft-tui serve: port {args.port} on {args.host} is already in use; "
                "stop the other server or pass --port N",
                file=sys.stderr,
            )
        else:
            print(f"ft-tui serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    log_file = _configure_logging(data_dir)
    settings = ServerSettings(
        data_dir=data_dir,
        api_key=key,
        extra_models=extra,
        max_upload_bytes=max_upload,
        body_timeout_s=args.body_timeout,
        max_tokens_default=chat_options.max_tokens_default,
        sampling=chat_options.sampling,
    )
    settings = serve_models.with_models(settings, models, templates)
    try:
        app = create_app(settings, training=training, inference=chat_options.driver())
    except Exception as exc:  # e.g. a corrupt or locked database
        print(f"ft-tui serve: cannot start: {exc}", file=sys.stderr)
        sock.close()
        return 1
    port = sock.getsockname()[1]
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{shown_host}:{port}/v1"
    if not is_loopback(args.host):
        print(
            f"ft-tui serve: warning: listening on {args.host}, beyond this machine; anyone who "
            "can reach it and has the key can train and chat",
            file=sys.stderr,
        )
    print(f"ft-tui serve: listening on {base_url} (data: {data_dir}, log: {log_file})")
    key_source = "given with --api-key" if args.api_key else f"stored in {data_dir / 'api_key'}"
    if generated:
        print(f"API key (new, {key_source}): {key}")
    else:
        print(f"API key: {key_source}")
    print(f'SDK: OpenAI(base_url="{base_url}", api_key=<the key>)  # or OPENAI_BASE_URL={base_url}')
    serve_models.report(app.state.ctx.registry)
    sys.stdout.flush()
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
