"""Several server processes behind one port, with the connections dealt out to them in turn.

The usual way — every worker accepting from one shared listening socket — lets whichever worker wakes
first take all the connections waiting, so 8 keep-alive connections from a load balancer or a client
pool split 6/2 or 7/1 about as often as 4/4, and every request on the busier worker waits behind the
others (p99 at concurrency 8: 20–38 ms across runs, against 18–22 ms for an even split; see
docs/performance.md). Here the supervisor accepts each connection itself and hands its file descriptor
to the next worker over a Unix socket pair (SCM_RIGHTS, ``socket.send_fds``), as Node.js's cluster
module does by default. The supervisor's part per connection is one accept and one send: requests,
responses and everything after flow between the client and the worker directly.

    supervisor:  accept ──send_fds──▶ worker 1, worker 2, worker 1, …  (round robin)
    worker:      inbox ──recv_fds──▶ loop.connect_accepted_socket(uvicorn's HTTP protocol)
"""

from __future__ import annotations

import asyncio
import logging
import os
import selectors
import signal
import socket
import sys
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Process

logger = logging.getLogger("uvicorn.error")


class Supervisor:
    """Starts ``config.workers`` worker processes and deals the connections to ``listener`` out to them.

    SIGTERM or SIGINT closes the listening socket at once — the supervisor holds the only copy, so
    new connections are refused while the workers finish the requests in flight — then stops the
    workers and waits for them. A worker that dies is replaced; one that fails to start (its app's
    start-up failed) stops the supervisor, as it would fail the same way again.
    """

    def __init__(self, config: uvicorn.Config, listener: socket.socket) -> None:
        self.config = config
        self.listener = listener
        self.workers: list[tuple[Process, socket.socket]] = []  # each with the socket to hand it connections
        self.turn = 0  # index of the worker that gets the next connection
        self.stopping = False
        self.status = 0

    def run(self) -> int:
        """Serve until told to stop; the exit status: 0, or 3 when a worker failed to start."""
        logger.info("Started parent process [%d]", os.getpid())
        wake, wake_in = socket.socketpair()  # a signal writes a byte here, so select() returns at once
        wake.setblocking(False)
        wake_in.setblocking(False)
        signal.set_wakeup_fd(wake_in.fileno())
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        self.listener.listen(self.config.backlog)  # uvicorn's bind_socket binds; its servers listen
        self.listener.setblocking(False)
        try:
            self.workers = [self._start_worker() for _ in range(self.config.workers)]
            with selectors.DefaultSelector() as selector:
                selector.register(self.listener, selectors.EVENT_READ)
                selector.register(wake, selectors.EVENT_READ)
                while not self.stopping:
                    for key, _ in selector.select(timeout=0.5):
                        if key.fileobj is self.listener:
                            self._deal()
                        else:
                            wake.recv(64)
                    self._replace_dead_workers()
        finally:  # also after an error here: the workers must not outlive the supervisor
            self.listener.close()  # new connections are refused from here on
            for worker, inbox in self.workers:
                worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
                inbox.close()
            for worker, _ in self.workers:
                worker.join()
            signal.set_wakeup_fd(-1)
            wake.close()
            wake_in.close()
        logger.info("Stopping parent process [%d]", os.getpid())
        return self.status

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        if not self.stopping:
            logger.info("Received %s, exiting.", signal.Signals(sig).name)
        self.stopping = True

    def _start_worker(self) -> tuple[Process, socket.socket]:
        inbox, worker_end = socket.socketpair()
        inbox.setblocking(False)  # a worker that stops reading is skipped rather than stalling the others
        worker = Worker(self.config, [worker_end])
        worker.start()
        worker_end.close()  # the worker has its own copy now
        return worker, inbox

    def _deal(self) -> None:
        """Accept one connection and hand it to the next worker that takes it."""
        try:
            connection, _ = self.listener.accept()
        except (BlockingIOError, ConnectionAbortedError):
            return  # another wake-up took it, or the client gave up already
        with connection:  # the worker holds its own copy once it is sent; a connection none took is closed
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers go out at once
            for _ in range(len(self.workers)):
                _, inbox = self.workers[self.turn % len(self.workers)]
                self.turn += 1
                try:
                    socket.send_fds(inbox, [b"c"], [connection.fileno()])
                    return
                except OSError:  # that worker is gone or not reading: the next one takes the connection
                    continue
            logger.error("No worker took a connection; it was closed.")

    def _replace_dead_workers(self) -> None:
        for index, (worker, inbox) in enumerate(self.workers):
            if worker.process.is_alive() or self.stopping:
                continue
            worker.join()
            inbox.close()
            if worker.exitcode == STARTUP_FAILURE:
                logger.error("Child process [%s] failed to start, stopping the parent process.", worker.pid)
                self.stopping = True
                self.status = STARTUP_FAILURE
                return
            logger.info("Child process [%s] died", worker.pid)
            self.workers[index] = self._start_worker()


class Worker(Process):
    """uvicorn's worker process, serving the connections handed to it instead of accepting its own."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = HandedConnectionsServer(config=self.config)
        return self._server


class HandedConnectionsServer(uvicorn.Server):
    """A uvicorn server whose connections arrive as file descriptors on a Unix socket (its only socket)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """As uvicorn's ``Server.startup``, with a reader on the inbox where it would listen."""
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        assert sockets is not None and len(sockets) == 1, "a worker is started with its inbox only"
        inbox = sockets[0]
        inbox.setblocking(False)
        self.servers = []  # no listening socket of its own: uvicorn's shutdown has none to close
        self.handovers: set[asyncio.Task[object]] = set()
        asyncio.get_running_loop().add_reader(inbox.fileno(), self._take_connection, inbox)
        self.started = True

    def _take_connection(self, inbox: socket.socket) -> None:
        try:
            message, fds, _, _ = socket.recv_fds(inbox, 1, 1)
        except BlockingIOError:
            return
        if not message:  # the supervisor is gone: nothing more will come, and nobody would stop us
            asyncio.get_running_loop().remove_reader(inbox.fileno())
            self.should_exit = True
            return
        for fd in fds:
            connection = socket.socket(fileno=fd)
            handover = asyncio.get_running_loop().create_task(
                asyncio.get_running_loop().connect_accepted_socket(self._create_protocol, connection)
            )
            self.handovers.add(handover)  # keeps the task alive until it is done
            handover.add_done_callback(self.handovers.discard)

    def _create_protocol(self) -> asyncio.Protocol:
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for inbox in sockets or []:
            if inbox.fileno() != -1:
                asyncio.get_running_loop().remove_reader(inbox.fileno())
        await super().shutdown(sockets)  # closes the inbox, then ends the connections as uvicorn does
