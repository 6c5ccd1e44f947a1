"""The client's state machine against a fake transport: merge and dedupe, outbox, backoff, Retry-After, stops."""

import asyncio
import json
import random
import unittest

import rooms_client
from rooms_client import Ack, ErrorEvent, MemoryStore, Message, Presence, RoomsClient, RoomsError, State


class Closed(Exception):
    """What websockets raises when the server closes with a code other than 1000/1001."""

    def __init__(self, code, reason=""):
        super().__init__(f"closed {code}")
        self.code = code
        self.reason = reason


class Refused(Exception):
    """What websockets raises for a refused upgrade (InvalidStatusCode in 10.x)."""

    def __init__(self, status_code, headers):
        super().__init__(f"status {status_code}")
        self.status_code = status_code
        self.headers = headers


class RawText:
    def __init__(self, text):
        self.text = text


class ClosedBySelf(Exception):
    """What websockets raises when this side closed first: 1009 for a frame over max_size (rcvd None, sent set)."""

    def __init__(self, code):
        super().__init__(f"sent {code}")
        self.rcvd = None
        self.sent = type("Close", (), {"code": code, "reason": ""})()


class FakeSocket:
    def __init__(self, network, url):
        self.url = url
        self.sent = []
        self.inbox = asyncio.Queue()
        self.network = network
        self.close_code = None
        self.close_reason = ""
        self.inbox.put_nowait({"type": "connection", "message": "Connected successfully"})

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def send(self, text):
        if self.network.write_delay:
            await asyncio.sleep(self.network.write_delay)  # a slow socket: sends can interleave
        frame = json.loads(text)
        self.sent.append(frame)
        if self.network.on_send:
            self.network.on_send(self, frame)

    async def close(self):
        self.close_code = 1000

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = await self.inbox.get()
        if isinstance(item, Exception):
            raise item
        return item.text if isinstance(item, RawText) else json.dumps(item)

    def server_sends(self, frame):
        self.inbox.put_nowait(frame)

    def server_sends_text(self, text):
        self.inbox.put_nowait(RawText(text))

    def server_closes(self, code):
        self.inbox.put_nowait(Closed(code))


class FakeNetwork:
    def __init__(self, refusals=()):
        self.sockets = []
        self.refusals = list(refusals)
        self.on_send = None
        self.write_delay = 0

    def connect(self, url):
        if self.refusals:
            raise self.refusals.pop(0)
        socket = FakeSocket(self, url)
        self.sockets.append(socket)
        return socket

    @property
    def last(self):
        return self.sockets[-1]


def auto_join(network, room="R1"):
    def on_send(socket, frame):
        if frame["type"] == "identify":
            status = "joined_existing" if "room_id" in frame else "created_new"
            socket.server_sends({"type": "room", "room_id": frame.get("room_id", room), "status": status})
    network.on_send = on_send


def message(id, sender="bob"):
    return {"type": "message", "content": f"m{id}", "from_device_id": sender, "message_type": "broadcast",
            "timestamp": "2026-11-30T00:00:00Z", "message_id": str(id)}


async def until(condition, what):
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def client(network, **options):
    options.setdefault("initial_delay", 0.001)
    return RoomsClient(["ws://a/", "ws://b/"], "alice", "Alice", connect=network.connect, rng=random.Random(1), **options)


async def drain(rooms, kind):
    seen = []
    while not rooms._events.empty():
        event = rooms._events.get_nowait()
        if isinstance(event, kind):
            seen.append(event)
    return seen


