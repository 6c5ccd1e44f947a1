# Python client: pip install websockets (Debian: apt install python3-websockets)
import asyncio
import json

import websockets


async def main():
    async with websockets.connect("ws://localhost:8765") as ws:
        print(await ws.recv())  # {"type":"connection","message":"Connected successfully"}

        await ws.send(json.dumps({"device_id": "python_client", "identity": "test_script"}))
        room = json.loads(await ws.recv())  # {"type":"room","room_id":"...","status":"created_new"}
        print("room:", room)

        await ws.send(json.dumps({"type": "query_room"}))
        print("room info:", await ws.recv())

        await ws.send(json.dumps({"type": "message", "content": "Hello from Python client"}))

        # Prints what others in the room send; stops after 5 s of quiet so the example ends.
        try:
            while True:
                print("received:", json.loads(await asyncio.wait_for(ws.recv(), timeout=5)))
        except asyncio.TimeoutError:
            pass


asyncio.run(main())
