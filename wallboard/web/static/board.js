"use strict";
// The TV page: one EventSource; "snapshot" events carry the figures, "heartbeat" events the
// server's clock and freshness. Every age on screen is computed from the last heartbeat's
// `now` (plus the time since it arrived) and each source's `last_success`, never from an age
// cached in a snapshot, and never from the TV's own clock, which may be wrong.
// Colours come from the server's verdict (`windows.today.severity`); this page never grades a
// drop rate itself, and never says anything with colour alone.
(function () {
  const body = document.body;
  const board = body.dataset.board;
  const PERIOD = (Number(body.dataset.heartbeat) || 10) * 1000;  // heartbeat period, ms
  const LOST_AFTER = 2 * PERIOD;      // no event for this long: the connection is lost
  const RECONNECT_AFTER = 3 * PERIOD; // ...and for this long: start a new EventSource
  const STATES = ["waiting", "incall", "paused", "dispo", "dead", "dial"];
  // What a supervisor calls each VICIdial source (the banner never shows API names).
  const SOURCE_WORDS = {
    logged_in_agents: "agents", call_status_stats: "call counts", campaigns_list: "campaigns",
    hopper_list: "hopper", in_group_status: "inbound queues", version: "dialer clock",
  };
  const LOGIN_WORDS = {
    bad_credentials: "VICIdial rejects the wallboard's login", locked: "VICIdial locked the wallboard's API user",
    ip_blocked: "VICIdial does not accept this wallboard server's address",
    two_factor: "VICIdial asks the wallboard for a two-factor login",
  };
  const SEVERITY = {  // icon + word: the meaning survives without colour
    ok: "✓ OK", warning: "⚠ WARNING", critical: "✖ CRITICAL", insufficient: "· TOO FEW CALLS",
  };

  let latest = null;     // the last snapshot document
  let fresh = null;      // the last freshness: a heartbeat (or, before one, the snapshot's)
  let freshAt = 0;       // Date.now() when `fresh` arrived
  let lastEventAt = 0;   // Date.now() of the last event of any kind (0: none yet)
  const pageStart = Date.now();
  let connectedAt = pageStart;
  let source = null;
  let backoff = 1000;
  let reconnectTimer = null;

  const el = (id) => document.getElementById(id);
  const pct = (r) => (r * 100).toFixed(2) + "%";
  const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString());
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const words = (names) => names.map((n) => SOURCE_WORDS[n] || "other figures").join(", ");

  // The server's clock now: the last heartbeat's `now` plus the time since it arrived.
  function serverNow() {
    return fresh ? Date.parse(fresh.now) + (Date.now() - freshAt) : null;
  }

  // When the live figures (agents and call counts) were last good, as a server instant.
  function figuresAt() {
    if (!fresh || fresh.age_seconds === null || fresh.age_seconds === undefined) return null;
    return Date.parse(fresh.now) - fresh.age_seconds * 1000;
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(s).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  const clockTime = (ms, seconds) => new Date(ms).toLocaleTimeString([], seconds ?
    {hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"} :
    {hour: "2-digit", minute: "2-digit", hourCycle: "h23"});

  function connectionLost() {
    return Date.now() - (lastEventAt || pageStart) > LOST_AFTER;
  }

  function renderConnection(lost) {
    const banner = el("conn-banner");
    banner.hidden = !lost;
    body.classList.toggle("lost", lost);
    if (!lost) return;
    const at = figuresAt();
    banner.textContent = !lastEventAt && !latest ? "⚠ CONNECTION LOST — cannot reach the wallboard server" :
      "⚠ CONNECTION LOST — figures from " + (at === null ? "(none received)" : clockTime(at, true));
  }

  function renderFreshness(lost) {
    const pill = el("freshness");
    const banner = el("stale-banner");
    const now = serverNow();
    const at = figuresAt();
    const age = now === null || at === null ? null : (now - at) / 1000;
    const stale = !fresh || fresh.stale;
    const ago = age === null ? "" : age < 60 ? Math.floor(age) + " s" : duration(age);
    // Figures that are still young but will not be refreshed (the login is blocked) are not
    // "✓ fresh": the pill warns too, so it never contradicts the banner below it.
    const blocked = Boolean(latest && latest.login && latest.login.cause);
    if (lost) {
      pill.className = "lost";
      pill.textContent = "NO CONNECTION";
    } else {
      pill.className = stale || blocked ? "stale" : "fresh";
      pill.textContent = age === null ? "NO DATA" : (stale ? "⚠ STALE, updated " : blocked ? "⚠ updated " : "✓ updated ") + ago + " ago";
    }
    // The connection banner says it all while the server is unreachable: its freshness is
    // as old as the connection, so the red banner would only repeat a stale verdict.
    banner.hidden = lost || !(stale || blocked);
    body.classList.toggle("stale-data", stale && !lost);
    if (!banner.hidden) setBanner(banner, staleText(now));
  }

  // The stale banner: what stopped updating, in a supervisor's words, and how old it is; when
  // the daemon's login to VICIdial is blocked, that is the reason, with the operator's fix.
  function staleText(now) {
    const block = latest && latest.login;
    if (block && block.cause) {
      const probe = block.next_probe ? " Next try " + clockTime(Date.parse(block.next_probe), false) + "." : "";
      const fix = (block.fix || "").replace(/([^.])$/, "$1.");
      return ["⚠ DATA NOT UPDATING — " + (LOGIN_WORDS[block.cause] || "the dialer refuses the wallboard's login"), fix + probe];
    }
    const names = (fresh && fresh.stale_sources) || [];
    if (!names.length) return ["⚠ Waiting for the first figures from the dialer…", ""];
    const times = names.map((n) => ((fresh.sources || {})[n] || {}).last_success).filter(Boolean).map(Date.parse);
    const oldest = times.length && now !== null ? " — oldest figures are " + duration((now - Math.min(...times)) / 1000) + " old" : " — never received";
    return ["⚠ DATA NOT UPDATING (" + words(names) + ")" + oldest, ""];
  }

  function setBanner(banner, [headline, detail]) {
    const text = headline + "\n" + detail;
    if (banner.dataset.text === text) return;  // unchanged: leave the DOM (and layout) alone
    banner.dataset.text = text;
    banner.innerHTML = esc(headline) + (detail ? `<small>${esc(detail)}</small>` : "");
  }

  function renderClockAndAges() {
    const now = serverNow();
    el("clock").textContent = clockTime(now === null ? Date.now() : now, false);
    if (now === null) return;
    document.querySelectorAll(".agent .since").forEach((node) => {
      const since = Number(node.dataset.since);
      node.textContent = (node.dataset.exact === "0" ? "≥ " : "") + duration((now - since) / 1000);
    });
  }

  function everFetched(name) {
    const sources = (fresh && fresh.sources) || (latest && latest.sources) || {};
    return Boolean(sources[name] && sources[name].last_success);
  }

  // The worse of the window's grade and the alert engine's state for it: an open critical
  // incident stays red until it clears, even if the ratio dipped under critical_at a moment.
  const RANK = {"": 0, ok: 1, insufficient: 1, warning: 2, critical: 3};
  function severity(c, windowName) {
    const w = c.windows && c.windows[windowName];
    if (!w || !Object.prototype.hasOwnProperty.call(SEVERITY, w.severity)) return "";
    const alerted = w.alert_state === "warning" || w.alert_state === "critical" ? w.alert_state : "";
    return RANK[alerted] > RANK[w.severity] ? alerted : w.severity;
  }

  // A window's label as the daemon sends it ("Today (Ofcom)"), else its name ("today_ofcom").
  function windowLabel(target, name) {
    const all = latest.campaigns.concat(latest.drop_groups || []);
    const found = all.find((c) => c.id === target);
    const w = found && found.windows && found.windows[name];
    return (w && w.label) || name;
  }

  // Active alerts from the alert engine, worst first, in words a supervisor reads from across
  // the room; an auto-pause (or a dry run of one) says what happened.
  function renderAlerts() {
    const box = el("alert-banner");
    const alerts = (latest && latest.alerts) || [];
    box.hidden = alerts.length === 0;
    if (!alerts.length) { box.innerHTML = ""; return; }
    const order = {critical: 0, warning: 1};
    const lines = alerts.slice().sort((a, b) => (order[a.severity] ?? 2) - (order[b.severity] ?? 2)).map((a) => {
      const icon = a.severity === "critical" ? "✖ CRITICAL" : "⚠ WARNING";
      const what = a.kind === "drop"
        ? `${esc(a.campaign)} ${esc(windowLabel(a.campaign, a.window))} ${a.value === null ? "" : pct(a.value)}` +
          (a.drops_remaining === null || a.drops_remaining === undefined ? "" : ` · ${a.drops_remaining} drop${a.drops_remaining === 1 ? "" : "s"} left`)
        : esc(a.summary);
      const pause = a.auto_pause ? ` · <b>${esc(a.auto_pause.dry_run ? "auto-pause (dry run): would pause" : "auto-pause: " + a.auto_pause.outcome)}</b>` : "";
      return `<div class="alert sev-${esc(a.severity)}"><span class="tag">${icon}</span> ${what}${pause}</div>`;
    });
    box.innerHTML = lines.join("");
  }

  // The legal windows shown beside today's figure (pacing windows are the forecast's business).
  // Each carries its own label and formula from the daemon: the page names no figure itself.
  const SIDE_WINDOWS = ["30d", "period", "today_ofcom"];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const day = (iso) => { const [, m, d] = iso.split("-").map(Number); return `${d} ${MONTHS[m - 1]}`; };
  const dropsLeft = (n) => `${num(n)} drop${n === 1 ? "" : "s"} left`;

  // One labelled window as a row: its figure, the daemon's verdict (icon + word for warning
  // and worse) and what it covers. Windows the daemon did not send (no period yet, no UK mode)
  // are absent; a window with no stored day yet shows no figure rather than a reassuring 0.
  function windowRow(c, name, stats) {
    const w = c.windows && c.windows[name];
    if (!w) return "";
    const sev = stats ? severity(c, name) : "";
    const notes = [];
    if (name === "30d" && w.days < 30) notes.push(`${w.days} of 30 days`);
    if (w.since) notes.push("since " + day(w.since));
    if (name === "today_ofcom" && w.adjusted_dropped !== undefined) notes.push(`${w.adjusted_dropped} adj. drops`);
    if (w.days > 0) notes.push(dropsLeft(w.drops_remaining));
    // A note wraps between notes, never inside one ("44 drops / left" reads wrong).
    const parts = notes.map((note) => esc(note).replace(/ /g, "\u00a0"));
    if (sev === "warning" || sev === "critical") parts.unshift(`<span class="mark">${SEVERITY[sev]}</span>`);
    return `<div class="win sev-${sev || "none"}" data-window="${esc(name)}" title="${esc(w.formula)}">
      <span class="label">${esc(w.label)}</span><span><b>${w.days > 0 ? pct(w.ratio) : "–"}</b> <small>${parts.join(" · ")}</small></span></div>`;
  }

  // The forecast in the daemon's words; its tone follows the crossings the daemon computed.
  function forecastLine(c) {
    const f = c.forecast;
    if (!f || !f.summary) return "";
    const x = f.crossings || {};
    const soon = (name) => x[name] && (x[name].already || x[name].at);
    const tone = soon("limit") || soon("critical") ? "critical" : soon("warn") ? "warning" : "ok";
    const summary = esc(f.summary).replace(/ %/g, "\u00a0%");  // "3 %" never splits
    return `<div class="forecast tone-${tone}"><span class="label">Forecast</span> ${summary}</div>`;
  }

  // `more` is the campaign's own extra stat cells (dial level, hopper); a group has none.
  function dropPart(c, stats, more) {
    const sev = stats ? severity(c, "today") : "";
    const figure = (value, format) => (stats && value !== null && value !== undefined ? format(value) : "–");
    const badge = sev ? `<div class="badge sev-${sev}">${SEVERITY[sev]}</div>` : "";
    const today = (c.windows && c.windows.today && c.windows.today.label) || "Today";
    const side = stats ? SIDE_WINDOWS.map((name) => windowRow(c, name, stats)).join("") : "";
    return `<div class="big">
        <div><div class="label">Drop rate · ${esc(today)}</div><div class="drop sev-${sev || "none"}">${figure(c.drop_ratio, pct)}</div>${badge}</div>
        <div><div class="label">Drops left today</div><div class="left">${figure(c.drops_remaining, num)}</div></div>
      </div>
      <div class="wins">${side || `<div class="win"><span class="label">30 days</span><span><b>–</b></span></div>`}</div>
      ${stats ? forecastLine(c) : ""}
      <div class="stats">
        <div class="stat"><span class="label">Calls</span><b>${figure(c.calls_today, num)}</b></div>
        <div class="stat"><span class="label">Answered</span><b>${figure(c.answered_today, num)}</b></div>
        <div class="stat"><span class="label">Dropped</span><b>${figure(c.dropped_today, num)}</b></div>
        ${more}
      </div>`;
  }

  function card(c) {
    // Figures from a source that never answered are unknown ("–"), never a reassuring 0.
    const stats = everFetched("call_status_stats");
    const sev = stats ? severity(c, "today") : "";
    const bar = STATES.filter((s) => c.agents[s] > 0).map((s) =>
      `<span class="s-${s}" style="flex:${c.agents[s]}">${c.agents[s]}</span>`).join("");
    const legend = STATES.filter((s) => c.agents[s] > 0).map((s) => `<span>${s} ${c.agents[s]}</span>`).join("");
    return `<article class="card sev-${sev || "none"} ${c.active === false ? "inactive" : ""}" data-campaign="${esc(c.id)}" data-severity="${sev}">
      <h2>${esc(c.name || c.id)}</h2>
      <div class="sub">${esc(c.id)}${c.dial_method ? " · " + esc(c.dial_method) : ""} ${c.active === false ? '<span class="inactive-tag">INACTIVE</span>' : ""}</div>
      ${dropPart(c, stats, `
        <div class="stat"><span class="label">Dial level</span><b>${c.dial_level === null ? "–" : c.dial_level.toFixed(2)}</b></div>
        <div class="stat"><span class="label">Hopper</span><b>${num(c.hopper_leads)}</b></div>`)}
      <div class="bar" title="agents">${bar}</div>
      <div class="legend">${legend || (everFetched("logged_in_agents") ? "no agents logged in" : "agents unknown")}</div>
    </article>`;
  }

  // A drop-rate group: one pooled figure over its member campaigns, shown like a campaign but
  // marked as a group, with its members named (a group has no agents or hopper of its own).
  function groupCard(g) {
    const stats = everFetched("call_status_stats");
    const sev = stats ? severity(g, "today") : "";
    return `<article class="card group sev-${sev || "none"}" data-campaign="${esc(g.id)}" data-severity="${sev}">
      <h2><span class="group-tag">GROUP</span> ${esc(g.name)}</h2>
      <div class="sub">drop-rate group of ${esc((g.members || []).join(" + "))}</div>
      ${dropPart(g, stats, "")}
    </article>`;
  }

  function agentTile(a) {
    const code = a.state === "paused" && a.pause_code ? `<span class="code">${esc(a.pause_code)}</span>` : "";
    // state_since_exact false: the daemon first saw the agent already in this state, so the
    // time is a lower bound ("≥ 4:07"), not a fact.
    const exact = a.state_since_exact === false ? "0" : "1";
    return `<div class="agent ${esc(a.state)}" title="${esc(a.state)}"><span class="name">${esc(a.name || a.user)}</span>${code}<span class="since" data-since="${Date.parse(a.state_since)}" data-exact="${exact}"></span></div>`;
  }

  // Fit every agent on the screen: shrink the tiles when needed, and if even small tiles
  // overflow, end with an honest "+N more" tile instead of silently cutting people off.
  function renderAgents() {
    const box = el("agents");
    box.classList.remove("dense");
    box.innerHTML = latest.agents.map(agentTile).join("");
    renderClockAndAges();
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

  // Banners take room from the agent tiles: re-fit them whenever one comes or goes.
  let bannersShown = "";
  function renderStatus() {
    const lost = connectionLost();
    renderConnection(lost);
    renderFreshness(lost);
    renderClockAndAges();
    const shown = String(el("conn-banner").hidden) + el("stale-banner").hidden;
    if (latest && shown !== bannersShown) renderAgents();
    bannersShown = shown;
  }

  function render() {
    const groups = latest.drop_groups || [];
    el("campaigns").innerHTML = latest.campaigns.length || groups.length ?
      latest.campaigns.map(card).join("") + groups.map(groupCard).join("") :
      '<div class="empty">No campaigns on this board yet.</div>';
    el("inbound").textContent = everFetched("in_group_status") ? num(latest.inbound_calls_waiting) : "–";
    renderAlerts();
    renderStatus();  // first: the banners change the room left for agent tiles
    renderAgents();
  }

  function received() {
    lastEventAt = Date.now();
    backoff = 1000;
  }

  function connect() {
    if (source) source.close();
    connectedAt = Date.now();
    source = new EventSource("/api/events?board=" + encodeURIComponent(board));
    source.addEventListener("snapshot", (event) => {
      received();
      latest = JSON.parse(event.data);
      if (!fresh) {  // the heartbeat that follows at once replaces this
        fresh = {now: latest.generated_at, stale: latest.stale, stale_sources: latest.stale_sources,
                 age_seconds: latest.age_seconds, sources: latest.sources};
        freshAt = Date.now();
      }
      render();
    });
    source.addEventListener("heartbeat", (event) => {
      received();
      fresh = JSON.parse(event.data);
      freshAt = Date.now();
      renderStatus();
    });
    // EventSource retries a dropped stream by itself, but gives up (CLOSED) on some
    // failures, e.g. a server that is down when it retries: then start over, with backoff.
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) reconnectSoon();
    });
  }

  function reconnectSoon() {
    if (reconnectTimer !== null) return;
    const delay = backoff * (0.5 + Math.random());  // jitter: a room of TVs must not stampede
    backoff = Math.min(backoff * 2, 30000);
    reconnectTimer = setTimeout(() => { reconnectTimer = null; connect(); }, delay);
  }

  setInterval(() => {
    renderStatus();
    // Silent for three periods: the stream is dead even if the socket says otherwise
    // (a half-open connection, a proxy holding it): replace it.
    if (Date.now() - Math.max(lastEventAt, connectedAt) > RECONNECT_AFTER) reconnectSoon();
  }, Math.min(1000, PERIOD / 2));
  window.addEventListener("resize", () => { if (latest) renderAgents(); });
  renderStatus();
  connect();
})();
