"use strict";
// The TV page: one EventSource, render on every "snapshot" event, tick ages every second.
// Ages are computed from the server's own clock (taken_at + age_seconds at receipt), so a TV
// whose clock is wrong still shows the right "updated N s ago" and time-in-state.
(function () {
  const board = document.body.dataset.board;
  const STATES = ["waiting", "incall", "paused", "dispo", "dead", "dial"];
  let latest = null;
  let receivedAt = 0;
  const el = (id) => document.getElementById(id);
  const pct = (r) => (r * 100).toFixed(2) + "%";
  const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString());
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

  function sinceReceipt() { return (Date.now() - receivedAt) / 1000; }

  // Colour follows the alert engine when it has an opinion, else the configured thresholds,
  // so a campaign over the limit is never shown green.
  function severity(c) {
    const mine = (latest.alerts || []).filter((a) => a.campaign === c.id);
    if (mine.some((a) => a.severity === "critical")) return "critical";
    if (mine.some((a) => a.severity === "warning")) return "warning";
    const t = latest.thresholds || {};
    if (t.critical_at !== null && t.critical_at !== undefined && c.drop_ratio >= t.critical_at) return "critical";
    if (t.warn_at !== null && t.warn_at !== undefined && c.drop_ratio >= t.warn_at) return "warning";
    return "";
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(s).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  // "updated N ago" is the newest poll; a source that stopped updating raises the banner
  // (latest.stale), so a stuck source can never hide behind a fresh one.
  function ageNow() {
    if (!latest) return null;
    const ages = Object.values(latest.sources || {}).map((s) => s.age_seconds).filter((a) => a !== null);
    if (!ages.length) return null;
    return Math.min(...ages) + sinceReceipt();
  }

  function renderFreshness() {
    const age = ageNow();
    const fresh = el("freshness");
    const banner = el("stale-banner");
    const stale = !latest || latest.stale || age === null;
    fresh.className = stale ? "stale" : "fresh";
    const ago = age === null ? "" : age < 60 ? Math.floor(age) + " s" : duration(age);
    fresh.textContent = age === null ? "NO DATA" : (stale ? "STALE, updated " : "updated ") + ago + " ago";
    banner.hidden = !stale;
    document.body.classList.toggle("stale-data", stale);
    if (stale) {
      const which = latest && latest.stale_sources && latest.stale_sources.length ? " (" + latest.stale_sources.join(", ") + ")" : "";
      const oldest = latest && latest.age_seconds !== null ? latest.age_seconds + sinceReceipt() : null;
      banner.textContent = latest ? "DATA NOT UPDATING" + which + " — oldest figures are " + (oldest === null ? "missing" : duration(oldest) + " old") : "Waiting for the wallboard server…";
    }
    el("clock").textContent = new Date().toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    document.querySelectorAll(".agent .since").forEach((node) => {
      node.textContent = duration(Number(node.dataset.base) + sinceReceipt());
    });
  }

  function everFetched(source) {
    const s = (latest.sources || {})[source];
    return Boolean(s && s.last_success);
  }

  function card(c) {
    // Figures from a source that never answered are unknown ("–"), never a reassuring 0.
    const stats = everFetched("call_status_stats");
    const sev = stats ? severity(c) : "";
    const figure = (value, format) => (stats ? format(value) : "–");
    const total = STATES.reduce((n, s) => n + c.agents[s], 0) || 1;
    const bar = STATES.filter((s) => c.agents[s] > 0).map((s) =>
      `<span class="s-${s}" style="flex:${c.agents[s]}">${c.agents[s]}</span>`).join("");
    const legend = STATES.filter((s) => c.agents[s] > 0).map((s) => `<span>${s} ${c.agents[s]}</span>`).join("");
    return `<article class="card ${sev} ${c.active === false ? "inactive" : ""}" data-campaign="${esc(c.id)}">
      <h2>${esc(c.name || c.id)}</h2>
      <div class="sub">${esc(c.id)}${c.dial_method ? " · " + esc(c.dial_method) : ""} ${c.active === false ? '<span class="inactive-tag">INACTIVE</span>' : ""}</div>
      <div class="big">
        <div><div class="label">Drop rate today</div><div class="drop ${sev}">${figure(c.drop_ratio, pct)}</div></div>
        <div><div class="label">Drops left</div><div class="left">${figure(c.drops_remaining, num)}</div></div>
      </div>
      <div class="stats">
        <div class="stat"><span class="label">Calls</span><b>${figure(c.calls_today, num)}</b></div>
        <div class="stat"><span class="label">Answered</span><b>${figure(c.answered_today, num)}</b></div>
        <div class="stat"><span class="label">Dropped</span><b>${figure(c.dropped_today, num)}</b></div>
        <div class="stat"><span class="label">30-day</span><b>${figure(c.drop_ratio_30d, pct)}</b></div>
        <div class="stat"><span class="label">Dial level</span><b>${c.dial_level === null ? "–" : c.dial_level.toFixed(2)}</b></div>
        <div class="stat"><span class="label">Hopper</span><b>${num(c.hopper_leads)}</b></div>
      </div>
      <div class="bar" title="agents">${total && bar ? bar : ""}</div>
      <div class="legend">${legend || (everFetched("logged_in_agents") ? "no agents logged in" : "agents unknown")}</div>
    </article>`;
  }

  function agentTile(a) {
    const base = (Date.parse(latest.generated_at) - Date.parse(a.state_since)) / 1000;
    const code = a.state === "paused" && a.pause_code ? `<span class="code">${esc(a.pause_code)}</span>` : "";
    return `<div class="agent ${esc(a.state)}" title="${esc(a.state)}"><span class="name">${esc(a.name || a.user)}</span>${code}<span class="since" data-base="${base - sinceReceipt()}">${duration(base)}</span></div>`;
  }

  // Fit every agent on the screen: shrink the tiles when needed, and if even small tiles
  // overflow, end with an honest "+N more" tile instead of silently cutting people off.
  function renderAgents() {
    const box = el("agents");
    box.classList.remove("dense");
    box.innerHTML = latest.agents.map(agentTile).join("");
    if (box.scrollHeight <= box.clientHeight) return;
    box.classList.add("dense");
    if (box.scrollHeight <= box.clientHeight) return;
    const tiles = Array.from(box.children);
    let shown = tiles.length;
    while (shown > 0 && box.scrollHeight > box.clientHeight) {
      shown -= 1;
      box.removeChild(tiles[shown]);
      box.querySelector(".more")?.remove();
      const more = document.createElement("div");
      more.className = "agent more";
      more.textContent = "+" + (latest.agents.length - shown) + " more agents";
      box.appendChild(more);
    }
  }

  function render() {
    if (!latest) return;
    el("campaigns").innerHTML = latest.campaigns.length ? latest.campaigns.map(card).join("") : '<div class="empty">No campaigns on this board yet.</div>';
    el("inbound").textContent = everFetched("in_group_status") ? num(latest.inbound_calls_waiting) : "–";
    renderFreshness();  // first: the stale banner changes the room left for agent tiles
    renderAgents();
  }

  function connect() {
    const source = new EventSource("/api/events?board=" + encodeURIComponent(board));
    source.addEventListener("snapshot", (event) => {
      latest = JSON.parse(event.data);
      receivedAt = Date.now();
      render();
    });
    // EventSource reconnects by itself; meanwhile the age keeps counting up on screen.
  }
  let bannerWasHidden = true;
  setInterval(() => {
    renderFreshness();
    const hidden = el("stale-banner").hidden;
    if (latest && hidden !== bannerWasHidden) renderAgents();  // the banner came or went
    bannerWasHidden = hidden;
  }, 1000);
  window.addEventListener("resize", () => { if (latest) renderAgents(); });
  renderFreshness();
  connect();
})();
