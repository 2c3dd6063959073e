// Jupyter's widget styles define their variables on :root; marimo draws an anywidget inside a shadow root,
// where :root matches nothing, so they are defined on the shadow host and the bridge's element as well.
import { readFileSync, writeFileSync } from "node:fs";

const path = process.argv[2];
const css = readFileSync(path, "utf8").replaceAll(":root{", ":root,:host,.lnb-bridge{");
writeFileSync(path, css);
