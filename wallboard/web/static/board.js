"use strict";
// The TV page. One EventSource: "snapshot" events carry the figures, "heartbeat" events the
// server's clock, freshness and deployment version. Every age on screen is computed from the
// last heartbeat's `now` (plus the time since it arrived), never from the TV's own clock, which
// may be wrong; every time of day is the dialer's (snapshot `dialer.utc_offset_hours`).
// Colours come from the server's verdicts (`windows.*.severity`, the alert engine's states):
// this page never grades a drop rate itself, and never says anything with colour alone.
//
// The page runs under a strict Content-Security-Policy (script-src/style-src 'self', no
// 'unsafe-inline'): no inline handlers, no style="" attributes in built markup (sizes are set
// through CSSOM, which CSP allows), no eval. Every text from the daemon is escaped or set with
// textContent: an agent called `<img src=x onerror=...>` is shown as those characters.
//
// Options (query string): ?theme=light, ?agents=off, ?rotate=floor,team2&every=30s (go to the
// next board of the list every 30 s, keeping the options), ?page_every=8s (how long each page of
// agents stays up when they do not all fit). The <body> may carry data-board, data-heartbeat,
// data-title, data-boards (the configured board names) and data-panels (which panels to show).
(function () {
  const body = document.body;
  const data = body.dataset;
  const board = data.board || "";
  const PERIOD = (Number(data.heartbeat) || 10) * 1000;  // heartbeat period, ms
  const LOST_AFTER = 2 * PERIOD;      // no event for this long: the connection is lost
  const RECONNECT_AFTER = 3 * PERIOD; // ...and for this long: start a new EventSource
  const STATES = ["waiting", "incall", "paused", "dispo", "dead", "dial"];
  const STATE_WORDS = {
    waiting: "waiting", incall: "in call", paused: "paused", dispo: "dispo", dead: "dead", dial: "dialing",
  };
  const SHORT_WORDS = {waiting: "wait", incall: "call", paused: "pause", dispo: "dispo", dead: "dead", dial: "dial"};
  // VICIdial's real-time report: the colour of a tile deepens with the time in the state.
  // Tier 0 is what VICIdial leaves uncoloured (the first seconds of a call or pause).
  const TIERS = {waiting: [0, 60, 300], incall: [0, 10, 60, 300], paused: [0, 10, 60, 300]};
  const HOPPER_LOW = 20;  // fewer leads than this: the hopper is about to run dry
  // What a supervisor calls each VICIdial source (the screen never shows API names).
  const SOURCE_WORDS = {
    logged_in_agents: "agents", call_status_stats: "call counts", campaigns_list: "campaign settings",
    hopper_list: "hoppers", in_group_status: "inbound queues", version: "dialer clock",
  };
  // Why a source fails, from its error kind, in the words of the person looking at the TV.
  const CAUSE_WORDS = {
    transport: "VICIdial unreachable", timeout: "VICIdial not answering in time",
    too_large: "VICIdial's answer too large", api_error: "VICIdial answers with an error",
    permission: "the wallboard's VICIdial user lacks a permission",
    login: "VICIdial refuses the wallboard's login", parse: "VICIdial's answer not understood",
    html: "an error page instead of VICIdial's answer", error: "VICIdial answers with an error",
  };
  const LOGIN_WORDS = {
    bad_credentials: "VICIdial rejects the wallboard's login", locked: "VICIdial locked the wallboard's API user",
    ip_blocked: "VICIdial does not accept this wallboard server's address",
    two_factor: "VICIdial asks the wallboard for a two-factor login",
  };
  const SEVERITY = {  // icon + word: the meaning survives without colour
    ok: "✓ OK", warning: "⚠ WARNING", critical: "✖ CRITICAL", insufficient: "· TOO FEW CALLS",
  };
  const SVG = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------------------ options
  const params = new URLSearchParams(location.search);
  function seconds(text, fallback, least) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text || "");
    if (!m) return fallback;
    const value = Number(m[1]) * ({ms: 0.001, s: 1, m: 60, h: 3600}[m[2] || "s"]);
    return Math.max(least, value);
  }
  const names = (text) => {
    text = (text || "").trim();
    if (text.startsWith("[")) {
      try { return JSON.parse(text).map(String); } catch (e) { return []; }
    }
    return text.split(/[\s,]+/).filter(Boolean);
  };
  const panels = data.panels === undefined ? null : names(data.panels);
  const panelOn = (name) => panels === null || panels.length === 0 || panels.includes(name);
  const LIGHT = (data.theme || params.get("theme")) === "light";
  const SHOW_AGENTS = params.get("agents") !== "off" && panelOn("agents");
  const SHOW_CAMPAIGNS = panelOn("campaigns");
  const SHOW_ALERTS = panelOn("alerts");
  const SHOW_INBOUND = panelOn("inbound");
  const PAGE_EVERY = seconds(params.get("page_every"), 8, 1) * 1000;
  const ROTATE_EVERY = seconds(params.get("every"), 30, 2) * 1000;
  const known = data.boards === undefined ? null : names(data.boards);
  // The server lists the rotation's boards that exist (data-rotate) and the names that do not
  // (data-rotate-unknown): a TV is never sent to a board that is not there.
  const ROTATION = data.rotate !== undefined ? names(data.rotate) :
    names(params.get("rotate")).filter((n) => known === null || known.includes(n));
  const UNKNOWN_ROTATION = data.rotateUnknown !== undefined ? names(data.rotateUnknown) :
    names(params.get("rotate")).filter((n) => known !== null && !known.includes(n));

  // ----------------------------------------------------------------------------- skeleton
  // The page's layout is built here, around whatever the HTML shell provides: elements it
  // already has (by id) are moved into place, missing ones are created, anything else goes.
  const h1 = document.querySelector("h1");
  const title = data.title || (h1 && h1.textContent.trim()) || document.title || board;
  const make = (tag, id, cls, parent) => {
    let node = id ? document.getElementById(id) : null;
    if (!node) {
      node = document.createElement(tag);
      if (id) node.id = id;
    }
    if (cls) node.className = cls;
    parent.appendChild(node);
    return node;
  };
  const frame = make("div", "frame", "", body);
  const top = make("header", "top", "", frame);
  const heading = make("h1", "title", "", top);
  heading.textContent = title;
  const inboundBox = make("div", "inbound-box", "top-stat", top);
  inboundBox.textContent = "";
  make("span", "", "label", inboundBox).textContent = "Inbound waiting";
  make("b", "inbound", "", inboundBox).textContent = "–";
  const clockBox = make("div", "clock-box", "top-stat", top);
  make("span", "clock-zone", "label", clockBox);
  make("b", "clock", "", clockBox);
  make("div", "freshness", "stale", top).textContent = "connecting…";
  const note = make("div", "setup-note", "", top);
  note.hidden = !UNKNOWN_ROTATION.length;
  note.textContent = UNKNOWN_ROTATION.length ? "rotation skips unknown board " + UNKNOWN_ROTATION.join(", ") : "";
  make("div", "conn-banner", "banner", frame).hidden = true;
  make("div", "stale-banner", "banner", frame).hidden = true;
  make("div", "alert-banner", "", frame).hidden = true;
  const campaignsBox = make("main", "campaigns", "", frame);
  const agentsPanel = make("section", "agents-panel", "", frame);
  const agentsHead = make("div", "agents-head", "", agentsPanel);
  make("div", "legend", "", agentsHead);
  make("div", "pager", "", agentsHead);
  const agentsBox = make("div", "agents", "", agentsPanel);
  for (const child of Array.from(body.children)) {
    if (child !== frame && child.tagName !== "SCRIPT") child.remove();
  }
  document.documentElement.classList.toggle("light", LIGHT);
  body.classList.toggle("no-agents", !SHOW_AGENTS);
  agentsPanel.hidden = !SHOW_AGENTS;
  inboundBox.hidden = !SHOW_INBOUND;
  campaignsBox.hidden = !SHOW_CAMPAIGNS;

  // -------------------------------------------------------------------------------- state
  let latest = null;     // the last snapshot document
  let fresh = null;      // the last freshness: a heartbeat (or, before one, the snapshot's)
  let freshAt = 0;       // Date.now() when `fresh` arrived
  let lastEventAt = 0;   // Date.now() of the last event of any kind (0: none yet)
  // The deployment this page came from: the shell's data-version when it has one, else the
  // first heartbeat's (a page can only run old code after the version it was served with).
  let version = data.version || null;
  const pageStart = Date.now();
  let connectedAt = pageStart;
  let source = null;
  let backoff = 1000;
  let reconnectTimer = null;
  let agentPage = 0;
  let campaignPage = 0;

  const el = (id) => document.getElementById(id);
  const pct = (r) => (r * 100).toFixed(2) + "%";
  const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-GB"));
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const plural = (n, word) => `${num(n)} ${word}${n === 1 ? "" : "s"}`;

  // The server's clock now: the last heartbeat's `now` plus the time since it arrived.
  function serverNow() {
    return fresh ? Date.parse(fresh.now) + (Date.now() - freshAt) : null;
  }

  // When the live figures (agents and call counts) were last good, as a server instant.
  function figuresAt() {
    if (!fresh || fresh.age_seconds === null || fresh.age_seconds === undefined) return null;
    return Date.parse(fresh.now) - fresh.age_seconds * 1000;
  }

  function duration(secs) {
    secs = Math.max(0, Math.floor(secs));
    const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
    const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(s).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  // The dialer's offset from UTC, hours (null: not known yet, so the TV's zone is used).
  function dialerOffset() {
    const d = latest && latest.dialer;
    return d && typeof d.utc_offset_hours === "number" ? d.utc_offset_hours : null;
  }

  // An instant as the dialer's wall clock shows it ("14:05" or "14:05:09").
  function dialerTime(ms, withSeconds) {
    const offset = dialerOffset();
    const two = (n) => String(n).padStart(2, "0");
    if (offset === null) {
      const d = new Date(ms);
      return two(d.getHours()) + ":" + two(d.getMinutes()) + (withSeconds ? ":" + two(d.getSeconds()) : "");
    }
    const d = new Date(ms + offset * 3600000);
    return two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + (withSeconds ? ":" + two(d.getUTCSeconds()) : "");
  }

  // Seconds since the dialer's midnight at a server instant (the sparkline's x axis).
  function dialerSecond(ms) {
    const offset = dialerOffset();
    const shifted = offset === null ? ms - new Date(ms).getTimezoneOffset() * 60000 : ms + offset * 3600000;
    return ((shifted / 1000) % 86400 + 86400) % 86400;
  }

  function zoneName() {
    const d = latest && latest.dialer;
    if (d && d.timezone) return d.timezone.split("/").pop().replace(/_/g, " ") + " time";
    const offset = dialerOffset();
    if (offset === null) return "local time";
    const sign = offset < 0 ? "−" : "+", abs = Math.abs(offset);
    const hours = Math.floor(abs), minutes = Math.round((abs - hours) * 60);
    return `dialer time (UTC${sign}${hours}${minutes ? ":" + String(minutes).padStart(2, "0") : ""})`;
  }

  function connectionLost() {
    return Date.now() - (lastEventAt || pageStart) > LOST_AFTER;
  }

  function everFetched(name) {
    const sources = (fresh && fresh.sources) || (latest && latest.sources) || {};
    return Boolean(sources[name] && sources[name].last_success);
  }

  // ------------------------------------------------------------------ freshness, banners
  function renderConnection(lost) {
    const banner = el("conn-banner");
    banner.hidden = !lost;
    body.classList.toggle("lost", lost);
    if (!lost) return;
    const at = figuresAt();
    setBanner(banner, [!lastEventAt && !latest ? "⚠ CONNECTION LOST — cannot reach the wallboard server" :
      "⚠ CONNECTION LOST — figures from " + (at === null ? "(none received)" : dialerTime(at, true)), ""]);
  }

  function renderFreshness(lost) {
    const pill = el("freshness");
    const banner = el("stale-banner");
    const now = serverNow();
    const at = figuresAt();
    const stale = !fresh || fresh.stale;
    // Figures that are still young but will not be refreshed (the login is blocked) are not
    // "✓ fresh": the pill warns too, so it never contradicts the banner below it.
    const blocked = Boolean(latest && latest.login && latest.login.cause);
    if (lost) {
      pill.className = "lost";
      pill.textContent = "NO CONNECTION";
    } else {
      pill.className = stale || blocked ? "stale" : "fresh";
      pill.textContent = at === null ? "NO DATA YET" : (stale || blocked ? "⚠ " : "✓ ") + "figures as of " + dialerTime(at, true);
    }
    // The connection banner says it all while the server is unreachable: its freshness is
    // as old as the connection, so a stale banner would only repeat an older verdict.
    banner.hidden = lost || !(stale || blocked);
    body.classList.toggle("stale-data", stale && !lost);
    if (!banner.hidden) setBanner(banner, staleText(now));
  }

  // The stale banner: what stopped updating, in a supervisor's words, for how long, and why;
  // when the daemon's login to VICIdial is blocked, that is the reason, with the fix.
  function staleText(now) {
    const block = latest && latest.login;
    if (block && block.cause) {
      const probe = block.next_probe ? " Next try " + dialerTime(Date.parse(block.next_probe), false) + "." : "";
      const fix = (block.fix || "").replace(/([^.])$/, "$1.");
      return ["⚠ DATA NOT UPDATING — " + (LOGIN_WORDS[block.cause] || "the dialer refuses the wallboard's login"), fix + probe];
    }
    const stale = (fresh && fresh.stale_sources) || [];
    if (!stale.length) return ["⚠ Waiting for the first figures from the dialer…", ""];
    const info = (n) => ((fresh && fresh.sources) || {})[n] || ((latest && latest.sources) || {})[n] || {};
    // One line per cause, naming what it holds up; a source with no error has no cause to
    // name (it has not been asked again yet), and comes last.
    const groups = new Map();
    for (const n of stale) {
      const kind = info(n).error_kind;
      const cause = kind ? CAUSE_WORDS[kind] || "VICIdial answers with an error" : "";
      if (!groups.has(cause)) groups.set(cause, []);
      groups.get(cause).push(n);
    }
    const lines = [];
    for (const [cause, members] of [...groups].sort((x, y) => (x[0] ? 0 : 1) - (y[0] ? 0 : 1))) {
      const times = members.map((n) => info(n).last_success).filter(Boolean).map(Date.parse);
      const what = members.map((n) => SOURCE_WORDS[n] || "other figures");
      const list = what.length > 1 ? what.slice(0, -1).join(", ") + " and " + what[what.length - 1] : what[0];
      const age = times.length === members.length && now !== null ?
        " not updating for " + duration((now - Math.min(...times)) / 1000) : " never received";
      lines.push(list + age + (cause ? " — " + cause : ""));
    }
    return ["⚠ " + lines[0], lines.slice(1).join(" · ")];
  }

  function setBanner(banner, [headline, detail]) {
    const text = headline + "\n" + detail;
    if (banner.dataset.text === text) return;  // unchanged: leave the DOM (and layout) alone
    banner.dataset.text = text;
    banner.innerHTML = `<span class="headline">${esc(headline)}</span>` + (detail ? `<small>${esc(detail)}</small>` : "");
  }

  function renderClock() {
    const now = serverNow();
    el("clock").textContent = dialerTime(now === null ? Date.now() : now, false);
    el("clock-zone").textContent = zoneName();
  }

  // ---------------------------------------------------------------------------- severity
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

  // ------------------------------------------------------------------------------ alerts
  // What the auto-pause did for this incident, said plainly (it is the one thing on this
  // screen that changed the dialer, so it must never be ambiguous).
  function pauseWords(a) {
    const p = a.auto_pause;
    if (!p) return "";
    const who = a.campaign ? " " + a.campaign : "";
    const at = p.at ? " at " + dialerTime(Date.parse(p.at), false) : "";
    if (p.dry_run) return "auto-pause (dry run): would pause" + who + ", nothing sent to VICIdial";
    switch (p.outcome) {
      case "paused": return "■ auto-pause:" + who + " PAUSED" + at + " — resume it in VICIdial";
      case "pending": return "auto-pause:" + who + " pausing now…";
      case "unknown": return "auto-pause:" + who + " outcome UNKNOWN — check it in VICIdial";
      default: return "auto-pause:" + who + " FAILED (" + p.outcome + ") — check it in VICIdial";
    }
  }

  // Active alerts from the alert engine, worst first, in words a supervisor reads from across
  // the room.
  function renderAlerts() {
    const box = el("alert-banner");
    const alerts = SHOW_ALERTS ? (latest && latest.alerts) || [] : [];
    box.hidden = alerts.length === 0;
    if (!alerts.length) { box.innerHTML = ""; return; }
    const order = {critical: 0, warning: 1};
    const lines = alerts.slice().sort((a, b) => (order[a.severity] ?? 2) - (order[b.severity] ?? 2)).map((a) => {
      const sev = a.severity === "critical" ? "critical" : "warning";
      const icon = sev === "critical" ? "✖ CRITICAL" : "⚠ WARNING";
      const what = a.kind === "drop"
        ? `<b>${esc(a.campaign)}</b> ${esc(windowLabel(a.campaign, a.window))} ${a.value === null || a.value === undefined ? "" : pct(a.value)}` +
          (a.drops_remaining === null || a.drops_remaining === undefined ? "" : ` · ${plural(a.drops_remaining, "drop")} left`)
        : esc(a.summary || a.kind);
      const since = a.since ? ` <span class="since">since ${esc(dialerTime(Date.parse(a.since), false))}</span>` : "";
      const pause = a.auto_pause ? ` · <b class="pause">${esc(pauseWords(a))}</b>` : "";
      return `<div class="alert sev-${sev}" data-campaign="${esc(a.campaign || "")}"><span class="tag">${icon}</span> ${what}${since}${pause}</div>`;
    });
    box.innerHTML = lines.join("");
  }

  // --------------------------------------------------------------------------- campaigns
  // The legal windows shown beside today's figure (pacing windows are the forecast's business).
  // Each carries its own label and formula from the daemon: the page names no figure itself.
  const SIDE_WINDOWS = ["30d", "period", "today_ofcom"];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const day = (iso) => { const [, m, d] = iso.split("-").map(Number); return `${d} ${MONTHS[m - 1]}`; };
  const nb = (text) => esc(text).replace(/ /g, "\u00a0");  // never wraps inside

  // One labelled window as a row: its figure, the daemon's verdict (icon + word for warning
  // and worse), what it covers and the drops it has left. Windows the daemon did not send are
  // absent; a window with no stored day yet shows no figure rather than a reassuring 0.
  function windowRow(c, name, stats) {
    const w = c.windows && c.windows[name];
    if (!w) return "";
    const sev = stats ? severity(c, name) : "";
    const notes = [];
    if (name === "30d" && w.days < 30) notes.push(`${w.days} of 30 days`);
    if (w.since) notes.push("since " + day(w.since));
    if (name === "today_ofcom" && w.adjusted_dropped !== undefined) notes.push(`${w.adjusted_dropped} adj. drops`);
    const left = w.days > 0 ? `<span class="wleft">${num(w.drops_remaining)}<span class="lf">\u00a0drop${w.drops_remaining === 1 ? "" : "s"}</span>\u00a0left</span>` : "";
    const short = {warning: "⚠ WARN", critical: "✖ CRIT"};
    const mark = sev === "warning" || sev === "critical" ? `<span class="mark">${label(SEVERITY[sev], short[sev])}</span> ` : "";
    const extra = notes.length ? ` <small class="notes">${notes.map(nb).join(" · ")}</small>` : "";
    return `<div class="win sev-${sev || "none"}" data-window="${esc(name)}" title="${esc(w.formula || "")}">` +
      `<span class="label">${esc(w.label || name)}</span>` +
      `<span class="wv">${mark}<b>${w.days > 0 ? pct(w.ratio) : "–"}</b> ${left}${extra}</span></div>`;
  }

  // No forecast is said as such (never a guess); it keeps its place so the cards line up.
  const noForecast = (why) => `<div class="no-forecast"><span class="label">Forecast</span> <span class="muted">${why}</span></div>`;

  // The forecast in the daemon's words; its tone follows the crossings the daemon computed.
  function forecastLine(c) {
    const f = c.forecast;
    if (!f || !f.summary) return noForecast("not enough calls yet");
    const x = f.crossings || {};
    const soon = (name) => x[name] && (x[name].already || x[name].at);
    const tone = soon("limit") || soon("critical") ? "critical" : soon("warn") ? "warning" : "ok";
    const icon = tone === "critical" ? "✖ " : tone === "warning" ? "⚠ " : "";
    const summary = esc(f.summary).replace(/ %/g, "\u00a0%");  // "3 %" never splits
    return `<div class="forecast tone-${tone}"><span class="label">Forecast</span> ${icon}${summary}</div>`;
  }

  // A label in full, and the short form a one-line campaign row has room for.
  const label = (full, short) => short ? `<span class="lf">${full}</span><span class="ls">${short}</span>` : full;

  function stat(name, value, cls, attrs) {
    return `<div class="stat ${cls || ""}" ${attrs || ""}><span class="label">${name}</span><b>${value}</b></div>`;
  }

  function hopperStat(c) {
    const n = c.hopper_leads;
    if (n === null || n === undefined) return stat("Hopper", "–", "hopper", 'data-hopper="unknown"');
    if (n === 0) return stat('Hopper <em class="flag">EMPTY</em>', "⚠ 0", "hopper hop-empty", 'data-hopper="empty"');
    if (n < HOPPER_LOW) return stat('Hopper <em class="flag">LOW</em>', `⚠ ${num(n)}`, "hopper hop-low", 'data-hopper="low"');
    return stat("Hopper", num(n), "hopper", 'data-hopper="ok"');
  }

  // The drop part of a campaign or group; `more` is a campaign's own cells (a group has none).
  function dropPart(c, stats, more) {
    const sev = stats ? severity(c, "today") : "";
    const figure = (value, format) => (stats && value !== null && value !== undefined ? format(value) : "–");
    const today = (c.windows && c.windows.today && c.windows.today.label) || "Today";
    const side = stats ? SIDE_WINDOWS.map((name) => windowRow(c, name, stats)).join("") : "";
    return `<div class="kf kf-left"><div class="label">${label("Drops left today", "Drops left")}</div><div class="left fit sev-${sev || "none"}">${figure(c.drops_remaining, num)}</div></div>
      <div class="kf kf-drop"><div class="label">${label("Drop rate · " + esc(today), "Drop rate")}</div><div class="drop fit sev-${sev || "none"}">${figure(c.drop_ratio, pct)}</div>
        <div class="ratio-of">${stats && c.answered_today !== null && c.answered_today !== undefined ?
          `${plural(c.dropped_today, "drop")} / ${num(c.answered_today)} answered` : "–"}</div></div>
      <div class="wins">${side || `<div class="win" data-window="30d"><span class="label">30 days</span><span class="wv"><b>–</b></span></div>`}</div>
      <div class="spark"><div class="spark-box"></div><span class="label">Drop rate today</span></div>
      ${stats ? forecastLine(c) : noForecast("–")}
      <div class="stats">
        ${stat(label("Calls today", "Calls"), figure(c.calls_today, num), "calls")}
        ${more}
      </div>`;
  }

  // Agents by state; unknown ("–") until the agents were fetched once, never a reassuring 0.
  function agentCounts(c) {
    const counts = c.agents || {};
    const known = everFetched("logged_in_agents");
    const shown = STATES.filter((s) => s !== "dial" || counts[s] > 0);
    return `<div class="bar">${shown.map((s) =>
      `<span class="chip st-${s}" data-state="${s}"><b>${known ? num(counts[s] || 0) : "–"}</b> ${label(STATE_WORDS[s], SHORT_WORDS[s])}</span>`).join("")}</div>`;
  }

  function card(c) {
    // Figures from a source that never answered are unknown ("–"), never a reassuring 0.
    const stats = everFetched("call_status_stats");
    const sev = stats ? severity(c, "today") : "";
    const badge = sev ? `<div class="badge sev-${sev}">${SEVERITY[sev]}</div>` : `<div class="badge sev-none">no figures</div>`;
    const dial = c.dial_level === null || c.dial_level === undefined ? "–" : Number(c.dial_level).toFixed(2);
    const waiting = c.calls_waiting === null || c.calls_waiting === undefined ? "–" : num(c.calls_waiting);
    return `<article class="card sev-${sev || "none"} ${c.active === false ? "inactive" : ""}" data-campaign="${esc(c.id)}" data-severity="${sev}">
      <div class="head"><h2>${esc(c.name || c.id)}</h2>
        <div class="sub">${c.active === false ? '<span class="inactive-tag">■ INACTIVE</span> ' : ""}${esc(c.id)}${c.dial_method ? " · " + esc(c.dial_method.replace(/_/g, " ")) : ""}</div>
        ${badge}</div>
      ${dropPart(c, stats, stat(label("Calls waiting", "Waiting"), waiting, "waiting") + stat(label("Dial level", "Dial"), dial, "dial") + hopperStat(c))}
      ${agentCounts(c)}
    </article>`;
  }

  // A drop-rate group: one pooled figure over its member campaigns, shown like a campaign but
  // marked as a group, with its members named (a group has no agents or hopper of its own).
  function groupCard(g) {
    const stats = everFetched("call_status_stats");
    const sev = stats ? severity(g, "today") : "";
    const badge = sev ? `<div class="badge sev-${sev}">${SEVERITY[sev]}</div>` : `<div class="badge sev-none">no figures</div>`;
    return `<article class="card group sev-${sev || "none"}" data-campaign="${esc(g.id)}" data-severity="${sev}">
      <div class="head"><h2><span class="group-tag">GROUP</span> ${esc(g.name)}</h2>
        <div class="sub">drop-rate group of ${esc((g.members || []).join(" + "))}</div>
        ${badge}</div>
      ${dropPart(g, stats, "")}
    </article>`;
  }

  // ---------------------------------------------------------------------------- sparkline
  // Today's drop rate as a line, drawn with DOM calls (no markup from data), against the
  // warn, critical and limit lines the daemon sends with it. Pixel coordinates are the box's
  // own, so lines and text keep their thickness whatever the screen.
  function svg(tag, attrs, parent) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function drawSparkline(box, spark, sev) {
    box.textContent = "";
    const w = box.clientWidth, h = box.clientHeight;
    if (w < 10 || h < 10) return;
    const fallback = (latest && latest.thresholds) || {};
    const limits = {
      warn: spark && typeof spark.warn_at === "number" ? spark.warn_at : fallback.warn_at,
      critical: spark && typeof spark.critical_at === "number" ? spark.critical_at : fallback.critical_at,
      limit: spark && typeof spark.limit === "number" ? spark.limit : fallback.limit,
    };
    const points = (spark && Array.isArray(spark.points) ? spark.points : [])
      .filter((p) => Array.isArray(p) && isFinite(p[0]) && isFinite(p[1]));
    const root = svg("svg", {viewBox: `0 0 ${w} ${h}`, width: w, height: h, class: "sparkline", role: "img"}, box);
    const top = Math.max(...[limits.limit, limits.critical, limits.warn].filter((v) => typeof v === "number").map((v) => v * 1.25),
      ...points.map((p) => p[1] * 1.1), 0.01);
    const pad = 3;
    const y = (r) => pad + (h - 2 * pad) * (1 - Math.min(r, top) / top);
    const now = serverNow();
    const last = points.length ? points[points.length - 1][0] : 0;
    const right = Math.max(last, now === null ? last : dialerSecond(now) < last ? last : dialerSecond(now));
    const left = Math.min(points.length ? points[0][0] : right - 3600, right - 3600);
    const x = (s) => pad + (w - 2 * pad) * ((s - left) / Math.max(1, right - left));
    for (const [name, value] of Object.entries(limits)) {
      if (typeof value !== "number") continue;
      svg("line", {x1: 0, x2: w, y1: y(value), y2: y(value), class: "th th-" + name}, root);
    }
    const caption = box.parentElement && box.parentElement.querySelector(".label");
    if (caption) {
      caption.textContent = "Drop rate today" + (typeof limits.limit === "number" ?
        " · limit " + Number((limits.limit * 100).toFixed(2)) + "%" : "");
    }
    const title = svg("title", {}, root);
    if (!points.length) {
      title.textContent = "no trend yet";
      const t = svg("text", {x: pad, y: h - pad - 2, class: "none"}, root);
      t.textContent = spark === null || spark === undefined ? "trend not available yet" : "no points yet today";
      box.dataset.points = "0";
      return;
    }
    title.textContent = "today's drop rate, every few minutes";
    if (points.length > 1) {
      svg("polyline", {points: points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" "), class: "trend"}, root);
    } else {  // one point: a short level stroke so it reads as a value, not a speck
      svg("line", {x1: Math.max(pad, x(points[0][0]) - 12), x2: x(points[0][0]), y1: y(points[0][1]), y2: y(points[0][1]), class: "trend"}, root);
    }
    const end = points[points.length - 1];
    svg("circle", {cx: x(end[0]), cy: y(end[1]), r: 4, class: "dot sev-" + (sev || "none")}, root);
    box.dataset.points = String(points.length);
  }

  // ------------------------------------------------------------------------ fitting text
  // A figure keeps its size unless it would be cut: then it shrinks, never below a floor
  // (2.25 rem: 24 px on a 1280×720 screen).
  function fitFigures(root) {
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    root.querySelectorAll(".fit").forEach((node) => {
      node.style.fontSize = "";
      let size = parseFloat(getComputedStyle(node).fontSize);
      while (node.scrollWidth > node.clientWidth + 1 && size > 2.25 * rem) {
        size = Math.max(2.25 * rem, size * 0.92);
        node.style.fontSize = size + "px";
      }
    });
  }

  function renderCampaigns() {
    const box = campaignsBox;
    const groups = latest.drop_groups || [];
    const all = latest.campaigns.map((c) => ({c, html: card(c)})).concat(groups.map((g) => ({c: g, html: groupCard(g)})));
    box.style.zoom = "";
    if (!all.length) {
      box.className = "";
      box.innerHTML = '<div class="empty">No campaigns on this board yet.</div>';
      return;
    }
    // More than four do not fit side by side at a size readable from across the room: then
    // each campaign is one row of a table-like list, the same figures in a line.
    const compact = all.length > 4;
    box.className = compact ? "compact" : "cards n" + all.length;
    const limit = campaignRoom();
    let shown = all, pages = 1;
    box.innerHTML = all.map((x) => x.html).join("");
    if (compact && box.scrollHeight > limit) {
      const cards = box.children;
      const gap = parseFloat(getComputedStyle(box).rowGap) || 0;
      const rowH = cards[0].offsetHeight + gap;
      const per = Math.max(1, Math.floor((limit - (box.offsetHeight - box.clientHeight) + gap) / rowH));
      pages = Math.ceil(all.length / per);
      campaignPage %= pages;
      shown = all.slice(campaignPage * per, campaignPage * per + per);
      box.innerHTML = shown.map((x) => x.html).join("");
    } else {
      campaignPage = 0;
    }
    box.dataset.pages = String(pages);
    const pager = pages > 1 ? `<div class="camp-pager">campaigns page ${campaignPage + 1}/${pages}</div>` : "";
    if (pager) box.insertAdjacentHTML("beforeend", pager);
    fitFigures(box);
    if (!SHOW_AGENTS && !compact) {  // nothing below: the cards grow as far as nothing is cut
      for (const k of [1.5, 1.4, 1.3, 1.2, 1.1, 1]) {
        box.style.zoom = String(k);
        fitFigures(box);
        if (k === 1 || (box.scrollHeight <= box.clientHeight + 1 && !cutText(box))) break;
      }
    }
    Array.from(box.querySelectorAll("article.card")).forEach((node, i) => {
      const c = shown[i].c;
      const spark = node.querySelector(".spark-box");
      if (spark) drawSparkline(spark, c.sparkline, everFetched("call_status_stats") ? severity(c, "today") : "");
    });
  }

  // Whether any text of the campaigns would be cut off (a name, a figure, a note).
  function cutText(root) {
    return Array.from(root.querySelectorAll("h2, .left, .drop, .badge, .wv, .stat b, .chip, .forecast"))
      .some((e) => e.scrollWidth > e.clientWidth + 1);
  }

  function bannersHeight() {
    return ["conn-banner", "stale-banner", "alert-banner"].reduce((sum, id) => sum + el(id).offsetHeight, 0);
  }

  // Room for the campaigns: what the header and banners leave, minus a useful agent area.
  function campaignRoom() {
    const room = frame.clientHeight - top.offsetHeight - bannersHeight();
    if (!SHOW_AGENTS) return room;
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    return Math.max(room * 0.45, room - 13 * rem);
  }

  // ------------------------------------------------------------------------------ agents
  function tier(state, elapsed) {
    const steps = TIERS[state];
    if (!steps) return 0;
    let t = 0;
    steps.forEach((at, i) => { if (elapsed >= at) t = i; });
    return state === "waiting" ? t + 1 : t;  // waiting starts at VICIdial's light blue (t1)
  }

  function agentTile(a) {
    const word = a.state === "paused" && a.pause_code ? a.pause_code : STATE_WORDS[a.state] || a.state;
    // state_since_exact false: the daemon first saw the agent already in this state, so the
    // time is a lower bound ("≥ 4:07"), not a fact.
    const exact = a.state_since_exact === false ? "0" : "1";
    const name = a.name || a.user;
    const length = name.length > 26 ? " xlong" : name.length > 18 ? " long" : "";
    const since = Date.parse(a.state_since);
    return `<div class="agent st-${esc(a.state)}" data-user="${esc(a.user)}" data-state="${esc(a.state)}">` +
      `<span class="name${length}">${esc(name)}</span>` +
      `<span class="since" data-since="${isFinite(since) ? since : ""}" data-exact="${exact}"></span>` +
      `<span class="state">${esc(word)}</span></div>`;
  }

  // How many tiles one page holds: the grid's columns times the rows that fit its height.
  function agentCapacity() {
    const cs = getComputedStyle(agentsBox);
    const cols = cs.gridTemplateColumns.split(" ").filter((t) => t && t !== "none").length || 1;
    const rowH = parseFloat(cs.gridAutoRows) || 60;
    const gap = parseFloat(cs.rowGap) || 0;
    const height = agentsBox.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    return {cols, rows: Math.max(1, Math.floor((height + gap) / (rowH + gap)))};
  }

  // Every agent is shown: when they do not all fit, the grid pages through them by itself
  // ("page 2/3"), each page for PAGE_EVERY. Never a "+N more" tile.
  // A small floor gets bigger tiles: the largest scale at which every agent fits on one page.
  // Just under 1 is tried last, to spare a page turn; paging itself goes back to 1.
  const SCALES = [2, 1.6, 1.35, 1.15, 1, 0.9];
  let baseRow = 0;
  function renderAgents() {
    if (!SHOW_AGENTS || !latest) return;
    const agents = latest.agents || [];
    agentsBox.style.gridAutoRows = "";  // the stylesheet's row height, for the sums below
    let cols = 1, rows = 1;
    for (const k of SCALES.concat([1])) {
      agentsBox.style.setProperty("--k", String(k));
      ({cols, rows} = agentCapacity());
      if (cols * rows >= agents.length) break;
    }
    agentsBox.dataset.scale = agentsBox.style.getPropertyValue("--k");
    baseRow = parseFloat(getComputedStyle(agentsBox).gridAutoRows) || 60;
    let per = cols * rows;
    let pages = Math.max(1, Math.ceil(agents.length / per));
    agentPage %= pages;
    for (let attempt = 0; attempt < 3; attempt++) {
      agentsBox.innerHTML = agents.slice(agentPage * per, agentPage * per + per).map(agentTile).join("");
      if (agentsBox.scrollHeight <= agentsBox.clientHeight + 1 || per <= cols) break;
      per -= cols;  // rounding left a row hanging off the bottom: one row fewer per page
      pages = Math.max(1, Math.ceil(agents.length / per));
      agentPage %= pages;
    }
    // The rows that fit share the height, so no strip is left empty under the last one.
    const cs = getComputedStyle(agentsBox);
    const gap = parseFloat(cs.rowGap) || 0;
    const usedRows = Math.ceil(Math.min(per, agents.length) / cols);
    const fullRows = Math.floor(per / cols);
    if (pages > 1 || usedRows === fullRows) {
      const stretched = (agentsBox.clientHeight - (fullRows - 1) * gap) / fullRows;
      agentsBox.style.gridAutoRows = Math.floor(Math.min(stretched, 1.5 * baseRow)) + "px";
    }
    agentsBox.dataset.page = String(agentPage + 1);
    agentsBox.dataset.pages = String(pages);
    const pager = el("pager");
    const first = agents.length ? agentPage * per + 1 : 0;
    const lastShown = Math.min(agents.length, (agentPage + 1) * per);
    pager.textContent = !agents.length ? (everFetched("logged_in_agents") ? "no agents logged in" : "agents unknown") :
      pages > 1 ? `page ${agentPage + 1}/${pages} · agents ${first}–${lastShown} of ${agents.length}` : plural(agents.length, "agent");
    pager.className = pages > 1 ? "paging" : "";
    tickAgents();
    shrinkNames();
  }

  // A name keeps its two lines; a long one gets a smaller font rather than an ellipsis.
  function shrinkNames() {
    agentsBox.querySelectorAll(".agent .name").forEach((node) => {
      let size = parseFloat(getComputedStyle(node).fontSize);
      let guard = 8;
      while (node.scrollHeight > node.clientHeight + 1 && guard-- > 0) {
        size *= 0.88;
        node.style.fontSize = size + "px";
      }
    });
  }

  // The instant the tiles' times count to: the server's now, or, while the agents are stale,
  // their last good poll (a frozen "time in state as of then" is true; a ticking one is not).
  function agentsNow() {
    const now = serverNow();
    const status = ((fresh && fresh.sources) || {}).logged_in_agents;
    if (now === null || !status || !status.stale || !status.last_success) return now;
    return Math.min(now, Date.parse(status.last_success));
  }

  // Each tile's own timer and colour, from its agent's `state_since` and the server's now.
  function tickAgents() {
    const now = agentsNow();
    agentsBox.querySelectorAll(".agent").forEach((tile) => {
      const node = tile.querySelector(".since");
      const since = Number(node.dataset.since);
      if (now === null || !node.dataset.since || !isFinite(since)) { node.textContent = "–"; return; }
      const elapsed = (now - since) / 1000;
      node.textContent = (node.dataset.exact === "0" ? "≥ " : "") + duration(elapsed);
      const t = "t" + tier(tile.dataset.state, elapsed);
      if (tile.dataset.tier !== t) {
        if (tile.dataset.tier) tile.classList.remove(tile.dataset.tier);
        tile.classList.add(t);
        tile.dataset.tier = t;
      }
    });
  }

  function renderLegend() {
    const sw = (state, t, text) => `<span class="sw st-${state} ${t}">${text}</span>`;
    el("legend").innerHTML =
      `<span class="lg"><b>Waiting</b>${sw("waiting", "t1", "0")}${sw("waiting", "t2", "1m")}${sw("waiting", "t3", "5m")}</span>` +
      `<span class="lg"><b>In call</b>${sw("incall", "t0", "0")}${sw("incall", "t1", "10s")}${sw("incall", "t2", "1m")}${sw("incall", "t3", "5m")}</span>` +
      `<span class="lg"><b>Paused</b>${sw("paused", "t0", "0")}${sw("paused", "t1", "10s")}${sw("paused", "t2", "1m")}${sw("paused", "t3", "5m")}</span>` +
      `<span class="lg">${sw("dispo", "", "dispo")}${sw("dial", "", "dialing")}${sw("dead", "", "dead call")}</span>` +
      `<span class="lg note">≥ time at least (seen already in that state)</span>`;
  }

  // ------------------------------------------------------------------------------ render
  // Banners take room from the agent tiles: re-fit them whenever one comes or goes.
  let bannersShown = "";
  function renderStatus() {
    const lost = connectionLost();
    renderConnection(lost);
    renderFreshness(lost);
    renderClock();
    tickAgents();
    const shown = String(bannersHeight());  // the text changes every second, the height rarely
    if (latest && shown !== bannersShown) layout();
    bannersShown = shown;
  }

  function layout() {
    if (!latest) return;
    if (SHOW_CAMPAIGNS) renderCampaigns();
    renderAgents();
  }

  function render() {
    el("inbound").textContent = everFetched("in_group_status") ? num(latest.inbound_calls_waiting) : "–";
    renderAlerts();
    renderStatus();  // first: the banners change the room left for the rest
    layout();
  }

  // ------------------------------------------------------------------------- connection
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
      checkVersion(fresh.version);
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

  // Go to a page only once the server answers for it: a TV must never be left on the
  // browser's own error page, which nothing would ever reload.
  let leaving = false;
  function goTo(url) {
    if (leaving) return;
    leaving = true;
    fetch(url, {cache: "no-store", credentials: "same-origin"}).then((answer) => {
      if (answer.ok) location.assign(url); else leaving = false;
    }, () => { leaving = false; });
  }

  // A new deployment: the heartbeat's version differs from the one this page started with.
  function checkVersion(v) {
    if (!v) return;
    if (version === null) version = v;
    body.dataset.version = version;
    if (v !== version) setTimeout(() => goTo(location.href), Math.random() * 2000);
  }

  // ?rotate=a,b&every=30s: the next board of the list, same options, while the server is up.
  function rotate() {
    if (ROTATION.length < 2 && !(ROTATION.length === 1 && ROTATION[0] !== board)) return;
    const at = ROTATION.indexOf(board);
    const next = ROTATION[(at + 1) % ROTATION.length];
    if (next === board || connectionLost()) return;
    goTo("/boards/" + encodeURIComponent(next) + location.search);
  }

  setInterval(() => {
    renderStatus();
    // Silent for three periods: the stream is dead even if the socket says otherwise
    // (a half-open connection, a proxy holding it): replace it.
    if (Date.now() - Math.max(lastEventAt, connectedAt) > RECONNECT_AFTER) reconnectSoon();
  }, Math.min(1000, PERIOD / 2));
  setInterval(() => {
    if (!latest) return;
    const agentPages = Number(agentsBox.dataset.pages || 1), campaignPages = Number(campaignsBox.dataset.pages || 1);
    if (agentPages > 1) { agentPage = (agentPage + 1) % agentPages; renderAgents(); }
    if (campaignPages > 1) { campaignPage = (campaignPage + 1) % campaignPages; layout(); }
  }, PAGE_EVERY);
  if (ROTATION.length) setInterval(rotate, ROTATE_EVERY);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(layout, 100);
  });
  renderLegend();
  renderStatus();
  connect();
})();
