// The quickest way to try Rooms: a plain WebSocket client (docs/protocol.md), no libraries.
"use strict";
const $ = (id) => document.getElementById(id);
let socket = null;
let lastMessageId = null;
const pending = new Map(); // client id -> the list item of a message not yet acked
const shown = new Set(); // message ids on screen, so history does not repeat them

$("deviceId").value = "browser-" + Math.random().toString(36).slice(2, 8);
const params = new URLSearchParams(location.search);
if (params.get("room")) $("roomId").value = params.get("room");

function log(direction, text) {
  const item = document.createElement("li");
  item.className = direction;
  item.textContent = (direction === "in" ? "← " : "→ ") + text;
  $("log").prepend(item);
}

function send(frame) {
  const text = JSON.stringify(frame);
  socket.send(text);
  log("out", text);
}

function show(text, className) {
  const item = document.createElement("li");
  item.textContent = text;
  if (className) item.className = className;
  $("messages").append(item);
  return item;
}

// A message of ours stays marked as sending until its ack (stored) or an error carrying its id (not sent).
function sendMessage(frame, text) {
  frame.id = crypto.randomUUID();
  send(frame);
  pending.set(frame.id, show(`${text} (sending…)`, "pending"));
}

function settle(id, outcome, className) {
  const item = pending.get(id);
  if (!item) return;
  pending.delete(id);
  item.textContent = item.textContent.replace(" (sending…)", ` ${outcome}`);
  item.className = className;
}

function setMembers(clients) {
  $("members").textContent = clients.map((c) => `${c.device_id} (${c.identity})`).join(", ") || "only you";
  const target = $("target");
  target.replaceChildren(...clients.map((c) => new Option(`${c.identity} (${c.device_id})`, c.device_id)));
}

$("identify").addEventListener("submit", (event) => {
  event.preventDefault();
  if (socket) socket.close();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  $("status").textContent = "connecting";
  socket.onopen = () => {
    const identify = { device_id: $("deviceId").value, identity: $("identity").value };
    if ($("roomId").value) identify.room_id = $("roomId").value;
    send(identify);
  };
  socket.onclose = (event) => { $("status").textContent = `closed (${event.code}${event.reason ? " " + event.reason : ""})`; };
  socket.onmessage = (event) => {
    log("in", event.data);
    const frame = JSON.parse(event.data);
    switch (frame.type) {
      case "room":
        $("status").textContent = frame.status === "room_not_found"
          ? "room_not_found: no room has that id (ids are case-sensitive); leave room id empty to create a new room"
          : frame.status;
        if (frame.status !== "room_not_found") {
          $("roomName").textContent = frame.room_id;
          $("roomId").value = frame.room_id;
          $("room").hidden = false;
          send({ type: "query_room" });
        }
        break;
      case "room_info":
        setMembers(frame.clients);
        break;
      case "presence":
        // One change ("event"), or a window's changes coalesced ("joins"/"leaves"): docs/protocol.md §5.
        if (frame.event) show(`${frame.identity} (${frame.device_id}) ${frame.event}`);
        else {
          Object.entries(frame.joins).forEach(([deviceId, identity]) => show(`${identity} (${deviceId}) joined`));
          Object.entries(frame.leaves).forEach(([deviceId, identity]) => show(`${identity} (${deviceId}) left`));
        }
        send({ type: "query_room" });
        break;
      case "message":
        lastMessageId = frame.message_id;
        shown.add(frame.message_id);
        show(`${frame.from_device_id}${frame.message_type === "direct" ? " (direct)" : ""}: ${frame.content}`);
        break;
      case "ack":
        shown.add(frame.message_id);
        settle(frame.id, `(stored as #${frame.message_id}, ${frame.recipients} recipients)`, "sent");
        break;
      case "history": {
        // The newest messages (latest: true), oldest first; those already on screen are not repeated.
        const missed = frame.messages.filter((m) => !shown.has(m.message_id));
        missed.forEach((m) => { shown.add(m.message_id); show(`[history #${m.message_id}] ${m.from_device_id}: ${m.content}`, "history"); });
        if (missed.length === 0) show("[history] nothing you have not seen", "history");
        break;
      }
      case "error":
        if (frame.id && pending.has(frame.id)) settle(frame.id, `— not sent: ${frame.message}`, "failed");
        else show(`error: ${frame.message}`, "failed");
        break;
    }
  };
});

$("broadcast").addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage({ type: "message", content: $("broadcastText").value }, `me: ${$("broadcastText").value}`);
  $("broadcastText").value = "";
});

$("direct").addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage({ type: "message", content: $("directText").value, target_device_id: $("target").value }, `me → ${$("target").value}: ${$("directText").value}`);
  $("directText").value = "";
});

$("query").addEventListener("click", () => send({ type: "query_room" }));
$("history").addEventListener("click", () => send({ type: "history", latest: true, limit: 50 }));
