// JavaScript client: runs as is in a browser, in Node.js 22+, or in Node.js 20 with --experimental-websocket.
// Usage: node client.mjs <device_id> [room_id]
const [deviceId = "device_123", roomId] = typeof process !== "undefined" ? process.argv.slice(2) : [];
const ws = new WebSocket("ws://localhost:8765");

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
    ws.send(JSON.stringify({ type: "query_room" }));
    ws.send(JSON.stringify({
      type: "message",
      content: "Hello everyone in the room!",
      timestamp: new Date().toISOString(),
    }));
  }
};

ws.onclose = (event) => console.log("closed:", event.code, event.reason);
