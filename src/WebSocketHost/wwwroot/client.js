// The quickest way to try Rooms: a plain WebSocket client (docs/protocol.md), no libraries.
"use strict";
const $ = (id) => document.getElementById(id);
let socket = null;
let lastMessageId = null;

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

function show(text) {
  const item = document.createElement("li");
  item.textContent = text;
  $("messages").append(item);
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
        $("status").textContent = frame.status;
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
        show(`${frame.identity} (${frame.device_id}) ${frame.event}`);
        send({ type: "query_room" });
        break;
      case "message":
        lastMessageId = frame.message_id;
        show(`${frame.from_device_id}${frame.message_type === "direct" ? " (direct)" : ""}: ${frame.content}`);
        break;
      case "history":
        frame.messages.forEach((m) => show(`[history] ${m.from_device_id}: ${m.content}`));
        break;
      case "error":
        show(`error: ${frame.message}`);
        break;
    }
  };
});

$("broadcast").addEventListener("submit", (event) => {
  event.preventDefault();
  send({ type: "message", content: $("broadcastText").value, id: crypto.randomUUID() });
  show(`me: ${$("broadcastText").value}`);
  $("broadcastText").value = "";
});

$("direct").addEventListener("submit", (event) => {
  event.preventDefault();
  send({ type: "message", content: $("directText").value, target_device_id: $("target").value, id: crypto.randomUUID() });
  show(`me → ${$("target").value}: ${$("directText").value}`);
  $("directText").value = "";
});

$("query").addEventListener("click", () => send({ type: "query_room" }));
$("history").addEventListener("click", () => send({ type: "history", limit: 50 }));
