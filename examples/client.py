# Python client on the library (clients/python; pip install --no-build-isolation ./clients/python, or Debian's python3-websockets and this path)
# Usage: [ROOMS_URL=ws://host:8765/] python3 client.py [device_id] [room_id] [last_message_id]
# The server is ROOMS_URL (behind the nginx of deploy/: wss://your.host/ws), ws://localhost:8765/ by default.
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))

from rooms_client import Message, Presence, RoomsClient  # noqa: E402


async def main(device_id="python_client", room_id=None, last_message_id=None):
    client = RoomsClient([os.environ.get("ROOMS_URL", "ws://localhost:8765/")], device_id, "test_script", room_id=room_id)
    room = await client.connect()  # {'room_id': '...', 'status': 'created_new'}
    print("room:", room)
    try:
        # Catch up on what this device missed since the last message it saw.
        after = last_message_id
        while after is not None:
            page = await client.history(after=after, limit=100)
            for message in page["messages"]:
                print("missed:", message.sender, message.content, message.message_id)
            after = page["messages"][-1].message_id if page["has_more"] and page["messages"] else None

        # The library gives every message an id, resends it after a reconnect, and returns once it is stored.
        ack = await client.send("Hello from Python client")
        print(f"stored as message {ack.message_id}, sent to {ack.recipients} devices")

        # A direct message goes to one device of the room: here, the first other member.
        await client.query_room()
        for target in list(client.members)[:1]:
            print("direct:", await client.send(f"Just for you, {target}", to=target))

        # Prints what others send; stops after 5 s of quiet so the example ends.
        async def listen():
            async for event in client.events():
                if isinstance(event, (Message, Presence)):
                    print("received:", event)
        try:
            await asyncio.wait_for(listen(), timeout=5)
        except asyncio.TimeoutError:
            pass
    finally:
        await client.close()


asyncio.run(main(*sys.argv[1:4]))
