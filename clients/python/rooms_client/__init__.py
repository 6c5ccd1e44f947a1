"""asyncio client for Rooms servers (docs/protocol.md) that keeps the server's guarantees for the application:
every message sent is stored exactly once and acknowledged, and every message of the room is delivered exactly
once, in ``message_id`` order, across reconnects, node failovers and restarts (with a store)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Optional

import websockets

__all__ = [
    "RoomsClient", "RoomsError", "MemoryStore", "FileStore",
    "Message", "Presence", "State", "Ack", "Typing", "ErrorEvent", "SendAck",
]

_CATCH_UP_PAGE = 500
_SMALLEST_CATCH_UP_PAGE = 10
# Frames up to this size are read. The server never sends one over 1 MiB (websockets' default limit); the margin keeps
# a client working against a server configured for larger frames.
MAX_FRAME_BYTES = 16 * 1024 * 1024
# Events waiting for the application; past this the client stops reading the socket until the application catches up.
MAX_QUEUED_EVENTS = 10_000
# The server's message ids are positive 64-bit integers: anything else is a broken frame, never a cursor.
_MESSAGE_ID = re.compile(r"[1-9][0-9]{0,18}")
_MAX_MESSAGE_ID = 2 ** 63 - 1


class RoomsError(Exception):
    """The server refused something; ``id`` is the client message id when it refused a send."""

    def __init__(self, message: str, id: Optional[str] = None):
        super().__init__(message)
        self.id = id


@dataclass(frozen=True)
class SendAck:
    message_id: str
    recipients: int


@dataclass(frozen=True)
class Message:
    message_id: str
    content: str
    sender: str
    type: str
    timestamp: str


@dataclass(frozen=True)
class Presence:
    joins: dict
    leaves: dict


@dataclass(frozen=True)
class State:
    state: str
    reason: Optional[str] = None


@dataclass(frozen=True)
class Ack:
    """The ack of a message sent by an earlier client with the same store (its ``send`` call is gone)."""
    id: str
    message_id: str
    recipients: int


@dataclass(frozen=True)
class Typing:
    device_id: str
    identity: str


@dataclass(frozen=True)
class ErrorEvent:
    error: Exception


class MemoryStore:
    """Keeps the outbox and the last message id for the life of the object."""

    def __init__(self) -> None:
        self._state: Optional[dict] = None

    def load(self) -> Optional[dict]:
        return self._state

    def save(self, state: dict) -> None:
        self._state = state


class FileStore:
    """Keeps the outbox and the last message id in a JSON file (written atomically), across process restarts."""

    def __init__(self, path: str) -> None:
        self._path = path

    def load(self) -> Optional[dict]:
        try:
            with open(self._path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save(self, state: dict) -> None:
        tmp = self._path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f)
        os.replace(tmp, self._path)


@dataclass
class _Outgoing:
    id: str
    content: str
    to: Optional[str]
    future: Optional[asyncio.Future] = field(default=None, repr=False)
    sent_on: Any = field(default=None, repr=False)  # the socket it was last written to


class _Stop(Exception):
    def __init__(self, reason: str, error: Exception):
        super().__init__(str(error))
        self.reason = reason
        self.error = error


class RoomsClient:
    """One device's connection to a room, kept alive. Use as ``async with RoomsClient(...) as client``."""

    def __init__(self, urls: list, device_id: str, identity: str, room_id: Optional[str] = None,
                 token: Optional[str] = None, store=None, initial_delay: float = 0.25, max_delay: float = 30.0,
                 stable_after: float = 10.0, connect: Optional[Callable[..., Any]] = None,
                 rng: Optional[random.Random] = None) -> None:
        if not urls:
            raise ValueError("urls must list at least one ws:// or wss:// address")
        if not device_id or not identity:
            raise ValueError("device_id and identity are required")
        self._urls = list(urls)
        self._device_id = device_id
        self._identity = identity
        self._room_id = room_id
        self._token = token
        self._store = store or MemoryStore()
        self._initial_delay = initial_delay
        self._max_delay = max_delay
        self._stable_after = stable_after
        self._connect = connect or (lambda url: websockets.connect(url, max_size=MAX_FRAME_BYTES))
        self._random = rng or random.Random()
        # Ids unique per device for the server's 24-hour window: a random prefix per client object, then a counter.
        self._prefix = f"{int(time.time()):x}{self._random.getrandbits(32):x}"
        self._counter = 0
        self._last_id = 0
        self._outbox: list = []
        saved = self._store.load()
        if saved:
            self._last_id = int(saved.get("lastMessageId") or 0)
            self._room_id = self._room_id or saved.get("roomId")
            self._outbox = [_Outgoing(m["id"], m["content"], m.get("to")) for m in saved.get("outbox", [])]
        self._state = "idle"
        self._events: asyncio.Queue = asyncio.Queue()
        self._room_for_events = asyncio.Event()
        self._room_for_events.set()
        self._catch_up_page = _CATCH_UP_PAGE  # halved after a frame too big for the transport (1009)
        self._stalled_pages = 0  # catch-up pages in a row that did not move the cursor
        self._background: set = set()  # tasks started for later (asyncio keeps only weak references)
        self._flushing = asyncio.Lock()  # one writer of the outbox at a time: messages go out in send order
        self._members: dict = {}
        self._socket = None
        self._task: Optional[asyncio.Task] = None
        self._joined: Optional[asyncio.Future] = None
        self._pending: list = []  # (type, future or None for catch-up pages), answered in order
        self._catching_up = False
        self._held: list = []
        self._attempt = 0
        self._url_index = 0
        self._stopped = False

    # ---- the application's side ----

    @property
    def state(self) -> str:
        return self._state

    @property
    def room_id(self) -> Optional[str]:
        return self._room_id

    @property
    def members(self) -> dict:
        """The room's other members, device id to identity, kept current from query_room and presence."""
        return dict(self._members)

    @property
    def last_message_id(self) -> Optional[str]:
        return str(self._last_id) if self._last_id else None

    async def connect(self) -> dict:
        """Starts the connection; returns ``{"room_id", "status"}`` at the first identify (retrying meanwhile)."""
        if self._stopped:
            raise RoomsError("closed")
        self._joined = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run())
        return await self._joined

    async def send(self, content: str, to: Optional[str] = None) -> SendAck:
        """Resolves once the server stored the message; raises RoomsError when it refused it. Resent until acked."""
        if self._stopped:
            raise RoomsError("closed")
        self._counter += 1
        entry = _Outgoing(f"{self._prefix}-{self._counter}", content, to, asyncio.get_running_loop().create_future())
        self._outbox.append(entry)
        self._save()
        if self._state == "connected":
            await self._flush_outbox()
        return await entry.future

    async def history(self, before: Optional[str] = None, after: Optional[str] = None, latest: bool = False,
                      limit: int = 100) -> dict:
        """One page: ``{"messages": [Message], "has_more": bool}``, oldest first."""
        frame: dict = {"type": "history", "limit": limit}
        if before is not None:
            frame["before_message_id"] = str(before)
        if after is not None:
            frame["after_message_id"] = str(after)
        if latest:
            frame["latest"] = True
        page = await self._request("history", frame)
        return {"messages": [_message(m) for m in page["messages"]], "has_more": page["has_more"]}

    async def query_room(self) -> dict:
        """``{"total_clients": int, "clients": {device_id: identity}}`` (the members the server listed; capped in a
        big room, the total stays exact); also refreshes ``members``."""
        info = await self._request("room_info", {"type": "query_room"})
        return {"total_clients": info["total_clients"], "clients": self.members}

    async def typing(self) -> None:
        """Tells the room this device is typing (nothing is stored; sent only while connected)."""
        if self._state == "connected":
            await self._write({"type": "typing"})

    async def events(self) -> AsyncIterator[Any]:
        """Message, Presence, State, Typing, Ack and ErrorEvent, in order; ends when the client is closed."""
        while True:
            event = await self._events.get()
            if self._events.qsize() < MAX_QUEUED_EVENTS:
                self._room_for_events.set()
            if event is None:
                return
            yield event

    async def close(self) -> None:
        """Closes for good; unacknowledged messages stay in the store for a client made later with it."""
        await self._stop("closed", None, RoomsError("closed before the server acknowledged the message"))
        for task in list(self._background):
            task.cancel()
        if self._task and self._task is not asyncio.current_task():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def __aenter__(self) -> "RoomsClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ---- the connection loop: never raises ----

    async def _run(self) -> None:
        while not self._stopped:
            url = self._urls[self._url_index % len(self._urls)]
            self._set_state("connecting" if self._attempt == 0 and self._state == "idle" else "reconnecting")
            retry_after = None
            stable = None
            try:
                async with self._connect(url) as socket:
                    self._socket = socket
                    stable = asyncio.get_running_loop().call_later(self._stable_after, self._reset_backoff)
                    async for text in socket:
                        await self._on_text(text)
                        # A slow consumer: stop reading (the server's send queue holds the rest) until it catches up.
                        await self._room_for_events.wait()
                    code, reason = _close_of(socket)
                    self._on_closed(code, reason)
            except _Stop as stop:
                await self._stop("closed", stop.reason, stop.error)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must survive anything
                retry_after = _retry_after(error)
                code, reason = _close_of_error(error)
                try:
                    self._on_closed(code, reason)
                except _Stop as stop:
                    await self._stop("closed", stop.reason, stop.error)
                    return
            finally:
                self._socket = None
                if stable:
                    stable.cancel()
            if self._stopped:
                return
            self._attempt += 1
            self._url_index += 1
            self._set_state("reconnecting")
            # Exponential backoff with full jitter; a 503's Retry-After is honoured when longer.
            cap = min(self._max_delay, self._initial_delay * 2 ** min(self._attempt - 1, 20))
            delay = self._random.random() * cap
            if retry_after is not None:
                delay = max(delay, retry_after)
            await asyncio.sleep(delay)

    def _reset_backoff(self) -> None:
        self._attempt = 0

    def _on_closed(self, code: Optional[int], reason: str) -> None:
        self._catching_up = False
        self._held = []
        if code == 1009:
            # A frame larger than this client reads: the next catch-up asks for smaller pages.
            self._catch_up_page = max(_SMALLEST_CATCH_UP_PAGE, self._catch_up_page // 2)
            self._emit(ErrorEvent(RoomsError("a frame was larger than this client reads (1009); catching up in smaller pages")))
        for _, future in self._pending:
            if future and not future.done():
                future.set_exception(RoomsError(f"connection closed ({code})"))
        self._pending = []
        if code == 4001:
            raise _Stop("replaced", RoomsError("replaced: another connection of this device took over (4001)"))
        if code == 4003:
            raise _Stop("unauthorized", RoomsError(f"authentication failed (4003{': ' + reason if reason else ''})"))

    async def _stop(self, state: str, reason: Optional[str], error: Optional[Exception]) -> None:
        if self._stopped:
            return
        self._stopped = True
        socket = self._socket
        if socket is not None:
            try:
                await socket.close()
            except Exception:  # noqa: BLE001
                pass
        if error is not None and reason is not None:
            self._emit(ErrorEvent(error))
        if self._joined and not self._joined.done():
            self._joined.set_exception(error or RoomsError("closed"))
        for entry in self._outbox:
            if entry.future and not entry.future.done():
                entry.future.set_exception(error or RoomsError("closed"))
            entry.future = None
        for _, future in self._pending:
            if future and not future.done():
                future.set_exception(RoomsError("closed"))
        self._pending = []
        self._set_state(state, reason)
        self._events.put_nowait(None)

    # ---- frames ----

    async def _on_text(self, text) -> None:
        """Handles one frame; a frame it cannot read is skipped and reported, and the connection goes on."""
        try:
            frame = json.loads(text)
            if not isinstance(frame, dict):
                raise RoomsError("frame skipped: not a JSON object")
            await self._on_frame(frame)
        except (_Stop, asyncio.CancelledError):
            raise
        except Exception as error:  # noqa: BLE001 - whatever the server sent, the client goes on
            self._emit(ErrorEvent(error if isinstance(error, RoomsError) else RoomsError(f"frame skipped: {error!r}")))

    async def _on_frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "connection":
            identify = {"type": "identify", "device_id": self._device_id, "identity": self._identity}
            if self._room_id:
                identify["room_id"] = self._room_id
            if self._token:
                identify["token"] = self._token
            await self._write(identify)
        elif kind == "room":
            await self._on_room(frame)
        elif kind == "message":
            _check_message(frame)
            if self._catching_up:
                self._held.append(frame)
            else:
                self._deliver(frame, live=True)
        elif kind == "ack":
            self._settle(frame["id"], frame)
        elif kind == "error":
            await self._on_error(frame)
        elif kind == "history":
            await self._on_history(frame)
        elif kind == "room_info":
            self._members = {str(c["device_id"]): str(c["identity"]) for c in frame["clients"]}
            self._answer("room_info", frame)
        elif kind == "presence":
            self._on_presence(frame)
        elif kind == "typing":
            self._emit(Typing(frame["device_id"], frame["identity"]))

    async def _on_room(self, frame: dict) -> None:
        if frame["status"] == "room_not_found":
            raise _Stop("room_not_found", RoomsError(f"room_not_found: no room {frame['room_id']}"))
        self._room_id = frame["room_id"]
        self._save()
        self._set_state("connected")
        if self._joined and not self._joined.done():
            self._joined.set_result({"room_id": frame["room_id"], "status": frame["status"]})
        # Catch up from the last message delivered (live ones wait), resend what was never acked, learn the room.
        if self._last_id:
            self._catching_up = True
            await self._ask_catch_up_page()
        await self._flush_outbox()
        self._pending.append(("room_info", None))
        await self._write({"type": "query_room"})

    async def _ask_catch_up_page(self) -> None:
        self._pending.append(("history", None))
        await self._write({"type": "history", "after_message_id": str(self._last_id), "limit": self._catch_up_page})

    def _later(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _ask_catch_up_page_later(self) -> None:
        """The next catch-up page after a pause that doubles while pages keep failing (1 s, 2 s, ... 30 s)."""
        delay = min(30.0, 2.0 ** min(self._stalled_pages, 5))
        self._stalled_pages += 1
        socket = self._socket
        await asyncio.sleep(delay)
        if self._catching_up and socket is self._socket:
            await self._ask_catch_up_page()

    async def _on_history(self, frame: dict) -> None:
        future = self._take("history")
        if future is not None:
            if not future.done():
                future.set_result(frame)
            return
        if not self._catching_up:
            return
        before = self._last_id
        messages = frame.get("messages")
        for message in messages if isinstance(messages, list) else []:
            try:
                _check_message(message)
                self._deliver(message)
            except RoomsError as error:
                self._emit(ErrorEvent(error))
        if frame.get("has_more") is True:
            if self._last_id > before:
                self._stalled_pages = 0
                await self._ask_catch_up_page()
            else:
                # A page that moved nothing would be asked again at once, forever: wait, longer each time.
                self._emit(ErrorEvent(RoomsError(f"catch-up page after {before} brought nothing new; asking again later")))
                self._later(self._ask_catch_up_page_later())
            return
        # Caught up: the live messages that came meanwhile follow (those the pages held are skipped by id).
        self._catching_up = False
        self._stalled_pages = 0
        self._catch_up_page = _CATCH_UP_PAGE
        held, self._held = self._held, []
        for message in held:
            self._deliver(message)

    async def _on_error(self, frame: dict) -> None:
        if "id" in frame and any(e.id == frame["id"] for e in self._outbox):
            self._settle(frame["id"], frame)
            return
        # An error without a message id answers the oldest request, if any (a refused page: a rate limit).
        if self._pending:
            kind, future = self._pending.pop(0)
            if future is None and kind == "history" and self._catching_up:
                self._later(self._ask_catch_up_page_later())
            elif future is not None and not future.done():
                future.set_exception(RoomsError(frame["message"]))
            return
        self._emit(ErrorEvent(RoomsError(frame["message"])))

    def _on_presence(self, frame: dict) -> None:
        if "event" in frame:
            change = {frame["device_id"]: frame["identity"]}
            joins, leaves = (change, {}) if frame["event"] == "joined" else ({}, change)
        else:
            joins, leaves = frame["joins"], frame["leaves"]
        if not isinstance(joins, dict) or not isinstance(leaves, dict):
            raise RoomsError("presence skipped: joins and leaves must be objects")
        joins = {d: i for d, i in joins.items() if d != self._device_id}
        self._members.update(joins)
        for device in leaves:
            self._members.pop(device, None)
        self._emit(Presence(joins, dict(leaves)))

    def _deliver(self, frame: dict, live: bool = False) -> None:
        """Hands a message to the application once: ids at or below the last delivered one were delivered. A live
        message below the cursor came out of order: it cannot be delivered in order any more, so it is reported
        rather than dropped silently."""
        message_id = int(frame["message_id"])
        if message_id <= self._last_id:
            if live and message_id < self._last_id:
                self._emit(ErrorEvent(RoomsError(
                    f"message {message_id} arrived after {self._last_id}: out of order, not delivered")))
            return
        self._last_id = message_id
        self._save()
        # Catch-up pages hold this device's own messages too; the application knows those from their acks.
        if frame.get("from_device_id") != self._device_id:
            self._emit(_message(frame))

    def _settle(self, id: str, frame: dict) -> None:
        entry = next((e for e in self._outbox if e.id == id), None)
        if entry is None:
            return
        self._outbox.remove(entry)
        self._save()
        if frame["type"] == "ack":
            if entry.future is None:
                self._emit(Ack(id, frame["message_id"], frame["recipients"]))
            elif not entry.future.done():
                entry.future.set_result(SendAck(frame["message_id"], frame["recipients"]))
        else:
            error = RoomsError(frame["message"], id)
            if entry.future is None:
                self._emit(ErrorEvent(error))
            elif not entry.future.done():
                entry.future.set_exception(error)

    async def _flush_outbox(self) -> None:
        """Writes, in outbox order, every message not yet written on this connection. One flush at a time: a send made
        while the reconnect resends the outbox must not overtake the older messages (the server numbers messages in
        the order it receives them)."""
        async with self._flushing:
            socket = self._socket
            for entry in list(self._outbox):
                if socket is None or socket is not self._socket:
                    return
                if entry.sent_on is not socket and entry in self._outbox:
                    entry.sent_on = socket
                    await self._send_message(entry)

    async def _send_message(self, entry: _Outgoing) -> None:
        frame = {"type": "message", "content": entry.content, "id": entry.id}
        if entry.to:
            frame["target_device_id"] = entry.to
        await self._write(frame)

    async def _request(self, kind: str, frame: dict) -> dict:
        if self._state != "connected":
            raise RoomsError(f"not connected ({self._state})")
        future = asyncio.get_running_loop().create_future()
        self._pending.append((kind, future))
        await self._write(frame)
        return await future

    def _answer(self, kind: str, frame: dict) -> None:
        future = self._take(kind)
        if future is not None and not future.done():
            future.set_result(frame)

    def _take(self, kind: str) -> Optional[asyncio.Future]:
        """The oldest request waiting for a reply of this kind, taken off the list (replies come in order); None
        for a catch-up page or when nothing waits."""
        index = next((i for i, (t, _) in enumerate(self._pending) if t == kind), None)
        return self._pending.pop(index)[1] if index is not None else None

    async def _write(self, frame: dict) -> None:
        socket = self._socket
        if socket is None:
            return
        try:
            await socket.send(json.dumps(frame, ensure_ascii=False))
        except Exception:  # noqa: BLE001 - closing: the outbox resends after the reconnect
            pass

    def _save(self) -> None:
        try:
            self._store.save({
                "roomId": self._room_id,
                "lastMessageId": str(self._last_id),
                "outbox": [{"id": e.id, "content": e.content, "to": e.to} for e in self._outbox],
            })
        except Exception as error:  # noqa: BLE001
            self._emit(ErrorEvent(error))

    def _set_state(self, state: str, reason: Optional[str] = None) -> None:
        if state == self._state and reason is None:
            return
        self._state = state
        self._emit(State(state, reason))

    def _emit(self, event: Any) -> None:
        self._events.put_nowait(event)
        if self._events.qsize() >= MAX_QUEUED_EVENTS:
            self._room_for_events.clear()


def _check_message(frame: Any) -> None:
    """Raises RoomsError (the frame is skipped and reported) unless the message has a valid id and its fields."""
    message_id = frame.get("message_id") if isinstance(frame, dict) else None
    if not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id) or int(message_id) > _MAX_MESSAGE_ID:
        raise RoomsError(f"message skipped: message_id {message_id!r} is not a positive 64-bit integer")
    for name in ("content", "from_device_id"):
        if not isinstance(frame.get(name), str):
            raise RoomsError(f"message {message_id} skipped: no {name}")


def _message(frame: dict) -> Message:
    return Message(frame["message_id"], frame["content"], frame["from_device_id"], frame["message_type"], frame["timestamp"])


def _close_of(socket) -> tuple:
    code = getattr(socket, "close_code", None)
    reason = getattr(socket, "close_reason", "") or ""
    return code, reason


def _close_of_error(error: Exception) -> tuple:
    # websockets raises ConnectionClosed (code/reason, or rcvd in newer versions) when the server closes.
    rcvd = getattr(error, "rcvd", None)
    if rcvd is not None:
        return rcvd.code, rcvd.reason
    # Closed by this side (1009: a frame over max_size) before the server said anything.
    sent = getattr(error, "sent", None)
    if sent is not None:
        return sent.code, sent.reason
    return getattr(error, "code", None), getattr(error, "reason", "") or ""


def _retry_after(error: Exception) -> Optional[float]:
    """Seconds from a refused upgrade's Retry-After (503), in websockets 10 (InvalidStatusCode) or 11+ (InvalidStatus)."""
    headers = getattr(error, "headers", None)
    response = getattr(error, "response", None)
    if headers is None and response is not None:
        headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
