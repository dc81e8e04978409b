"""A worker process of app.supervisor: a uvicorn server whose connections are handed to it, not accepted.

The worker's only socket is its end of a Unix socket pair with the supervisor. On it the worker says
READY once its app has started, receives each connection as a file descriptor (one HANDOVER byte
with the descriptor attached, SCM_RIGHTS), and answers each PING with a PONG from its event loop.
End of file on it means the supervisor is gone: the worker then stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Process

logger = logging.getLogger("uvicorn.error")
READY = b"r"  # a worker's message once it serves
HANDOVER = b"c"  # the one byte each handed-over descriptor travels with
PING, PONG = b"p", b"o"  # the supervisor's question to a serving worker, and its event loop's answer


class Worker(Process):
    """uvicorn's worker process, serving the connections handed to it instead of accepting its own."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = HandedConnectionsServer(config=self.config)
        return self._server


class HandedConnectionsServer(uvicorn.Server):
    """A uvicorn server whose connections arrive as file descriptors on a Unix socket (its only socket)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.handovers: set[asyncio.Task[object]] = set()  # connections being set up

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """As uvicorn's ``Server.startup``, with a reader on the inbox where it would listen, then "ready"."""
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        assert sockets is not None and len(sockets) == 1, "a worker is started with its inbox only"
        inbox = sockets[0]
        inbox.setblocking(False)
        self.servers = []  # no listening socket of its own: uvicorn's shutdown has none to close
        asyncio.get_running_loop().add_reader(inbox.fileno(), self._take_connection, inbox)
        inbox.send(READY)
        self.started = True

    def _take_connection(self, inbox: socket.socket) -> bool:
        """Take the inbox's next message: serve its connection, or answer a ping; False when there is none
        (or when no more will come)."""
        loop = asyncio.get_running_loop()
        try:
            message, fds, flags, _ = socket.recv_fds(inbox, 1, 1)
        except BlockingIOError:
            return False
        except OSError:  # reset: the supervisor closed its end with our "ready" unread, and is gone
            message, fds, flags = b"", [], 0
        if flags & socket.MSG_CTRUNC:  # the kernel dropped the descriptor: this process is at its limit
            logger.error("A connection handed over was lost: too many open files in this worker.")
        if not message:  # the supervisor is gone: nothing more will come, and nobody would stop us
            loop.remove_reader(inbox.fileno())
            self.should_exit = True
            return False
        if message == PING:
            with contextlib.suppress(OSError):  # the supervisor is not reading, or gone (then we see its end)
                inbox.send(PONG)
        for fd in fds:
            handover = loop.create_task(loop.connect_accepted_socket(self._create_protocol, socket.socket(fileno=fd)))
            self.handovers.add(handover)  # keeps the task alive until it is done
            handover.add_done_callback(self.handovers.discard)
        return True

    def _create_protocol(self) -> asyncio.Protocol:
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve what was handed over before the stop, then shut down as uvicorn does (closing the inbox)."""
        for inbox in sockets or []:
            if inbox.fileno() != -1:
                asyncio.get_running_loop().remove_reader(inbox.fileno())
                while self._take_connection(inbox):
                    pass
        await asyncio.gather(*self.handovers, return_exceptions=True)  # each connection registered with uvicorn
        await super().shutdown(sockets)
