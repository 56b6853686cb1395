/* The activation explorer: draws what actlib computed when the book was built (see _ext/explorer.py).
 *
 * No activation is computed here. manifest.js lists the functions, their sliders (each a list of
 * parameter values) and their fixed parameters; data/<name>.js holds, for every combination of slider
 * values that actlib accepts, f and f' on an x grid (float32) and the kinks with actlib's f' there.
 * Both are scripts, loaded on demand from this script's folder, so the page works from file:// too.
 */
"use strict";

(() => {
  const SCRIPT_URL = document.currentScript.src;
  const BASE = SCRIPT_URL.slice(0, SCRIPT_URL.lastIndexOf("/") + 1);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const SIGNIFICANT_DIGITS = 6;
  const MINUS = "\u2212";
  const PRIME = "\u2032";
  // A kink label's box in SVG units, for keeping labels apart (12px text).
  const LABEL_CHARACTER_WIDTH = 6.8;
  const LABEL_HEIGHT = 14;

  const loaded = new Map();
  const received = { manifest: null, data: new Map() };

  function decodeValues(base64) {
    const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    const values = new Float32Array(bytes.length / 4);
    for (let index = 0; index < values.length; index += 1) values[index] = view.getFloat32(4 * index, true);
    return values;
  }

  window.actlibExplorer = {
    receiveManifest(manifest) {
      received.manifest = manifest;
    },
    receive(name, payload) {
      received.data.set(name, { ...payload, values: decodeValues(payload.values) });
    },
  };

  function loadScript(relativeUrl) {
    if (!loaded.has(relativeUrl)) {
      loaded.set(relativeUrl, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = BASE + relativeUrl;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`activation explorer: could not load ${relativeUrl}`));
        document.head.appendChild(script);
      }));
    }
    return loaded.get(relativeUrl);
  }

  async function functionData(entry) {
    await loadScript(entry.file);
    return received.data.get(entry.name);
  }

  /* Six significant digits, the shortest way (0.5, not 0.500000), with a true minus sign. */
  function formatNumber(value) {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "\u221e" : `${MINUS}\u221e`;
    const text = String(Number(value.toPrecision(SIGNIFICANT_DIGITS)));
    return text === "-0" ? `${MINUS}0` : text.replace("-", MINUS);
  }

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  function svgElement(tag, attributes = {}, text = "") {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  /* Ticks at 1, 2 or 5 times a power of ten, about `count` of them across [low, high]. */
  function ticks(low, high, count) {
    const rough = (high - low) / count;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough);
    const values = [];
    for (let value = Math.ceil(low / step) * step; value <= high + 1e-9 * step; value += step) {
      values.push(Math.abs(value) < 1e-12 * step ? 0 : value);
    }
    return values;
  }

  let explorerCount = 0;

  /* One function slot (the main one, or the one to compare): its select, its sliders, its data. */
  class Slot {
    constructor(explorer, key, legendText, allowNone) {
      this.explorer = explorer;
      this.key = key;
      this.entry = null;
      this.data = null;
      this.indices = [];
      this.fieldset = element("fieldset", { class: `actlib-explorer-slot actlib-explorer-slot-${key}` });
      const legend = element("legend");
      legend.append(element("span", { class: `actlib-explorer-swatch actlib-explorer-swatch-${key}`, "aria-hidden": "true" }));
      legend.append(document.createTextNode(legendText));
      this.fieldset.append(legend);
      const selectId = `${explorer.id}-${key}-function`;
      this.fieldset.append(element("label", { for: selectId }, key === "a" ? "Function" : "Compare with"));
      this.select = element("select", { id: selectId, "data-role": "function" });
      if (allowNone) this.select.append(element("option", { value: "" }, "nothing"));
      for (const entry of explorer.manifest.functions) this.select.append(element("option", { value: entry.name }, entry.name));
      this.fieldset.append(this.select);
      this.sliderBox = element("div", { class: "actlib-explorer-sliders" });
      this.fixedNote = element("p", { class: "actlib-explorer-fixed" });
      this.fieldset.append(this.sliderBox, this.fixedNote);
      this.select.addEventListener("change", () => this.choose(this.select.value));
    }

    async choose(name) {
      this.select.value = name;
      this.entry = this.explorer.manifest.functions.find((entry) => entry.name === name) || null;
      this.data = null;
      this.buildSliders();
      if (this.entry) {
        const entry = this.entry;
        const data = await functionData(entry);
        if (this.entry !== entry) return;
        this.data = data;
        this.updateSliders();
      }
      this.explorer.functionChanged();
    }

    buildSliders() {
      this.sliderBox.replaceChildren();
      this.inputs = [];
      this.indices = this.entry ? this.entry.sliders.map((slider) => slider.default) : [];
      if (!this.entry) {
        this.fixedNote.textContent = "";
        return;
      }
      this.entry.sliders.forEach((slider, position) => {
        const id = `${this.explorer.id}-${this.key}-${slider.name}`;
        const row = element("div", { class: "actlib-explorer-slider" });
        const label = element("label", { for: id }, slider.name);
        const input = element("input", {
          type: "range", id, min: "0", max: String(slider.values.length - 1), step: "1",
          value: String(slider.default), "data-parameter": slider.name,
        });
        const shown = element("output", { for: id, "data-role": "value" });
        const span = element("span", { class: "actlib-explorer-span", "data-role": "span" });
        input.addEventListener("input", () => this.moved(position, Number(input.value)));
        row.append(label, input, shown, span);
        this.sliderBox.append(row);
        this.inputs.push({ input, shown, span, slider });
      });
      const fixed = Object.entries(this.entry.fixed).map(([name, value]) => `${name}=${value}`);
      this.fixedNote.textContent = fixed.length ? `Fixed at actlib's defaults: ${fixed.join(", ")}.` : "";
      this.fixedNote.hidden = fixed.length === 0;
      this.updateSliders();
    }

    combinationIndex(indices) {
      let combination = 0;
      this.entry.sliders.forEach((slider, position) => {
        combination = combination * slider.values.length + indices[position];
      });
      return combination;
    }

    row(indices = this.indices) {
      return this.data ? this.data.rows[this.combinationIndex(indices)] : -1;
    }

    /* Positions of slider `position` that actlib accepts with the other sliders where they are. */
    validPositions(position) {
      const rows = this.data ? this.data.rows : null;
      return this.entry.sliders[position].values.map((_, candidate) => {
        const indices = [...this.indices];
        indices[position] = candidate;
        return rows === null || rows[this.combinationIndex(indices)] >= 0;
      });
    }

    moved(position, wanted) {
      const valid = this.validPositions(position);
      let chosen = wanted;
      if (!valid[chosen]) {
        // Not contiguous: step on to the nearest value actlib accepts, in the direction of the move.
        const direction = wanted >= this.indices[position] ? 1 : -1;
        chosen = this.indices[position];
        for (let candidate = wanted; candidate >= 0 && candidate < valid.length; candidate += direction) {
          if (valid[candidate]) { chosen = candidate; break; }
        }
      }
      this.indices[position] = chosen;
      this.updateSliders();
      this.explorer.draw();
    }

    /* Each slider's range is the values actlib accepts given the others, so nothing else can be chosen. */
    updateSliders() {
      this.inputs.forEach(({ input, shown, span, slider }, position) => {
        const valid = this.validPositions(position);
        const first = valid.indexOf(true);
        const last = valid.lastIndexOf(true);
        input.min = String(first);
        input.max = String(last);
        input.value = String(this.indices[position]);
        const value = slider.values[this.indices[position]];
        input.setAttribute("aria-valuetext", `${slider.name} = ${formatNumber(value)}`);
        shown.textContent = formatNumber(value);
        span.textContent = `(${formatNumber(slider.values[first])} to ${formatNumber(slider.values[last])})`;
      });
    }

    description() {
      if (!this.entry) return "";
      const values = this.entry.sliders.map((slider, position) => `${slider.name} = ${formatNumber(slider.values[this.indices[position]])}`);
      return values.length ? `${this.entry.name} (${values.join(", ")})` : this.entry.name;
    }

    curves() {
      const row = this.row();
      if (row < 0) return null;
      const count = this.data.x.length;
      const offset = row * 2 * count;
      return {
        x: this.data.x,
        f: this.data.values.subarray(offset, offset + count),
        d: this.data.values.subarray(offset + count, offset + 2 * count),
        kinks: this.data.kinks[row],
      };
    }
  }

  class Explorer {
    constructor(container, manifest) {
      explorerCount += 1;
      this.id = `actlib-explorer-${explorerCount}`;
      this.container = container;
      this.manifest = manifest;
      this.compact = container.dataset.compact === "true";
      this.cursor = 0;
      container.replaceChildren();
      const controls = element("div", { class: "actlib-explorer-controls" });
      this.slots = [new Slot(this, "a", "Function", false)];
      if (!this.compact) this.slots.push(new Slot(this, "b", "Compare", true));
      controls.append(...this.slots.map((slot) => slot.fieldset));
      this.figure = element("figure", { class: "actlib-explorer-figure" });
      this.svg = svgElement("svg", { role: "img", "aria-labelledby": `${this.id}-caption` });
      const size = this.size();
      this.svg.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
      this.caption = element("figcaption", { id: `${this.id}-caption` });
      this.figure.append(this.svg, this.caption);
      const cursorRow = element("div", { class: "actlib-explorer-slider actlib-explorer-cursor" });
      const cursorId = `${this.id}-x`;
      this.cursorInput = element("input", { type: "range", id: cursorId, min: "0", max: "0", step: "1", value: "0", "data-role": "cursor" });
      this.cursorShown = element("output", { for: cursorId });
      cursorRow.append(element("label", { for: cursorId }, "Read values at x"), this.cursorInput, this.cursorShown);
      this.cursorInput.addEventListener("input", () => { this.cursor = Number(this.cursorInput.value); this.drawCursor(); });
      this.readout = element("table", { class: "actlib-explorer-readout" });
      this.readoutBody = element("tbody", { "aria-live": "polite" });
      const head = element("thead");
      const headRow = element("tr");
      for (const title of ["Function", "x", "f(x)", `f${PRIME}(x)`]) headRow.append(element("th", { scope: "col" }, title));
      head.append(headRow);
      this.readout.append(element("caption", {}, "Values actlib computed at the cursor (float32, 6 significant digits)"), head, this.readoutBody);
      this.kinkList = element("ul", { class: "actlib-explorer-kinks", "aria-label": "Kinks" });
      container.append(controls, this.figure, cursorRow, this.readout, this.kinkList);
      this.svg.addEventListener("pointermove", (event) => this.pointerMoved(event));
      this.svg.addEventListener("pointerdown", (event) => this.pointerMoved(event));
    }

    async start() {
      const first = this.container.dataset.function || this.manifest.functions[0].name;
      await this.slots[0].choose(first);
      if (this.slots[1]) await this.slots[1].choose(this.container.dataset.compare || "");
      this.container.dataset.ready = "true";
    }

    functionChanged() {
      const main = this.slots[0];
      if (!main.data) return;
      const x = main.data.x;
      this.cursorInput.max = String(x.length - 1);
      // Keep the cursor where it was when the new grid has that x, else put it at x = 1.
      let index = this.cursorX === undefined ? -1 : x.indexOf(this.cursorX);
      if (index < 0) index = Math.max(0, x.findIndex((value) => value >= 1));
      this.cursor = index;
      this.cursorInput.value = String(index);
      this.draw();
    }

    get xValue() {
      const main = this.slots[0];
      return main.data ? main.data.x[this.cursor] : undefined;
    }

    /* The graph's size in SVG units; explorer.css reserves the page height from the same numbers. */
    size() {
      const width = 640;
      const panelHeight = this.compact ? 150 : 200;
      const margin = { left: 52, right: 16, top: 22, gap: 40, bottom: 28 };
      return { width, panelHeight, margin, height: margin.top + 2 * panelHeight + margin.gap + margin.bottom };
    }

    layout() {
      const { width, panelHeight, margin, height } = this.size();
      const main = this.slots[0].data;
      const shown = this.slots.filter((slot) => slot.data);
      const span = (quantity) => {
        const low = Math.min(...shown.map((slot) => slot.data.yRange[quantity][0]));
        const high = Math.max(...shown.map((slot) => slot.data.yRange[quantity][1]));
        return [low, high];
      };
      const xLow = main.x[0];
      const xHigh = main.x[main.x.length - 1];
      const plotWidth = width - margin.left - margin.right;
      const panels = ["f", "d"].map((quantity, position) => {
        const top = margin.top + position * (panelHeight + margin.gap);
        const [low, high] = span(quantity);
        return {
          quantity, top, low, high,
          y: (value) => top + panelHeight * (1 - (value - low) / (high - low)),
        };
      });
      return {
        width, height, panelHeight, margin, xLow, xHigh, plotWidth, panels,
        x: (value) => margin.left + plotWidth * (value - xLow) / (xHigh - xLow),
      };
    }

    draw() {
      if (!this.slots[0].data) return;
      const layout = this.layout();
      this.currentLayout = layout;
      const svg = this.svg;
      svg.replaceChildren();
      svg.setAttribute("viewBox", `0 0 ${layout.width} ${layout.height}`);
      const clipId = `${this.id}-clip`;
      const defs = svgElement("defs");
      layout.panels.forEach((panel, position) => {
        const clip = svgElement("clipPath", { id: `${clipId}-${position}` });
        clip.append(svgElement("rect", { x: layout.margin.left, y: panel.top, width: layout.plotWidth, height: layout.panelHeight }));
        defs.append(clip);
      });
      svg.append(defs);
      layout.panels.forEach((panel, position) => this.drawPanel(layout, panel, `${clipId}-${position}`));
      this.cursorGroup = svgElement("g", { class: "actlib-explorer-cursor-marks" });
      svg.append(this.cursorGroup);
      const descriptions = this.slots.filter((slot) => slot.curves()).map((slot) => slot.description());
      this.caption.textContent = `f (top) and its derivative f${PRIME} (bottom) as actlib computed them: ${descriptions.join(" compared with ")}. Circles mark kinks, labelled with the derivative actlib returns there.`;
      this.listKinks();
      this.drawCursor();
    }

    drawPanel(layout, panel, clipId) {
      const group = svgElement("g", { class: `actlib-explorer-panel actlib-explorer-panel-${panel.quantity}` });
      const left = layout.margin.left;
      const right = left + layout.plotWidth;
      const bottom = panel.top + layout.panelHeight;
      group.append(svgElement("rect", { class: "actlib-explorer-frame", x: left, y: panel.top, width: layout.plotWidth, height: layout.panelHeight }));
      for (const value of ticks(panel.low, panel.high, 5)) {
        const y = panel.y(value);
        group.append(svgElement("line", { class: value === 0 ? "actlib-explorer-axis" : "actlib-explorer-grid", x1: left, x2: right, y1: y, y2: y }));
        group.append(svgElement("text", { class: "actlib-explorer-tick", x: left - 6, y: y + 4, "text-anchor": "end" }, formatNumber(value)));
      }
      for (const value of ticks(layout.xLow, layout.xHigh, 8)) {
        const x = layout.x(value);
        group.append(svgElement("line", { class: value === 0 ? "actlib-explorer-axis" : "actlib-explorer-grid", x1: x, x2: x, y1: panel.top, y2: bottom }));
        group.append(svgElement("text", { class: "actlib-explorer-tick", x, y: bottom + 16, "text-anchor": "middle" }, formatNumber(value)));
      }
      const title = panel.quantity === "f" ? "f(x)" : `f${PRIME}(x)`;
      group.append(svgElement("text", { class: "actlib-explorer-panel-title", x: left, y: panel.top - 6 }, title));
      const plotted = svgElement("g", { "clip-path": `url(#${clipId})` });
      const placed = [];
      for (const slot of this.slots) {
        const curves = slot.curves();
        if (!curves) continue;
        plotted.append(svgElement("path", {
          class: `actlib-explorer-curve actlib-explorer-curve-${slot.key}`,
          "data-slot": slot.key, "data-quantity": panel.quantity,
          d: this.pathData(layout, panel, curves.x, curves[panel.quantity]),
        }));
        for (const [at, value, slope] of curves.kinks) {
          if (at < layout.xLow || at > layout.xHigh) continue;
          const y = panel.y(panel.quantity === "f" ? value : slope);
          plotted.append(svgElement("circle", { class: `actlib-explorer-kink actlib-explorer-kink-${slot.key}`, cx: layout.x(at), cy: y, r: 4.5 }));
          if (panel.quantity === "d") {
            const label = `f${PRIME}(${formatNumber(at)}) = ${formatNumber(slope)}`;
            const [x, baseline] = this.placeLabel(layout, panel, placed, layout.x(at), y, label.length * LABEL_CHARACTER_WIDTH);
            plotted.append(svgElement("text", {
              class: "actlib-explorer-kink-label", "data-slot": slot.key, x, y: baseline,
            }, label));
          }
        }
      }
      group.append(plotted);
      this.svg.append(group);
    }

    /* Where a kink's label goes: beside its circle, on the first of a few spots that overlaps no label
       placed before it and stays inside the panel. Returns the text's x and baseline. */
    placeLabel(layout, panel, placed, x, y, width) {
      const height = LABEL_HEIGHT;
      const right = layout.margin.left + layout.plotWidth;
      const spots = [];
      for (let lift = 0; lift < 6; lift += 1) {
        for (const sign of [-1, 1]) {
          const baseline = sign < 0 ? y - 8 - lift * height : y + 16 + lift * height;
          spots.push([x + 6, baseline], [x - 6 - width, baseline]);
        }
      }
      const fits = ([left, baseline]) => left >= layout.margin.left && left + width <= right
        && baseline - height >= panel.top && baseline <= panel.top + layout.panelHeight;
      const free = ([left, baseline]) => placed.every((other) => left + width <= other.left || other.left + other.width <= left
        || baseline <= other.baseline - height || other.baseline <= baseline - height);
      const spot = spots.find((candidate) => fits(candidate) && free(candidate)) || spots.find(fits) || spots[0];
      placed.push({ left: spot[0], baseline: spot[1], width });
      return spot;
    }

    pathData(layout, panel, xs, ys) {
      const parts = [];
      let drawing = false;
      for (let index = 0; index < xs.length; index += 1) {
        if (!Number.isFinite(ys[index])) { drawing = false; continue; }
        parts.push(`${drawing ? "L" : "M"}${layout.x(xs[index]).toFixed(2)} ${panel.y(ys[index]).toFixed(2)}`);
        drawing = true;
      }
      return parts.join("");
    }

    listKinks() {
      this.kinkList.replaceChildren();
      for (const slot of this.slots) {
        const curves = slot.curves();
        if (!curves) continue;
        const item = element("li", { "data-slot": slot.key });
        if (curves.kinks.length === 0) {
          item.textContent = `${slot.description()}: no kink on this grid.`;
        } else {
          const parts = curves.kinks.map(([at, value, slope]) => `at x = ${formatNumber(at)}, f = ${formatNumber(value)} and actlib's f${PRIME} = ${formatNumber(slope)}`);
          item.textContent = `${slot.description()}: kink ${parts.join("; ")}.`;
        }
        this.kinkList.append(item);
      }
    }

    pointerMoved(event) {
      const layout = this.currentLayout;
      const main = this.slots[0].data;
      if (!layout || !main) return;
      const box = this.svg.getBoundingClientRect();
      const scale = layout.width / box.width;
      const xPixel = (event.clientX - box.left) * scale;
      const value = layout.xLow + (xPixel - layout.margin.left) / layout.plotWidth * (layout.xHigh - layout.xLow);
      let nearest = 0;
      main.x.forEach((candidate, index) => {
        if (Math.abs(candidate - value) < Math.abs(main.x[nearest] - value)) nearest = index;
      });
      this.cursor = nearest;
      this.cursorInput.value = String(nearest);
      this.drawCursor();
    }

    drawCursor() {
      const layout = this.currentLayout;
      if (!layout) return;
      const x = this.xValue;
      this.cursorX = x;
      this.cursorShown.textContent = formatNumber(x);
      this.cursorInput.setAttribute("aria-valuetext", `x = ${formatNumber(x)}`);
      this.cursorGroup.replaceChildren();
      for (const panel of layout.panels) {
        this.cursorGroup.append(svgElement("line", { class: "actlib-explorer-cursor-line", x1: layout.x(x), x2: layout.x(x), y1: panel.top, y2: panel.top + layout.panelHeight }));
      }
      this.readoutBody.replaceChildren();
      for (const slot of this.slots) {
        const curves = slot.curves();
        if (!curves) continue;
        const index = curves.x.indexOf(x);
        const row = element("tr", { "data-slot": slot.key });
        row.append(element("th", { scope: "row" }, slot.description()));
        const cells = index < 0 ? ["outside its grid", "", ""] : [formatNumber(x), formatNumber(curves.f[index]), formatNumber(curves.d[index])];
        ["x", "f", "d"].forEach((quantity, position) => row.append(element("td", { "data-quantity": quantity }, cells[position])));
        this.readoutBody.append(row);
        if (index < 0) continue;
        for (const panel of layout.panels) {
          const value = curves[panel.quantity][index];
          if (!Number.isFinite(value)) continue;
          this.cursorGroup.append(svgElement("circle", { class: `actlib-explorer-dot actlib-explorer-dot-${slot.key}`, cx: layout.x(x), cy: panel.y(value), r: 3.5 }));
        }
      }
    }
  }

  async function startAll() {
    const containers = [...document.querySelectorAll(".actlib-explorer")];
    if (containers.length === 0) return;
    await loadScript("manifest.js");
    for (const container of containers) await new Explorer(container, received.manifest).start();
  }

  startAll();
})();
