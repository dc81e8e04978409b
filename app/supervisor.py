"""Several server processes behind one port, with the connections dealt out to them in turn.

The usual way — every worker accepting from one shared listening socket — lets whichever worker wakes
first take all the connections waiting, so 8 keep-alive connections from a load balancer or a client
pool split 5/3 or 6/2 about as often as 4/4, and every request on the busier worker waits behind the
others (docs/performance.md). Here the supervisor accepts each connection itself and hands its file
descriptor to the next worker over a Unix socket pair (SCM_RIGHTS, ``socket.send_fds``), as Node.js's
cluster module does by default. The supervisor's part per connection is one accept and one send:
requests and responses flow between the client and the worker directly.

    supervisor:  accept ──send_fds──▶ worker 1, worker 2, worker 1, …  (round robin, ready workers only)
    worker:      inbox ──recv_fds──▶ loop.connect_accepted_socket(uvicorn's HTTP protocol)   (app/worker.py)

The socket pair also carries the other way the worker's "ready" once its app has started, and its
end-of-file when the worker exits, so the supervisor knows at once whom it may hand connections to.
Once a second the supervisor pings each worker, and the worker's event loop answers — the loop, not a
thread of its own as in uvicorn's supervisor, because a stuck loop serves nobody even while the process
lives. A worker that leaves a ping unanswered for a second gets no new connections while another answers;
one that leaves it unanswered for ``timeout_worker_healthcheck`` seconds (uvicorn's setting, 5 by default)
is killed and replaced.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import signal
import socket
import time
from dataclasses import dataclass
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Process

from app.worker import HANDOVER, PING, READY, Worker

logger = logging.getLogger("uvicorn.error")
PING_EVERY = 1.0  # seconds between pings; a worker that leaves one unanswered this long is passed over
ACCEPT_PAUSE = 1.0  # seconds without accepting after the process ran out of descriptors or memory
OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


@dataclass(eq=False)
class Slot:
    """A worker process and the supervisor's end of its socket pair."""

    process: Process
    inbox: socket.socket
    ready: bool = False  # it has said it serves
    gone: bool = False  # its end of the pair is closed: it has exited, or is about to
    answered_at: float = 0.0  # time.monotonic() of its last message ("ready" or an answer)
    pinged_at: float | None = None  # time.monotonic() of the first ping it has not answered
    sent_at: float = 0.0  # time.monotonic() of the last ping sent
    slow: bool = False  # a ping unanswered for more than PING_EVERY: passed over when dealing


