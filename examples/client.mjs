// JavaScript client on the library (clients/js): runs in Node.js 22+, or Node.js 20 with --experimental-websocket.
// Usage: [ROOMS_URL=ws://host:8765/] node client.mjs <device_id> [room_id] [last_message_id]
// With last_message_id (the last one this device saw), it first pages through what it missed.
// The server is ROOMS_URL (behind the nginx of deploy/: wss://your.host/ws), ws://localhost:8765/ by default.
import { RoomsClient } from "../clients/js/src/index.js"; // an application: import { RoomsClient } from "rooms-client"

const [deviceId = "device_123", roomId, lastMessageId] = process.argv.slice(2);
const client = new RoomsClient({ urls: [process.env.ROOMS_URL || "ws://localhost:8765/"], deviceId, identity: "mobile_user", roomId });
client.on("message", (m) => console.log("received:", m));
client.on("presence", (p) => console.log("presence:", p));

// Identify; without room_id a new room (or your last one back).
const room = await client.connect();
console.log("room:", { room_id: room.roomId, status: room.status });

for (let after = lastMessageId, more = Boolean(after); more;) {
  const page = await client.history({ after, limit: 100 });
  page.messages.forEach((m) => console.log("missed:", m.from, m.content, m.messageId));
  more = page.hasMore && page.messages.length > 0;
  after = page.messages.at(-1)?.messageId;
}

// The library gives every message an id, resends it after a reconnect, and resolves once it is stored.
const ack = await client.send("Hello everyone in the room!");
console.log(`stored as message ${ack.messageId}, sent to ${ack.recipients} devices`);

// A direct message goes to one device of the room: here, the first other member.
await client.queryRoom();
const [target] = client.members.keys();
if (target) console.log("direct:", await client.send(`Just for you, ${target}`, { to: target }));

setTimeout(() => client.close(), 5000);
