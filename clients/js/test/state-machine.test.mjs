// The client's state machine against a fake transport: ordering merge, dedupe, outbox, backoff, stops.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RoomsClient, MemoryStore, RoomsError } from "../src/index.js";

/** A scripted server side: every socket the client opens, with the frames the client sent on it. */
class FakeNetwork {
  sockets = [];
  WebSocket;
  constructor() {
    const network = this;
    this.WebSocket = class {
      constructor(url) {
        this.url = url;
        this.sent = [];
        network.sockets.push(this);
        setTimeout(() => this.serverSends({ type: "connection", message: "Connected successfully" }), 0);
      }
      send(text) { this.sent.push(JSON.parse(text)); network.onSend?.(this, JSON.parse(text)); }
      close(code = 1000) { this.closed = code; }
      serverSends(frame) { this.onmessage?.({ data: JSON.stringify(frame) }); }
      serverCloses(code, reason = "") { this.onclose?.({ code, reason }); }
      // Node.js 20's WebSocket on a refused connection: an error event and no close.
      refused() { this.onerror?.({ type: "error" }); }
    };
  }
  get last() { return this.sockets.at(-1); }
}

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition, what) {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await tick(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function message(id, from = "bob", content = `m${id}`) {
  return { type: "message", content, from_device_id: from, message_type: "broadcast", timestamp: "2026-11-30T00:00:00Z", message_id: String(id) };
}

function client(network, options = {}) {
  return new RoomsClient({ urls: ["ws://a/", "ws://b/"], deviceId: "alice", identity: "Alice", WebSocket: network.WebSocket, initialDelayMs: 1, random: () => 0.5, ...options });
}

/** Answers identify with a room frame, as a server would. */
function autoJoin(network, roomId = "R1") {
  network.onSend = (socket, frame) => {
    if (frame.type === "identify") socket.serverSends({ type: "room", room_id: frame.room_id ?? roomId, status: frame.room_id ? "joined_existing" : "created_new" });
  };
}

test("connect identifies, resolves with the room, and asks who is there", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  const joined = await rooms.connect();
  assert.deepEqual(joined, { roomId: "R1", status: "created_new" });
  assert.equal(rooms.state, "connected");
  assert.deepEqual(network.last.sent[0], { type: "identify", device_id: "alice", identity: "Alice" });
  assert.deepEqual(network.last.sent[1], { type: "query_room" });
  await rooms.close();
});

test("send resolves with its ack; an error carrying its id rejects that send only", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  await rooms.connect();
  const first = rooms.send("hello");
  const second = rooms.send("to nobody", { to: "ghost" });
  const [a, b] = network.last.sent.filter((f) => f.type === "message");
  assert.equal(b.target_device_id, "ghost");
  assert.notEqual(a.id, b.id);
  network.last.serverSends({ type: "error", id: b.id, message: "Target device not found: ghost" });
  network.last.serverSends({ type: "ack", id: a.id, message_id: "7", recipients: 2 });
  assert.deepEqual(await first, { messageId: "7", recipients: 2 });
  await assert.rejects(second, (e) => e instanceof RoomsError && e.id === b.id && /Target device not found/.test(e.message));
  await rooms.close();
});

test("after a drop it reconnects to the next url, rejoins the room, resends the outbox in order with the same ids, and catches up exactly once in order", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  const delivered = [];
  rooms.on("message", (m) => delivered.push(m.messageId));
  await rooms.connect();
  network.last.serverSends(message(1));
  network.last.serverSends(message(2));
  const pending = [rooms.send("one"), rooms.send("two")];
  const firstIds = network.last.sent.filter((f) => f.type === "message").map((f) => f.id);

  network.last.serverCloses(1006);
  assert.equal(rooms.state, "reconnecting");
  await until(() => network.sockets.length === 2 && network.last.sent.some((f) => f.type === "history"), "the reconnect");
  const again = network.last;
  assert.equal(again.url, "ws://b/");
  assert.deepEqual(again.sent[0], { type: "identify", device_id: "alice", identity: "Alice", room_id: "R1" });
  assert.deepEqual(again.sent.filter((f) => f.type === "message").map((f) => f.id), firstIds);
  assert.deepEqual(again.sent.find((f) => f.type === "history"), { type: "history", after_message_id: "2", limit: 500 });

  // Live messages arrive while the pages come: held, then merged without duplicates.
  again.serverSends(message(5));
  again.serverSends({ type: "history", room_id: "R1", has_more: true, messages: [message(3), message(4, "alice")] });
  assert.deepEqual(again.sent.filter((f) => f.type === "history").at(-1), { type: "history", after_message_id: "4", limit: 500 });
  again.serverSends(message(6));
  again.serverSends({ type: "history", room_id: "R1", has_more: false, messages: [message(5)] });
  again.serverSends(message(7));
  again.serverSends(message(6)); // a duplicate never reaches the application

  // Message 4 was alice's own: it moves the cursor but is known from its ack.
  assert.deepEqual(delivered, ["1", "2", "3", "5", "6", "7"]);
  assert.equal(rooms.lastMessageId, "7");
  again.serverSends({ type: "ack", id: firstIds[0], message_id: "3", recipients: 1 });
  again.serverSends({ type: "ack", id: firstIds[1], message_id: "4", recipients: 1 });
  assert.deepEqual((await Promise.all(pending)).map((a) => a.messageId), ["3", "4"]);
  await rooms.close();
});

