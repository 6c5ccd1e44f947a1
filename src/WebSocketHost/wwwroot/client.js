// The quickest way to try Rooms: this page uses the JavaScript client library (clients/js, served here as
// /rooms-client.js), which reconnects, catches up and resends for it; every frame in and out is logged below.
import { RoomsClient, LocalStorageStore } from "/rooms-client.js";

const $ = (id) => document.getElementById(id);
let client = null;
const shown = new Set(); // message ids on screen, so history does not repeat them

$("deviceId").value = "browser-" + Math.random().toString(36).slice(2, 8);
const params = new URLSearchParams(location.search);
if (params.get("room")) $("roomId").value = params.get("room");

function log(direction, text) {
  const item = document.createElement("li");
  item.className = direction;
  item.textContent = (direction === "in" ? "← " : "→ ") + (text.length <= 2000 ? text : `${text.slice(0, 2000)}… (${text.length} characters)`);
  $("log").prepend(item);
}

/** The browser's WebSocket, with every frame logged on the page. */
class LoggedWebSocket extends WebSocket {
  constructor(url) {
    super(url);
    this.addEventListener("message", (event) => log("in", event.data));
  }
  send(text) {
    log("out", text);
    super.send(text);
  }
}

function show(text, className) {
  const item = document.createElement("li");
  item.textContent = text;
  if (className) item.className = className;
  $("messages").append(item);
  return item;
}

function setMembers(members) {
  $("members").textContent = [...members].map(([id, identity]) => `${id} (${identity})`).join(", ") || "only you";
  $("target").replaceChildren(...[...members].map(([id, identity]) => new Option(`${identity} (${id})`, id)));
}

// Long text is cut on the page (a rejected 20 000-character message once filled the screen); the frame log has it all.
const SHOWN_CHARACTERS = 200;
function shorten(text) {
  return text.length <= SHOWN_CHARACTERS ? text : `${text.slice(0, SHOWN_CHARACTERS)}… (${text.length} characters)`;
}

// A message of ours stays marked as sending until its ack (stored) or the server's error for it (not sent).
async function sendMessage(content, to, label) {
  const text = `${label}: ${shorten(content)}`;
  const item = show(`${text} (sending…)`, "pending");
  try {
    const { messageId, recipients } = await client.send(content, { to });
    shown.add(messageId);
    item.textContent = `${text} (stored as #${messageId}, ${recipients} recipients)`;
    item.className = "sent";
  } catch (error) {
    item.textContent = `${text} — not sent: ${error.message}`;
    item.className = "failed";
  }
}

$("identify").addEventListener("submit", async (event) => {
  event.preventDefault();
  await client?.close();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const deviceId = $("deviceId").value;
  client = new RoomsClient({
    urls: [`${scheme}://${location.host}/ws`],
    deviceId,
    identity: $("identity").value,
    roomId: $("roomId").value || undefined,
    store: new LocalStorageStore(`rooms-client-${deviceId}`),
    WebSocket: LoggedWebSocket,
  });
  client.on("state", ({ state, reason }) => { if (state !== "connected") $("status").textContent = reason ? `${state} (${reason})` : state; });
  client.on("message", (m) => {
    shown.add(m.messageId);
    show(`${m.from}${m.type === "direct" ? " (direct)" : ""}: ${m.content}`);
  });
  client.on("presence", ({ joins, leaves }) => {
    joins.forEach((m) => show(`${m.identity} (${m.deviceId}) joined`));
    leaves.forEach((m) => show(`${m.identity} (${m.deviceId}) left`));
  });
  client.on("members", setMembers);
  client.on("error", (error) => show(`error: ${error.message}`, "failed"));
  try {
    const { roomId, status } = await client.connect();
    $("status").textContent = status;
    $("roomName").textContent = roomId;
    $("roomId").value = roomId;
    $("room").hidden = false;
  } catch (error) {
    $("status").textContent = error.message.startsWith("room_not_found")
      ? "room_not_found: no room has that id (ids are case-sensitive); leave room id empty to create a new room"
      : error.message;
  }
});

$("broadcast").addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage($("broadcastText").value, undefined, "me");
  $("broadcastText").value = "";
});

$("direct").addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage($("directText").value, $("target").value, `me → ${$("target").value}`);
  $("directText").value = "";
});

$("query").addEventListener("click", () => client.queryRoom().catch((error) => show(`error: ${error.message}`, "failed")));
$("history").addEventListener("click", async () => {
  // The newest messages, oldest first; those already on screen are not repeated.
  const { messages } = await client.history({ latest: true, limit: 50 });
  const missed = messages.filter((m) => !shown.has(m.messageId));
  missed.forEach((m) => { shown.add(m.messageId); show(`[history #${m.messageId}] ${m.from}: ${m.content}`, "history"); });
  if (missed.length === 0) show("[history] nothing you have not seen", "history");
});
