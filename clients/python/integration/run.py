"""The Python client against a real Rooms server (run by tests/Rooms.EndToEnd.Tests/ClientLibraryTests.cs):
ROOMS_URL names an open server, ROOMS_AUTH_URL one that requires device tokens. Prints one "ok ..." line per
check and exits non-zero at the first failure."""

import asyncio
import os
import random
import sys
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from rooms_client import Message, MemoryStore, Presence, RoomsClient, RoomsError, State  # noqa: E402

URL = os.environ["ROOMS_URL"]
AUTH_URL = os.environ.get("ROOMS_AUTH_URL")
RUN = "%06x" % random.getrandbits(24)


async def next_event(client, kind, predicate=lambda e: True, timeout=10):
    async def wait():
        async for event in client.events():
            if isinstance(event, kind) and predicate(event):
                return event
        raise AssertionError(f"events ended before a {kind.__name__}")
    return await asyncio.wait_for(wait(), timeout)


class Relay:
    """A TCP relay to the server on a port of its own, which can go down (the port refuses connections, as a dead
    server's does) and come back on the same port."""

    def __init__(self):
        self.port = 0
        self._server = None
        self._writers = set()

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/"

    async def up(self):
        target = urlparse(URL)

        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        async def relay(client_reader, client_writer):
            server_reader, server_writer = await asyncio.open_connection(target.hostname, target.port)
            self._writers.update((client_writer, server_writer))
            await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

        self._server = await asyncio.start_server(relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self):
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()


async def main():
    clients = []

    def client(name, **options):
        c = RoomsClient([URL], f"{name}-{RUN}", name, initial_delay=0.05, **options)
        clients.append(c)
        return c

    try:
        alice = client("alice")
        joined = await alice.connect()
        assert joined["status"] == "created_new", joined
        room = joined["room_id"]
        bob = client("bob", room_id=room)
        await bob.connect()
        await next_event(alice, Presence, lambda p: f"bob-{RUN}" in p.joins)
        ack = await alice.send("hello bob")
        assert ack.recipients == 1, ack
        got = await next_event(bob, Message)
        assert (got.content, got.sender, got.type, got.message_id) == ("hello bob", f"alice-{RUN}", "broadcast", ack.message_id), got
        print("ok two devices chat, acked, presence heard", flush=True)

        await bob.send("just you", to=f"alice-{RUN}")
        assert (await next_event(alice, Message)).type == "direct"
        try:
            await alice.send("to nobody", to="nobody")
            raise AssertionError("a send to nobody was acked")
        except RoomsError as refused:
            assert "Target device not found" in str(refused) and refused.id, refused
        print("ok direct message; a refused send raises alone", flush=True)

        for i in range(1, 6):
            await alice.send(f"h{i}")
        latest = await bob.history(latest=True, limit=3)
        assert [m.content for m in latest["messages"]] == ["h3", "h4", "h5"] and latest["has_more"], latest
        before = await bob.history(before=latest["messages"][0].message_id, limit=2)
        assert [m.content for m in before["messages"]] == ["h1", "h2"], before
        after = await bob.history(after=before["messages"][0].message_id, limit=10)
        assert [m.content for m in after["messages"]] == ["h2", "h3", "h4", "h5"] and not after["has_more"], after
        print("ok history pages backward and forward", flush=True)

        # Every url refuses connections for a while (a server down): the client keeps trying, and once the server is
        # back it reconnects and sends what was sent meanwhile.
        relay = Relay()
        await relay.up()
        dave = RoomsClient([relay.url], f"dave-{RUN}", "dave", room_id=room, initial_delay=0.05, max_delay=0.4)
        clients.append(dave)
        await dave.connect()
        await relay.down()
        while_down = asyncio.ensure_future(dave.send("sent while the server was down"))
        alice_hears = asyncio.ensure_future(next_event(alice, Message, lambda m: m.content == "sent while the server was down", 15))
        await asyncio.sleep(2)  # several refused attempts
        await relay.up()
        assert (await asyncio.wait_for(while_down, 10)).message_id
        await alice_hears
        await dave.close()
        await relay.down()
        print("ok reconnects after every url refused for a while", flush=True)

        # Catch-up through pages of the server's largest frame (history pages are cut at 1 MiB): 25 messages of 48 KB.
        mark = (await alice.send("before the big ones")).message_id
        big = "€" * 16_000
        for i in range(25):
            await alice.send(f"{i}:{big}")
        big_store = MemoryStore()
        big_store.save({"roomId": room, "lastMessageId": mark, "outbox": []})
        erin = client("erin", store=big_store)
        await erin.connect()
        got = []
        while len(got) < 25:
            got.append(int((await next_event(erin, Message)).content.split(":")[0]))
        assert got == list(range(25)), got
        await erin.close()
        print("ok catch-up through pages of the largest frame", flush=True)

        store = MemoryStore()
        carol = client("carol", room_id=room, store=store)
        await carol.connect()
        await alice.send("before the break")
        await next_event(carol, Message)
        await carol.close()
        for i in range(1, 4):
            await alice.send(f"missed {i}")
        carol_again = client("carol", store=store)
        back = await carol_again.connect()
        assert back["room_id"] == room, back
        await alice.send("live again")
        contents = []
        while len(contents) < 4:
            contents.append((await next_event(carol_again, Message)).content)
        assert contents == ["missed 1", "missed 2", "missed 3", "live again"], contents
        print("ok catch-up after a restart: exactly once, in order", flush=True)

        alice_again = client("alice", room_id=room)
        await alice_again.connect()
        closed = await next_event(alice, State, lambda s: s.state == "closed")
        assert closed.reason == "replaced", closed
        print("ok replaced (4001): the older client stops", flush=True)

        if AUTH_URL:
            intruder = RoomsClient([AUTH_URL], f"intruder-{RUN}", "x", token="not-a-token")
            clients.append(intruder)
            try:
                await asyncio.wait_for(intruder.connect(), 10)
                raise AssertionError("a bad token was let in")
            except RoomsError as refused:
                assert "4003" in str(refused), refused
            assert intruder.state == "closed"
            print("ok refused token (4003): the client stops", flush=True)

        print("all passed", flush=True)
    finally:
        for c in clients:
            await c.close()


asyncio.run(main())