test("4001 (replaced) and 4003 (authentication) stop the client instead of reconnecting", async () => {
  for (const [code, reason] of [[4001, "replaced"], [4003, "unauthorized"]]) {
    const network = new FakeNetwork();
    autoJoin(network);
    const rooms = client(network);
    const states = [];
    rooms.on("state", (s) => states.push(s));
    rooms.on("error", () => {});
    await rooms.connect();
    const sendFails = assert.rejects(rooms.send("never acked"));
    network.last.serverCloses(code);
    await tick(20);
    assert.equal(network.sockets.length, 1, `no reconnect after ${code}`);
    assert.equal(rooms.state, "closed");
    assert.equal(states.at(-1).reason, reason);
    await sendFails;
  }
});

test("backoff: full jitter under a cap that doubles per attempt up to the maximum", async () => {
  const network = new FakeNetwork();
  const delays = [];
  const realSetTimeout = globalThis.setTimeout;
  const rooms = client(network, { initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
  globalThis.setTimeout = (fn, ms) => { if (ms >= 50) delays.push(ms); return realSetTimeout(fn, 0); };
  try {
    rooms.connect().catch(() => {});
    for (let i = 0; i < 6; i++) {
      await until(() => network.sockets.length === i + 1, `socket ${i + 1}`);
      network.last.serverCloses(1006);
    }
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }

  assert.deepEqual(delays.slice(0, 6), [99, 199, 399, 799, 999, 999]);
  assert.deepEqual(network.sockets.map((s) => s.url).slice(0, 4), ["ws://a/", "ws://b/", "ws://a/", "ws://b/"]);
  await rooms.close();
});

test("the store keeps the outbox and the cursor: a new client resends what was never acked and catches up from there", async () => {
  const store = new MemoryStore();
  const network = new FakeNetwork();
  autoJoin(network);
  const first = client(network, { store });
  await first.connect();
  network.last.serverSends(message(10));
  first.send("lost in the crash").catch(() => {});
  const unacked = network.last.sent.find((f) => f.type === "message").id;

  // The process dies (no close); a new one starts with the same store.
  const network2 = new FakeNetwork();
  autoJoin(network2);
  const second = client(network2, { store });
  const acks = [];
  second.on("ack", (a) => acks.push(a));
  await second.connect();
  const sent = network2.last.sent;
  assert.equal(sent[0].room_id, "R1");
  assert.deepEqual(sent.filter((f) => f.type === "message").map((f) => f.id), [unacked]);
  assert.deepEqual(sent.find((f) => f.type === "history"), { type: "history", after_message_id: "10", limit: 500 });
  network2.last.serverSends({ type: "ack", id: unacked, message_id: "11", recipients: 1 });
  assert.deepEqual(acks, [{ id: unacked, messageId: "11", recipients: 1 }]);
  assert.deepEqual(store.load().outbox, []);
  await second.close();
});

test("members follow room_info and both presence forms", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  await rooms.connect();
  network.last.serverSends({ type: "room_info", room_id: "R1", total_clients: 2, clients: [{ device_id: "bob", identity: "Bob" }] });
  network.last.serverSends({ type: "presence", event: "joined", room_id: "R1", device_id: "carol", identity: "Carol" });
  network.last.serverSends({ type: "presence", room_id: "R1", joins: { dan: "Dan", alice: "Alice" }, leaves: { bob: "Bob" } });
  assert.deepEqual([...rooms.members], [["carol", "Carol"], ["dan", "Dan"]]);
  await rooms.close();
});

test("a listener that throws does not stop delivery", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  const seen = [];
  rooms.on("message", () => { throw new Error("application bug"); });
  rooms.on("message", (m) => seen.push(m.messageId));
  await rooms.connect();
  network.last.serverSends(message(1));
  network.last.serverSends(message(2));
  assert.deepEqual(seen, ["1", "2"]);
  await rooms.close();
});

test("a refused connection that fires only an error (Node.js 20) is retried, and what was sent meanwhile goes out", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  await rooms.connect();
  network.last.serverCloses(1006);
  const sent = rooms.send("while the server is down");
  // Every url refuses for a while: error events only, never a close.
  for (let i = 0; i < 4; i++) {
    await until(() => network.sockets.length === i + 2, `attempt ${i + 2}`);
    network.last.refused();
  }

  await until(() => network.last.sent.some((f) => f.type === "message"), "the reconnect after the refusals");
  assert.equal(rooms.state, "connected");
  const frame = network.last.sent.find((f) => f.type === "message");
  assert.equal(frame.content, "while the server is down");
  network.last.serverSends({ type: "ack", id: frame.id, message_id: "9", recipients: 0 });
  assert.deepEqual(await sent, { messageId: "9", recipients: 0 });
  await rooms.close();
});

