// The live dashboard: polls the admin API every 2 s; the rate chart is the server's last two minutes of samples.
"use strict";
const $ = (id) => document.getElementById(id);
const key = new URLSearchParams(location.search).get("key");
const headers = key ? { "X-Admin-Key": key } : {};

async function get(path) {
  const response = await fetch(path, { headers });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function draw(history) {
  const points = history.slice(-60).map((s) => s.per_second);
  const peak = Math.max(1, ...points);
  $("line").setAttribute("points", points.map((v, i) => `${(i * 600) / 59},${115 - (v / peak) * 100}`).join(" "));
  $("peak").textContent = `peak ${peak.toFixed(1)}/s`;
  $("rate").textContent = points.length ? points[points.length - 1].toFixed(1) : "0.0";
}

async function refresh() {
  try {
    const [stats, rooms] = await Promise.all([get("/api/stats"), get("/api/rooms")]);
    $("node").textContent = `node ${stats.node_id}`;
    $("connections").textContent = stats.connections;
    $("stored").textContent = stats.messages_stored;
    $("commit").textContent = stats.commit_ms;
    $("drops").textContent = stats.slow_consumer_drops;
    draw(stats.rate_history);
    $("nodes").replaceChildren(...stats.nodes.map((n) => {
      const row = document.createElement("tr");
      row.append(cell(n.node_id), cell(n.connections), cell(n.rooms_on_node), cell(n.messages_stored), cell(n.commit_ms), cell(n.slow_consumer_drops));
      return row;
    }));
    $("roomCount").textContent = rooms.rooms.length;
    $("rooms").replaceChildren(...rooms.rooms.flatMap((room) => room.members.map((m) => {
      const row = document.createElement("tr");
      row.append(cell(room.room_id), cell(m.device_id), cell(m.identity), cell(m.node_id), cell(new Date(m.connected_since).toLocaleString()));
      return row;
    })));
    $("errors").replaceChildren(...stats.recent_errors.map((e) => {
      const item = document.createElement("li");
      item.textContent = `${new Date(e.at).toLocaleTimeString()} ${e.node_id} ${e.source || "(server)"} ${e.kind}: ${e.message}`;
      return item;
    }));
  } catch (error) {
    $("node").textContent = `(${error.message})`;
  }
}

refresh();
setInterval(refresh, 2000);
