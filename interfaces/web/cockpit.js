// QuantDesk cockpit: vanilla ES2020, no build step, no CDN. Every string that reaches
// innerHTML goes through the `html` template tag, which escapes what it interpolates.
// Panels load over the /v1 API with the key from sessionStorage (never in a URL); the
// desk's `changed` events (SSE over fetch, so the key travels in a header) refresh only
// the panels whose topic changed. Plotly (4.8 MB) is fetched once every panel has shown
// its figures, and charts are drawn when it is ready.
"use strict";

(() => {
  // ---------------------------------------------------------------- helpers
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  class Safe {
    constructor(text) { this.text = text; }
    toString() { return this.text; }
  }
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };
  const esc = (value) => String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
  const part = (value) => {
    if (value instanceof Safe) return value.text;
    if (Array.isArray(value)) return value.map(part).join("");
    if (value === null || value === undefined || value === false) return "";
    return esc(value);
  };
  /** Template tag: interpolated values are escaped unless they are already `html`. */
  const html = (strings, ...values) => {
    let out = strings[0];
    values.forEach((value, i) => { out += part(value) + strings[i + 1]; });
    return new Safe(out);
  };
  const setHtml = (el, content) => { if (el) el.innerHTML = part(content); };

  const isNum = (x) => typeof x === "number" && Number.isFinite(x);
  const num = (x, digits = 2) => (isNum(x)
    ? x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    : (x === null || x === undefined ? "–" : String(x)));
  const qty = (x) => num(x, 6);
  const money = (x, digits = 0) => (isNum(x)
    ? x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "–");
  const pct = (x, digits = 1) => (isNum(x) ? `${(x * 100).toFixed(digits)}%` : "–");
  const signClass = (x) => (isNum(x) && x < 0 ? "neg" : isNum(x) && x > 0 ? "pos" : "");
  const when = (iso) => {
    if (!iso) return "–";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().replace("T", " ").slice(0, 16) + "Z";
  };
  const day = (iso) => (iso ? String(iso).slice(0, 10) : "–");
  const duration = (seconds) => {
    if (!isNum(seconds)) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 90) return `${s}s`;
    if (s < 5400) return `${Math.round(s / 60)}m`;
    if (s < 172800) return `${(s / 3600).toFixed(1)}h`;
    return `${Math.round(s / 86400)}d`;
  };
  const ago = (iso) => {
    if (!iso) return "–";
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso);
    return `${duration((now() - t) / 1000)} ago`;
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const short = (id) => (id ? String(id).slice(0, 8) : "");

  const state = {
    key: "",
    me: null,
    gen: 0, // bumps when the key changes: stale loops and responses stop
    skewMs: 0, // server clock minus ours, from the Date header
    data: {},
    attempted: new Set(),
    plotly: "no", // no | loading | ready | failed
    live: false,
    reasons: new Map(), // thread id -> reason typed in its card
    selectedSeries: "",
  };
  const now = () => Date.now() + state.skewMs;
  // Timings the benchmark and the test read (performance.now() milliseconds).
  window.__cockpit = { firstData: {}, allDataAt: null, plotlyAt: null, chartsAt: null };

  // ---------------------------------------------------------------- HTTP
  class HttpError extends Error {
    constructor(status, detail) { super(`${status}: ${detail}`); this.status = status; this.detail = detail; }
  }
  async function httpError(response) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      const d = body && body.detail !== undefined ? body.detail : body;
      detail = typeof d === "string" ? d : JSON.stringify(d);
    } catch (_) { /* not JSON */ }
    return new HttpError(response.status, detail);
  }
  async function api(path, { method = "GET", body, signal, accept } = {}) {
    const headers = { "X-API-Key": state.key };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (accept) headers.Accept = accept;
    const response = await fetch(path, {
      method, headers, signal, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw await httpError(response);
    return response;
  }
  const getJson = (path) => api(path).then((r) => r.json());
  const postJson = (path, body) => api(path, { method: "POST", body }).then((r) => r.json());

  /** Read a server-sent event stream from a fetch response; calls onEvent(name, data). */
  async function readSse(response, onEvent, onAny) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (onAny) onAny();
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const chunk = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = "message";
        const data = [];
        for (const line of chunk.split("\n")) {
          if (!line || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? "" : line.slice(colon + 1);
          if (val.startsWith(" ")) val = val.slice(1);
          if (field === "event") name = val;
          else if (field === "data") data.push(val);
        }
        if (!data.length) { if (name !== "message") onEvent(name, null); continue; }
        let parsed;
        try { parsed = JSON.parse(data.join("\n")); } catch (_) { parsed = data.join("\n"); }
        onEvent(name, parsed);
      }
    }
  }

  // ---------------------------------------------------------------- tables
  function cell(value) {
    if (value === null || value === undefined) return "–";
    if (isNum(value)) return num(value, Math.abs(value) >= 1000 ? 0 : 4);
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }
  /** A small table from a list of row objects (a tool's result in a chat step). */
  function rowsTable(rows, maxRows = 12) {
    if (!Array.isArray(rows) || !rows.length) return html``;
    const cols = [];
    for (const row of rows.slice(0, 50)) {
      if (row && typeof row === "object") for (const k of Object.keys(row)) if (!cols.includes(k)) cols.push(k);
    }
    const shown = cols.slice(0, 8);
    const body = rows.slice(0, maxRows).map((row) => html`<tr>${shown.map((k, i) => {
      const v = row && typeof row === "object" ? row[k] : row;
      return html`<td class="${i === 0 || !isNum(v) ? "t" : ""}">${cell(v)}</td>`;
    })}</tr>`);
    const more = rows.length > maxRows ? html`<p class="meta">${rows.length - maxRows} more rows</p>` : "";
    return html`<div class="scroll"><table class="rows"><thead><tr>${shown.map((k) => html`<th class="t">${k}</th>`)}</tr></thead><tbody>${body}</tbody></table></div>${more}`;
  }

  // ---------------------------------------------------------------- panel machinery
  const PANELS = ["state", "approvals", "portfolio", "market", "strategies", "agents", "audit"];
  const TOPICS = {
    approvals: ["approvals"],
    state: ["state", "strategies"],
    portfolio: ["portfolio"],
    orders: ["portfolio", "market", "audit"],
    audit: ["audit"],
    agents: ["agents"],
    market: ["market"],
    strategies: ["strategies"],
  };
  const loaders = {};
  const running = {};
  const dirty = {};

  function panelError(name, err) {
    const box = $(`#${name} > .panel-error`);
    if (!box) return;
    if (!err) { box.hidden = true; box.textContent = ""; return; }
    let text = err.message || String(err);
    if (err.status === 403) text = "Your role cannot read this panel.";
    else if (err.status === 404) text = `Not available on this desk (${err.detail || "404"}).`;
    box.textContent = text;
    box.hidden = false;
  }
  function stamp(name, live) {
    const section = $(`#${name}`);
    if (!section) return;
    const label = $(".updated", section);
    if (label) label.textContent = `updated ${new Date().toTimeString().slice(0, 8)}`;
    if (!section.dataset.loaded) {
      section.dataset.loaded = "1";
      window.__cockpit.firstData[name] = performance.now();
    }
    if (live) {
      section.classList.add("flash");
      setTimeout(() => section.classList.remove("flash"), 600);
    }
  }

  /** Load one panel; a refresh asked for while it loads runs once more after it. */
  function refresh(name, live = false) {
    if (!state.me || !loaders[name]) return Promise.resolve();
    if (running[name]) { dirty[name] = true; return running[name]; }
    const gen = state.gen;
    running[name] = (async () => {
      do {
        dirty[name] = false;
        try {
          await loaders[name](gen);
          if (gen !== state.gen) return;
          panelError(name, null);
          stamp(name, live);
        } catch (err) {
          if (gen !== state.gen) return;
          panelError(name, err);
          if (err.status === 401) { authLost(err); return; }
        }
      } while (dirty[name]);
    })().finally(() => {
      running[name] = null;
      state.attempted.add(name);
      afterFirstRender();
      if (dirty[name] && gen === state.gen) refresh(name, live); // asked for as it ended
    });
    return running[name];
  }
  const refreshAll = (live = false) => Promise.all(PANELS.map((name) => refresh(name, live)));
  function onChanged(topics) {
    const names = new Set();
    for (const topic of topics || []) for (const name of TOPICS[topic] || []) names.add(name);
    for (const name of names) refresh(name, true);
  }

  function afterFirstRender() {
    if (state.plotly !== "no") return;
    if (!PANELS.every((name) => state.attempted.has(name))) return;
    if (!window.__cockpit.allDataAt) window.__cockpit.allDataAt = performance.now();
    loadPlotly();
  }
  function loadPlotly() {
    if (window.Plotly) { state.plotly = "ready"; drawCharts(); return; }
    state.plotly = "loading";
    const script = document.createElement("script");
    script.src = "/static/plotly.min.js";
    script.async = true;
    script.onload = () => {
      state.plotly = window.Plotly ? "ready" : "failed";
      window.__cockpit.plotlyAt = performance.now();
      drawCharts();
      window.__cockpit.chartsAt = performance.now();
    };
    script.onerror = () => {
      state.plotly = "failed";
      for (const el of $$(".chart-wait")) el.textContent = "charts are unavailable (plotly did not load); the figures above stand";
    };
    document.head.appendChild(script);
  }
  function drawCharts() {
    drawEquity();
    drawPrice();
  }
  const PLOT_CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
  function plotLayout(extra) {
    return {
      margin: { l: 56, r: 12, t: 8, b: 30 },
      paper_bgcolor: "#fff",
      plot_bgcolor: "#fff",
      font: { family: "system-ui, sans-serif", size: 11, color: "#1d2330" },
      showlegend: false,
      hovermode: "x unified",
      ...extra,
    };
  }

  // ---------------------------------------------------------------- session and roles
  function setStatus(text) { $("#status").textContent = text || ""; }
  function setLive(mode, title) {
    const el = $("#live");
    el.className = `live ${mode === "live" ? "on" : mode === "retry" ? "retry" : "off"}`;
    el.textContent = mode === "live" ? "live" : mode === "retry" ? "reconnecting" : mode === "poll" ? "polling" : "offline";
    el.title = title || "live updates";
    state.live = mode === "live";
  }
  function applyRoles() {
    const may = (state.me && state.me.may) || {};
    $("#chat-form").hidden = !may.chat;
    $("#message").disabled = !may.chat;
    $("#send").disabled = !may.chat;
    $("#chat-readonly").hidden = !state.me || !!may.chat;
    $("#halt-form").hidden = !may.halt;
    $("#rearm-form").hidden = !may.rearm;
    document.body.dataset.role = state.me ? state.me.role : "";
  }
  function authLost(err) {
    state.me = null;
    state.gen += 1;
    stopEvents();
    applyRoles();
    $("#me").textContent = "";
    setStatus(err.status === 401 ? "this API key is not accepted" : err.message);
  }

  async function start() {
    state.gen += 1;
    const gen = state.gen;
    stopEvents();
    state.me = null;
    state.attempted.clear();
    applyRoles();
    $("#me").textContent = "";
    if (!state.key) { setStatus("enter an API key"); setLive("off"); return; }
    setStatus("");
    try {
      const response = await api("/v1/me");
      const served = Date.parse(response.headers.get("date") || "");
      if (!Number.isNaN(served) && Math.abs(served - Date.now()) > 3000) state.skewMs = served - Date.now();
      const me = await response.json();
      if (gen !== state.gen) return;
      state.me = me;
    } catch (err) {
      if (gen !== state.gen) return;
      setStatus(err.status === 401 ? "this API key is not accepted" : `cannot reach the desk: ${err.message}`);
      return;
    }
    $("#me").textContent = `${state.me.name} (${state.me.role})`;
    applyRoles();
    refreshAll();
    listen(gen);
  }

  // ---------------------------------------------------------------- live updates
  let eventsAbort = null;
  let pollTimer = null;
  function stopEvents() {
    if (eventsAbort) eventsAbort.abort();
    eventsAbort = null;
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
    setLive("off");
  }
  async function listen(gen) {
    let backoff = 1000;
    let connectedBefore = false;
    while (gen === state.gen) {
      const controller = new AbortController();
      eventsAbort = controller;
      let watchdog = null;
      const kick = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), 75000); // no ping for too long
      };
      try {
        const response = await fetch("/v1/events", {
          headers: { "X-API-Key": state.key, Accept: "text/event-stream" },
          signal: controller.signal,
          cache: "no-store",
        });
        if (response.status === 401) { authLost(await httpError(response)); return; }
        if (response.status === 404 || response.status === 405) {
          // No event stream on this desk: poll instead.
          setLive("poll", "this desk has no event stream; panels refresh every 15 s");
          pollTimer = setInterval(() => refreshAll(true), 15000);
          return;
        }
        if (!response.ok) throw await httpError(response);
        setLive("live");
        if (connectedBefore) refreshAll(true); // changes may have been missed meanwhile
        connectedBefore = true;
        backoff = 1000;
        kick();
        await readSse(response, (name, data) => {
          if (name === "changed" && data) onChanged(data.topics);
        }, kick);
      } catch (err) {
        if (gen !== state.gen) return;
      } finally {
        clearTimeout(watchdog);
      }
      if (gen !== state.gen) return;
      setLive("retry", `reconnecting in ${Math.round(backoff / 1000)} s`);
      await sleep(backoff + Math.random() * 500);
      backoff = Math.min(backoff * 2, 30000);
    }
  }

  // ---------------------------------------------------------------- chat
  const chat = { busy: false, queue: [], seq: 0 };
  const THREAD_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

  function threadId() { return ($("#thread").value || "web").trim() || "web"; }
  function renderQueue() {
    const list = $("#queued");
    setHtml(list, chat.queue.map((item) => html`<li data-id="${item.id}"><span class="q-text">${item.text}</span> <span class="count">(thread ${item.thread})</span> <button type="button" class="unqueue" title="remove from the queue" aria-label="remove from the queue">×</button></li>`));
    list.hidden = !chat.queue.length;
    const busy = $("#chat-busy");
    busy.hidden = !chat.busy;
    busy.textContent = chat.busy
      ? `A turn is running; messages you send now wait their turn${chat.queue.length ? ` (${chat.queue.length} queued)` : ""}.`
      : "";
    $("#send").textContent = chat.busy ? "Queue" : "Send";
  }
  function submitChat(text) {
    const item = { id: ++chat.seq, text, thread: threadId() };
    if (chat.busy) { chat.queue.push(item); renderQueue(); return; }
    runTurn(item);
  }
  function newTurn(item) {
    const box = $("#turns");
    const empty = $(".empty", box);
    if (empty) empty.remove();
    const block = document.createElement("article");
    block.className = "turn running";
    block.dataset.thread = item.thread;
    block.dataset.testid = "turn";
    setHtml(block, html`<div class="ask spinner"><span class="who">${state.me ? state.me.name : "you"}:</span> ${item.text} <span class="thread-tag">· thread ${item.thread}</span></div><div class="steps"></div>`);
    box.appendChild(block);
    box.scrollTop = box.scrollHeight;
    return block;
  }
  function addToTurn(block, content, cls) {
    const div = document.createElement("div");
    div.className = cls;
    setHtml(div, content);
    $(".steps", block).appendChild(div);
    const box = $("#turns");
    box.scrollTop = box.scrollHeight;
    return div;
  }
  function onTurnEvent(block, name, data) {
    const kind = (data && data.event) || name;
    if (kind === "step") {
      const text = data.text || "";
      const table = Array.isArray(data.table) && data.table.length ? rowsTable(data.table) : "";
      if (!text && !table) addToTurn(block, html`<span class="agent">${data.agent}</span> ran`, "step quiet");
      else addToTurn(block, html`<span class="agent">${data.agent}:</span> ${text}${table}`, "step");
      block.dataset.agents = `${block.dataset.agents || ""} ${data.agent}`.trim();
    } else if (kind === "approval") {
      const card = data.request || {};
      const order = card.order || {};
      const description = (card.action_requests && card.action_requests[0] && card.action_requests[0].description)
        || `${order.side} ${qty(order.quantity)} ${order.symbol}`;
      block.dataset.pending = data.thread_id || block.dataset.thread;
      addToTurn(block, html`Waiting for approval: ${description}. It is answered in the <a href="#approvals">Approvals panel</a>${card.approvals_needed > 1 ? ` (${card.approvals_needed} approvers)` : ""}.`, "approval-note");
      refresh("approvals", true);
    } else if (kind === "error") {
      block.classList.add("failed");
      addToTurn(block, html`${data.error || data.detail || JSON.stringify(data)}`, "error");
    } else if (kind === "done") {
      block.dataset.done = "1";
    }
  }
  async function runTurn(item) {
    chat.busy = true;
    renderQueue();
    const block = newTurn(item);
    try {
      if (!THREAD_RE.test(item.thread)) throw new Error(`thread "${item.thread}": letters, digits and _ . : - only, 64 at most`);
      const response = await api(`/v1/chat/${encodeURIComponent(item.thread)}/stream`, {
        method: "POST", body: { message: item.text }, accept: "text/event-stream",
      });
      await readSse(response, (name, data) => onTurnEvent(block, name, data || {}));
    } catch (err) {
      block.classList.add("failed");
      const text = err.status === 409 ? `another turn is running on thread ${item.thread}: ${err.detail}` : err.message;
      addToTurn(block, html`${text}`, "error");
    }
    block.classList.remove("running");
    $(".ask", block).classList.remove("spinner");
    block.dataset.finished = "1";
    if (!state.live) refreshAll(true);
    const next = chat.queue.shift();
    if (next) { runTurn(next); return; }
    chat.busy = false;
    renderQueue();
  }

  // ---------------------------------------------------------------- approvals
  function riskSummary(risk) {
    if (!risk || typeof risk !== "object") return "";
    const known = [
      ["equity", "equity", money], ["gross_exposure", "gross", money], ["net_exposure", "net", money],
      ["var_95", "VaR 95", money], ["expected_shortfall_95", "ES 95", money],
      ["annual_volatility", "vol", (x) => pct(x)], ["trading_state", "state", String],
    ];
    let items = known.filter(([k]) => risk[k] !== undefined && risk[k] !== null)
      .map(([k, label, fmt]) => html`<span>${label} <b>${fmt(risk[k])}</b></span>`);
    if (!items.length) {
      items = Object.entries(risk).filter(([, v]) => isNum(v) || typeof v === "string").slice(0, 5)
        .map(([k, v]) => html`<span>${k} <b>${isNum(v) ? num(v) : v}</b></span>`);
    }
    return items.length ? html`<div class="row risk">risk: ${items}</div>` : "";
  }
  function countdown(expires) {
    const left = (Date.parse(expires) - now()) / 1000;
    if (Number.isNaN(left)) return { text: "–", cls: "" };
    if (left <= 0) return { text: "expired", cls: "expired" };
    const m = Math.floor(left / 60);
    const s = Math.floor(left % 60);
    return { text: `${m}:${String(s).padStart(2, "0")} left`, cls: left < 60 ? "urgent" : "" };
  }
  function tickCountdowns() {
    for (const el of $$("[data-expires]")) {
      const { text, cls } = countdown(el.dataset.expires);
      el.textContent = text;
      el.className = `countdown ${cls}`;
    }
  }
  function renderApprovals(items) {
    const box = $("#approval-cards");
    const focused = document.activeElement && document.activeElement.classList.contains("reason")
      ? document.activeElement.closest(".card").dataset.thread : null;
    $("#approvals-count").textContent = items.length ? `(${items.length})` : "";
    if (!items.length) { setHtml(box, html`<p class="empty">none</p>`); return; }
    const may = state.me.may || {};
    setHtml(box, items.map(({ thread_id: thread, request: card }) => {
      const order = card.order || {};
      const needed = card.approvals_needed || 1;
      const by = card.approved_by || [];
      const cd = countdown(card.expires_at);
      const mine = isMine(by);
      const actions = may.approve ? html`
        <form class="inline-form answer" data-thread="${thread}">
          <input class="reason" placeholder="reason (required to reject)" maxlength="1000" autocomplete="off" aria-label="reason" value="${state.reasons.get(thread) || ""}">
          <button type="button" class="approve" data-decision="approve"${mine ? html` disabled title="you have approved; a different approver is needed"` : ""}>Approve</button>
          <button type="button" class="reject" data-decision="reject">Reject</button>
        </form>` : "";
      return html`<article class="card" data-thread="${thread}" data-order="${order.order_id}" data-approved="${by.length}" data-testid="approval-card">
        <div class="order-line"><b>${order.side} ${qty(order.quantity)} ${order.symbol}</b>
          ${order.limit_price !== null && order.limit_price !== undefined ? html`limit ${num(order.limit_price)}` : "market"}</div>
        <div class="row">strategy <b>${order.strategy_id}</b> · notional <b>${money(card.notional)}</b> · thread ${thread}</div>
        <div class="row">gate: ${(card.gate_reasons || []).map((r) => html`<span class="chip">${r}</span>`)}</div>
        ${riskSummary(card.risk)}
        <div class="row approvers"><b>${by.length} of ${needed}</b> approval${needed > 1 ? "s" : ""}${by.length ? html`: ${by.join(", ")}` : " so far"}
          · <span class="countdown ${cd.cls}" data-expires="${card.expires_at}">${cd.text}</span></div>
        ${mine && by.length < needed ? html`<div class="row meta">You have approved; ${needed - by.length} more from a different approver.</div>` : ""}
        ${actions}
        <p class="result"></p>
      </article>`;
    }));
    if (focused) {
      const input = $(`.card[data-thread="${CSS.escape(focused)}"] .reason`, box);
      if (input) { input.focus(); input.setSelectionRange(input.value.length, input.value.length); }
    }
  }
  /** Whether the caller is among those who approved (the desk records "api:<name>"). */
  function isMine(names) {
    if (!state.me) return false;
    const me = state.me.name;
    return (names || []).some((n) => n === me || String(n).endsWith(`:${me}`));
  }
  loaders.approvals = async (gen) => {
    const items = await getJson("/v1/approvals");
    if (gen !== state.gen) return;
    state.data.approvals = items;
    renderApprovals(items);
  };
  function logApproval(content, cls) {
    const log = $("#approval-log");
    const li = document.createElement("li");
    if (cls) li.className = cls;
    setHtml(li, content);
    log.prepend(li);
    while (log.children.length > 8) log.lastChild.remove();
  }
  async function answer(card, decision) {
    const thread = card.dataset.thread;
    const input = $(".reason", card);
    const result = $(".result", card);
    const reason = input.value.trim();
    if (decision === "reject" && !reason) {
      result.className = "result error";
      result.textContent = "A reason is required to reject.";
      input.focus();
      return;
    }
    for (const b of $$("button", card)) b.disabled = true;
    result.className = "result";
    result.textContent = `${decision === "approve" ? "approving" : "rejecting"}…`;
    const verb = decision === "approve" ? "approved" : "rejected";
    try {
      const turn = await postJson(`/v1/approvals/${encodeURIComponent(thread)}/${decision}`, {
        reason: reason || `${verb} on the cockpit`,
      });
      state.reasons.delete(thread);
      const answers = (turn.answers || []).join(" ");
      const before = Number(card.dataset.approved || 0);
      const after = turn.pending ? (turn.pending.approved_by || []).length : null;
      if (decision === "approve" && turn.pending && after <= before) {
        // The desk kept the order waiting without counting this answer (the same
        // approver twice): say so rather than look like progress.
        const why = answers || `not counted: ${after} of ${turn.pending.approvals_needed} approvals so far, and another answer from ${state.me.name} does not add one; a different approver is needed`;
        result.className = "result error";
        result.textContent = why;
        logApproval(html`<b>${state.me.name}</b> on thread ${thread}: ${why}`, "error");
        refresh("approvals", true);
        return;
      }
      const still = turn.pending
        ? ` Still waiting: ${after} of ${turn.pending.approvals_needed} approvals.`
        : "";
      result.textContent = `${answers}${still}`;
      logApproval(html`<b>${state.me.name}</b> ${verb} thread ${thread}: ${answers}${still}`);
      for (const block of $$(`.turn[data-pending="${CSS.escape(thread)}"]`)) {
        addToTurn(block, html`<span class="agent">${decision} by ${state.me.name}:</span> ${answers}${still}`, "step");
      }
    } catch (err) {
      result.className = "result error";
      result.textContent = err.message;
      logApproval(html`${decision} on thread ${thread} failed: ${err.message}`, "error");
      for (const b of $$("button", card)) b.disabled = false;
    }
    refresh("approvals", true);
    if (!state.live) { refresh("portfolio"); refresh("audit"); }
  }

  // ---------------------------------------------------------------- trading state
  loaders.state = async (gen) => {
    const s = await getJson("/v1/trading-state");
    if (gen !== state.gen) return;
    state.data.state = s;
    const value = $("#state-value");
    const name = String(s.state || "unknown").toLowerCase();
    value.textContent = name.toUpperCase();
    value.className = `state-value ${name}`;
    setHtml($("#state-meta"), s.changed_by || s.reason || s.at
      ? html`by <b>${s.changed_by || "–"}</b>${s.reason ? html` · ${s.reason}` : ""}${s.at ? html` · ${when(s.at)}` : ""}`
      : html`no change recorded`);
    const history = s.history || [];
    setHtml($("#state-history ol"), history.slice(0, 20).map((h) => html`<li><b>${String(h.state || "").toUpperCase()}</b> by ${h.actor || "–"}${h.reason ? html`: ${h.reason}` : ""} · ${when(h.at)}${h.scope ? html` · ${h.scope}` : ""}</li>`));
    $("#state-history summary").textContent = `History (${history.length})`;
    $("#halt").disabled = name === "halted";
  };
  async function changeState(kind) {
    const input = $(`#${kind}-reason`);
    const out = $("#state-result");
    const reason = input.value.trim();
    if (!reason) {
      out.className = "result error";
      out.textContent = `A reason is required to ${kind === "halt" ? "halt" : "re-arm"}.`;
      input.focus();
      return;
    }
    const button = $(`#${kind}`);
    button.disabled = true;
    try {
      const r = await postJson(`/v1/gateway/${kind}`, { reason });
      out.className = "result";
      out.textContent = `${String(r.trading_state || "").toUpperCase()} by ${r.actor}: ${r.reason}`;
      input.value = "";
    } catch (err) {
      out.className = "result error";
      out.textContent = err.message;
    }
    button.disabled = false;
    await refresh("state", true);
    if (!state.live) refresh("strategies");
  }

  // ---------------------------------------------------------------- portfolio and risk
  function kpi(label, value, cls = "") {
    return html`<div><dt>${label}</dt><dd class="${cls}">${value}</dd></div>`;
  }
  function barRow(label, figure, fraction, cls = "") {
    const width = Math.max(0, Math.min(1, Math.abs(fraction || 0))) * 100;
    return html`<div class="bar-row ${cls}"><span class="label" title="${label}">${label}</span><div class="bar" role="meter" aria-label="${label}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(Math.abs(fraction || 0) * 100)}"><span style="width:${width.toFixed(1)}%"></span></div><span class="figure">${figure}</span></div>`;
  }
  function unitValue(x, unit) {
    if (unit === "fraction") return pct(x);
    if (unit === "USD") return money(x);
    return num(x, 4);
  }
  function settled(result) { return result.status === "fulfilled" ? result.value : null; }
  loaders.portfolio = async (gen) => {
    const results = await Promise.allSettled([
      getJson("/v1/positions"), getJson("/v1/pnl"), getJson("/v1/risk"),
      getJson("/v1/exposure"), getJson("/v1/limits"),
    ]);
    if (gen !== state.gen) return;
    const [positions, pnl, risk, exposure, limits] = results.map(settled);
    const failed = results.find((r) => r.status === "rejected");
    state.data.pnl = pnl;
    if (positions) state.data.positions = positions;

    const k = [];
    if (pnl) {
      k.push(kpi("equity", money(pnl.equity)), kpi("cash", money(pnl.cash)),
        kpi("realised", money(pnl.realized_pnl), signClass(pnl.realized_pnl)),
        kpi("unrealised", money(pnl.unrealized_pnl), signClass(pnl.unrealized_pnl)),
        kpi("max drawdown", pct(pnl.max_drawdown, 2), signClass(pnl.max_drawdown)));
    }
    if (risk) {
      k.push(kpi("gross", money(risk.gross_exposure)), kpi("net", money(risk.net_exposure)),
        kpi("VaR 95", money(risk.var_95)), kpi("ES 95", money(risk.expected_shortfall_95)),
        kpi("volatility (yr)", pct(risk.annual_volatility)));
    }
    setHtml($("#kpis"), k);

    const body = $("#positions tbody");
    if (positions) {
      const sorted = [...positions].sort((a, b) => `${a.strategy_id}|${a.venue_id}:${a.symbol}`.localeCompare(`${b.strategy_id}|${b.venue_id}:${b.symbol}`));
      setHtml(body, sorted.length ? sorted.map((p) => html`<tr><td>${p.strategy_id}</td><td class="t">${p.venue_id}:${p.symbol}</td><td>${qty(p.quantity)}</td><td>${num(p.average_price)}</td><td class="${signClass(p.realized_pnl)}">${money(p.realized_pnl, 2)}</td><td class="${signClass(p.unrealized_pnl)}">${money(p.unrealized_pnl, 2)}</td></tr>`)
        : html`<tr><td colspan="6" class="empty">no positions</td></tr>`);
    }

    if (limits) {
      setHtml($("#limits"), limits.length ? limits.map((l) => {
        const use = isNum(l.use) ? l.use : (isNum(l.used) && isNum(l.limit) && l.limit ? l.used / l.limit : 0);
        return barRow(l.name, html`${unitValue(l.used, l.unit)} of ${unitValue(l.limit, l.unit)} (${pct(use, 0)})`, use, use > 0.9 ? "hot" : "");
      }) : html`<p class="empty">no limits</p>`);
    }

    if (exposure) {
      const byAsset = new Map();
      for (const e of exposure) {
        const key = e.asset || e.instrument;
        const prev = byAsset.get(key) || { value: 0, share: 0, instruments: [] };
        prev.value += isNum(e.value) ? e.value : 0;
        prev.share += isNum(e.share) ? e.share : 0;
        prev.instruments.push(e.instrument);
        byAsset.set(key, prev);
      }
      const rows = [...byAsset.entries()].sort((a, b) => Math.abs(b[1].value) - Math.abs(a[1].value));
      setHtml($("#exposure"), rows.length ? rows.map(([asset, e]) => barRow(asset, html`${money(e.value)} · ${pct(e.share)} of equity`, e.share, e.value < 0 ? "short" : ""))
        : html`<p class="empty">no exposure</p>`);
    }
    drawEquity();
    if (failed) throw failed.reason;
  };
  function drawEquity() {
    const el = $("#equity-chart");
    const pnl = state.data.pnl;
    if (!pnl || !Array.isArray(pnl.equity_curve)) return;
    const curve = pnl.equity_curve;
    if (state.plotly !== "ready") {
      if (!curve.length) return;
      const last = curve[curve.length - 1];
      const wait = state.plotly === "failed" ? "charts are unavailable" : "chart loading";
      setHtml(el, html`<p class="chart-wait">equity ${money(last.equity)} on ${day(last.ts)} · ${curve.length} points · max drawdown ${pct(pnl.max_drawdown)} (${wait})</p>`);
      return;
    }
    const xs = curve.map((p) => p.ts);
    const eq = curve.map((p) => p.equity);
    let peak = -Infinity;
    const dd = curve.map((p) => {
      if (isNum(p.drawdown)) return p.drawdown * 100;
      peak = Math.max(peak, p.equity);
      return peak > 0 ? (p.equity / peak - 1) * 100 : 0;
    });
    // A short or flat curve (a desk that has just started) still gets readable axes.
    const t0 = Date.parse(xs[0]);
    const t1 = Date.parse(xs[xs.length - 1]);
    const xRange = t1 - t0 < 3 * 86400e3 ? [new Date(t0 - 3 * 86400e3).toISOString(), new Date(t1 + 86400e3).toISOString()] : undefined;
    const lo = Math.min(...eq);
    const hi = Math.max(...eq);
    const pad = hi - lo < Math.abs(hi) * 1e-4 ? Math.max(Math.abs(hi) * 0.005, 1) : 0;
    if (!el.dataset.plotted) el.innerHTML = "";
    el.dataset.plotted = "1";
    window.Plotly.react(el, [
      { x: xs, y: eq, type: "scatter", mode: "lines", name: "equity", line: { color: "#3657c8", width: 2 }, xaxis: "x", yaxis: "y" },
      { x: xs, y: dd, type: "scatter", mode: "lines", name: "drawdown %", fill: "tozeroy", line: { color: "#d92d20", width: 1 }, fillcolor: "#d92d2033", xaxis: "x", yaxis: "y2" },
    ], plotLayout({
      height: 300,
      xaxis: { type: "date", anchor: "y2", showgrid: false, automargin: true, range: xRange, autorange: !xRange },
      yaxis: { domain: [0.36, 1], title: { text: "equity" }, tickformat: ",.0f", automargin: true,
        range: pad ? [lo - pad, hi + pad] : undefined, autorange: !pad },
      yaxis2: { domain: [0, 0.28], title: { text: "DD" }, ticksuffix: "%", automargin: true, rangemode: "tozero" },
    }), PLOT_CONFIG);
  }

  // ---------------------------------------------------------------- strategies and reports
  const pair = (label, backtest, realised) => html`<tr><td>${label}</td><td>${backtest}</td><td>${realised}</td></tr>`;
  function renderStrategy(s) {
    const b = s.backtest || {};
    const r = s.realised || {};
    const params = s.parameters && Object.keys(s.parameters).length
      ? Object.entries(s.parameters).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ") : "";
    const history = s.history || [];
    const stage = String(s.stage || "").toLowerCase();
    return html`<article class="strategy" data-key="${s.key}" data-testid="strategy">
      <div><span class="name">${s.key}</span> <span class="stage ${stage}">${s.stage}</span>
        <span class="meta">${s.kind} · ${s.instrument}${s.risk_class ? html` · class ${s.risk_class}` : ""}${s.trading_state ? html` · ${s.trading_state}` : ""}${s.updated ? html` · ${when(s.updated)}` : ""}</span></div>
      ${params ? html`<div class="meta">${params}</div>` : ""}
      <div class="scroll"><table><thead><tr><th></th><th>backtest</th><th>realised</th></tr></thead><tbody>
        ${pair("Sharpe", html`${num(b.oos_sharpe)}${isNum(b.in_sample_sharpe) ? html` <span class="meta">(in-sample ${num(b.in_sample_sharpe)})</span>` : ""}`, num(r.sharpe))}
        ${pair("max drawdown", pct(b.expected_max_drawdown), "–")}
        ${pair("volatility", pct(b.expected_volatility), "–")}
        ${pair("trades / fills", html`${num(b.trades, 0)}${isNum(b.folds) ? html` <span class="meta">(${b.folds} folds)</span>` : ""}`, num(r.fills, 0))}
        ${pair("PnL realised / unrealised", "–", html`<span class="${signClass(r.realized_pnl)}">${money(r.realized_pnl, 2)}</span> / <span class="${signClass(r.unrealized_pnl)}">${money(r.unrealized_pnl, 2)}</span>`)}
        ${pair("fees · days", "–", html`${money(r.fees, 2)} · ${num(r.days, 0)}`)}
      </tbody></table></div>
      <details><summary>stage history (${history.length})</summary><ol>${history.map((h) => html`<li><b>${h.stage}</b> by ${h.actor || "–"}${h.reason ? html`: ${h.reason}` : ""} · ${when(h.ts)}</li>`)}</ol></details>
    </article>`;
  }
  loaders.strategies = async (gen) => {
    const [strategies, reports] = await Promise.allSettled([getJson("/v1/strategies"), getJson("/v1/reports")]);
    if (gen !== state.gen) return;
    if (strategies.status === "fulfilled") {
      const list = strategies.value;
      // Keep expanded histories open across refreshes.
      const open = new Set($$("#strategy-list .strategy details[open]").map((d) => d.closest(".strategy").dataset.key));
      setHtml($("#strategy-list"), list.length ? list.map(renderStrategy) : html`<p class="empty">no strategies yet: ask the PM to research one</p>`);
      for (const key of open) {
        const d = $(`#strategy-list .strategy[data-key="${CSS.escape(key)}"] details`);
        if (d) d.open = true;
      }
    }
    if (reports.status === "fulfilled") {
      const list = reports.value;
      setHtml($("#reports"), list.length ? list.map((rep) => html`<li><b>${rep.name}</b>: ${(rep.files || []).map((f) => html`<a href="#" class="report-file" data-report="${rep.name}" data-file="${f}">${f}</a>`)}</li>`)
        : html`<li class="empty">no reports yet</li>`);
    }
    const failed = [strategies, reports].find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  };
  /** An HTML report names its pictures by relative path (`positions.png`), which a blob
   * page cannot resolve: each picture of the same report is fetched (with the key) and
   * written into the page as a data URL. */
  async function inlineImages(blob, report) {
    const doc = new DOMParser().parseFromString(await blob.text(), "text/html");
    for (const img of doc.querySelectorAll("img[src]")) {
      const src = img.getAttribute("src");
      if (!/^[A-Za-z0-9_.-]{1,80}$/.test(src)) continue; // only files of this report
      try {
        const picture = await api(`/v1/reports/${encodeURIComponent(report)}/${encodeURIComponent(src)}`).then((r) => r.blob());
        img.setAttribute("src", await new Promise((resolve, reject) => {
          const reader = new FileReader();
          reader.onload = () => resolve(reader.result);
          reader.onerror = () => reject(reader.error);
          reader.readAsDataURL(picture);
        }));
      } catch (_) { /* leave the picture out */ }
    }
    return new Blob([`<!doctype html>\n${doc.documentElement.outerHTML}`], { type: "text/html;charset=utf-8" });
  }
  /** A report file opens in a new tab from a blob: the key travels in a header, never in
   * the tab's URL. The link is rel=noopener, so the report's tab gets no handle on this page
   * and no copy of its sessionStorage (where the key is kept). */
  async function openReport(link) {
    const path = `/v1/reports/${encodeURIComponent(link.dataset.report)}/${encodeURIComponent(link.dataset.file)}`;
    try {
      const response = await api(path);
      const type = (response.headers.get("content-type") || "").split(";")[0].trim();
      let shown = await response.blob();
      if (type === "text/html") shown = await inlineImages(shown, link.dataset.report);
      else if (/^(text\/|application\/json)/.test(type) || link.dataset.file.endsWith(".md")) {
        shown = new Blob([shown], { type: "text/plain;charset=utf-8" }); // shown, not downloaded
      }
      const url = URL.createObjectURL(shown);
      const a = document.createElement("a");
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 120000);
    } catch (err) {
      panelError("strategies", err);
    }
  }

  // ---------------------------------------------------------------- market and data
  const seriesKey = (s) => `${s.instrument}|${s.interval}`;
  loaders.market = async (gen) => {
    const [series, quality] = await Promise.allSettled([getJson("/v1/market/series"), getJson("/v1/market/quality?limit=50")]);
    if (gen !== state.gen) return;
    if (series.status === "fulfilled") renderSeries(series.value);
    if (quality.status === "fulfilled") renderQuality(quality.value);
    await loadBars(gen);
    const failed = [series, quality].find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  };
  function renderSeries(list) {
    state.data.series = list;
    const select = $("#series");
    const keys = list.map(seriesKey);
    if (!keys.includes(state.selectedSeries)) {
      // First choice: a daily series the desk holds a position in, then BTC, then any.
      const held = new Set((state.data.positions || []).map((p) => `${p.venue_id}:${p.symbol}`));
      const daily = list.filter((s) => s.interval === "1d");
      const pick = daily.find((s) => held.has(s.instrument)) || daily.find((s) => /BTC/.test(s.instrument)) || daily[0] || list[0];
      state.selectedSeries = pick ? seriesKey(pick) : "";
    }
    setHtml(select, list.map((s) => html`<option value="${seriesKey(s)}">${s.instrument} ${s.interval}</option>`));
    select.value = state.selectedSeries;
    setHtml($("#series-table tbody"), list.length ? list.map((s) => html`<tr><td>${s.instrument}</td><td>${s.interval}</td><td>${num(s.rows, 0)}</td><td>${day(s.first)}</td><td>${when(s.last)}</td><td class="${isNum(s.lag_s) && s.lag_s > 3 * 86400 ? "neg" : ""}">${duration(s.lag_s)}</td><td class="${s.quarantined ? "neg" : ""}">${num(s.quarantined, 0)}</td></tr>`)
      : html`<tr><td colspan="7" class="empty">no series held: quantdesk data load</td></tr>`);
  }
  function renderQuality(q) {
    const findings = q.findings || [];
    const quarantined = q.quarantined || [];
    $("#quality .count").textContent = `(${findings.length})`;
    $("#quarantine .count").textContent = `(${quarantined.length})`;
    setHtml($("#quality tbody"), findings.length ? findings.map((f) => html`<tr><td>${when(f.ts)}</td><td class="t">${f.instrument} ${f.interval}</td><td class="t">${f.check}</td><td class="t ${f.severity === "error" || f.severity === "critical" ? "neg" : ""}">${f.severity}</td><td>${num(f.rows, 0)}</td><td class="t">${f.action}</td><td class="t wrap">${typeof f.detail === "object" ? JSON.stringify(f.detail) : f.detail}</td></tr>`)
      : html`<tr><td colspan="7" class="empty">no findings</td></tr>`);
    setHtml($("#quarantine tbody"), quarantined.length ? quarantined.map((r) => html`<tr><td>${r.instrument} ${r.interval}</td><td>${when(r.ts)}</td><td>${num(r.close)}</td><td class="t wrap">${(r.reasons || []).join(", ")}</td><td>${when(r.quarantined_at)}</td></tr>`)
      : html`<tr><td colspan="5" class="empty">none quarantined</td></tr>`);
  }
  async function loadBars(gen) {
    if (!state.selectedSeries) { state.data.bars = null; $("#price-summary").textContent = ""; return; }
    const [instrument, interval] = state.selectedSeries.split("|");
    const bars = await getJson(`/v1/market/bars?instrument=${encodeURIComponent(instrument)}&interval=${encodeURIComponent(interval)}&limit=400`);
    if (gen !== state.gen || state.selectedSeries !== `${instrument}|${interval}`) return;
    state.data.bars = bars;
    const list = bars.bars || [];
    const last = list[list.length - 1];
    const fills = bars.fills || [];
    setHtml($("#price-summary"), last
      ? html`${bars.instrument} ${bars.interval}: last close <b>${num(last.close)}</b> on ${when(last.ts)} · ${list.length} bars · ${fills.length} fill${fills.length === 1 ? "" : "s"} of the desk`
      : html`no bars`);
    drawPrice();
  }
  function drawPrice() {
    const el = $("#price-chart");
    const data = state.data.bars;
    if (!data) return;
    const bars = data.bars || [];
    if (state.plotly !== "ready") {
      const wait = state.plotly === "failed" ? "charts are unavailable" : "chart loading";
      setHtml(el, html`<p class="chart-wait">${wait}</p>`);
      return;
    }
    const xs = bars.map((b) => b.ts);
    const ohlc = bars.length && bars.every((b) => isNum(b.open) && isNum(b.high) && isNum(b.low));
    const traces = [ohlc
      ? { type: "candlestick", x: xs, open: bars.map((b) => b.open), high: bars.map((b) => b.high), low: bars.map((b) => b.low), close: bars.map((b) => b.close), name: data.instrument, increasing: { line: { color: "#12b76a", width: 1 } }, decreasing: { line: { color: "#d92d20", width: 1 } } }
      : { type: "scatter", mode: "lines", x: xs, y: bars.map((b) => b.close), name: "close", line: { color: "#3657c8" } }];
    for (const side of ["buy", "sell"]) {
      const fills = (data.fills || []).filter((f) => f.side === side);
      if (!fills.length) continue;
      traces.push({
        type: "scatter", mode: "markers", name: side, x: fills.map((f) => f.ts), y: fills.map((f) => f.price),
        text: fills.map((f) => `${side} ${f.quantity} @ ${f.price} (${f.strategy_id || ""})`), hoverinfo: "text+x",
        marker: { symbol: side === "buy" ? "triangle-up" : "triangle-down", size: 12, color: side === "buy" ? "#12b76a" : "#d92d20", line: { color: "#1d2330", width: 1 } },
      });
    }
    if (!el.dataset.plotted) el.innerHTML = "";
    el.dataset.plotted = "1";
    window.Plotly.react(el, traces, plotLayout({
      height: 280, hovermode: "closest",
      xaxis: { type: "date", rangeslider: { visible: false }, showgrid: false, automargin: true },
      yaxis: { tickformat: ",.2f", automargin: true },
    }), PLOT_CONFIG);
  }

  // ---------------------------------------------------------------- agents
  function statusDot(status) {
    const s = String(status || "").toLowerCase();
    const cls = /error|fail|down|dead|stale/.test(s) ? "bad" : /idle|ok|run|up|ready|active|alive/.test(s) ? "ok" : "warn";
    return html`<span class="dot ${cls}"></span>${status || "–"}`;
  }
  loaders.agents = async (gen) => {
    const a = await getJson("/v1/agents");
    if (gen !== state.gen) return;
    const agents = a.agents || [];
    setHtml($("#agent-table tbody"), agents.length ? agents.map((x) => html`<tr data-agent="${x.name}"><td>${x.name}</td><td class="t">${statusDot(x.status)}</td><td class="t wrap">${x.last_action || "–"}</td><td>${x.last_at ? ago(x.last_at) : "–"}</td><td>${num(x.steps, 0)}</td><td class="${x.errors ? "neg" : ""}" title="${x.last_error || ""}">${num(x.errors, 0)}${x.last_error ? html`<div class="t error">${x.last_error}</div>` : ""}</td></tr>`)
      : html`<tr><td colspan="6" class="empty">no agent has run yet</td></tr>`);
    const bus = a.bus;
    if (!bus) setHtml($("#bus"), html`<p class="empty">no bus</p>`);
    else {
      const services = bus.services || [];
      const head = bus.running ? html`<p class="meta">${statusDot("running")}</p>` : html`<p class="empty">no agent services in this process (quantdesk serve --bus runs them)</p>`;
      setHtml($("#bus"), html`${head}${services.length ? html`<div class="scroll"><table><thead><tr><th>service</th><th>state</th><th>heartbeat</th></tr></thead><tbody>${services.map((s) => html`<tr><td>${s.name}</td><td class="t">${statusDot(s.state)}</td><td class="${isNum(s.heartbeat_age_s) && s.heartbeat_age_s > 30 ? "neg" : ""}">${isNum(s.heartbeat_age_s) ? `${duration(s.heartbeat_age_s)} ago` : "–"}</td></tr>`)}</tbody></table></div>` : ""}`);
    }
    const jobs = a.scheduler;
    if (!jobs) setHtml($("#jobs"), html`<p class="empty">no scheduler in this process</p>`);
    else setHtml($("#jobs"), jobs.length ? html`<div class="scroll"><table><thead><tr><th>job</th><th>cron</th><th>next</th><th>last</th><th class="t">outcome</th></tr></thead><tbody>${jobs.map((j) => html`<tr><td>${j.name}${j.running ? html` <span class="meta">(running)</span>` : ""}</td><td class="t">${j.cron}</td><td>${when(j.next_run)}</td><td>${when(j.last_run)}</td><td class="t">${j.last_outcome || "–"}</td></tr>`)}</tbody></table></div>` : html`<p class="empty">no jobs</p>`);
  };

  // ---------------------------------------------------------------- audit
  function auditQuery() {
    const params = new URLSearchParams();
    const fields = { q: "#audit-q", strategy: "#audit-strategy", instrument: "#audit-instrument", actor: "#audit-actor", since: "#audit-since", until: "#audit-until" };
    for (const [name, sel] of Object.entries(fields)) {
      let v = $(sel).value.trim();
      // A day picked as "until" includes that whole day (UTC, as the desk records).
      if (v && name === "since" && /^\d{4}-\d{2}-\d{2}$/.test(v)) v += "T00:00:00";
      if (v && name === "until" && /^\d{4}-\d{2}-\d{2}$/.test(v)) v += "T23:59:59.999999";
      if (v) params.set(name, v);
    }
    params.set("limit", "100");
    return params.toString();
  }
  /** The PM's parsed intent in one line: its kind, then the fields it set. */
  function intentText(intent) {
    if (!intent) return "–";
    if (typeof intent !== "object") return String(intent);
    const skip = new Set(["kind", "router", "router_note"]);
    const fields = Object.entries(intent)
      .filter(([k, v]) => !skip.has(k) && v !== null && v !== undefined && v !== false && v !== "")
      .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`);
    return `${intent.kind || "intent"}${fields.length ? ` (${fields.join(", ")})` : ""}`;
  }
  /** Consecutive identical verdicts (each approval re-checks the order) as one, counted. */
  function gateRuns(gate) {
    const runs = [];
    for (const g of gate) {
      const last = runs[runs.length - 1];
      const same = last && last.verdict === g.verdict && (last.reason_codes || []).join() === (g.reason_codes || []).join();
      if (same) last.times += 1;
      else runs.push({ ...g, times: 1 });
    }
    return runs;
  }
  function renderTrail(t) {
    const d = t.decision;
    const status = String(t.status || "").toLowerCase();
    return html`<article class="trail" data-order="${t.order_id}" data-testid="trail">
      <div class="head"><b>${t.side} ${qty(t.quantity)} ${t.instrument}</b> <span class="status-chip ${status}">${t.status}</span>
        <span>filled ${qty(t.filled)}</span> <span class="meta">${t.strategy_id} · ${when(t.ts)}</span> <span class="oid" title="${t.order_id}">${t.order_id}</span></div>
      ${d ? html`<div class="part decision"><span class="k">decision</span><div class="v">“${d.request || ""}” → ${intentText(d.intent)} <span class="meta">(routed by ${d.routed_by || "–"}; thread ${d.thread_id || "–"})</span></div></div>` : ""}
      <div class="part gate"><span class="k">gate</span><div class="v">${gateRuns(t.gate || []).length ? gateRuns(t.gate || []).map((g) => html`<div class="verdict"><b>${g.verdict}</b>${(g.reason_codes || []).length ? html` ${g.reason_codes.map((c) => html`<span class="chip">${c}</span>`)}` : ""}${g.times > 1 ? html` ×${g.times}` : ""} <span class="meta">${when(g.ts)}</span></div>`) : "–"}</div></div>
      ${(t.approvals || []).length ? html`<div class="part approvals"><span class="k">approvals</span><div class="v">${t.approvals.map((a) => html`<div>${a.decision} by <b>${a.approver}</b>${a.reason ? html` (${a.reason})` : ""} <span class="meta">${when(a.ts)}</span></div>`)}</div></div>` : ""}
      <div class="part fills"><span class="k">fills</span><div class="v">${(t.fills || []).length ? t.fills.map((f) => html`<div>${qty(f.quantity)} @ ${num(f.price)}${isNum(f.fee) ? html` <span class="meta">fee ${num(f.fee)}</span>` : ""} <span class="meta">${when(f.ts)}</span></div>`) : "none"}</div></div>
    </article>`;
  }
  loaders.audit = async (gen) => {
    const query = auditQuery();
    const a = await getJson(`/v1/audit?${query}`);
    if (gen !== state.gen || query !== auditQuery()) return;
    const trails = a.trails || [];
    const events = a.events || [];
    $("#audit-count").textContent = `${trails.length} order trail${trails.length === 1 ? "" : "s"}, ${events.length} other event${events.length === 1 ? "" : "s"}`;
    setHtml($("#trails"), trails.length ? trails.map(renderTrail) : html`<p class="empty">no orders match</p>`);
    $("#audit-events .count").textContent = `(${events.length})`;
    setHtml($("#audit-events ol"), events.map((e) => html`<li><span class="meta">${when(e.ts)}</span> <b>${e.kind}</b> ${e.actor ? html`by ${e.actor}` : ""}: ${e.summary}</li>`));
  };

  // ---------------------------------------------------------------- wiring
  function wire() {
    const keyInput = $("#key");
    keyInput.value = sessionStorage.getItem("qd-key") || "";
    state.key = keyInput.value.trim();
    keyInput.addEventListener("change", () => {
      const key = keyInput.value.trim();
      if (key === state.key && state.me) return; // the same key again (a blur): keep going
      state.key = key;
      if (state.key) sessionStorage.setItem("qd-key", state.key);
      else sessionStorage.removeItem("qd-key");
      start();
    });
    const thread = $("#thread");
    thread.value = sessionStorage.getItem("qd-thread") || thread.value;
    thread.addEventListener("change", () => sessionStorage.setItem("qd-thread", threadId()));

    $("#chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      if (!state.me || !state.me.may.chat) return;
      const input = $("#message");
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      submitChat(text);
    });
    $("#queued").addEventListener("click", (event) => {
      const button = event.target.closest("button.unqueue");
      if (!button) return;
      const id = Number(button.closest("li").dataset.id);
      chat.queue = chat.queue.filter((item) => item.id !== id);
      renderQueue();
    });

    const cards = $("#approval-cards");
    cards.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-decision]");
      if (button) answer(button.closest(".card"), button.dataset.decision);
    });
    cards.addEventListener("input", (event) => {
      if (event.target.classList.contains("reason")) state.reasons.set(event.target.closest(".card").dataset.thread, event.target.value);
    });
    cards.addEventListener("submit", (event) => event.preventDefault());

    $("#halt-form").addEventListener("submit", (event) => { event.preventDefault(); changeState("halt"); });
    $("#rearm-form").addEventListener("submit", (event) => { event.preventDefault(); changeState("rearm"); });

    $("#reports").addEventListener("click", (event) => {
      const link = event.target.closest("a.report-file");
      if (!link) return;
      event.preventDefault();
      openReport(link);
    });
    $("#series").addEventListener("change", (event) => {
      state.selectedSeries = event.target.value;
      loadBars(state.gen).catch((err) => panelError("market", err));
    });

    let debounce = null;
    const form = $("#audit-form");
    const search = () => { clearTimeout(debounce); debounce = setTimeout(() => refresh("audit"), 300); };
    form.addEventListener("input", search);
    form.addEventListener("change", search);
    form.addEventListener("submit", (event) => { event.preventDefault(); clearTimeout(debounce); refresh("audit"); });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); clearTimeout(debounce); refresh("audit"); }
    });

    setInterval(tickCountdowns, 1000);
    renderQueue();
    start();
  }

  wire();
})();
