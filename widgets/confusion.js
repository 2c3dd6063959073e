// lepton_nb confusion matrix: a heat-map table; clicking a cell selects it (synced as `selected`).

function render({ model, el }) {
  el.classList.add("lnb-confusion");
  const draw = () => {
    const m = model.get("matrix") || [];
    const labels = model.get("labels") || [];
    const sel = model.get("selected") || [];
    el.innerHTML = "";
    if (!m.length) { el.textContent = "no evaluation yet"; return; }
    const table = document.createElement("table");
    const head = document.createElement("tr");
    const corner = document.createElement("th");
    corner.className = "lnb-corner";
    corner.textContent = "true \\ predicted";
    head.appendChild(corner);
    for (const l of labels) {  // class names come from the data: text, never markup
      const th = document.createElement("th");
      th.textContent = l;
      th.title = l;
      head.appendChild(th);
    }
    table.appendChild(head);
    m.forEach((row, i) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = labels[i];
      tr.appendChild(th);
      row.forEach((v, j) => {
        const td = document.createElement("td");
        const share = v / total;
        td.textContent = v;
        td.title = `true ${labels[i]}, predicted ${labels[j]}: ${v} (${(100 * share).toFixed(1)}% of the row)`;
        td.dataset.i = i; td.dataset.j = j;
        const base = i === j ? "46,125,50" : "198,40,40";
        td.style.background = v ? `rgba(${base},${(0.12 + 0.88 * share).toFixed(3)})` : "";
        td.style.color = share > 0.55 ? "#fff" : "";
        if (sel.length === 2 && sel[0] === i && sel[1] === j) td.classList.add("lnb-selected");
        if (v) td.classList.add("lnb-clickable");
        td.addEventListener("click", () => {
          model.set("selected", [i, j]);
          model.save_changes();
        });
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    el.appendChild(table);
  };
  for (const key of ["matrix", "labels", "selected"]) model.on(`change:${key}`, draw);
  draw();
}

export default { render };
