// Chaos run for the JavaScript client (driven by tests/Rooms.EndToEnd.Tests/ClientChaosTests.cs, which kills and
// freezes the servers meanwhile): DEVICES clients in one room over ROOMS_URLS (the nodes) each send a message every
// INTERVAL_MS for SECONDS, then wait for every ack and for every other device's messages. Prints one JSON line per
// device: what it sent and had acked, and what it delivered, in order.
import { RoomsClient } from "../src/index.js";

const urls = process.env.ROOMS_URLS.split(",");
const devices = Number(process.env.DEVICES ?? 3);
const seconds = Number(process.env.SECONDS ?? 30);
const interval = Number(process.env.INTERVAL_MS ?? 100);
const run = Math.random().toString(36).slice(2, 8);

const clients = [];
let roomId;
for (let i = 0; i < devices; i++) {
  const deviceId = `js-chaos-${run}-${i}`;
  // Every device starts on another node, and fails over to the others.
  const client = new RoomsClient({ urls: [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)], deviceId, identity: "chaos", roomId, initialDelayMs: 100, maxDelayMs: 2000 });
  const record = { deviceId, client, acked: [], failed: [], delivered: [] };
  client.on("message", (m) => record.delivered.push(`${m.from}|${m.content}`));
  client.on("error", () => {});
  roomId = (await client.connect()).roomId;
  clients.push(record);
}

const until = Date.now() + seconds * 1000;
await Promise.all(clients.map(async (record) => {
  const sends = [];
  for (let n = 1; Date.now() < until; n++) {
    const content = `${record.deviceId}#${n}`;
    sends.push(record.client.send(content).then(() => record.acked.push(content), (e) => record.failed.push(`${content}: ${e.message}`)));
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  await Promise.all(sends);
}));

// Everyone's messages, delivered to everyone else.
const total = clients.reduce((sum, r) => sum + r.acked.length, 0);
const deadline = Date.now() + 60_000;
while (Date.now() < deadline && clients.some((r) => r.delivered.length < total - r.acked.length)) {
  await new Promise((resolve) => setTimeout(resolve, 200));
}

for (const record of clients) {
  console.log(JSON.stringify({ device: record.deviceId, room: roomId, acked: record.acked, failed: record.failed, delivered: record.delivered }));
  await record.client.close();
}
