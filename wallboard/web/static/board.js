"use strict";
(function () {
  const board = document.body.dataset.board;
  let latest = null;
  let receivedAt = 0;
  const el = (id) => document.getElementById(id);
  const pct = (r) => (r * 100).toFixed(2) + "%";
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));

  function severity(c, alerts) {
    const mine = alerts.filter((a) => a.campaign === c.id && a.window === "today");
    if (mine.some((a) => a.severity === "critical")) return "critical";
    if (mine.some((a) => a.severity === "warning")) return "warning";
    return "";
  }

  function ageNow() {
    if (!latest || latest.age_seconds === null) return null;
    return latest.age_seconds + (Date.now() - receivedAt) / 1000;
  }

  function renderFreshness() {
    const age = ageNow();
    const f = el("freshness");
    const banner = el("stale-banner");
    const stale = !latest || latest.stale || age === null || age > 180;
    f.className = stale ? "stale" : "fresh";
    f.textContent = age === null ? "no data" : "updated " + Math.round(age) + " s ago";
    banner.hidden = !stale;
    if (stale) banner.textContent = "DATA IS STALE — last update " + (age === null ? "never" : Math.round(age) + " s ago") + ". Figures below may be out of date.";
    el("clock").textContent = new Date().toLocaleTimeString();
  }

  function render() {
    if (!latest) return;
    el("campaigns").innerHTML = latest.campaigns.map((c) => {
      const sev = severity(c, latest.alerts || []);
      const a = c.agents;
      return `<article class="card ${sev} ${c.active === false ? "inactive" : ""}" data-campaign="${esc(c.id)}">
        <h2>${esc(c.name || c.id)} <small>${esc(c.id)} · ${c.active === false ? "INACTIVE" : esc(c.dial_method || "")}</small></h2>
        <div class="big"><div><div class="label">Drop rate today</div><div class="drop ${sev}">${pct(c.drop_ratio)}</div></div>
        <div><div class="label">Drops left today</div><div class="drop">${c.drops_remaining}</div></div></div>
        <div class="stats">
          <div class="stat"><span class="label">Calls</span><b>${c.calls_today}</b></div>
          <div class="stat"><span class="label">Answered</span><b>${c.answered_today}</b></div>
          <div class="stat"><span class="label">Dropped</span><b>${c.dropped_today}</b></div>
          <div class="stat"><span class="label">30-day</span><b>${pct(c.drop_ratio_30d)}</b></div>
          <div class="stat"><span class="label">Dial level</span><b>${c.dial_level === null ? "–" : c.dial_level.toFixed(2)}</b></div>
          <div class="stat"><span class="label">Hopper</span><b>${c.hopper_leads === null ? "–" : c.hopper_leads}</b></div>
          <div class="stat"><span class="label">Waiting calls</span><b>${c.calls_waiting}</b></div>
        </div>
        <div class="agents-row">${["waiting", "incall", "paused", "dispo", "dead"].map((s) => `<span class="pill ${s}">${s} ${a[s]}</span>`).join("")}</div>
      </article>`;
    }).join("");
    el("agents").innerHTML = latest.agents.map((g) =>
      `<div class="agent"><span>${esc(g.name)}</span><span class="pill ${esc(g.state)}">${esc(g.state)}${g.pause_code && g.state === "paused" ? " " + esc(g.pause_code) : ""}</span></div>`).join("");
    renderFreshness();
  }

  function connect() {
    const source = new EventSource("/api/events?board=" + encodeURIComponent(board));
    source.addEventListener("snapshot", (e) => {
      latest = JSON.parse(e.data);
      receivedAt = Date.now();
      render();
    });
  }
  setInterval(renderFreshness, 1000);
  connect();
})();
