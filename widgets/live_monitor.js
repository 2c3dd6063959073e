// lepton_nb live training monitor: Start/Pause/Resume/Stop, progress, and append-only live charts.
//
// The kernel sends only new points ("append"); on (re)render this view says "hello" and the kernel
// answers with the whole history ("reset"), so a browser reload mid-training recovers the curves.
// Each append carries the raw index it starts at: a gap (a lost message) triggers a new hello.

const DPR = () => window.devicePixelRatio || 1;
// one id per page load: the kernel learns that the page was reloaded (Jupyter then no longer knows the
// display ids of the outputs the kernel keeps up to date, such as the run's summary under the studio)
const PAGE = (globalThis.__lnbPage ||= Math.random().toString(36).slice(2));
// While a run is changing and nothing has arrived for this long, the view asks for what is new. Some front ends
// (Google Colab) draw nothing the kernel sends from its training thread; the answer to the page's own
// message reaches them.
const PULL_AFTER_MS = 1500;
// states in which news is due (a paused run has none; "searching": a search of the Search tab holds the studio)
const CHANGING = ["starting", "running", "finishing", "searching"];

function niceTicks(lo, hi, count) {
  if (!isFinite(lo) || !isFinite(hi)) return [];
  if (hi === lo) { hi = lo + 1; }
  const span = hi - lo;
  const step0 = Math.pow(10, Math.floor(Math.log10(span / count)));
  const err = (span / count) / step0;
  const step = step0 * (err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(v);
  return ticks;
}

function fmt(v) {
  if (!isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return Number(v.toPrecision(3)).toString();
}

function fmtTime(s) {
  if (s === null || s === undefined || !isFinite(s)) return "–";
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(r).padStart(2, "0")}s` : `${r}s`;
}

// x arrives as a list, or as x0 + dx for evenly spaced points (per-batch steps): smaller messages
const xsOf = (s) => (s.x !== undefined ? s.x : s.y.map((_, i) => s.x0 + i * s.dx));

class Series {
  constructor() { this.x = []; this.y = []; this.nRaw = 0; }
  reset(s) { this.x = []; this.y = []; this.nRaw = 0; this.append(s); }
  append(s) {
    const x = xsOf(s);
    for (let i = 0; i < x.length; i++) { this.x.push(x[i]); this.y.push(s.y[i] === null ? NaN : s.y[i]); }
    this.nRaw += s.n;
  }
}

function ema(y, alpha) {
  const out = new Array(y.length);
  let s = NaN;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (isFinite(v)) s = isFinite(s) ? alpha * v + (1 - alpha) * s : v;
    out[i] = s;
  }
  return out;
}

class Panel {
  constructor(root, spec, styles) {
    this.spec = spec;
    this.styles = styles;
    this.el = document.createElement("div");
    this.el.className = "lnb-panel";
    this.title = document.createElement("div");
    this.title.className = "lnb-panel-title";
    this.title.textContent = spec.title;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "lnb-canvas";
    this.legend = document.createElement("div");
    this.legend.className = "lnb-legend";
    this.readout = document.createElement("div");
    this.readout.className = "lnb-readout";
    this.el.append(this.title, this.canvas, this.legend, this.readout);
    root.appendChild(this.el);
    for (const name of spec.series) {
      const st = styles[name] || {};
      const item = document.createElement("span");
      item.className = "lnb-legend-item";
      const swatch = document.createElement("i");
      swatch.style.background = st.color || "#888";
      item.append(swatch, st.label || name);
      this.legend.appendChild(item);
    }
    this.hoverX = null;
    this.canvas.addEventListener("mousemove", (e) => {
      const r = this.canvas.getBoundingClientRect();
      this.hoverX = e.clientX - r.left;
      this.requestDraw();
    });
    this.canvas.addEventListener("mouseleave", () => { this.hoverX = null; this.readout.textContent = ""; this.requestDraw(); });
  }

  requestDraw() { if (this.onDraw) this.onDraw(); }

  draw(series, marks = []) {
    const cssW = this.canvas.clientWidth || 300, cssH = this.canvas.clientHeight || 180;
    const dpr = DPR();
    if (this.canvas.width !== Math.round(cssW * dpr) || this.canvas.height !== Math.round(cssH * dpr)) {
      this.canvas.width = Math.round(cssW * dpr);
      this.canvas.height = Math.round(cssH * dpr);
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const pad = { l: 46, r: 10, t: 6, b: 22 };
    const w = cssW - pad.l - pad.r, h = cssH - pad.t - pad.b;
    const log = !!this.spec.log;
    const tr = (v) => (log ? Math.log10(v) : v);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, points = 0;
    const drawn = [];
    for (const name of this.spec.series) {
      const s = series[name];
      if (!s || !s.x.length) continue;
      const st = this.styles[name] || {};
      const ys = st.smooth ? ema(s.y, Math.min(1, 2 / (1 + Math.max(10, s.y.length / 40)))) : s.y;
      drawn.push({ name, s, ys, st });
      for (let i = 0; i < s.x.length; i++) {
        const yv = tr(ys[i]), raw = tr(s.y[i]);
        x0 = Math.min(x0, s.x[i]); x1 = Math.max(x1, s.x[i]);
        for (const v of (st.smooth && st.raw !== false ? [yv, raw] : [yv])) {
          if (isFinite(v)) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
        }
        points++;
      }
    }
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = "#666";
    ctx.strokeStyle = "#ddd";
    if (!points) {
      ctx.fillText("waiting for data…", pad.l + 8, pad.t + h / 2);
      return;
    }
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    const ypad = (y1 - y0) * 0.05; y0 -= ypad; y1 += ypad;
    if (this.spec.ymin !== undefined && !log) y0 = Math.max(y0, this.spec.ymin);
    if (this.spec.ymax !== undefined && !log) y1 = Math.min(y1, this.spec.ymax);
    const X = (v) => pad.l + ((v - x0) / (x1 - x0)) * w;
    const Y = (v) => pad.t + h - ((tr(v) - y0) / (y1 - y0)) * h;
    ctx.lineWidth = 1;
    for (const t of niceTicks(y0, y1, 4)) {
      const py = pad.t + h - ((t - y0) / (y1 - y0)) * h;
      ctx.beginPath(); ctx.moveTo(pad.l, py); ctx.lineTo(pad.l + w, py); ctx.stroke();
      ctx.fillText(log ? fmt(Math.pow(10, t)) : fmt(t), 2, py + 3);
    }
    // the x axis: optimizer steps (batches); a tick label that would run into the axis label is left out
    const stepX = pad.l + w - ctx.measureText("step").width;
    for (const t of niceTicks(x0, x1, 5)) {
      const label = fmt(t), lw = ctx.measureText(label).width, lx = X(t) - lw / 2;
      if (lx + lw > stepX - 4) continue;
      ctx.fillText(label, Math.max(lx, pad.l - lw / 2), pad.t + h + 14);
    }
    ctx.fillText("step", stepX, pad.t + h + 14);
    ctx.strokeStyle = "#999";
    ctx.strokeRect(pad.l, pad.t, w, h);
    ctx.save();
    ctx.beginPath(); ctx.rect(pad.l, pad.t, w, h); ctx.clip();
    for (const { s, ys, st } of drawn) {
      const color = st.color || "#4c72b0";
      if (st.smooth && st.raw !== false) this.line(ctx, s.x, s.y, X, Y, color, 0.25, 1, w);
      this.line(ctx, s.x, ys, X, Y, color, 1, st.smooth ? 1.8 : 1.5, w);
      if (st.points) {
        ctx.fillStyle = color;
        for (let i = 0; i < s.x.length; i++) {
          if (!isFinite(tr(ys[i]))) continue;
          ctx.beginPath(); ctx.arc(X(s.x[i]), Y(ys[i]), 2.5, 0, 2 * Math.PI); ctx.fill();
        }
      }
    }
    // settings changed mid-run: a dashed line at the step they applied from, labelled
    ctx.strokeStyle = "#8e24aa"; ctx.fillStyle = "#8e24aa"; ctx.setLineDash([4, 3]);
    for (const m of marks) {
      if (m.step < x0 || m.step > x1) continue;
      const px = X(m.step);
      ctx.beginPath(); ctx.moveTo(px, pad.t); ctx.lineTo(px, pad.t + h); ctx.stroke();
      ctx.fillText(m.text, Math.min(px + 3, pad.l + w - ctx.measureText(m.text).width - 2), pad.t + 10);
    }
    ctx.setLineDash([]);
    ctx.restore();
    if (this.hoverX !== null) {
      const xv = x0 + ((this.hoverX - pad.l) / w) * (x1 - x0);
      ctx.strokeStyle = "#aaa";
      ctx.beginPath(); ctx.moveTo(this.hoverX, pad.t); ctx.lineTo(this.hoverX, pad.t + h); ctx.stroke();
      const parts = [`step ${Math.round(xv)}`];
      for (const { name, s, ys, st } of drawn) {
        let best = -1, bd = Infinity;
        for (let i = 0; i < s.x.length; i++) { const d = Math.abs(s.x[i] - xv); if (d < bd) { bd = d; best = i; } }
        if (best >= 0) parts.push(`${st.label || name} ${fmt(ys[best])}`);
      }
      this.readout.textContent = parts.join(" · ");
    }
  }

  line(ctx, xs, ys, X, Y, color, alpha, width, w) {
    // min/max per pixel column keeps long runs cheap to draw and keeps spikes visible
    ctx.strokeStyle = color; ctx.globalAlpha = alpha; ctx.lineWidth = width;
    ctx.beginPath();
    let started = false, col = null, lo = 0, hi = 0, last = 0;
    const flush = () => {
      if (col === null) return;
      if (!started) { ctx.moveTo(col, lo); started = true; } else ctx.lineTo(col, lo);
      if (hi !== lo) ctx.lineTo(col, hi);
      ctx.lineTo(col, last);
    };
    for (let i = 0; i < xs.length; i++) {
      const yv = ys[i];
      if (!isFinite(Y(yv))) { flush(); col = null; started = false; continue; }
      const px = Math.round(X(xs[i])), py = Y(yv);
      if (px !== col) { flush(); col = px; lo = hi = last = py; }
      else { lo = Math.min(lo, py); hi = Math.max(hi, py); last = py; }
    }
    flush();
    ctx.stroke();
    ctx.globalAlpha = 1;
  }
}

function render({ model, el }) {
  el.classList.add("lnb-monitor");
  let commanded = 0; // when a button was last pressed: news is expected even before the state says busy
  const bar = document.createElement("div");
  bar.className = "lnb-bar";
  const buttons = {};
  for (const [name, label, title] of [
    ["start", "▶ Start", "Train the recipe in the background"],
    ["pause", "Pause", "Pause after the current batch"],
    ["resume", "▶ Resume", "Continue training"],
    ["stop", "■ Stop", "Stop after the current batch; the run is evaluated and kept"],
  ]) {
    const b = document.createElement("button");
    b.className = `lnb-btn lnb-${name}`;
    b.textContent = label;
    b.title = title;
    b.dataset.command = name;
    b.addEventListener("click", () => { commanded = Date.now(); model.send({ type: "command", name }); });
    buttons[name] = b;
    bar.appendChild(b);
  }
  const status = document.createElement("span");
  status.className = "lnb-status";
  bar.appendChild(status);
  const progressWrap = document.createElement("div");
  progressWrap.className = "lnb-progress";
  const progressFill = document.createElement("div");
  progressFill.className = "lnb-progress-fill";
  progressWrap.appendChild(progressFill);
  const progressText = document.createElement("div");
  progressText.className = "lnb-progress-text";
  const message = document.createElement("div");
  message.className = "lnb-message";
  const panelsEl = document.createElement("div");
  panelsEl.className = "lnb-panels";
  el.append(bar, progressWrap, progressText, message, panelsEl);

  const series = {};
  let panels = [];
  let frame = null;
  const drawAll = () => {
    frame = null;
    for (const p of panels) p.draw(series, model.get("marks") || []);
    el.dataset.points = String(Object.values(series).reduce((a, s) => a + s.nRaw, 0));
  };
  const requestDraw = () => { if (frame === null) frame = requestAnimationFrame(drawAll); };

  const buildPanels = () => {
    panelsEl.innerHTML = "";
    const styles = model.get("styles") || {};
    panels = (model.get("panels") || []).map((spec) => {
      const p = new Panel(panelsEl, spec, styles);
      p.onDraw = requestDraw;
      return p;
    });
    requestDraw();
  };

  const updateControls = () => {
    const st = model.get("state");
    const busy = ["starting", "running", "paused", "finishing", "searching"].includes(st);
    buttons.start.disabled = busy || !model.get("can_start");
    buttons.start.title = st === "searching" ? "A search is running (Search tab): ■ Stop ends it, or wait for it"
      : model.get("can_start") ? "Train the recipe in the background" : model.get("start_hint");
    buttons.pause.disabled = st !== "running";
    buttons.resume.disabled = st !== "paused";
    buttons.stop.disabled = !["starting", "running", "paused", "searching"].includes(st);
    buttons.stop.title = st === "searching" ? "Stop the search: its running trial ends now; the study is kept"
      : "Stop after the current batch; the run is evaluated and kept";
    buttons.pause.style.display = st === "paused" ? "none" : "";
    buttons.resume.style.display = st === "paused" ? "" : "none";
    status.textContent = st;
    status.className = `lnb-status lnb-state-${st}`;
    el.dataset.state = st;
    message.textContent = model.get("message") || "";
    const p = model.get("progress") || {};
    const frac = Math.max(0, Math.min(1, p.fraction || 0));
    progressFill.style.width = `${(100 * frac).toFixed(1)}%`;
    const parts = [];
    if (p.epochs) parts.push(`epoch ${Math.min(p.epoch + 1, p.epochs)}/${p.epochs}`);
    if (p.steps) parts.push(`step ${p.step}/${p.steps}`);
    if (p.samples_per_s) parts.push(`${Math.round(p.samples_per_s).toLocaleString()} samples/s`);
    if (p.elapsed !== undefined) parts.push(`elapsed ${fmtTime(p.elapsed)}`);
    if (busy && p.eta !== undefined) parts.push(`ETA ${fmtTime(p.eta)}`);
    progressText.textContent = parts.join(" · ");
  };

  let lastHeard = Date.now();
  let askedAt = 0; // when the view last asked the kernel for news
  let changedAt = 0; // when the widget's status last changed
  const heard = () => { lastHeard = Date.now(); };
  const onMsg = (msg) => {
    if (!msg || typeof msg !== "object") return;
    heard();
    if (msg.type === "pulled" && changedAt <= askedAt) {
      // the status as the kernel answered; when an update of the widget itself came since the question,
      // that update is newer than this answer and stands
      for (const [key, value] of Object.entries(msg.status || {})) {
        if (JSON.stringify(model.get(key)) !== JSON.stringify(value)) model.set(key, value);
      }
      el.dataset.pulls = String(Number(el.dataset.pulls || 0) + 1);
    }
    if (msg.type === "reset") {
      for (const k of Object.keys(series)) delete series[k];
      for (const [name, s] of Object.entries(msg.series || {})) {
        series[name] = new Series();
        series[name].reset(s);
      }
      requestDraw();
    } else if (msg.type === "append" || msg.type === "pulled") {
      for (const [name, s] of Object.entries(msg.series || {})) {
        const cur = series[name] || (series[name] = new Series());
        if (s.start < cur.nRaw && s.start + s.n <= cur.nRaw) continue; // had them (a push and a pull crossed)
        if (s.start !== cur.nRaw) { model.send({ type: "hello", reason: "gap", page: PAGE }); return; }
        cur.append(s);
      }
      requestDraw();
    }
  };
  model.on("msg:custom", onMsg);
  model.on("change:panels", buildPanels);
  model.on("change:styles", buildPanels);
  const showMarks = () => { el.dataset.marks = String((model.get("marks") || []).length); requestDraw(); };
  model.on("change:marks", showMarks);
  showMarks();
  for (const key of ["state", "message", "progress", "can_start", "start_hint", "marks"]) {
    if (key !== "marks") model.on(`change:${key}`, updateControls);
    model.on(`change:${key}`, () => { heard(); changedAt = Date.now(); });
  }
  const pull = setInterval(() => {
    const expecting = CHANGING.includes(model.get("state")) || Date.now() - commanded < 4 * PULL_AFTER_MS;
    if (!expecting || Date.now() - lastHeard < PULL_AFTER_MS) return;
    const known = {};
    for (const [name, s] of Object.entries(series)) known[name] = s.nRaw;
    lastHeard = askedAt = Date.now(); // one question at a time
    model.send({ type: "pull", known });
  }, PULL_AFTER_MS / 3);
  const resize = new ResizeObserver(requestDraw);
  resize.observe(panelsEl);
  buildPanels();
  updateControls();
  model.send({ type: "hello", page: PAGE });
  return () => {
    clearInterval(pull);
    resize.disconnect();
    model.off("msg:custom", onMsg);
  };
}

export default { render };