class StateMachineTests(unittest.IsolatedAsyncioTestCase):
    async def test_connect_identifies_and_send_resolves_with_its_ack_or_raises_its_error(self):
        network = FakeNetwork()
        auto_join(network)
        rooms = client(network)
        self.assertEqual(await rooms.connect(), {"room_id": "R1", "status": "created_new"})
        self.assertEqual(network.last.sent[0], {"type": "identify", "device_id": "alice", "identity": "Alice"})
        first = asyncio.ensure_future(rooms.send("hello"))
        second = asyncio.ensure_future(rooms.send("to nobody", to="ghost"))
        await until(lambda: len([f for f in network.last.sent if f["type"] == "message"]) == 2, "two sends")
        a, b = [f for f in network.last.sent if f["type"] == "message"]
        self.assertEqual(b["target_device_id"], "ghost")
        network.last.server_sends({"type": "error", "id": b["id"], "message": "Target device not found: ghost"})
        network.last.server_sends({"type": "ack", "id": a["id"], "message_id": "7", "recipients": 2})
        self.assertEqual((await first).message_id, "7")
        with self.assertRaises(RoomsError) as refused:
            await second
        self.assertEqual(refused.exception.id, b["id"])
        await rooms.close()

    async def test_reconnect_resends_the_outbox_in_order_and_catches_up_exactly_once_in_order(self):
        network = FakeNetwork()
        auto_join(network)
        rooms = client(network)
        await rooms.connect()
        network.last.server_sends(message(1))
        network.last.server_sends(message(2))
        pending = [asyncio.ensure_future(rooms.send("one")), asyncio.ensure_future(rooms.send("two"))]
        await until(lambda: len([f for f in network.last.sent if f["type"] == "message"]) == 2, "two sends")
        ids = [f["id"] for f in network.last.sent if f["type"] == "message"]
        await until(lambda: rooms.last_message_id == "2", "two deliveries")

        network.last.server_closes(1006)
        await until(lambda: len(network.sockets) == 2 and any(f["type"] == "history" for f in network.last.sent), "reconnect")
        again = network.last
        self.assertEqual(again.url, "ws://b/")
        self.assertEqual(again.sent[0]["room_id"], "R1")
        self.assertEqual([f["id"] for f in again.sent if f["type"] == "message"], ids)
        self.assertEqual(next(f for f in again.sent if f["type"] == "history"), {"type": "history", "after_message_id": "2", "limit": 500})

        again.server_sends(message(5))
        again.server_sends({"type": "history", "room_id": "R1", "has_more": True, "messages": [message(3), message(4, "alice")]})
        await until(lambda: [f for f in again.sent if f["type"] == "history"][-1].get("after_message_id") == "4", "second page")
        again.server_sends(message(6))
        again.server_sends({"type": "history", "room_id": "R1", "has_more": False, "messages": [message(5)]})
        again.server_sends(message(7))
        again.server_sends(message(6))
        again.server_sends({"type": "ack", "id": ids[0], "message_id": "3", "recipients": 1})
        again.server_sends({"type": "ack", "id": ids[1], "message_id": "4", "recipients": 1})
        acks = await asyncio.gather(*pending)
        self.assertEqual([a.message_id for a in acks], ["3", "4"])
        delivered = [m.message_id for m in await drain(rooms, Message)]
        self.assertEqual(delivered, ["1", "2", "3", "5", "6", "7"])
        await rooms.close()

    async def test_4001_and_4003_stop_the_client(self):
        for code, reason in ((4001, "replaced"), (4003, "unauthorized")):
            network = FakeNetwork()
            auto_join(network)
            rooms = client(network)
            await rooms.connect()
            send = asyncio.ensure_future(rooms.send("never acked"))
            await asyncio.sleep(0.01)
            network.last.server_closes(code)
            with self.assertRaises(RoomsError):
                await send
            await asyncio.sleep(0.02)
            self.assertEqual(len(network.sockets), 1, f"no reconnect after {code}")
            self.assertEqual(rooms.state, "closed")
            states = await drain(rooms, State)
            self.assertEqual(states[-1], State("closed", reason))

    async def test_backoff_full_jitter_doubling_cap_and_retry_after_on_503(self):
        network = FakeNetwork(refusals=[Refused(503, {"Retry-After": "0.05"}), OSError("refused"), OSError("refused")])
        auto_join(network)
        sleeps = []
        real_sleep = asyncio.sleep

        async def recording_sleep(delay, *args):
            sleeps.append(delay)
            await real_sleep(0)

        rooms = RoomsClient(["ws://a/", "ws://b/"], "alice", "Alice", connect=network.connect, initial_delay=1.0, max_delay=3.0,
                            rng=random.Random(0))
        asyncio.sleep = recording_sleep
        try:
            await rooms.connect()
        finally:
            asyncio.sleep = real_sleep
        # Attempt 1: max(jitter below 1 s, Retry-After 0.05); attempts 2 and 3: below caps of 2 s and 3 s (not 4).
        self.assertGreaterEqual(sleeps[0], 0.05)
        self.assertLess(sleeps[0], 1.0)
        self.assertLess(sleeps[1], 2.0)
        self.assertLess(sleeps[2], 3.0)
        self.assertEqual(network.last.url, "ws://b/")
        self.assertEqual(rooms.state, "connected")
        await rooms.close()

    async def test_the_store_carries_the_outbox_and_the_cursor_to_a_new_client(self):
        store = MemoryStore()
        network = FakeNetwork()
        auto_join(network)
        first = client(network, store=store)
        await first.connect()
        network.last.server_sends(message(10))
        lost = asyncio.ensure_future(first.send("lost in the crash"))
        await until(lambda: any(f["type"] == "message" for f in network.last.sent), "the send")
        unacked = next(f["id"] for f in network.last.sent if f["type"] == "message")
        await until(lambda: first.last_message_id == "10", "the delivery")
        lost.cancel()

        network2 = FakeNetwork()
        auto_join(network2)
        second = client(network2, store=store)
        await second.connect()
        sent = network2.last.sent
        self.assertEqual(sent[0]["room_id"], "R1")
        self.assertEqual([f["id"] for f in sent if f["type"] == "message"], [unacked])
        self.assertEqual(next(f for f in sent if f["type"] == "history")["after_message_id"], "10")
        network2.last.server_sends({"type": "ack", "id": unacked, "message_id": "11", "recipients": 1})
        await until(lambda: store.load()["outbox"] == [], "the ack")
        self.assertEqual(await drain(second, Ack), [Ack(unacked, "11", 1)])
        await second.close()
        await first.close()

    async def test_members_follow_room_info_and_both_presence_forms(self):
        network = FakeNetwork()
        auto_join(network)
        rooms = client(network)
        await rooms.connect()
        network.last.server_sends({"type": "room_info", "room_id": "R1", "total_clients": 2, "clients": [{"device_id": "bob", "identity": "Bob"}]})
        network.last.server_sends({"type": "presence", "event": "joined", "room_id": "R1", "device_id": "carol", "identity": "Carol"})
        network.last.server_sends({"type": "presence", "room_id": "R1", "joins": {"dan": "Dan", "alice": "Alice"}, "leaves": {"bob": "Bob"}})
        await until(lambda: rooms.members == {"carol": "Carol", "dan": "Dan"}, "members")
        presences = await drain(rooms, Presence)
        self.assertEqual(presences[-1], Presence({"dan": "Dan"}, {"bob": "Bob"}))
        await rooms.close()


