# A second, independent load client (Python asyncio + websockets, not this repository's .NET tool): 20 rooms x 10
# devices, broadcasts with client ids at RATE/s for DURATION s; prints sent, delivered, p50 and p99. Usage:
#   /usr/bin/python3 scripts/py-load.py ws://127.0.0.1:8765/ 500 6     (Debian's python3-websockets)
import asyncio, json, sys, time, websockets
url, rate, dur = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ROOMS, K = 20, 10
RUN = str(time.time_ns())
lat, sent, got = [], 0, 0
async def device(i, room, ready):
    ws = await websockets.connect(url, max_size=None)
    await ws.recv()
    ident = {"device_id": f"py{i}", "identity": "py"}
    if room: ident["room_id"] = room
    await ws.send(json.dumps(ident))
    r = json.loads(await ws.recv())
    return ws, r["room_id"]
async def reader(ws):
    global got
    try:
        async for m in ws:
            if '"type":"message"' in m:
                t = float(json.loads(m)["content"].split(":")[1]); lat.append(time.perf_counter() - t); got += 1
    except websockets.ConnectionClosed: pass
async def main():
    global sent
    devs = []
    for r in range(ROOMS):
        ws, room = await device(r * K, None, None); devs.append(ws)
        for k in range(1, K):
            ws2, _ = await device(r * K + k, room, None); devs.append(ws2)
    readers = [asyncio.create_task(reader(w)) for w in devs]
    start = time.perf_counter(); n = int(rate * dur)
    for j in range(n):
        target = start + j / rate
        d = target - time.perf_counter()
        if d > 0: await asyncio.sleep(d)
        await devs[j % len(devs)].send(json.dumps({"type": "message", "content": f"t:{target}", "id": f"{RUN}-m{j}"}))
        sent += 1
    await asyncio.sleep(2)
    for w in devs: await w.close()
    lat.sort(); p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
    print(f"sent {sent} delivered {got}/{sent*(K-1)} p50 {p(0.5):.1f} ms p99 {p(0.99):.1f} ms")
asyncio.run(main())
