"""Test helpers for the MLLP listener: synthetic messages, a blocking client, a listener thread."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medlake.sources.mllp import Listener, ListenSettings
from medlake.sources.mllp_batch import BatchWorker
from medlake.sources.mllp_framing import frame


def adt(i: int, sender: str = "REG", msh15: str = "", version: str = "2.5") -> bytes:
    """A small synthetic ADT^A01 (made-up values) with control id `C<i>`."""
    tail = f"|||{msh15}" if msh15 else ""  # MSH-13, MSH-14, then MSH-15
    return (
        f"MSH|^~\\&|{sender}|GENHOSP|LAKE|ACME|20240301{i % 24:02d}0000||ADT^A01^ADT_A01|C{i}|P|{version}{tail}\r"
        f"EVN|A01|20240301{i % 24:02d}0000\r"
        f"PID|1||MRN{i:06d}^^^GENHOSP^MR||TESTER^PAT{i}||19700101|F\r"
        f"PV1|1|I|WARD^{i % 40}^1\r"
    ).encode()


@dataclass
class Ack:
    code: str
    control_id: str
    segments: list[list[str]]

    @property
    def why(self) -> str:
        err = next((s for s in self.segments if s[0] == "ERR"), None)
        return err[8] if err and len(err) > 8 else ""


def parse_ack(payload: bytes) -> Ack:
    segs = [s.split("|") for s in payload.decode().split("\r") if s]
    msa = next(s for s in segs if s[0] == "MSA")
    return Ack(msa[1], msa[2] if len(msa) > 2 else "", segs)


class Client:
    """A blocking MLLP client; `read_acks` collects whole reply frames however they arrive."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None = None, timeout: float = 10.0) -> None:
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock: socket.socket = tls.wrap_socket(raw, server_hostname=host) if tls else raw
        self._buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_messages(self, payloads: list[bytes]) -> None:
        self.sock.sendall(b"".join(frame(p) for p in payloads))

    def read_acks(self, n: int) -> list[Ack]:
        out: list[Ack] = []
        while len(out) < n:
            end = self._buf.find(b"\x1c\r")
            if end < 0:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"connection closed after {len(out)} of {n} replies")
                self._buf += chunk
                continue
            start = self._buf.find(b"\x0b")
            out.append(parse_ack(self._buf[start + 1 : end]))
            self._buf = self._buf[end + 2 :]
        return out

    def read_until_closed(self) -> bytes:
        """Everything the other side sends until it closes the connection."""
        data = self._buf
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
        except (ConnectionError, ssl.SSLError):
            pass
        return data

    def close(self) -> None:
        self.sock.close()


@contextmanager
def running(wal_dir: Path, worker: BatchWorker | None = None, **kw: Any) -> Iterator[Listener]:
    """A listener on 127.0.0.1 (a free port) in a thread; stopped gracefully on exit."""
    kw.setdefault("port", 0)
    kw.setdefault("batch_seconds", 3600.0)
    events: list[str] = []
    listener = Listener(ListenSettings(**kw), wal_dir, worker, on_event=events.append)
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(listener.serve(ready=lambda _h, _p: ready.set()))
        except BaseException as e:
            failure.append(e)
            ready.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert ready.wait(30), "listener did not start"
    if failure:
        raise failure[0]
    listener.events = events  # type: ignore[attr-defined]
    try:
        yield listener
    finally:
        listener.request_stop()
        t.join(60)
        assert not t.is_alive(), "listener did not stop"
        if failure:
            raise failure[0]
        assert listener.stats.internal_errors == 0, events
