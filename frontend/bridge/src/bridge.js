// The studio in marimo: Jupyter's own widget classes (@jupyter-widgets/controls) drawn inside one anywidget.
//
// marimo draws anywidgets only. The kernel side (lepton_nb/ui/bridge.py) routes every widget of the studio
// through this anywidget's custom messages: {type: "open", models: [...]} creates models, {type: "msg"}
// carries one widget's comm message (updates, custom messages), and the front end answers with the same
// {type: "msg"} shape for edits and clicks. A small widget manager (ManagerBase) owns the models of one view.
import { ManagerBase } from "@jupyter-widgets/base-manager";
import * as base from "@jupyter-widgets/base";
import * as controls from "@jupyter-widgets/controls";
import { Widget as LuminoWidget } from "@lumino/widgets";

const STATIC_WAIT_MS = 2000; // without a kernel (a static export) the state saved at display is drawn

// anywidget's own widgets (the live monitor, the attribution timeline, the confusion matrix) inside the studio
class AnyModel extends base.DOMWidgetModel {}

class AnyView extends base.DOMWidgetView {
  async render() {
    const css = this.model.get("_css");
    if (css) {
      const style = document.createElement("style");
      style.textContent = css;
      this.el.appendChild(style);
    }
    const url = URL.createObjectURL(new Blob([this.model.get("_esm")], { type: "text/javascript" }));
    let mod;
    try {
      mod = await import(/* webpackIgnore: true */ url);
    } finally {
      URL.revokeObjectURL(url);
    }
    let widget = mod.default ?? mod;
    if (typeof widget === "function") widget = await widget();
    if (!this.model._lnbInitialized) {
      this.model._lnbInitialized = true;
      await widget.initialize?.({ model: this.model, experimental: {} });
    }
    const host = document.createElement("div");
    this.el.appendChild(host);
    this._cleanup = await widget.render?.({ model: this.model, el: host, experimental: {} });
  }

  remove() {
    if (typeof this._cleanup === "function") this._cleanup();
    return super.remove();
  }
}

const MODULES = {
  "@jupyter-widgets/base": base,
  "@jupyter-widgets/controls": controls,
  anywidget: { AnyModel, AnyView },
};

// A comm whose messages travel inside the bridge anywidget's custom messages.
class BridgeComm {
  constructor(bridge, commId) {
    this.bridge = bridge;
    this.comm_id = commId;
    this.target_name = "jupyter.widget";
    this._onMsg = null;
    this._onClose = null;
  }
  open() { return ""; }
  close() { this._onClose?.({ content: { comm_id: this.comm_id, data: {} } }); return ""; }
  on_msg(callback) { this._onMsg = callback; }
  on_close(callback) { this._onClose = callback; }
  send(data, callbacks, metadata, buffers) {
    this.bridge.send({ type: "msg", comm_id: this.comm_id, data }, undefined, buffers ?? []);
    // The kernel answers no status messages through this channel: report it idle at once, else Jupyter's
    // widget models hold every later edit back while waiting for the first to be acknowledged.
    const status = callbacks?.iopub?.status;
    if (status) Promise.resolve().then(() => status({ content: { execution_state: "idle" } }));
    return "";
  }
  deliver(data, buffers) {
    this._onMsg?.({ content: { comm_id: this.comm_id, data }, buffers });
  }
}

class BridgeManager extends ManagerBase {
  constructor(bridge) {
    super();
    this.bridge = bridge;
    this.comms = new Map();
  }
  async loadClass(className, moduleName) {
    const cls = MODULES[moduleName]?.[className];
    if (!cls) throw new Error(`lepton_nb studio: no widget class ${moduleName}.${className}`);
    return cls;
  }
  async _create_comm() { throw new Error("lepton_nb studio: widgets are created by the kernel"); }
  async _get_comm_info() { return {}; }

  open(models, buffers) {
    let next = 0;
    const made = [];
    for (const m of models) {
      const own = buffers.slice(next, next + m.buffers);
      next += m.buffers;
      if (this.comms.has(m.comm_id)) { // drawn already (from the state saved at display): bring it up to date
        this.deliver(m.comm_id, { method: "update", state: m.state, buffer_paths: m.buffer_paths }, own);
        continue;
      }
      const comm = new BridgeComm(this.bridge, m.comm_id);
      this.comms.set(m.comm_id, comm);
      base.put_buffers(m.state, m.buffer_paths, own);
      made.push(this.new_model({
        model_name: m.state._model_name,
        model_module: m.state._model_module,
        model_module_version: m.state._model_module_version,
        comm,
      }, m.state));
    }
    return Promise.all(made);
  }

  deliver(commId, data, buffers) {
    const comm = this.comms.get(commId);
    if (data.method === "close") { // the kernel closed the widget: its model and views go
      this.comms.delete(commId);
      comm?.close();
    } else {
      comm?.deliver(data, buffers);
    }
  }
}

// buffers arrive as DataViews, typed arrays (a view into a larger buffer) or ArrayBuffers
function asView(b) {
  if (b instanceof DataView) return b;
  return ArrayBuffer.isView(b) ? new DataView(b.buffer, b.byteOffset, b.byteLength) : new DataView(b);
}

function unpack(content, buffers) {
  return [content, (buffers ?? []).map(asView)];
}

async function render({ model, el }) {
  el.classList.add("lnb-bridge");
  const status = document.createElement("div");
  status.className = "lnb-bridge-status";
  status.textContent = "lepton_nb studio: loading…";
  el.appendChild(status);
  const manager = new BridgeManager(model);
  let view = null;
  let pending = [];
  let ready = false;

  let answered = false;
  const onMessage = (content, buffers) => {
    const [msg, bufs] = unpack(content, buffers);
    answered = true;
    if (msg.type === "boot") {
      drawSaved();
    } else if (msg.type === "open") {
      const opened = manager.open(msg.models, bufs);
      if (msg.root && !view) opened.then(() => show(msg.root));
    } else if (msg.type === "msg") {
      if (ready) manager.deliver(msg.comm_id, msg.data, bufs);
      else pending.push([msg.comm_id, msg.data, bufs]);
    }
  };

  async function show(rootId) {
    if (view) return;
    try {
      const root = await manager.get_model(rootId);
      view = await manager.create_view(root);
      status.remove();
      LuminoWidget.attach(view.luminoWidget, el);
      ready = true;
      for (const [id, data, bufs] of pending) manager.deliver(id, data, bufs);
      pending = [];
    } catch (err) {
      status.textContent = `lepton_nb studio could not be drawn: ${err}`;
      console.error(err);
    }
  }

  // the studio as it was displayed: drawn when the kernel says nothing changed since, or on a static page
  function drawSaved() {
    const saved = model.get("_boot");
    if (view || !saved?.root) return;
    const bufs = (model.get("_boot_buffers") ?? []).map(asView);
    manager.open(saved.models, bufs).then(() => show(saved.root));
  }

  model.on("msg:custom", onMessage);
  model.send({ type: "ready" });
  const timer = setTimeout(() => { if (!answered) drawSaved(); }, STATIC_WAIT_MS); // no kernel: a static page

  return () => {
    clearTimeout(timer);
    model.off("msg:custom", onMessage);
    view?.remove();
  };
}

export default { render };
