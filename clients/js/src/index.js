// Rooms client: the state machine that turns the server's guarantees (docs/protocol.md) into the application's.
// No runtime dependencies; runs in browsers and in Node.js (22+, or 20 with --experimental-websocket).

/** Keeps nothing: the outbox and the last message id live as long as the client object. */
export class MemoryStore {
  #state = null;
  load() { return this.#state; }
  save(state) { this.#state = state; }
}

/** Keeps the outbox and the last message id in the browser's localStorage, across page reloads. */
export class LocalStorageStore {
  #key;
  constructor(key = "rooms-client") { this.#key = key; }
  load() {
    const text = globalThis.localStorage?.getItem(this.#key);
    return text ? JSON.parse(text) : null;
  }
  save(state) { globalThis.localStorage?.setItem(this.#key, JSON.stringify(state)); }
}

/** A send the server refused (its `error` frame carried the message's id). */
export class RoomsError extends Error {
  constructor(message, id) {
    super(message);
    this.name = "RoomsError";
    this.id = id;
  }
}

const STATES = ["idle", "connecting", "connected", "reconnecting", "closed"];
const CATCH_UP_PAGE = 500;
const SMALLEST_CATCH_UP_PAGE = 10;
// The server's message ids are positive 64-bit integers: anything else is a broken frame, never a cursor.
const MAX_MESSAGE_ID = 2n ** 63n - 1n;
const MESSAGE_ID = /^[1-9][0-9]{0,18}$/;

/**
 * One device's connection to a room, kept alive: it reconnects (rotating through `urls`, exponential backoff with
 * full jitter), identifies into the same room again, catches up from the last message it delivered, resends every
 * unacknowledged message with the same id, and hands each message to the application exactly once, in
 * `message_id` order.
 */
export class RoomsClient {
  #options;
  #WebSocket;
  #store;
  #listeners = new Map();
  #state = "idle";
  #socket = null;
  #roomId;
  #lastMessageId = 0n;
  #outbox = []; // { id, content, to, settle? } in send order
  #idPrefix;
  #counter = 0;
  #catchingUp = false;
  #held = []; // live messages that arrived while catching up
  #pending = []; // history / query_room requests, answered in the order they were sent: { type, catchUp?, resolve, reject }
  #members = new Map();
  #attempt = 0;
  #urlIndex = 0;
  #stableTimer = null;
  #retryTimer = null;
  #connected = null; // { resolve, reject } of connect()
  #stopped = false;
  #catchUpPage = CATCH_UP_PAGE; // halved after a frame too big for the transport (1009), back to full once caught up
  #stalledPages = 0; // catch-up pages in a row that did not move the cursor

  /**
   * @param {object} options see index.d.ts
   */
  constructor(options) {
    if (!options?.urls?.length) throw new TypeError("RoomsClient: urls must list at least one ws:// or wss:// address");
    if (!options.deviceId || !options.identity) throw new TypeError("RoomsClient: deviceId and identity are required");
    this.#options = {
      initialDelayMs: 250,
      maxDelayMs: 30_000,
      stableAfterMs: 10_000,
      random: Math.random,
      ...options,
    };
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!this.#WebSocket) throw new TypeError("RoomsClient: no WebSocket here (Node.js 20 needs --experimental-websocket); pass options.WebSocket");
    this.#store = options.store ?? new MemoryStore();
    this.#roomId = options.roomId;
    // Ids unique per device for the server's 24-hour window: a random prefix per client object, then a counter.
    this.#idPrefix = `${Date.now().toString(36)}${Math.floor(this.#options.random() * 2 ** 32).toString(36)}`;
    const saved = this.#store.load();
    if (saved) {
      this.#lastMessageId = BigInt(saved.lastMessageId ?? 0);
      this.#roomId ??= saved.roomId;
      this.#outbox = (saved.outbox ?? []).map((m) => ({ id: m.id, content: m.content, to: m.to }));
    }
  }

  /** connecting, connected, reconnecting, closed (or idle before connect()). */
  get state() { return this.#state; }

  /** The room, once identified. */
  get roomId() { return this.#roomId; }

  /** The room's other members (device id to identity), kept current from query_room and presence. */
  get members() { return new Map(this.#members); }

  /** The `message_id` of the last message handed to the application. */
  get lastMessageId() { return this.#lastMessageId === 0n ? undefined : this.#lastMessageId.toString(); }

  /**
   * Subscribes to "message", "presence", "members", "typing", "state", "ack", "error". Returns the unsubscribe.
   * A listener that throws does not stop the client.
   */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    return () => this.#listeners.get(event)?.delete(listener);
  }

  /** Opens the connection; resolves with `{ roomId, status }` at the first identify, rejects if it cannot join. */
  connect() {
    if (this.#stopped) return Promise.reject(new Error("RoomsClient: closed"));
    return new Promise((resolve, reject) => {
      this.#connected = { resolve, reject };
      this.#open();
    });
  }

  /**
   * Sends a message (to one device with `to`); resolves with `{ messageId, recipients }` once the server stored it,
   * rejects with the server's error for it. Kept in the outbox and resent after every reconnect until acknowledged.
   */
  send(content, { to } = {}) {
    if (this.#stopped) return Promise.reject(new Error("RoomsClient: closed"));
    const id = `${this.#idPrefix}-${++this.#counter}`;
    return new Promise((resolve, reject) => {
      const entry = { id, content, to, settle: { resolve, reject } };
      this.#outbox.push(entry);
      this.#save();
      if (this.#state === "connected") this.#flushOutbox();
    });
  }

  /** One page of the room's history: `{ before }`, `{ after }` or `{ latest: true }`, `limit` 1-500. */
  history({ before, after, latest, limit = 100 } = {}) {
    const frame = { type: "history", limit };
    if (before !== undefined) frame.before_message_id = String(before);
    if (after !== undefined) frame.after_message_id = String(after);
    if (latest) frame.latest = true;
    return this.#request("history", frame).then((page) => ({ messages: page.messages.map(toMessage), hasMore: page.has_more }));
  }

  /** Asks the server who is in the room: `{ totalClients, clients }` (a Map of device id to identity); also refreshes `members`. */
  queryRoom() {
    return this.#request("room_info", { type: "query_room" }).then((info) => ({ totalClients: info.total_clients, clients: this.members }));
  }

  /** Tells the room this device is typing. */
  typing() {
    if (this.#state === "connected") this.#write({ type: "typing" });
  }

  /** Closes for good. Unacknowledged messages stay in the store, for a client made later with it. */
  async close() {
    this.#stop("closed");
    for (const entry of this.#outbox) entry.settle?.reject(new Error("RoomsClient: closed before the server acknowledged the message"));
    for (const entry of this.#outbox) delete entry.settle;
  }

  // ---- connection ----

  #open() {
    clearTimeout(this.#retryTimer);
    const urls = this.#options.urls;
    const url = urls[this.#urlIndex % urls.length];
    this.#setState(this.#attempt === 0 && this.#state !== "reconnecting" ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = new this.#WebSocket(url);
    } catch (error) {
      this.#emit("error", error);
      this.#retry();
      return;
    }

    this.#socket = socket;
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      let frame;
      try {
        frame = JSON.parse(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data));
      } catch (error) {
        this.#emit("error", new RoomsError(`unreadable frame skipped: ${error.message}`));
        return;
      }

      try {
        this.#onFrame(frame);
      } catch (error) {
        this.#emit("error", error);
      }
    };
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      this.#onClose(event.code, event.reason);
    };
    // Browsers follow an error with a close; Node.js 20's WebSocket does not when the connection is refused, so
    // the error itself ends this socket (a close that follows finds it replaced and is ignored).
    socket.onerror = () => {
      if (socket !== this.#socket) return;
      this.#onClose(1006, "");
      try { socket.close(); } catch { /* never opened */ }
    };
  }

  #onClose(code, reason) {
    this.#socket = null;
    clearTimeout(this.#stableTimer);
    this.#catchingUp = false;
    this.#held = [];
    for (const request of this.#pending.splice(0)) request.reject(new Error(`connection closed (${code})`));
    if (this.#stopped) return;
    // A frame larger than the transport takes (1009): the next catch-up asks for smaller pages.
    if (code === 1009) this.#catchUpPage = Math.max(SMALLEST_CATCH_UP_PAGE, Math.floor(this.#catchUpPage / 2));
    if (code === 4001) {
      this.#fail(new Error("replaced: another connection of this device took over (4001)"), "replaced");
      return;
    }

    if (code === 4003) {
      this.#fail(new Error(`authentication failed (4003${reason ? `: ${reason}` : ""})`), "unauthorized");
      return;
    }

    this.#retry();
  }

  #retry() {
    this.#attempt++;
    this.#urlIndex++;
    this.#setState("reconnecting");
    // Exponential backoff with full jitter: a whole fleet reconnecting after an outage spreads out.
    const cap = Math.min(this.#options.maxDelayMs, this.#options.initialDelayMs * 2 ** Math.min(this.#attempt - 1, 20));
    const delay = Math.floor(this.#options.random() * cap);
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  #fail(error, reason) {
    this.#stop("closed", reason);
    this.#emit("error", error);
    this.#connected?.reject(error);
    this.#connected = null;
    for (const entry of this.#outbox) entry.settle?.reject(error);
    for (const entry of this.#outbox) delete entry.settle;
  }

  #stop(state, reason) {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#stableTimer);
    const socket = this.#socket;
    this.#socket = null;
    try { socket?.close(1000, "done"); } catch { /* already closing */ }
    for (const request of this.#pending.splice(0)) request.reject(new Error("RoomsClient: closed"));
    this.#setState(state, reason);
  }

  // ---- frames ----

  #onFrame(frame) {
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) throw new RoomsError("frame skipped: not a JSON object");
    switch (frame.type) {
      case "connection":
        this.#identify();
        break;
      case "room":
        this.#onRoom(frame);
        break;
      case "message":
        checkMessage(frame);
        if (this.#catchingUp) this.#held.push(frame);
        else this.#deliver(frame, true);
        break;
      case "ack":
        this.#settle(frame.id, (s) => s.resolve({ messageId: frame.message_id, recipients: frame.recipients }), frame);
        break;
      case "error":
        this.#onError(frame);
        break;
      case "history":
        this.#onHistory(frame);
        break;
      case "room_info":
        if (!Array.isArray(frame.clients)) throw new RoomsError("room_info skipped: no clients list");
        this.#members = new Map(frame.clients.map((c) => [String(c.device_id), String(c.identity)]));
        this.#emit("members", this.members);
        this.#answer("room_info", frame);
        break;
      case "presence":
        this.#onPresence(frame);
        break;
      case "typing":
        this.#emit("typing", { deviceId: frame.device_id, identity: frame.identity });
        break;
      default:
        break;
    }
  }

  #identify() {
    const frame = { type: "identify", device_id: this.#options.deviceId, identity: this.#options.identity };
    if (this.#roomId) frame.room_id = this.#roomId;
    if (this.#options.token) frame.token = typeof this.#options.token === "function" ? this.#options.token() : this.#options.token;
    this.#write(frame);
  }

  #onRoom(frame) {
    if (frame.status === "room_not_found") {
      this.#fail(new RoomsError(`room_not_found: no room ${frame.room_id}`), "room_not_found");
      return;
    }

    this.#roomId = frame.room_id;
    this.#save();
    this.#setState("connected");
    this.#stableTimer = setTimeout(() => { this.#attempt = 0; }, this.#options.stableAfterMs);
    this.#connected?.resolve({ roomId: frame.room_id, status: frame.status });
    this.#connected = null;

    // Catch up from the last message delivered (live ones wait), resend what was never acknowledged, learn the room.
    if (this.#lastMessageId > 0n) {
      this.#catchingUp = true;
      this.#askCatchUpPage();
    }

    this.#flushOutbox();
    this.#request("room_info", { type: "query_room" }).catch(() => {});
  }

  #askCatchUpPage() {
    this.#pending.push({ type: "history", catchUp: true, resolve: () => {}, reject: () => {} });
    this.#write({ type: "history", after_message_id: this.#lastMessageId.toString(), limit: this.#catchUpPage });
  }

  /** Asks the next catch-up page after a pause that doubles while pages keep failing (1 s, 2 s, ... 30 s). */
  #askCatchUpPageLater() {
    const socket = this.#socket;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.#stalledPages++, 5));
    setTimeout(() => { if (this.#catchingUp && socket === this.#socket) this.#askCatchUpPage(); }, delay);
  }

  #onHistory(frame) {
    const request = this.#take("history");
    if (!request?.catchUp) {
      request?.resolve(frame);
      return;
    }

    const before = this.#lastMessageId;
    for (const message of Array.isArray(frame.messages) ? frame.messages : []) {
      try {
        checkMessage(message);
        this.#deliver(message);
      } catch (error) {
        this.#emit("error", error);
      }
    }

    if (frame.has_more === true) {
      // A page that moved nothing would be asked again at once, forever: wait, longer each time.
      if (this.#lastMessageId > before) {
        this.#stalledPages = 0;
        this.#askCatchUpPage();
      } else {
        this.#emit("error", new RoomsError(`catch-up page after ${before} brought nothing new; asking again later`));
        this.#askCatchUpPageLater();
      }

      return;
    }

    // Caught up: the live messages that came meanwhile follow (those the pages held are skipped by id).
    this.#catchingUp = false;
    this.#stalledPages = 0;
    this.#catchUpPage = CATCH_UP_PAGE;
    for (const message of this.#held.splice(0)) this.#deliver(message);
  }

  #onError(frame) {
    if (frame.id !== undefined && this.#outbox.some((e) => e.id === frame.id)) {
      this.#settle(frame.id, (s) => s.reject(new RoomsError(frame.message, frame.id)), frame);
      return;
    }

    // An error without a message id answers the oldest request, if any (a refused page: a rate limit).
    const request = this.#pending.shift();
    if (request?.catchUp) {
      // Ask again later rather than deliver out of order.
      this.#askCatchUpPageLater();
    } else if (request) {
      request.reject(new RoomsError(frame.message));
    } else {
      this.#emit("error", new RoomsError(frame.message));
    }
  }

  #onPresence(frame) {
    const joins = frame.event ? (frame.event === "joined" ? { [frame.device_id]: frame.identity } : {}) : frame.joins;
    const leaves = frame.event ? (frame.event === "left" ? { [frame.device_id]: frame.identity } : {}) : frame.leaves;
    if (!isMap(joins) || !isMap(leaves)) throw new RoomsError("presence skipped: joins and leaves must be objects");
    for (const [deviceId, identity] of Object.entries(joins)) if (deviceId !== this.#options.deviceId) this.#members.set(deviceId, identity);
    for (const deviceId of Object.keys(leaves)) this.#members.delete(deviceId);
    this.#emit("presence", {
      joins: Object.entries(joins).filter(([d]) => d !== this.#options.deviceId).map(([deviceId, identity]) => ({ deviceId, identity })),
      leaves: Object.entries(leaves).map(([deviceId, identity]) => ({ deviceId, identity })),
    });
    this.#emit("members", this.members);
  }

  /**
   * Hands a message to the application once: ids at or below the last delivered one were delivered already. A live
   * message below the cursor that is not a repeat of the last one came out of order: it cannot be delivered in order
   * any more, so it is reported rather than dropped silently.
   */
  #deliver(frame, live = false) {
    const id = BigInt(frame.message_id);
    if (id <= this.#lastMessageId) {
      if (live && id < this.#lastMessageId) this.#emit("error", new RoomsError(`message ${id} arrived after ${this.#lastMessageId}: out of order, not delivered`));
      return;
    }

    this.#lastMessageId = id;
    this.#save();
    // Catch-up pages hold this device's own messages too; the application knows those from their acks.
    if (frame.from_device_id === this.#options.deviceId) return;
    this.#emit("message", toMessage(frame));
  }

  #settle(id, action, frame) {
    const index = this.#outbox.findIndex((e) => e.id === id);
    if (index < 0) return;
    const [entry] = this.#outbox.splice(index, 1);
    this.#save();
    if (entry.settle) action(entry.settle);
    else if (frame.type === "ack") this.#emit("ack", { id, messageId: frame.message_id, recipients: frame.recipients });
    else this.#emit("error", new RoomsError(frame.message, id));
  }

  /**
   * Writes, in outbox order, every message not yet written on this socket: a send made from a listener of the
   * "connected" state must not overtake the older messages the reconnect resends (the server numbers messages in the
   * order it receives them).
   */
  #flushOutbox() {
    const socket = this.#socket;
    for (const entry of this.#outbox) {
      if (entry.sentOn === socket) continue;
      entry.sentOn = socket;
      this.#sendMessage(entry);
    }
  }

  #sendMessage(entry) {
    const frame = { type: "message", content: entry.content, id: entry.id };
    if (entry.to) frame.target_device_id = entry.to;
    this.#write(frame);
  }

  #request(type, frame) {
    if (this.#state !== "connected") return Promise.reject(new Error(`RoomsClient: not connected (${this.#state})`));
    return new Promise((resolve, reject) => {
      this.#pending.push({ type, resolve, reject });
      this.#write(frame);
    });
  }

  #answer(type, frame) {
    this.#take(type)?.resolve(frame);
  }

  /** The oldest request waiting for a reply of this type, taken off the list: replies come in order. */
  #take(type) {
    const index = this.#pending.findIndex((r) => r.type === type);
    return index >= 0 ? this.#pending.splice(index, 1)[0] : null;
  }

  #write(frame) {
    try {
      this.#socket?.send(JSON.stringify(frame));
    } catch {
      // Closing: the outbox resends after the reconnect.
    }
  }

  #save() {
    try {
      this.#store.save({
        roomId: this.#roomId,
        lastMessageId: this.#lastMessageId.toString(),
        outbox: this.#outbox.map(({ id, content, to }) => ({ id, content, to })),
      });
    } catch (error) {
      this.#emit("error", error);
    }
  }

  #setState(state, reason) {
    if (!STATES.includes(state) || (this.#state === state && !reason)) return;
    this.#state = state;
    this.#emit("state", { state, reason, attempt: this.#attempt });
  }

  #emit(event, value) {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener(value);
      } catch {
        // The application's listener failing must not stop the client.
      }
    }
  }
}

/** Throws (the frame is skipped and reported) unless the message has a valid id and its fields. */
function checkMessage(frame) {
  const id = frame?.message_id;
  if (typeof id !== "string" || !MESSAGE_ID.test(id) || BigInt(id) > MAX_MESSAGE_ID) {
    throw new RoomsError(`message skipped: message_id ${JSON.stringify(id)} is not a positive 64-bit integer`);
  }

  for (const field of ["content", "from_device_id"]) {
    if (typeof frame[field] !== "string") throw new RoomsError(`message ${id} skipped: no ${field}`);
  }
}

function isMap(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function toMessage(frame) {
  return {
    messageId: frame.message_id,
    content: frame.content,
    from: frame.from_device_id,
    type: frame.message_type,
    timestamp: frame.timestamp,
  };
}
