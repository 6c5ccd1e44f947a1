"""Chaos run for the Python client (driven by tests/Rooms.EndToEnd.Tests/ClientChaosTests.cs, which kills and freezes
the servers meanwhile): DEVICES clients in one room over ROOMS_URLS (the nodes) each send a message every INTERVAL_MS
for SECONDS, then wait for every ack and for every other device's messages. Prints one JSON line per device."""

import asyncio
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from rooms_client import Message, RoomsClient, RoomsError  # noqa: E402

URLS = os.environ["ROOMS_URLS"].split(",")
DEVICES = int(os.environ.get("DEVICES", "3"))
SECONDS = float(os.environ.get("SECONDS", "30"))
INTERVAL = float(os.environ.get("INTERVAL_MS", "100")) / 1000
RUN = "%06x" % random.getrandbits(24)


async def main():
    records = []
    room = None
    for i in range(DEVICES):
        device = f"py-chaos-{RUN}-{i}"
        urls = URLS[i % len(URLS):] + URLS[:i % len(URLS)]
        client = RoomsClient(urls, device, "chaos", room_id=room, initial_delay=0.1, max_delay=2.0)
        room = (await client.connect())["room_id"]
        record = {"device": device, "client": client, "acked": [], "failed": [], "delivered": []}

        async def read(record=record):
            async for event in record["client"].events():
                if isinstance(event, Message):
                    record["delivered"].append(f"{event.sender}|{event.content}")

        record["reader"] = asyncio.create_task(read())
        records.append(record)

    until = time.monotonic() + SECONDS

    async def send_all(record):
        async def one(content):
            try:
                await record["client"].send(content)
                record["acked"].append(content)
            except RoomsError as error:
                record["failed"].append(f"{content}: {error}")

        sends = []
        n = 0
        while time.monotonic() < until:
            n += 1
            sends.append(asyncio.create_task(one(f"{record['device']}#{n}")))
            await asyncio.sleep(INTERVAL)
        await asyncio.gather(*sends)

    await asyncio.gather(*(send_all(r) for r in records))
    total = sum(len(r["acked"]) for r in records)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(len(r["delivered"]) < total - len(r["acked"]) for r in records):
        await asyncio.sleep(0.2)
    for r in records:
        print(json.dumps({"device": r["device"], "room": room, "acked": r["acked"], "failed": r["failed"], "delivered": r["delivered"]}), flush=True)
        await r["client"].close()
        r["reader"].cancel()


asyncio.run(main())