class Supervisor:
    """Keeps ``config.workers`` worker processes running and deals the connections to ``listener`` out to them.

    SIGTERM or SIGINT closes the listening socket at once — the supervisor holds the only copy, so
    new connections are refused while the workers finish the requests in flight — then stops the
    workers and waits for them. A worker that dies is replaced; one that exits before it served
    (its app's start-up failed) stops the supervisor with status 3, as it would fail the same way again.
    """

    def __init__(self, config: uvicorn.Config, listener: socket.socket) -> None:
        self.config = config
        self.listener = listener
        self.slots: list[Slot] = []
        self.next_slot = 0  # the slot whose worker gets the next connection, if ready
        self.stop_signal: int | None = None
        self.status = 0
        self.selector = selectors.DefaultSelector()
        self.accepting = False  # the listener is in the selector
        self.accept_again = 0.0  # time.monotonic() before which the listener is left alone

    def run(self) -> int:
        """Serve until told to stop; the exit status: 0, or 3 when a worker failed to start."""
        logger.info("Started parent process [%d]", os.getpid())
        wake_reader, wake_writer = socket.socketpair()  # a signal writes a byte here, so select() returns at once
        try:
            for end in (wake_reader, wake_writer):
                end.setblocking(False)
            signal.set_wakeup_fd(wake_writer.fileno())
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, self._stop)
            self.listener.listen(self.config.backlog)  # uvicorn's bind_socket binds; its servers listen
            self.listener.setblocking(False)
            self.selector.register(wake_reader, selectors.EVENT_READ)
            while self._keep_workers():
                self._watch_listener()
                for key, _ in self.selector.select(timeout=0.5):
                    if key.fileobj is self.listener:
                        self._deal()
                    elif key.fileobj is wake_reader:
                        wake_reader.recv(64)
                    else:
                        self._hear_from(key.data)
                self._ping()
        finally:  # also after an error here: the workers must not outlive the supervisor
            self.listener.close()  # new connections are refused from here on
            if self.stop_signal is not None:
                logger.info("Received %s, exiting.", signal.Signals(self.stop_signal).name)
            for slot in self.slots:
                slot.process.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
                slot.inbox.close()
            for slot in self.slots:
                slot.process.join()
            signal.set_wakeup_fd(-1)
            self.selector.close()
            wake_reader.close()
            wake_writer.close()
        logger.info("Stopping parent process [%d]", os.getpid())
        return self.status

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        self.stop_signal = sig  # logged by run(): a signal handler must not write to a stream others may be using

    def _keep_workers(self) -> bool:
        """Replace the workers that died and start the missing ones; False once the supervisor is to stop."""
        for slot in [slot for slot in self.slots if not slot.process.process.is_alive()]:
            slot.process.join()
            self._forget(slot)
            if self.stop_signal is not None or self.status != 0:
                continue
            if slot.ready:
                logger.info("Child process [%s] died (status %s)", slot.process.pid, slot.process.exitcode)
            else:  # its app did not start (uvicorn's status 3), or it crashed on the way: it would again
                logger.error("Child process [%s] exited before serving, stopping the parent process.", slot.process.pid)
                self.status = STARTUP_FAILURE
        while self.stop_signal is None and self.status == 0 and len(self.slots) < self.config.workers:
            try:
                self._start_worker()
            except OSError as err:  # e.g. out of memory right after the kernel killed a worker
                logger.error("Cannot start a worker (%s); trying again in half a second.", err)
                break
        return self.stop_signal is None and self.status == 0

    def _start_worker(self) -> None:
        inbox, worker_end = socket.socketpair()
        try:
            process = Worker(self.config, [worker_end])
            process.start()
        except BaseException:
            inbox.close()
            raise
        finally:
            worker_end.close()  # the worker has its own copy now
        inbox.setblocking(False)  # a worker that stops reading is skipped rather than stalling the others
        slot = Slot(process, inbox)
        self.slots.append(slot)
        self.selector.register(inbox, selectors.EVENT_READ, slot)

    def _forget(self, slot: Slot) -> None:
        self.slots.remove(slot)
        if not slot.gone:
            self.selector.unregister(slot.inbox)
        slot.inbox.close()

    def _watch_listener(self) -> None:
        """Accept connections only while a worker can take them (none can while they start)."""
        wanted = any(slot.ready and not slot.gone for slot in self.slots) and time.monotonic() >= self.accept_again
        if wanted and not self.accepting:
            self.selector.register(self.listener, selectors.EVENT_READ)
        elif self.accepting and not wanted:
            self.selector.unregister(self.listener)  # connections wait in the kernel's backlog meanwhile
        self.accepting = wanted

    def _ping(self) -> None:
        """Ping the serving workers once a second; pass over one slow to answer, kill one that does not."""
        now = time.monotonic()
        for slot in self.slots:
            if not slot.ready or slot.gone:
                continue
            waited = 0.0 if slot.pinged_at is None else now - slot.pinged_at
            if waited > self.config.timeout_worker_healthcheck:
                logger.error("Child process [%s] has not answered a ping for %.1f s; killing it.",
                             slot.process.pid, waited)
                slot.process.kill()  # SIGKILL: a hung process may not get as far as a graceful stop
                self._give_up(slot)
                continue
            if waited > PING_EVERY and not slot.slow:
                logger.warning("Child process [%s] has not answered a ping for %.1f s; new connections go to the "
                               "others.", slot.process.pid, waited)
                slot.slow = True
            # Sent again each second while unanswered: a ping that found the inbox full was never sent.
            if now - max(slot.answered_at, slot.sent_at) >= PING_EVERY:
                slot.pinged_at = now if slot.pinged_at is None else slot.pinged_at
                slot.sent_at = now
                with contextlib.suppress(OSError):  # a full inbox: the next second's ping tries again
                    slot.inbox.send(PING)

    def _deal(self) -> None:
        """Accept one connection and hand it to the next ready worker that takes it."""
        try:
            connection, _ = self.listener.accept()
        except BlockingIOError:
            return  # another wake-up took it
        except OSError as err:  # the client gave up already, or this process is out of descriptors or memory
            if err.errno in OUT_OF_RESOURCES:
                logger.error("Cannot accept connections for %.0f s: %s", ACCEPT_PAUSE, err)
                self.accept_again = time.monotonic() + ACCEPT_PAUSE
            return
        with connection:  # the worker holds its own copy once it is sent; a connection none took is closed
            count = len(self.slots)
            in_turn = [(self.next_slot + i) % count for i in range(count)]
            # A worker slow to answer pings comes last: it may be hung, and what it was handed would be lost.
            for index in sorted(in_turn, key=lambda index: self.slots[index].slow):
                slot = self.slots[index]
                if not slot.ready or slot.gone:
                    continue
                try:
                    socket.send_fds(slot.inbox, [HANDOVER], [connection.fileno()])
                except OSError:  # that worker is gone or not reading: the next one takes the connection
                    continue
                self.next_slot = index + 1
                return
            logger.error("No worker took a connection; it was closed.")

    def _hear_from(self, slot: Slot) -> None:
        """A worker's message: it serves now, it answers a ping, or (end of file) it has exited."""
        try:
            message = slot.inbox.recv(64)
        except BlockingIOError:
            return
        except OSError:
            message = b""
        if message:
            if slot.slow:
                logger.info("Child process [%s] answers again", slot.process.pid)
            slot.pinged_at, slot.answered_at, slot.slow = None, time.monotonic(), False
            if READY in message and not slot.ready:
                slot.ready = True
                logger.info("Child process [%s] is serving", slot.process.pid)
        else:
            self._give_up(slot)

    def _give_up(self, slot: Slot) -> None:
        """No more connections nor messages for this worker; _keep_workers replaces it once it has exited."""
        self.selector.unregister(slot.inbox)
        slot.gone = True
