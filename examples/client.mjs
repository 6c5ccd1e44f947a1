// JavaScript client: runs as is in a browser, in Node.js 22+, or in Node.js 20 with --experimental-websocket.
// Usage: [ROOMS_URL=ws://host:8765/] node client.mjs <device_id> [room_id] [last_message_id]
// With last_message_id (the last one this device saw), it first catches up on what it missed.
// The server is ROOMS_URL (behind the nginx of deploy/: wss://your.host/ws), ws://localhost:8765/ by default.
const inNode = typeof process !== "undefined";
const [deviceId = "device_123", roomId, lastMessageId] = inNode ? process.argv.slice(2) : [];
const ws = new WebSocket((inNode && process.env.ROOMS_URL) || "ws://localhost:8765/");
let after = lastMessageId;

ws.onopen = () => {
  // Identify first; leave room_id out to get a new room (or your last one back).
  const identify = { device_id: deviceId, identity: "mobile_user" };
  if (roomId) identify.room_id = roomId;
  ws.send(JSON.stringify(identify));
};

ws.onmessage = (event) => {
  const data = JSON.parse(event.data);
  console.log("received:", data);
  if (data.type === "room" && data.status !== "room_not_found") {
    if (after) ws.send(JSON.stringify({ type: "history", after_message_id: after, limit: 100 }));
    ws.send(JSON.stringify({ type: "query_room" }));
    // With an id the server acks once the message is stored; resending the same id never stores it twice.
    ws.send(JSON.stringify({
      type: "message",
      id: `${deviceId}-${Date.now()}`,
      content: "Hello everyone in the room!",
      timestamp: new Date().toISOString(),
    }));
    setTimeout(() => ws.close(), 5000);
  }
  if (data.type === "history") {
    data.messages.forEach((m) => console.log("missed:", m.from_device_id, m.content, m.message_id));
    const last = data.messages.at(-1);
    if (data.has_more && last) ws.send(JSON.stringify({ type: "history", after_message_id: last.message_id, limit: 100 }));
  }
  if (data.type === "room_info" && data.clients.length > 0) {
    // A direct message goes to one device of the room: here, the first other member.
    const target = data.clients[0].device_id;
    ws.send(JSON.stringify({ type: "message", content: `Just for you, ${target}`, target_device_id: target, id: `${deviceId}-direct-${Date.now()}` }));
  }
  if (data.type === "ack") console.log(`stored as message ${data.message_id}, sent to ${data.recipients} devices`);
};

ws.onclose = (event) => console.log("closed:", event.code, event.reason);