if __name__ == "__main__":
    unittest.main()


class SendOrderTests(unittest.IsolatedAsyncioTestCase):
    async def test_a_send_during_the_outbox_resend_goes_after_the_older_messages(self):
        store = MemoryStore()
        store.save({"roomId": "R1", "lastMessageId": "0",
                    "outbox": [{"id": f"old-{i}", "content": f"old {i}", "to": None} for i in range(3)]})
        network = FakeNetwork()
        network.write_delay = 0.02
        auto_join(network)
        rooms = client(network, store=store)
        await rooms.connect()
        sending = asyncio.ensure_future(rooms.send("new"))
        await until(lambda: len([f for f in network.last.sent if f["type"] == "message"]) == 4, "four messages")
        self.assertEqual([f["content"] for f in network.last.sent if f["type"] == "message"], ["old 0", "old 1", "old 2", "new"])
        sending.cancel()
        await rooms.close()


class HostileFrameTests(unittest.IsolatedAsyncioTestCase):
    async def test_frames_it_cannot_read_are_skipped_and_reported_and_later_messages_delivered(self):
        network = FakeNetwork()
        auto_join(network)
        rooms = client(network)
        await rooms.connect()
        socket = network.last
        for text in ("null", "[1]", "5", "not json", "[" * 200000 + "]" * 200000, '{"type":"message"}'):
            socket.server_sends_text(text)
        socket.server_sends(message("99999999999999999999999"))
        socket.server_sends(message("abc"))
        socket.server_sends(message(" 7"))
        socket.server_sends({"type": "presence", "room_id": "R1", "joins": ["a"], "leaves": None})
        socket.server_sends(message(10))
        socket.server_sends(message(11))
        await until(lambda: rooms.last_message_id == "11", "the messages after the bad frames")
        delivered = [m.message_id for m in await drain(rooms, Message)]
        self.assertEqual(delivered, ["10", "11"])
        self.assertEqual(len(network.sockets), 1, "no reconnect for a bad frame")
        await rooms.close()

    async def test_a_live_message_out_of_order_is_reported_not_silently_dropped(self):
        network = FakeNetwork()
        auto_join(network)
        rooms = client(network)
        await rooms.connect()
        for id in (10, 10, 8, 11):
            network.last.server_sends(message(id))
        await until(lambda: rooms.last_message_id == "11", "message 11")
        events = []
        while not rooms._events.empty():
            events.append(rooms._events.get_nowait())
        self.assertEqual([e.message_id for e in events if isinstance(e, Message)], ["10", "11"])
        self.assertEqual([str(e.error) for e in events if isinstance(e, ErrorEvent)],
                         ["message 8 arrived after 10: out of order, not delivered"])
        await rooms.close()

    async def test_a_catch_up_page_that_never_moves_the_cursor_is_not_asked_again_at_once(self):
        store = MemoryStore()
        store.save({"roomId": "R1", "lastMessageId": "5", "outbox": []})
        network = FakeNetwork()
        auto_join(network)
        join = network.on_send

        def on_send(socket, frame):
            join(socket, frame)
            if frame["type"] == "history":
                socket.server_sends({"type": "history", "room_id": "R1", "has_more": True, "messages": [message(5)]})
        network.on_send = on_send
        rooms = client(network, store=store)
        await rooms.connect()
        await asyncio.sleep(0.3)
        self.assertEqual(len([f for f in network.last.sent if f["type"] == "history"]), 1)
        await rooms.close()

    async def test_after_a_frame_over_its_limit_1009_the_catch_up_asks_for_smaller_pages(self):
        store = MemoryStore()
        store.save({"roomId": "R1", "lastMessageId": "5", "outbox": []})
        network = FakeNetwork()
        auto_join(network)
        rooms = client(network, store=store)
        await rooms.connect()
        self.assertEqual(next(f for f in network.last.sent if f["type"] == "history")["limit"], 500)
        network.last.inbox.put_nowait(ClosedBySelf(1009))
        await until(lambda: len(network.sockets) == 2 and any(f["type"] == "history" for f in network.last.sent), "the reconnect")
        self.assertEqual(next(f for f in network.last.sent if f["type"] == "history")["limit"], 250)
        await rooms.close()

    async def test_the_real_transport_reads_frames_larger_than_websockets_default_1_mib(self):
        self.assertGreater(rooms_client.MAX_FRAME_BYTES, 1024 * 1024)

    async def test_a_slow_consumer_stops_the_reading_instead_of_queueing_without_bound(self):
        network = FakeNetwork()
        auto_join(network)
        rooms = client(network)
        await rooms.connect()
        limit = rooms_client.MAX_QUEUED_EVENTS
        for id in range(1, limit + 500):
            network.last.server_sends(message(id))
        await asyncio.sleep(0.2)
        self.assertLessEqual(rooms._events.qsize(), limit + 1)
        self.assertFalse(network.last.inbox.empty(), "the rest waits unread")
        got = 0
        async for event in rooms.events():
            if isinstance(event, Message):
                got += 1
                if got == limit + 499:
                    break
        self.assertEqual(rooms.last_message_id, str(limit + 499))
        await rooms.close()

    async def test_typing_and_query_room(self):
        network = FakeNetwork()
        auto_join(network)
        join = network.on_send

        def on_send(socket, frame):
            join(socket, frame)
            if frame["type"] == "query_room":
                socket.server_sends({"type": "room_info", "room_id": "R1", "total_clients": 2,
                                     "clients": [{"device_id": "bob", "identity": "Bob"}]})
        network.on_send = on_send
        rooms = client(network)
        await rooms.connect()
        await rooms.typing()
        self.assertEqual(network.last.sent[-1], {"type": "typing"})
        self.assertEqual(await rooms.query_room(), {"total_clients": 2, "clients": {"bob": "Bob"}})
        await rooms.close()
