// Polls the JSON API every 2 s and renders it; actions POST and refresh at once.
const POLL_MS = 2000;
let readOnly = true;

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function row(values) {
  const tr = document.createElement("tr");
  values.forEach((v) => tr.appendChild(cell(v)));
  return tr;
}

async function act(id, action) {
  const res = await fetch(`/api/dead/${encodeURIComponent(id)}/${action}`, { method: "POST" });
  if (!res.ok) alert((await res.json()).error);
  refresh();
}

function renderDead(letters) {
  const body = document.querySelector("#dead tbody");
  body.replaceChildren();
  for (const l of letters) {
    const args = l.message
      ? JSON.stringify({ args: l.message.args, kwargs: l.message.kwargs })
      : "(undecodable)";
    const tr = row([l.id, l.queue, l.actor || "-", l.attempts, l.reason, l.error || "", args]);
    tr.dataset.id = l.id;
    const actions = document.createElement("td");
    if (!readOnly) {
      for (const action of ["replay", "purge"]) {
        if (action === "replay" && !l.message) continue;
        const b = document.createElement("button");
        b.textContent = action;
        b.className = action;
        b.onclick = () => act(l.id, action);
        actions.appendChild(b);
      }
    }
    tr.appendChild(actions);
    body.appendChild(tr);
  }
}

async function refresh() {
  const [overview, dead] = await Promise.all([
    fetch("/api/overview").then((r) => r.json()),
    fetch("/api/dead").then((r) => r.json()),
  ]);
  readOnly = overview.read_only;
  document.getElementById("mode").textContent = readOnly ? "read-only" : "read-write";
  document.getElementById("redis").textContent = overview.redis.url;
  const qbody = document.querySelector("#queues tbody");
  qbody.replaceChildren(...overview.queues.map((q) =>
    row([q.name, q.waiting, q.delayed, q.in_flight, q.dead])));
  const alive = overview.workers.filter((w) => w.alive);
  document.getElementById("no-workers").hidden = alive.length > 0;
  document.getElementById("workers").replaceChildren(...alive.map((w) => {
    const li = document.createElement("li");
    li.textContent = `${w.id} (last heartbeat ${new Date(w.last_seen_ms).toLocaleTimeString()})`;
    return li;
  }));
  const dl = document.getElementById("redis-info");
  dl.replaceChildren();
  for (const [k, v] of Object.entries(overview.redis)) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  renderDead(dead);
  document.body.dataset.loaded = "true";
}

refresh();
setInterval(refresh, POLL_MS);
