"""``python -m app``: serve the app with uvicorn on DIGITPAD_HOST:DIGITPAD_PORT (see app.settings).

With DIGITPAD_WORKERS > 1 (the default on a machine with several cores) a supervisor process
starts that many server processes on one listening socket.
"""

from __future__ import annotations

import signal
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(f"digitpad: {err}", file=sys.stderr)
        return 2
    # uvicorn shuts down gracefully on SIGTERM, then restores the handler it found and raises the signal
    # again, so the exit status would read "killed by SIGTERM" (143). A requested stop is a clean exit:
    # with this handler in place the re-raised signal is ignored and the process exits 0 — also where
    # it is not PID 1 of a container (which ignores it anyway): under systemd, tini, a shell, a test.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    config = uvicorn.Config(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        workers=settings.workers,  # one process per core: the work per request is CPU-bound Python and NumPy
        access_log=False,  # app.middleware.RequestLogMiddleware logs every request
        server_header=False,  # no version banner
    )
    if settings.workers == 1:
        server = uvicorn.Server(config)
        server.run()
        return 0 if server.started else 3  # 3: uvicorn's status for a failed start-up (lifespan error …)
    if not models_load(settings):
        return 1
    Supervisor(config, sockets=[config.bind_socket()]).run()
    return 0


def models_load(settings: Settings) -> bool:
    """Load the models once before starting the workers, and say why not if they do not load.

    uvicorn's supervisor stops with status 0 when its workers fail to start; this keeps a
    missing or corrupt weights file an error, with one message instead of one per worker.
    """
    from app.registry import StartupError, load_models  # NumPy and pydantic only when needed

    try:
        load_models(settings.models_dir, settings.default_model)
    except StartupError as err:
        print(f"digitpad: cannot start: {err}", file=sys.stderr)
        return False
    return True


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor, closing its copy of the listening socket as soon as it is told to stop.

    uvicorn's own keeps it open until the last worker has exited, so on SIGTERM new connections
    would queue unanswered in the kernel's backlog while the workers finish the requests in
    flight, and be reset at the end. Once every process has closed its copy, they are refused
    at once, and a load balancer moves on.

    It also acts on SIGTERM and SIGINT at once: uvicorn's only queues a signal, and reads the queue
    every half second, after pinging each worker, so the workers heard of the stop 0.04–0.6 s late
    (measured: 8 stops without load) and kept accepting connections meanwhile.
    """

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)

    def _stop(self, sig: int, frame: object) -> None:
        self.signal_queue.append(sig)  # logged in terminate_all, outside the signal handler
        self.should_exit.set()  # wakes run()'s wait now rather than at its next half-second tick

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.handle_signals()  # "Received SIGTERM, exiting."
        super().terminate_all()


if __name__ == "__main__":
    sys.exit(main())
