// lepton_nb confusion matrix: a heat-map table; clicking a cell (or Enter on it) selects it (synced as `selected`).
// Each cell's colour is opaque (mixed with the page's background) and its number is black or white, whichever
// reads better: at least 4.5:1 whatever the share, in light and dark themes.

const lum = (rgb) => {
  const c = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
};
const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };

function render({ model, el }) {
  el.classList.add("lnb-confusion");
  const draw = () => {
    const m = model.get("matrix") || [];
    const labels = model.get("labels") || [];
    const sel = model.get("selected") || [];
    // a redraw (the selection changed) keeps the keyboard focus on the same cell
    const focused = el.contains(document.activeElement) ? document.activeElement.closest("td") : null;
    const keep = focused ? [focused.dataset.i, focused.dataset.j] : null;
    el.innerHTML = "";
    if (!m.length) { el.textContent = "no evaluation yet"; return; }
    const dark = document.body && document.body.dataset.jpThemeLight === "false";
    const page = dark ? [17, 17, 17] : [255, 255, 255];
    const table = document.createElement("table");
    const caption = document.createElement("caption");
    caption.textContent = "Confusion matrix: rows are the true class, columns the predicted class; press a cell to see its samples";
    caption.className = "lnb-confusion-caption";
    table.appendChild(caption);
    const head = document.createElement("tr");
    const corner = document.createElement("th");
    corner.className = "lnb-corner";
    corner.textContent = "true \\ predicted";
    head.appendChild(corner);
    for (const l of labels) {  // class names come from the data: text, never markup
      const th = document.createElement("th");
      th.textContent = l;
      th.title = l;
      th.scope = "col";
      head.appendChild(th);
    }
    table.appendChild(head);
    m.forEach((row, i) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = labels[i];
      th.scope = "row";
      tr.appendChild(th);
      row.forEach((v, j) => {
        const td = document.createElement("td");
        const share = v / total;
        const words = `true ${labels[i]}, predicted ${labels[j]}: ${v} (${(100 * share).toFixed(1)}% of the row)`;
        td.title = words;
        td.dataset.i = i; td.dataset.j = j;
        const base = i === j ? [46, 125, 50] : [198, 40, 40];
        if (v) {
          const a = 0.12 + 0.88 * share;
          const bg = base.map((c, k) => Math.round(a * c + (1 - a) * page[k]));
          const ink = contrast(bg, [255, 255, 255]) >= contrast(bg, [0, 0, 0]) ? "#fff" : "#000";
          td.style.background = `rgb(${bg.join(",")})`;
          td.style.color = ink;
        }
        const selected = sel.length === 2 && sel[0] === i && sel[1] === j;
        if (selected) td.classList.add("lnb-selected");
        if (v) {
          // a button inside the cell: reachable with Tab, pressed with Enter or Space; the table stays a table
          td.classList.add("lnb-clickable");
          const b = document.createElement("button");
          b.className = "lnb-cell";
          b.textContent = v;
          b.setAttribute("aria-label", words);
          b.setAttribute("aria-pressed", String(selected));
          b.addEventListener("click", () => {
            model.set("selected", [i, j]);
            model.save_changes();
          });
          td.appendChild(b);
        } else {
          td.textContent = v;
        }
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    el.appendChild(table);
    if (keep) {
      const again = table.querySelector(`td[data-i="${keep[0]}"][data-j="${keep[1]}"] button`);
      if (again) again.focus();
    }
  };
  for (const key of ["matrix", "labels", "selected"]) model.on(`change:${key}`, draw);
  draw();
  const theme = new MutationObserver(draw);  // cell colours are mixed with the theme's background
  if (document.body) theme.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
  return () => theme.disconnect();
}

export default { render };
