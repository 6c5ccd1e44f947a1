# Python client: pip install websockets (Debian: apt install python3-websockets)
# Usage: [ROOMS_URL=ws://host:8765/] python3 client.py [device_id] [room_id] [last_message_id]
# The server is ROOMS_URL (behind the nginx of deploy/: wss://your.host/ws), ws://localhost:8765/ by default.
import asyncio
import json
import os
import sys
import time

import websockets


async def main(device_id="python_client", room_id=None, last_message_id=None):
    async with websockets.connect(os.environ.get("ROOMS_URL", "ws://localhost:8765/")) as ws:
        print(await ws.recv())  # {"type":"connection","message":"Connected successfully"}

        identify = {"device_id": device_id, "identity": "test_script"}
        if room_id:
            identify["room_id"] = room_id
        await ws.send(json.dumps(identify))
        room = json.loads(await ws.recv())  # {"type":"room","room_id":"...","status":"created_new"}
        print("room:", room)
        if room["status"] == "room_not_found":
            return

        # Catch up on what this device missed since the last message it saw.
        after = last_message_id
        while after:
            await ws.send(json.dumps({"type": "history", "after_message_id": after, "limit": 100}))
            page = json.loads(await ws.recv())
            if page["type"] != "history":
                print("received:", page)
                continue
            for message in page["messages"]:
                print("missed:", message["from_device_id"], message["content"], message["message_id"])
            after = page["messages"][-1]["message_id"] if page["has_more"] else None

        await ws.send(json.dumps({"type": "query_room"}))
        # With an id the server acks once the message is stored; resending the same id never stores it twice.
        await ws.send(json.dumps({"type": "message", "content": "Hello from Python client", "id": f"{device_id}-{time.time_ns()}"}))

        # Prints the room info, the acks and what others send; stops after 5 s of quiet so the example ends.
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
                print("received:", frame)
                if frame["type"] == "room_info" and frame["clients"]:
                    # A direct message goes to one device of the room: here, the first other member.
                    target = frame["clients"][0]["device_id"]
                    await ws.send(json.dumps({"type": "message", "content": f"Just for you, {target}",
                                              "target_device_id": target, "id": f"{device_id}-direct-{time.time_ns()}"}))
        except asyncio.TimeoutError:
            pass


asyncio.run(main(*sys.argv[1:4]))
