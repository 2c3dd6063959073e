// lepton_nb live attribution timeline: probe tiles (input + signed attribution overlay) per epoch,
// an epoch slider and a play button. Frames arrive append-only; on (re)render the view says hello
// and gets them all again. Attributions come as int8 (base64) with one scale per frame.

const RED = [196, 78, 82], BLUE = [76, 114, 176], GREEN = [46, 125, 50];

function decode(b64, signed) {
  const raw = atob(b64);
  const out = signed ? new Int8Array(raw.length) : new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = signed ? ((raw.charCodeAt(i) << 24) >> 24) : raw.charCodeAt(i);
  return out;
}

function tileCanvas(probe, attr, size) {
  const { w, h, c } = probe.image;
  const px = decode(probe.image.data, false);
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  canvas.style.width = `${size}px`; canvas.style.height = `${Math.round(size * h / w)}px`;
  canvas.style.imageRendering = "pixelated";
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    let g = 0;
    for (let k = 0; k < c; k++) g += px[i * c + k];
    g = g / c;
    const a = attr ? attr[i] / 127 : 0;
    const col = a > 0 ? RED : BLUE;
    const alpha = Math.min(1, Math.abs(a)) * 0.85;
    img.data[4 * i] = Math.round(g * (1 - alpha) + col[0] * alpha);
    img.data[4 * i + 1] = Math.round(g * (1 - alpha) + col[1] * alpha);
    img.data[4 * i + 2] = Math.round(g * (1 - alpha) + col[2] * alpha);
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

// The words of an image tile: the sample, the prediction at this epoch, and the share of positive attribution in
// each third of the image (top/middle/bottom × left/centre/right) where the map is strongest.
function tileWords(probe, attr, f, i, classes) {
  const truth = `true ${classes[probe.label]}`;
  if (!f) return `probe sample ${i + 1}, ${truth}; no attribution yet`;
  const said = `predicted ${classes[f.predictions[i]]} ${(100 * f.confidence[i]).toFixed(0)}%`;
  const { w, h } = probe.image;
  const cells = new Array(9).fill(0);
  let total = 0;
  for (let k = 0; k < w * h; k++) {
    const a = Math.max(0, attr[k]);
    cells[Math.min(2, Math.floor((3 * Math.floor(k / w)) / h)) * 3 + Math.min(2, Math.floor((3 * (k % w)) / w))] += a;
    total += a;
  }
  const names = ["top left", "top", "top right", "left", "centre", "right", "bottom left", "bottom", "bottom right"];
  const top = cells.indexOf(Math.max(...cells));
  const where = total > 0 ? `; strongest evidence ${names[top]} (${((100 * cells[top]) / total).toFixed(0)}% of it)` : "";
  return `probe sample ${i + 1} at epoch ${f.epoch + 1}: ${truth}, ${said}${where}`;
}

function tokens(probe, attr, att) {
  // att (transformers): attention rollout per word, drawn as a green underline relative to the sentence's top word
  const span = document.createElement("div");
  span.className = "lnb-tokens";
  const top = att && att.length ? Math.max(...att, 1e-9) : 0;
  probe.words.forEach((word, i) => {
    const a = attr ? attr[i] / 127 : 0;
    const col = a > 0 ? RED : BLUE;
    const s = document.createElement("span");
    s.textContent = word;
    s.title = (attr ? attr[i] / 127 : 0).toFixed(2);
    s.style.background = `rgba(${col.join(",")},${Math.min(0.55, Math.abs(a)).toFixed(2)})`;  // text stays readable on it
    if (top) {
      const share = att[i] || 0;
      s.title += ` · attention rollout ${(100 * share).toFixed(1)}%`;
      s.style.boxShadow = `inset 0 -3px 0 rgba(${GREEN.join(",")},${(share / top).toFixed(2)})`;
      s.dataset.attention = share.toFixed(3);
    }
    span.append(s, " ");
  });
  return span;
}

function bars(probe, attr) {
  const box = document.createElement("div");
  box.className = "lnb-bars";
  const order = probe.features.map((_, i) => i).sort((i, j) => Math.abs(attr[j]) - Math.abs(attr[i])).slice(0, 6);
  for (const i of order) {
    const a = attr[i] / 127;
    const row = document.createElement("div");
    row.className = "lnb-bar-row";
    const name = document.createElement("span");  // feature names come from the data: text, never markup
    name.className = "lnb-bar-name";
    name.textContent = probe.features[i];
    name.title = probe.features[i];
    const track = document.createElement("span");
    track.className = "lnb-bar-track";
    const fill = document.createElement("span");
    fill.className = "lnb-bar-fill";
    fill.style.width = `${(50 * Math.abs(a)).toFixed(1)}%`;
    fill.style[a >= 0 ? "left" : "right"] = "50%";
    fill.style.background = `rgb(${(a >= 0 ? RED : BLUE).join(",")})`;
    track.appendChild(fill);
    row.append(name, track);
    box.appendChild(row);
  }
  return box;
}

function render({ model, el }) {
  el.classList.add("lnb-attr");
  const head = document.createElement("div");
  head.className = "lnb-attr-head";
  const play = document.createElement("button");
  play.className = "lnb-btn lnb-play";
  play.textContent = "▶ Play";
  const slider = document.createElement("input");
  slider.type = "range"; slider.min = 0; slider.max = 0; slider.value = 0; slider.className = "lnb-epoch";
  slider.setAttribute("aria-label", "epoch shown");
  const label = document.createElement("span");
  label.className = "lnb-epoch-label";
  const follow = document.createElement("label");
  follow.innerHTML = `<input type="checkbox" checked> follow training`;
  head.append(play, slider, label, follow);
  const grid = document.createElement("div");
  grid.className = "lnb-attr-grid";
  const note = document.createElement("div");
  note.className = "lnb-attr-note";
  el.append(head, grid, note);

  let frames = [];
  let timer = null;
  const following = () => follow.querySelector("input").checked;

  const draw = () => {
    const probes = model.get("probes") || [];
    const classes = model.get("classes") || [];
    const kind = model.get("kind");
    grid.innerHTML = "";
    el.dataset.frames = String(frames.length);
    if (!probes.length) { note.textContent = model.get("note") || "no probes yet"; return; }
    note.textContent = model.get("note") || "";
    const f = frames[Number(slider.value)];
    label.textContent = f ? `epoch ${f.epoch + 1} (${Number(slider.value) + 1}/${frames.length})` : "waiting for the first epoch…";
    el.dataset.epoch = f ? String(f.epoch) : "";
    probes.forEach((probe, i) => {
      const tile = document.createElement("div");
      tile.className = "lnb-tile";
      const attr = f ? decode(f.data[i], true) : null;
      if (kind === "image") {
        const canvas = tileCanvas(probe, attr, 96);
        // a picture with a name: which sample, what the model said, and where the map is strongest
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", tileWords(probe, attr, f, i, classes));
        tile.appendChild(canvas);
      }
      else if (kind === "text") tile.appendChild(tokens(probe, attr, f && f.attention ? f.attention[i] : null));
      else if (attr) tile.appendChild(bars(probe, attr));
      const cap = document.createElement("div");
      cap.className = "lnb-caption";
      if (f) {
        const pred = f.predictions[i];
        const ok = pred === probe.label;
        const b = document.createElement("b");  // class names come from the data: text, never markup
        b.style.color = ok ? "var(--lnb-ok, #1b5e20)" : "var(--lnb-bad, #b71c1c)";
        b.textContent = classes[pred];
        cap.append(b, ` ${(100 * f.confidence[i]).toFixed(0)}% · true ${classes[probe.label]}`);
      } else {
        cap.textContent = `true ${classes[probe.label]}`;
      }
      tile.appendChild(cap);
      grid.appendChild(tile);
    });
  };

  const setFrames = (list, reset) => {
    const wasAtEnd = Number(slider.value) >= frames.length - 1;
    frames = reset ? list : frames.concat(list);
    slider.max = Math.max(0, frames.length - 1);
    if (reset || (following() && wasAtEnd && !timer)) slider.value = slider.max;
    draw();
  };

  model.on("msg:custom", (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "reset") setFrames(msg.frames || [], true);
    else if (msg.type === "frames") {
      if (msg.start !== frames.length) { model.send({ type: "hello", reason: "gap" }); return; }
      setFrames(msg.frames || [], false);
    }
  });
  slider.addEventListener("input", draw);
  play.addEventListener("click", () => {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "▶ Play"; return; }
    if (Number(slider.value) >= frames.length - 1) { slider.value = 0; draw(); }  // the first frame is shown too
    play.textContent = "Pause";
    timer = setInterval(() => {
      if (Number(slider.value) >= frames.length - 1) { clearInterval(timer); timer = null; play.textContent = "▶ Play"; return; }
      slider.value = Number(slider.value) + 1;
      draw();
    }, 600);
  });
  for (const key of ["probes", "classes", "kind", "note"]) model.on(`change:${key}`, draw);
  draw();
  model.send({ type: "hello" });
  return () => { if (timer) clearInterval(timer); };
}

export default { render };
