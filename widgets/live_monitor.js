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
  for (let i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) ticks.push(i * step || 0);
  return ticks;
}

// A formatter for a row of ticks: as many digits as their spacing needs, so no two ticks read alike
// (0.0051 and 0.0052, never 0.005 twice) and no tick carries more digits than the spacing has
function tickFormat(ticks) {
  if (ticks.length < 2) return fmt;
  const step = Math.abs(ticks[1] - ticks[0]);
  const big = Math.max(...ticks.map(Math.abs));
  if (big >= 1e5 || (big < 1e-3 && big > 0)) {
    const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(big)) - Math.floor(Math.log10(step) + 1e-9)));
    return (v) => (v === 0 ? "0" : v.toExponential(digits));
  }
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return (v) => v.toFixed(decimals);
}

// The y range of a panel: what its points span, padded; one value (a single point, a constant lr) gets a
// range around it of its own size (0.0045 … 0.0055 for 0.005), never ±0.5 around a small number
function yRange(lo, hi) {
  if (hi === lo) {
    const d = Math.abs(lo) * 0.1 || 0.5;
    return [lo - d, hi + d];
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
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

function nearestIndex(xs, x) {
  let best = -1, bd = Infinity;
  for (let i = 0; i < xs.length; i++) { const d = Math.abs(xs[i] - x); if (d < bd) { bd = d; best = i; } }
  return best;
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
    // a picture with a name that says what it shows; focusable: the arrow keys move the read-out's cursor
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", `${spec.title} chart: waiting for data`);
    this.canvas.tabIndex = 0;
    this.legend = document.createElement("div");
    this.legend.className = "lnb-legend";
    this.readout = document.createElement("div");
    this.readout.className = "lnb-readout";
    this.readout.setAttribute("aria-live", "polite");  // answers the arrow keys (the mouse needs no announcing)
    this.table = document.createElement("details");
    this.table.className = "lnb-curve-table";
    const summary = document.createElement("summary");
    summary.textContent = `show ${spec.title} as table`;
    this.tableBody = document.createElement("div");
    this.table.append(summary, this.tableBody);
    this.table.addEventListener("toggle", () => this.requestDraw());
    this.el.append(this.title, this.canvas, this.legend, this.readout, this.table);
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
    // keyboard: ←/→ move the read-out one point (Shift: ten), Home/End to the ends, Escape hides it
    this.cursor = null;
    this.canvas.addEventListener("keydown", (e) => {
      const n = this.pointCount || 0;
      if (!n) return;
      const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity };
      if (e.key === "Escape") { this.cursor = null; this.hoverX = null; this.readout.textContent = ""; }
      else if (e.key in moves) {
        const d = moves[e.key] * (e.shiftKey ? 10 : 1);
        const start = this.cursor === null ? (d > 0 ? -1 : n) : this.cursor;
        this.cursor = Math.max(0, Math.min(n - 1, isFinite(d) ? start + d : d > 0 ? n - 1 : 0));
      } else return;
      e.preventDefault();
      e.stopPropagation();
      this.requestDraw();
    });
    this.canvas.addEventListener("blur", () => { this.cursor = null; this.hoverX = null; this.readout.textContent = ""; this.requestDraw(); });
  }

  // the x positions the keyboard cursor steps through: the points of the sparsest drawn series (epochs), or
  // up to 100 evenly spread steps of a per-batch one
  stops(drawn) {
    let best = null;
    for (const d of drawn) if (d.s.x.length && (!best || d.s.x.length < best.length)) best = d.s.x;
    if (!best) return [];
    if (best.length <= 100) return best.slice();
    const out = [];
    for (let i = 0; i < 100; i++) out.push(best[Math.round((i * (best.length - 1)) / 99)]);
    return out;
  }

  // what the chart shows, in words: its name for screen readers
  describe(drawn) {
    if (!drawn.length) return `${this.spec.title} chart: waiting for data`;
    const parts = drawn.map(({ name, s, ys, st }) => {
      let last = NaN, lastX = NaN;
      for (let i = ys.length - 1; i >= 0; i--) if (isFinite(ys[i])) { last = ys[i]; lastX = s.x[i]; break; }
      const finite = ys.filter((v) => isFinite(v));
      const lo = finite.length ? Math.min(...finite) : NaN, hi = finite.length ? Math.max(...finite) : NaN;
      const count = st.points ? `${s.x.length} epoch${s.x.length === 1 ? "" : "s"}` : `${s.x.length} steps`;
      return `${st.label || name}: ${count}, last ${fmt(last)} at step ${fmt(lastX)}, lowest ${fmt(lo)}, highest ${fmt(hi)}`;
    });
    return `${this.spec.title} chart${this.spec.log ? " (log scale)" : ""}, x: optimizer step. ${parts.join("; ")}`;
  }

  tableHtml(drawn) {
    const xs = this.stops(drawn);
    const esc = (t) => String(t).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const head = ["step", ...drawn.map(({ name, st }) => st.label || name)];
    const rows = xs.map((x) => [fmt(x), ...drawn.map(({ s, ys }) => {
      const i = nearestIndex(s.x, x);
      return i >= 0 && Math.abs(s.x[i] - x) <= Math.max(1, (s.x[s.x.length - 1] - s.x[0]) / 200) ? fmt(ys[i]) : "";
    })]);
    return `<table class="lnb-table"><caption>${esc(this.spec.title)}, by optimizer step</caption><tr>`
      + head.map((h) => `<th scope="col">${esc(h)}</th>`).join("") + "</tr>"
      + rows.map((r) => "<tr>" + r.map((v, k) => (k ? `<td>${esc(v)}</td>` : `<th scope="row">${esc(v)}</th>`)).join("")
        + "</tr>").join("") + "</table>";
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
    const ink = getComputedStyle(this.el).color;  // axis text in the theme's own text colour
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = ink;
    ctx.strokeStyle = "rgba(128,128,128,0.35)";
    const label = this.describe(drawn);
    if (this.canvas.getAttribute("aria-label") !== label) this.canvas.setAttribute("aria-label", label);
    this.pointCount = this.stops(drawn).length;
    if (this.table.open) {
      const t = this.tableHtml(drawn);
      if (t !== this.tableShown) { this.tableBody.innerHTML = t; this.tableShown = t; }
    }
    if (!points) {
      ctx.fillText("waiting for data…", pad.l + 8, pad.t + h / 2);
      return;
    }
    if (x1 === x0) x1 = x0 + 1;
    [y0, y1] = yRange(y0, y1);
    if (this.spec.ymin !== undefined && !log) y0 = Math.max(y0, this.spec.ymin);
    if (this.spec.ymax !== undefined && !log) y1 = Math.min(y1, this.spec.ymax);
    const X = (v) => pad.l + ((v - x0) / (x1 - x0)) * w;
    const Y = (v) => pad.t + h - ((tr(v) - y0) / (y1 - y0)) * h;
    ctx.lineWidth = 1;
    const yTicks = niceTicks(y0, y1, 4), yLabel = log ? (t) => fmt(Math.pow(10, t)) : tickFormat(yTicks);
    for (const t of yTicks) {
      const py = pad.t + h - ((t - y0) / (y1 - y0)) * h;
      ctx.beginPath(); ctx.moveTo(pad.l, py); ctx.lineTo(pad.l + w, py); ctx.stroke();
      ctx.fillText(yLabel(t), 2, py + 3);
    }
    this.el.dataset.yticks = yTicks.map(yLabel).join("|"); // the labels drawn, for checks that read the page
    // the x axis: optimizer steps (batches); a tick label that would run into the axis label is left out
    const stepX = pad.l + w - ctx.measureText("step").width;
    const xTicks = niceTicks(x0, x1, 5), xLabel = tickFormat(xTicks);
    for (const t of xTicks) {
      const label = xLabel(t), lw = ctx.measureText(label).width, lx = X(t) - lw / 2;
      if (lx + lw > stepX - 4) continue;
      ctx.fillText(label, Math.max(lx, pad.l - lw / 2), pad.t + h + 14);
    }
    ctx.fillText("step", stepX, pad.t + h + 14);
    ctx.strokeStyle = "rgba(128,128,128,0.8)";
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
    if (this.cursor !== null && this.cursor !== undefined) {
      const stops = this.stops(drawn);
      if (stops.length) this.hoverX = X(stops[Math.min(this.cursor, stops.length - 1)]);
    }
    if (this.hoverX !== null) {
      const xv = x0 + ((this.hoverX - pad.l) / w) * (x1 - x0);
      ctx.strokeStyle = "rgba(128,128,128,0.8)";
      ctx.beginPath(); ctx.moveTo(this.hoverX, pad.t); ctx.lineTo(this.hoverX, pad.t + h); ctx.stroke();
      const parts = [`step ${Math.round(xv)}`];
      for (const { name, s, ys, st } of drawn) {
        const best = nearestIndex(s.x, xv);
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

// One sentence about the run for the polite live region: state, epoch, the last epoch's losses and the best
// validation value so far. It changes when an epoch ends or the state changes, not with every batch.
function runSummary(state, progress, series) {
  const last = (name) => {
    const s = series[name];
    if (!s) return null;
    for (let i = s.y.length - 1; i >= 0; i--) if (isFinite(s.y[i])) return { v: s.y[i], i, n: s.y.length };
    return null;
  };
  const best = (name, max) => {
    const s = series[name];
    if (!s) return null;
    let b = null;
    s.y.forEach((v, i) => { if (isFinite(v) && (b === null || (max ? v > b.v : v < b.v))) b = { v, i }; });
    return b;
  };
  if (state === "idle") return "";
  const parts = [`Training ${state.replace("_", " ")}`];
  const vl = last("val_loss"), va = last("val_accuracy"), ta = last("train_accuracy");
  const epochs = progress.epochs;
  const done = vl ? vl.n : ta ? ta.n : 0;
  if (done) parts.push(`epoch ${done}${epochs ? ` of ${epochs}` : ""} done`);
  if (vl) parts.push(`validation loss ${fmt(vl.v)}`);
  if (va) parts.push(`validation accuracy ${fmt(va.v)}`);
  if (ta && !vl) parts.push(`train accuracy ${fmt(ta.v)}`);
  const bv = best("val_accuracy", true);
  if (bv && done > 1) parts.push(`best validation accuracy so far ${fmt(bv.v)} at epoch ${bv.i + 1}`);
  else {
    const bl = best("val_loss", false);
    if (bl && done > 1) parts.push(`lowest validation loss so far ${fmt(bl.v)} at epoch ${bl.i + 1}`);
  }
  return parts.join(", ") + ".";
}

function render({ model, el }) {
  el.classList.add("lnb-monitor");
  installKeyboard(el.ownerDocument);  // widgets/access.js, loaded with this module
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
  progressWrap.setAttribute("role", "progressbar");
  progressWrap.setAttribute("aria-label", "training progress");
  progressWrap.setAttribute("aria-valuemin", "0");
  progressWrap.setAttribute("aria-valuemax", "100");
  const message = document.createElement("div");
  message.className = "lnb-message";
  // the run in words, announced politely when an epoch ends or the state changes (never per batch)
  const summary = document.createElement("div");
  summary.className = "lnb-summary";
  summary.setAttribute("role", "status");
  summary.setAttribute("aria-live", "polite");
  status.tabIndex = -1;  // holds the focus while no button can (a run finishing after Stop)
  const panelsEl = document.createElement("div");
  panelsEl.className = "lnb-panels";
  el.append(bar, progressWrap, progressText, message, summary, panelsEl);

  const series = {};
  let panels = [];
  let frame = null;
  const drawAll = () => {
    frame = null;
    for (const p of panels) p.draw(series, model.get("marks") || []);
    el.dataset.points = String(Object.values(series).reduce((a, s) => a + s.nRaw, 0));
    summarize();
  };
  const summarize = () => {
    const text = runSummary(model.get("state"), model.get("progress") || {}, series);
    if (summary.textContent !== text) summary.textContent = text;
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

  const usable = (b) => !b.disabled && b.style.display !== "none";
  // where the focus goes when the button that had it can no longer be pressed: never to the page body
  const nextFocus = (st) => {
    if (st === "running" && usable(buttons.pause)) return buttons.pause;
    if (st === "paused" && usable(buttons.resume)) return buttons.resume;
    for (const b of [buttons.stop, buttons.start]) if (usable(b)) return b;
    return status;
  };
  let keepFocus = false;  // the bar had the focus when its buttons last changed
  let placed = null;  // the element this view last moved the focus to (the user has not moved it since)
  bar.addEventListener("focusin", () => { keepFocus = true; });
  bar.addEventListener("focusout", (e) => { if (e.relatedTarget && !bar.contains(e.relatedTarget)) keepFocus = false; });
  const updateControls = () => {
    const st = model.get("state");
    const busy = ["starting", "running", "paused", "finishing", "searching"].includes(st);
    const active = document.activeElement;
    const hadFocus = keepFocus && (bar.contains(active) || !active || active === document.body);
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
    if (hadFocus) {
      const now = document.activeElement;
      // lost: on nothing usable; or still where this view put it while the run was starting (Stop), now that
      // Pause can be pressed
      const lost = !bar.contains(now) || (now !== status && !usable(now)) || (now === status && nextFocus(st) !== status)
        || (now === placed && nextFocus(st) !== now);
      if (lost) { placed = nextFocus(st); placed.focus(); } else if (now !== placed) placed = null;
    }
    el.dataset.state = st;
    message.textContent = model.get("message") || "";
    const p = model.get("progress") || {};
    const frac = Math.max(0, Math.min(1, p.fraction || 0));
    progressFill.style.width = `${(100 * frac).toFixed(1)}%`;
    progressWrap.setAttribute("aria-valuenow", (100 * frac).toFixed(0));
    summarize();
    const parts = [];
    if (p.epochs) parts.push(`epoch ${Math.min(p.epoch + 1, p.epochs)}/${p.epochs}`);
    if (p.steps) parts.push(`step ${p.step}/${p.steps}`);
    // a paused run has no speed and no time left to count down: it says so instead
    if (st === "paused") parts.push("paused");
    else if (p.samples_per_s) parts.push(`${Math.round(p.samples_per_s).toLocaleString()} samples/s`);
    if (p.elapsed !== undefined) parts.push(`elapsed ${fmtTime(p.elapsed)}`);
    if (["starting", "running"].includes(st) && p.steps) {
      // the estimate is shown once the run has trained long enough to measure its speed
      parts.push(p.eta === null || p.eta === undefined ? "time left: estimating…" : `about ${fmtTime(p.eta)} left`);
    }
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
export { niceTicks, tickFormat, yRange }; // for tests that load this module in a browser
