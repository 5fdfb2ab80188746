// The coordinator's dashboard: the fleet, starting and stopping runs, live
// charts, run history and report downloads, all through the REST API
// (docs/rest-api.md) with the bearer token the user types in (kept in
// sessionStorage, sent on every call). Everything from the API is put into
// the page as text (textContent), never parsed as HTML.
"use strict";

(function () {
  const TOKEN_KEY = "loadd.token";
  const FINAL = new Set(["finished", "stopped", "failed", "interrupted"]);
  const POLL_MS = 1000;
  const MAX_EP_SAMPLES = 3600;  // per endpoint: an hour of one-second samples

  const $ = function (id) { return document.getElementById(id); };
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || "",
    runId: null,
    run: null,
    charts: null,
    epCharts: null,
    epSamples: new Map(),  // endpoint name -> [{t, requests, failures, p50, p95, p99}]
    timeline: [],          // runId's closed seconds so far (they never change)
    pollSent: 0,           // GET /v1/runs/{id} sent so far
    pollShown: 0,          // the newest shown: older answers, and those sent
                           // before the run was chosen, are dropped
    busy: false,
    timer: null,
  };

  // ---- messages -----------------------------------------------------------

  function showMessage(text, kind) {
    const m = $("message");
    m.textContent = text;
    m.className = kind === "info" ? "info" : "";
    m.hidden = false;
  }
  function clearMessage() { $("message").hidden = true; }

  // ---- the API ------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { "Authorization": "Bearer " + state.token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(path, { method: method, headers: headers, body: body,
                                     cache: "no-store" });
    const text = await resp.text();
    if (resp.status === 401) {
      signOut();
      throw new ApiError(401, "The coordinator refused the token (401 unauthorized): " +
                         "sign in with the token in the coordinator's --token-file.");
    }
    let data = null;
    try { data = JSON.parse(text); } catch (e) { data = text; }
    if (!resp.ok) {
      let msg = method + " " + path + " failed with HTTP " + resp.status;
      if (data && data.error && typeof data.error.message === "string") {
        msg += ": " + data.error.message;
        if (typeof data.error.path === "string") msg += " (at " + data.error.path + ")";
      }
      throw new ApiError(resp.status, msg);
    }
    return data;
  }

  function report(err) {
    showMessage(err instanceof ApiError ? err.message : "Cannot reach the coordinator: " + err);
  }

  // ---- helpers ------------------------------------------------------------

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function num(v) { return typeof v === "number" && isFinite(v) ? v : 0; }
  function fixed(v, digits) { return num(v).toFixed(digits); }
  function ms(us) { return (num(us) / 1000).toFixed(2); }
  function stateClass(s) { return "state " + String(s).replace(/[^a-z]/g, ""); }
  function replaceRows(tbody, rows) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  // ---- fleet --------------------------------------------------------------

  // {"pool": "eu", "rack": "3"} -> "pool=eu, rack=3" (as text, never HTML).
  function formatLabels(labels) {
    if (!labels || typeof labels !== "object") return "";
    return Object.keys(labels).sort().map(function (k) { return k + "=" + labels[k]; }).join(", ");
  }

  function renderWorkers(data) {
    const workers = data && Array.isArray(data.workers) ? data.workers : [];
    const hosts = new Set(workers.map(function (w) { return w.host; }));
    const live = workers.filter(function (w) { return w.state !== "lost"; }).length;
    $("fleet-summary").textContent = "(" + hosts.size + " host" + (hosts.size === 1 ? "" : "s") +
        ", " + workers.length + " worker" + (workers.length === 1 ? "" : "s") + ", " + live + " live)";
    replaceRows($("workers").tBodies[0], workers.map(function (w) {
      const tr = document.createElement("tr");
      cell(tr, w.id);
      cell(tr, w.host);
      cell(tr, num(w.cpu) >= 0 ? w.cpu : "any");
      cell(tr, w.state).className = stateClass(w.state);
      cell(tr, w.run_id);
      cell(tr, num(w.users), "num");
      cell(tr, fixed(w.cpu_percent, 1), "num");
      cell(tr, num(w.last_seen_ms), "num");
      cell(tr, formatLabels(w.labels));
      return tr;
    }));
  }

  // ---- history ------------------------------------------------------------

  function renderRuns(data) {
    const runs = data && Array.isArray(data.runs) ? data.runs : [];
    replaceRows($("runs").tBodies[0], runs.map(function (r) {
      const tr = document.createElement("tr");
      tr.className = "clickable" + (r.id === state.runId ? " selected" : "");
      tr.dataset.runId = String(r.id);
      cell(tr, r.id);
      cell(tr, r.name);
      cell(tr, r.state).className = stateClass(r.state);
      cell(tr, r.created_at);
      cell(tr, num(r.users), "num");
      cell(tr, num(r.requests), "num");
      cell(tr, num(r.failures), "num");
      const verdict = r.thresholds_passed === true ? "passed" :
                      r.thresholds_passed === false ? "failed" : "";
      cell(tr, verdict, verdict === "passed" ? "pass" : verdict === "failed" ? "fail" : "");
      tr.addEventListener("click", function () { selectRun(String(r.id)); });
      return tr;
    }));
    // Follow a run that is going on when none is selected yet.
    if (state.runId === null) {
      const active = runs.find(function (r) { return !FINAL.has(r.state); });
      if (active) selectRun(String(active.id));
    }
  }

  // ---- one run ------------------------------------------------------------

  function ensureCharts() {
    if (state.charts) return;
    state.charts = LoaddCharts.runCharts($("chart-rps"), $("chart-latency"), $("chart-errors"));
    state.epCharts = {
      rps: LoaddCharts.makeChart($("chart-ep-rps"), "Endpoint requests/s and errors/s",
                                 [{ label: "requests/s" }, { label: "errors/s", scale: "y2" }],
                                 { yLabel: "requests/s", y2Label: "errors/s" }),
      latency: LoaddCharts.makeChart($("chart-ep-latency"), "Endpoint latency, run so far (ms)",
                                     [{ label: "p50" }, { label: "p95" }, { label: "p99" }],
                                     { yLabel: "ms" }),
    };
  }

  function selectRun(id) {
    if (state.runId !== id) {
      state.runId = id;
      state.run = null;
      state.epSamples = new Map();
      state.timeline = [];
      state.pollShown = state.pollSent;
      replaceRows($("endpoint-select"), []);
    }
    $("run-section").hidden = false;
    ensureCharts();
    Array.from($("runs").tBodies[0].rows).forEach(function (tr) {
      tr.classList.toggle("selected", tr.dataset.runId === id);
    });
    pollRun().catch(report);
  }

  function sampleEndpoints(run) {
    const t = num(run.elapsed_s);
    (Array.isArray(run.endpoints) ? run.endpoints : []).forEach(function (e) {
      const name = String(e.name);
      let samples = state.epSamples.get(name);
      if (!samples) {
        samples = [];
        state.epSamples.set(name, samples);
        const opt = document.createElement("option");
        opt.value = name;
        opt.textContent = name;
        $("endpoint-select").appendChild(opt);
      }
      const last = samples[samples.length - 1];
      if (last && last.t >= t) return;
      samples.push({ t: t, requests: num(e.requests), failures: num(e.failures),
                     p50: num(e.p50_us) / 1000, p95: num(e.p95_us) / 1000,
                     p99: num(e.p99_us) / 1000 });
      if (samples.length > MAX_EP_SAMPLES) samples.shift();
    });
  }

  function renderEndpointCharts() {
    const samples = state.epSamples.get($("endpoint-select").value) || [];
    const t = [], rps = [], eps = [], p50 = [], p95 = [], p99 = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1], b = samples[i];
      const dt = b.t - a.t;
      if (dt <= 0) continue;
      t.push(b.t);
      rps.push((b.requests - a.requests) / dt);
      eps.push((b.failures - a.failures) / dt);
      p50.push(b.p50); p95.push(b.p95); p99.push(b.p99);
    }
    state.epCharts.rps.set([t, rps, eps]);
    state.epCharts.latency.set([t, p50, p95, p99]);
  }

  function renderRun(run) {
    $("run-id").textContent = run.id;
    const s = $("run-state");
    s.textContent = run.state;
    s.className = stateClass(run.state);
    const totals = run.totals || {};
    $("run-info").textContent = (run.name ? run.name + " · " : "") +
        fixed(run.elapsed_s, 1) + " s of " + fixed(run.duration_s, 0) + " s · " +
        num(run.users) + " users · " + num(totals.requests) + " requests · " +
        num(totals.failures) + " failures · " + fixed(totals.rps, 1) + " requests/s";
    $("run-message").textContent = run.message || "";
    $("stop").disabled = FINAL.has(run.state) || run.state === "stopping";
    // Live scaling (PATCH /v1/runs/{id}): users, or arrivals/s in the open model.
    const plan = run.plan || {};
    const open = typeof plan.arrival_rate === "number" || typeof plan.start_rate === "number" ||
        (Array.isArray(plan.stages) && plan.stages.length > 0 && "rate" in plan.stages[0]);
    state.scaleField = open ? "rate" : "users";
    $("scale-unit").textContent = open ? "arrivals/s" : "users";
    $("scale").disabled = run.state !== "running" && run.state !== "starting";
    replaceRows($("run-events"), (Array.isArray(run.events) ? run.events : []).map(function (e) {
      const li = document.createElement("li");
      li.textContent = "At " + fixed(e.at_ms / 1000, 1) + " s: " +
          (e.unit === "rate" ? "arrivals/s " : "users ") + num(e.from) + " \u2192 " +
          num(e.to) + (e.ramp_rate > 0 ? " at " + num(e.ramp_rate) + "/s" : " at once") +
          (e.by ? " (by " + e.by + ")" : "");
      return li;
    }));
    replaceRows($("endpoints").tBodies[0],
      (Array.isArray(run.endpoints) ? run.endpoints : []).concat(
        run.aggregated && (run.endpoints || []).length > 1 ? [run.aggregated] : [])
      .map(function (e) {
        const tr = document.createElement("tr");
        cell(tr, e.name);
        cell(tr, num(e.requests), "num");
        cell(tr, num(e.failures), "num");
        cell(tr, fixed(e.rps, 1), "num");
        cell(tr, ms(e.p50_us), "num");
        cell(tr, ms(e.p95_us), "num");
        cell(tr, ms(e.p99_us), "num");
        cell(tr, ms(e.max_us), "num");
        return tr;
      }));
    state.charts.update(run);
    sampleEndpoints(run);
    renderEndpointCharts();
  }

  async function pollRun() {
    const id = state.runId;
    if (id === null) return;
    if (state.run && state.run.id === id && FINAL.has(state.run.state)) return;  // final: no change
    // Closed seconds never change: ask only for those after the ones held.
    const seq = ++state.pollSent;
    const since = state.timeline.length ? num(state.timeline[state.timeline.length - 1].t) + 1 : 0;
    const run = await api("GET", "/v1/runs/" + encodeURIComponent(id) + "?since=" + since);
    if (seq <= state.pollShown) return;  // older than what is shown, or another run's
    state.pollShown = seq;
    // Append what is new since this poll's answer (another poll may have
    // appended meanwhile).
    const held = state.timeline;
    const last = held.length ? num(held[held.length - 1].t) : -1;
    const fresh = Array.isArray(run.timeline) ? run.timeline : [];
    state.timeline = held.concat(fresh.filter(function (s) { return num(s.t) > last; }));
    run.timeline = state.timeline;
    state.run = run;
    renderRun(run);
  }

  // ---- polling ------------------------------------------------------------

  async function tick() {
    if (state.busy || !state.token) return;
    state.busy = true;
    try {
      const [workers, runs] = await Promise.all([api("GET", "/v1/workers"),
                                                 api("GET", "/v1/runs")]);
      renderWorkers(workers);
      renderRuns(runs);
      await pollRun();
    } catch (err) {
      report(err);
    } finally {
      state.busy = false;
    }
  }

  function startPolling() {
    if (state.timer === null) state.timer = setInterval(tick, POLL_MS);
    tick();
  }

  function signOut() {
    state.token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    if (state.timer !== null) clearInterval(state.timer);
    state.timer = null;
    $("logout").hidden = true;
    $("token").value = "";
  }

  // ---- actions ------------------------------------------------------------

  async function startRun(planJson) {
    clearMessage();
    try {
      const created = await api("POST", "/v1/runs", planJson);
      showMessage("Started run " + created.id + " on " + num(created.workers) + " workers.", "info");
      selectRun(String(created.id));
      tick();
    } catch (err) {
      report(err);
    }
  }

  function formPlan() {
    const plan = {
      name: $("start-name").value,
      target: $("start-target").value,
      users: Number($("start-users").value),
      duration: $("start-duration").value,
    };
    const spawn = $("start-spawn").value;
    if (spawn !== "") plan.spawn_rate = Number(spawn);
    return JSON.stringify(plan);
  }

  async function download(path, filename, type) {
    try {
      const headers = { "Authorization": "Bearer " + state.token };
      const resp = await fetch(path, { headers: headers, cache: "no-store" });
      if (resp.status === 401) {
        signOut();
        throw new ApiError(401, "The coordinator refused the token (401 unauthorized): " +
                           "sign in with the token in the coordinator's --token-file.");
      }
      if (!resp.ok) throw new ApiError(resp.status, "GET " + path + " failed with HTTP " + resp.status);
      const blob = new Blob([await resp.arrayBuffer()], { type: type });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
    } catch (err) {
      report(err);
    }
  }

  function bind() {
    $("login-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      state.token = $("token").value.trim();
      if (!state.token) { showMessage("Enter the token from the coordinator's --token-file."); return; }
      sessionStorage.setItem(TOKEN_KEY, state.token);
      $("token").value = "";
      $("logout").hidden = false;
      clearMessage();
      startPolling();
    });
    $("logout").addEventListener("click", function () { signOut(); showMessage("Signed out.", "info"); });
    $("start-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      startRun(formPlan());
    });
    $("plan-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      const file = $("plan-file").files[0];
      if (!file) { showMessage("Choose a plan file (JSON) first."); return; }
      file.text().then(startRun, report);
    });
    $("stop").addEventListener("click", function () {
      const id = state.runId;
      if (id === null) return;
      api("POST", "/v1/runs/" + encodeURIComponent(id) + "/stop")
        .then(function () { showMessage("Stopping run " + id + ".", "info"); return tick(); })
        .catch(report);
    });
    $("scale-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      const id = state.runId;
      if (id === null) return;
      const value = Number($("scale-value").value);
      const body = {};
      body[state.scaleField || "users"] = value;
      api("PATCH", "/v1/runs/" + encodeURIComponent(id), JSON.stringify(body))
        .then(function (r) {
          showMessage("Scaling run " + id + " to " + num(r.event.to) + " " +
                      (r.event.unit === "rate" ? "arrivals/s" : "users") + ".", "info");
          return tick();
        })
        .catch(report);
    });
    $("download-json").addEventListener("click", function () {
      if (state.runId === null) return;
      download("/v1/runs/" + encodeURIComponent(state.runId), state.runId + ".json", "application/json");
    });
    $("download-hlog").addEventListener("click", function () {
      if (state.runId === null) return;
      download("/v1/runs/" + encodeURIComponent(state.runId) + "/hlog", state.runId + ".hlog", "text/plain");
    });
    $("endpoint-select").addEventListener("change", renderEndpointCharts);
    window.addEventListener("resize", function () {
      if (state.charts) state.charts.resize();
      if (state.epCharts) { state.epCharts.rps.resize(); state.epCharts.latency.resize(); }
    });
  }

  bind();
  if (state.token) {
    $("logout").hidden = false;
    startPolling();
  } else {
    showMessage("Sign in with the token in the coordinator's --token-file to see the fleet.", "info");
  }
})();