test("hostile frames are skipped and reported; the messages after them are delivered", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  const delivered = [];
  const errors = [];
  rooms.on("message", (m) => delivered.push(m.messageId));
  rooms.on("error", (e) => errors.push(e.message));
  await rooms.connect();
  const socket = network.last;
  for (const text of ["null", "[1]", "5", "not json", "{\"type\":\"message\"}"]) socket.onmessage({ data: text });
  socket.serverSends(message("99999999999999999999999"));
  socket.serverSends(message("abc"));
  socket.serverSends(message(" 7"));
  socket.serverSends({ type: "presence", room_id: "R1", joins: ["a"], leaves: null });
  socket.serverSends({ type: "room_info", room_id: "R1", total_clients: 1 });
  socket.serverSends(message(10));
  socket.serverSends(message(11));
  assert.deepEqual(delivered, ["10", "11"]);
  assert.equal(rooms.lastMessageId, "11");
  assert.equal(errors.length, 10);
  assert.equal(rooms.state, "connected");
  await rooms.close();
});

test("a live message out of order is reported, not silently dropped; a repeat of the last one is ignored", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  const delivered = [];
  const errors = [];
  rooms.on("message", (m) => delivered.push(m.messageId));
  rooms.on("error", (e) => errors.push(e.message));
  await rooms.connect();
  for (const id of [10, 10, 8, 11]) network.last.serverSends(message(id));
  assert.deepEqual(delivered, ["10", "11"]);
  assert.deepEqual(errors, ["message 8 arrived after 10: out of order, not delivered"]);
  await rooms.close();
});

test("a catch-up page that never moves the cursor is asked again with a growing pause, not at once", async () => {
  const store = new MemoryStore();
  store.save({ roomId: "R1", lastMessageId: "5", outbox: [] });
  const network = new FakeNetwork();
  autoJoin(network);
  network.onSend = ((answer) => (socket, frame) => {
    answer(socket, frame);
    if (frame.type === "history") setTimeout(() => socket.serverSends({ type: "history", room_id: "R1", has_more: true, messages: [message(5)] }), 0);
  })(network.onSend);
  const rooms = client(network, { store });
  rooms.on("error", () => {});
  await rooms.connect();
  await tick(300);
  assert.equal(network.last.sent.filter((f) => f.type === "history").length, 1);
  await rooms.close();
});

test("after a frame too big for the transport (1009) the catch-up asks for smaller pages", async () => {
  const store = new MemoryStore();
  store.save({ roomId: "R1", lastMessageId: "5", outbox: [] });
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network, { store });
  await rooms.connect();
  assert.equal(network.last.sent.find((f) => f.type === "history").limit, 500);
  network.last.serverCloses(1009);
  await until(() => network.sockets.length === 2 && network.last.sent.some((f) => f.type === "history"), "the reconnect");
  assert.equal(network.last.sent.find((f) => f.type === "history").limit, 250);
  network.last.serverSends({ type: "history", room_id: "R1", has_more: false, messages: [message(6)] });
  network.last.serverCloses(1006);
  await until(() => network.sockets.length === 3 && network.last.sent.some((f) => f.type === "history"), "the next reconnect");
  assert.equal(network.last.sent.find((f) => f.type === "history").limit, 500);
  await rooms.close();
});

test("queryRoom answers the total and the listed members as a Map", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  network.onSend = ((answer) => (socket, frame) => {
    answer(socket, frame);
    if (frame.type === "query_room") setTimeout(() => socket.serverSends({ type: "room_info", room_id: "R1", total_clients: 2, clients: [{ device_id: "bob", identity: "Bob" }] }), 0);
  })(network.onSend);
  const rooms = client(network);
  await rooms.connect();
  const info = await rooms.queryRoom();
  assert.equal(info.totalClients, 2);
  assert.deepEqual(info.clients, new Map([["bob", "Bob"]]));
  await rooms.close();
});

test("a send from a listener of the reconnect goes after the older messages the outbox resends", async () => {
  const network = new FakeNetwork();
  autoJoin(network);
  const rooms = client(network);
  await rooms.connect();
  rooms.send("old 1").catch(() => {});
  rooms.send("old 2").catch(() => {});
  let sentFromListener = false;
  rooms.on("state", (s) => {
    if (s.state === "connected" && !sentFromListener) {
      sentFromListener = true;
      rooms.send("new").catch(() => {});
    }
  });
  network.last.serverCloses(1006);
  await until(() => network.sockets.length === 2 && network.last.sent.filter((f) => f.type === "message").length === 3, "the resend");
  assert.deepEqual(network.last.sent.filter((f) => f.type === "message").map((f) => f.content), ["old 1", "old 2", "new"]);
  await rooms.close();
});
