// The studio's keyboard helpers, installed once per page by the live monitor:
// - stepping of number fields (lepton_nb/ui/access.py marks them with a class): ArrowUp/ArrowDown multiply/divide
//   a log-scaled field along 1-2-5 (0.002 → 0.005 → 0.01) and move any other decimal field by one unit of its
//   second significant digit (0.21 → 0.22, 16 → 17); bounds are kept. Where this module is not loaded the
//   browser steps by the field's fixed step.
// - a focus keeper: when a focused control of the studio is disabled or hidden under the keyboard (a button that
//   starts a job locks itself), the focus moves to the nearest control that can still be used, never to the page.

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

const FOCUSABLE = "button, input, select, textarea, summary, [tabindex]:not([tabindex='-1']), a[href]";
const usable = (e) => !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";

// the control nearest to `lost` in reading order that can take the focus: the next one after it, else the one before
export function nearestUsable(root, lost) {
  const all = Array.from(root.querySelectorAll(FOCUSABLE));
  const after = all.filter((e) => lost.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING);
  const before = all.filter((e) => lost.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_PRECEDING).reverse();
  return [...after, ...before].find((e) => e !== lost && usable(e)) || null;
}

export function installKeyboard(doc = globalThis.document) {
  if (!doc || doc.__lnbKeyboard) return;
  doc.__lnbKeyboard = true;
  doc.addEventListener("focusout", (e) => {
    const lost = e.target;
    const root = lost && lost.closest && lost.closest(".lnb-studio");
    if (!root || e.relatedTarget || usable(lost)) return;  // moved on by the user, or the window lost focus
    // controls that change together arrive as separate updates: look once they have landed
    setTimeout(() => {
      const now = doc.activeElement;
      if (now && now !== doc.body && now !== doc.documentElement) return;
      if (usable(lost) && root.contains(lost)) { lost.focus(); return; }
      const next = nearestUsable(root, lost);
      if (next) next.focus();
    }, 100);
  }, true);
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
