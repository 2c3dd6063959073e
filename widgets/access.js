// Keyboard stepping of the studio's number fields (lepton_nb/ui/access.py marks them with a class):
// ArrowUp/ArrowDown multiply/divide a log-scaled field along 1-2-5 (0.002 → 0.005 → 0.01) and move any other
// decimal field by one unit of its second significant digit (0.21 → 0.22, 16 → 17); bounds are kept. The
// browser's own stepping (a fixed step) is used where this module is not loaded.

const LADDER = [1, 2, 5];
const tidy = (v) => Number(v.toPrecision(12));

export function stepValue(v, dir, { log = false, lo = -Infinity, hi = Infinity } = {}) {
  let next;
  if (log && v > 0) {
    const e = Math.floor(Math.log10(v));
    const grid = [];
    for (let k = e - 1; k <= e + 1; k++) for (const m of LADDER) grid.push(tidy(m * 10 ** k));
    next = dir > 0 ? grid.find((g) => g > v * (1 + 1e-9)) : grid.reverse().find((g) => g < v * (1 - 1e-9));
  } else {
    const mag = v !== 0 ? 10 ** (Math.floor(Math.log10(Math.abs(v))) - 1)
      : Math.min(0.1, isFinite(hi - lo) && hi > lo ? 10 ** (Math.floor(Math.log10(hi - lo)) - 1) : 0.1);
    next = tidy(v + dir * mag);
  }
  return Math.min(hi, Math.max(lo, next));
}

function bound(input, name, fallback) {
  const v = Number(input.getAttribute(name));
  return input.hasAttribute(name) && isFinite(v) ? v : fallback;
}

export function installStepping(doc = globalThis.document) {
  if (!doc || doc.__lnbStepping) return;
  doc.__lnbStepping = true;
  doc.addEventListener("keydown", (e) => {
    if ((e.key !== "ArrowUp" && e.key !== "ArrowDown") || e.altKey || e.ctrlKey || e.metaKey) return;
    const input = e.target;
    if (!input || input.tagName !== "INPUT" || input.disabled || input.readOnly) return;
    const box = input.closest(".lnb-step-log, .lnb-step-linear");
    if (!box) return;
    const v = Number(input.value);
    if (input.value.trim() === "" || !isFinite(v)) return;
    e.preventDefault();
    e.stopPropagation();
    const next = stepValue(v, e.key === "ArrowUp" ? 1 : -1, {
      log: box.classList.contains("lnb-step-log"), lo: bound(input, "min", -Infinity), hi: bound(input, "max", Infinity),
    });
    input.value = String(next);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, true);
}
