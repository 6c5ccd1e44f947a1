// The JavaScript client against a real Rooms server (run by tests/Rooms.EndToEnd.Tests/ClientLibraryTests.cs):
// ROOMS_URL names an open server, ROOMS_AUTH_URL one that requires device tokens. Prints one "ok ..." line per
// check and exits non-zero at the first failure.
import assert from "node:assert/strict";
import net from "node:net";
import { RoomsClient, MemoryStore } from "../src/index.js";

const url = process.env.ROOMS_URL;
const authUrl = process.env.ROOMS_AUTH_URL;
const run = Math.random().toString(36).slice(2, 8);
const clients = [];

function client(deviceId, options = {}) {
  const c = new RoomsClient({ urls: [url], deviceId: `${deviceId}-${run}`, identity: deviceId, initialDelayMs: 50, ...options });
  clients.push(c);
  return c;
}

function next(c, event, predicate = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within 10 s`)), 10_000);
    const off = c.on(event, (value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

function collect(c, count) {
  const messages = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${messages.length} of ${count} messages`)), 10_000);
    c.on("message", (m) => {
      messages.push(m);
      if (messages.length === count) {
        clearTimeout(timer);
        resolve(messages);
      }
    });
  });
}

/**
 * A TCP relay to the server on a port of its own, which can go down (the port refuses connections, as a dead server's
 * does) and come back on the same port.
 */
async function relay() {
  const target = new URL(url);
  const sockets = new Set();
  let server = null;
  const listen = (port) => new Promise((resolve) => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, "127.0.0.1", () => resolve(server.address().port));
  });
  const port = await listen(0);
  return {
    url: `ws://127.0.0.1:${port}/`,
    down: () => new Promise((resolve) => { server.close(resolve); for (const s of sockets) s.destroy(); }),
    up: () => listen(port),
  };
}

try {
  // Two devices chat; the room hears who joined.
  const alice = client("alice");
  const { roomId, status } = await alice.connect();
  assert.equal(status, "created_new");
  const bob = client("bob", { roomId });
  const heardBob = next(alice, "presence", (p) => p.joins.some((j) => j.deviceId === `bob-${run}`));
  await bob.connect();
  await heardBob;
  const bobGets = next(bob, "message");
  const ack = await alice.send("hello bob");
  assert.equal(ack.recipients, 1);
  const got = await bobGets;
  assert.deepEqual([got.content, got.from, got.type, got.messageId], ["hello bob", `alice-${run}`, "broadcast", ack.messageId]);
  console.log("ok two devices chat, acked, presence heard");

  // A direct message, and an error for a target that is not there, on that send only.
  const aliceGets = next(alice, "message");
  await bob.send("just you", { to: `alice-${run}` });
  assert.equal((await aliceGets).type, "direct");
  await assert.rejects(alice.send("to nobody", { to: "nobody" }), /Target device not found/);
  console.log("ok direct message; a refused send rejects alone");

  // History, backward from the end and forward from a cursor.
  for (let i = 1; i <= 5; i++) await alice.send(`h${i}`);
  const latest = await bob.history({ latest: true, limit: 3 });
  assert.deepEqual(latest.messages.map((m) => m.content), ["h3", "h4", "h5"]);
  assert.equal(latest.hasMore, true);
  const before = await bob.history({ before: latest.messages[0].messageId, limit: 2 });
  assert.deepEqual(before.messages.map((m) => m.content), ["h1", "h2"]);
  const after = await bob.history({ after: before.messages[0].messageId, limit: 10 });
  assert.deepEqual(after.messages.map((m) => m.content), ["h2", "h3", "h4", "h5"]);
  assert.equal(after.hasMore, false);
  console.log("ok history pages backward and forward");

  // Every url refuses connections for a while (a server down): the client keeps trying, and once the server is back
  // it reconnects and sends what was sent meanwhile.
  const way = await relay();
  const dave = client("dave", { roomId, urls: [way.url], maxDelayMs: 400 });
  await dave.connect();
  await way.down();
  const whileDown = dave.send("sent while the server was down");
  const aliceHears = next(alice, "message", (m) => m.content === "sent while the server was down");
  await new Promise((resolve) => setTimeout(resolve, 2000)); // several refused attempts
  await way.up();
  const acked = await Promise.race([whileDown, new Promise((_, reject) => setTimeout(() => reject(new Error("not acked 10 s after the server came back")), 10_000))]);
  assert.ok(acked.messageId);
  await aliceHears;
  await dave.close();
  await way.down();
  console.log("ok reconnects after every url refused for a while");

  // Catch-up through pages of the server's largest frame (history pages are cut at 1 MiB): 25 messages of 48 KB.
  const mark = (await alice.send("before the big ones")).messageId;
  const big = "€".repeat(16_000);
  for (let i = 0; i < 25; i++) await alice.send(`${i}:${big}`);
  const bigStore = new MemoryStore();
  bigStore.save({ roomId, lastMessageId: mark, outbox: [] });
  const erin = client("erin", { store: bigStore });
  const bigOnes = collect(erin, 25);
  await erin.connect();
  assert.deepEqual((await bigOnes).map((m) => Number(m.content.split(":")[0])), [...Array(25).keys()]);
  await erin.close();
  console.log("ok catch-up through pages of the largest frame");

  // A device that was away catches up from its store: the missed messages, once each, in order.
  const store = new MemoryStore();
  const carol = client("carol", { roomId, store });
  await carol.connect();
  const carolFirst = next(carol, "message");
  await alice.send("before the break");
  await carolFirst;
  await carol.close();
  for (let i = 1; i <= 3; i++) await alice.send(`missed ${i}`);
  const carolAgain = client("carol", { store });
  const missed = collect(carolAgain, 4);
  const back = await carolAgain.connect();
  assert.equal(back.roomId, roomId);
  await alice.send("live again");
  assert.deepEqual((await missed).map((m) => m.content), ["missed 1", "missed 2", "missed 3", "live again"]);
  console.log("ok catch-up after a restart: exactly once, in order");

  // The same device connecting again replaces the older connection, which stops (4001).
  const replaced = next(alice, "state", (s) => s.state === "closed");
  alice.on("error", () => {});
  const aliceAgain = client("alice", { roomId });
  await aliceAgain.connect();
  assert.equal((await replaced).reason, "replaced");
  console.log("ok replaced (4001): the older client stops");

  // A refused token stops the client (4003).
  if (authUrl) {
    const intruder = new RoomsClient({ urls: [authUrl], deviceId: `intruder-${run}`, identity: "x", token: "not-a-token" });
    clients.push(intruder);
    intruder.on("error", () => {});
    await assert.rejects(intruder.connect(), /authentication failed \(4003/);
    assert.equal(intruder.state, "closed");
    console.log("ok refused token (4003): the client stops");
  }

  for (const c of clients) await c.close();
  console.log("all passed");
} catch (error) {
  console.error(error);
  for (const c of clients) await c.close().catch(() => {});
  process.exit(1);
}
