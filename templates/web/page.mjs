// page.mjs - the page's UI: controls, IPU inputs, raster + heat map drawing. The brain runs in
// worker.mjs; everything here is display. Loads only this site's files (model.json, feagi.wasm).
const $ = (id) => document.getElementById(id);
const hex8 = (x) => (x >>> 0).toString(16).padStart(8, "0");
const model = await (await fetch("model.json")).json();
const worker = new Worker("worker.mjs", { type: "module" });
const areas = model.areas, A = areas.length, first = model.area_first;

// ---- area lookup: neuron id -> area index (binary search over area_first) and voxel
function areaOf(id) {
  let lo = 0, hi = A - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (first[mid] <= id) lo = mid; else hi = mid - 1; }
  return lo;
}

// ---- raster: one band per area, scrolling one pixel column per burst
const raster = $("raster"), rctx = raster.getContext("2d");
const LABEL = 170;
raster.height = Math.min(1200, Math.max(300, A * 14));
const bandH = (raster.height - 4) / A;
function rasterBackground() {
  rctx.fillStyle = "#06090c"; rctx.fillRect(0, 0, raster.width, raster.height);
  rctx.font = "10px system-ui, sans-serif"; rctx.textBaseline = "middle";
  for (let a = 0; a < A; a++) {
    const y = 2 + a * bandH;
    rctx.fillStyle = a % 2 ? "#0b1016" : "#0e151c"; rctx.fillRect(LABEL, y, raster.width - LABEL, bandH);
    rctx.fillStyle = { ipu: "#6fb7ff", opu: "#ffb36f", core: "#9a9a9a" }[areas[a].kind] || "#c8d3de";
    rctx.fillText(`${areas[a].name} (${areas[a].neurons})`.slice(0, 30), 4, y + bandH / 2);
  }
}
rasterBackground();
function rasterColumn(ids) {
  const w = raster.width - LABEL - 1;
  rctx.drawImage(raster, LABEL + 1, 0, w, raster.height, LABEL, 0, w, raster.height);
  const x = raster.width - 1;
  for (let a = 0; a < A; a++) {
    rctx.fillStyle = a % 2 ? "#0b1016" : "#0e151c"; rctx.fillRect(x, 2 + a * bandH, 1, bandH);
  }
  rctx.fillStyle = "#ffe27a";
  for (const id of ids) {
    const a = areaOf(id), n = Math.max(1, areas[a].neurons);
    rctx.fillRect(x, 2 + a * bandH + Math.floor((id - first[a]) / n * Math.max(1, bandH - 1)), 1, 1);
  }
}

// ---- heat map: per area an x × y grid (summed over z and neurons per voxel), decaying
const heat = $("heat"), hctx = heat.getContext("2d");
const shown = areas.map((a, i) => i).filter((i) => areas[i].neurons > 0);
const TILE = 84, CAP = 14, perRow = Math.floor(heat.width / (TILE + 8));
heat.height = Math.ceil(shown.length / perRow) * (TILE + CAP + 8) + 4;
const act = areas.map((a) => new Float32Array(a.dims[0] * a.dims[1]));
const scratch = document.createElement("canvas");
function heatAdd(ids) {
  for (const g of act) for (let i = 0; i < g.length; i++) g[i] *= 0.9;
  for (const id of ids) {
    const a = areaOf(id), [w, h, d] = areas[a].dims, vox = Math.floor((id - first[a]) / areas[a].npv);
    const x = Math.floor(vox / (h * d)), y = Math.floor(vox / d) % h;
    act[a][y * w + x] += 1;
  }
}
function color(v) { // 0 -> dark blue, 1 -> red, 2+ -> yellow/white
  const t = Math.min(1, v / 2);
  return [Math.min(255, 30 + 500 * t), Math.max(0, Math.min(255, 700 * t - 250)), Math.max(0, 60 - 60 * t + Math.max(0, 900 * t - 800))];
}
function heatDraw() {
  hctx.fillStyle = "#06090c"; hctx.fillRect(0, 0, heat.width, heat.height);
  hctx.font = "10px system-ui, sans-serif"; hctx.textBaseline = "top"; hctx.imageSmoothingEnabled = false;
  shown.forEach((a, j) => {
    const [w, h] = areas[a].dims, g = act[a];
    const img = new ImageData(w, h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const [r, gg, b] = color(g[y * w + x]), o = ((h - 1 - y) * w + x) * 4;
      img.data[o] = r; img.data[o + 1] = gg; img.data[o + 2] = b; img.data[o + 3] = 255;
    }
    scratch.width = w; scratch.height = h; scratch.getContext("2d").putImageData(img, 0, 0);
    const s = Math.min(TILE / w, TILE / h), px = 4 + (j % perRow) * (TILE + 8), py = 4 + Math.floor(j / perRow) * (TILE + CAP + 8);
    hctx.drawImage(scratch, px, py + CAP, Math.max(1, w * s), Math.max(1, h * s));
    hctx.strokeStyle = "#2a3542"; hctx.strokeRect(px - 0.5, py + CAP - 0.5, TILE + 1, TILE + 1);
    hctx.fillStyle = "#9fb3c8"; hctx.fillText(areas[a].name.slice(0, 16), px, py);
  });
}

// ---- IPU inputs
const stim = {};
const inputs = $("inputs");
areas.forEach((a, i) => {
  if (a.kind !== "ipu" || a.neurons === 0) return;
  const tr = document.createElement("tr");
  tr.innerHTML = `<td title="${a.id}">${a.name}</td>
    <td><select data-k="pattern"><option>off</option><option>all</option><option>bar</option><option>random</option><option>center</option></select></td>
    <td><input data-k="value" type="number" min="${-model.max_sensory}" max="${model.max_sensory}" step="0.25" value="10"></td>
    <td><select data-k="mode"><option>inject</option><option>force</option></select></td>`;
  tr.dataset.area = i;
  inputs.appendChild(tr);
  stim[i] = { pattern: "off", value: 10, mode: "inject" };
  tr.addEventListener("change", () => {
    for (const el of tr.querySelectorAll("[data-k]")) stim[i][el.dataset.k] = el.dataset.k === "value" ? Number(el.value) : el.value;
    worker.postMessage({ type: "config", stim });
  });
});
if (!inputs.querySelector("tr[data-area]")) inputs.insertAdjacentHTML("beforeend", "<tr><td colspan=4>this genome has no IPU area</td></tr>");

// ---- OPU outputs: per area, the voxels fired in the last burst and a bar per x column with the
// fraction of the last RECENT bursts in which a neuron of that column fired (a motor's drive)
const outputs = $("outputs"), opu = areas.map((a, i) => i).filter((i) => areas[i].kind === "opu");
const RECENT = 30;
const opuLast = new Map(), opuHist = new Map(opu.map((a) => [a, []]));
function drawOutputs() {
  outputs.innerHTML = opu.length ? "" : "this genome has no OPU area";
  for (const a of opu) {
    const vox = opuLast.get(a) || [], w = areas[a].dims[0], hist = opuHist.get(a);
    const col = new Float32Array(w);
    for (const xs of hist) for (const x of xs) col[x] += 1 / RECENT;
    const bars = Array.from(col, (v, x) => `<span class="bar" title="x=${x}: ${(100 * v).toFixed(0)} %" style="height:${Math.max(1, Math.round(28 * v))}px"></span>`).join("");
    const div = document.createElement("div");
    div.className = "opu";
    div.innerHTML = `<div>${areas[a].name}: ${vox.length} fired in the last burst` +
      (vox.length ? ` <small>${vox.slice(0, 6).map((v) => `(${v.join(",")})`).join(" ")}${vox.length > 6 ? " …" : ""}</small>` : "") +
      `</div><div class="bars" title="per x column: share of the last ${RECENT} bursts with a fired neuron">${w <= 64 ? bars : ""}</div>`;
    outputs.appendChild(div);
  }
}
drawOutputs();

// ---- frames from the worker
let latest = null, lastBurst = null, dirty = false; // lastBurst: the newest burst of any frame
worker.onmessage = (ev) => {
  const m = ev.data;
  if (m.type === "ready") { $("status").textContent = "ready"; document.body.dataset.state = "ready"; }
  else if (m.type === "error") { $("status").textContent = "error: " + m.message; document.body.dataset.state = "error"; }
  else if (m.type === "frame") {
    if (m.reset) { rasterBackground(); for (const g of act) g.fill(0); opuLast.clear(); for (const h of opuHist.values()) h.length = 0; }
    for (const b of m.bursts) {
      rasterColumn(b.ids); heatAdd(b.ids);
      for (const a of opu) opuLast.set(a, []);
      for (const id of b.ids) {
        const a = areaOf(id);
        if (areas[a].kind !== "opu") continue;
        const [, h, d] = areas[a].dims, vox = Math.floor((id - first[a]) / areas[a].npv);
        opuLast.get(a).push([Math.floor(vox / (h * d)), Math.floor(vox / d) % h, vox % d]);
      }
      for (const a of opu) {
        const hist = opuHist.get(a);
        hist.push(new Set(opuLast.get(a).map((v) => v[0])));
        if (hist.length > RECENT) hist.shift();
      }
    }
    if (m.bursts.length) lastBurst = m.bursts[m.bursts.length - 1];
    if (m.reset) lastBurst = null;
    latest = m; dirty = true;
  } else if (m.type === "schedule-done") {
    $("protocol").textContent = m.text;
    $("status").textContent = `test schedule: ${m.bursts} bursts in ${m.seconds.toFixed(3)} s (${m.bps.toFixed(0)} bursts/s)`;
    $("bps").textContent = m.bps.toFixed(1);
    document.body.dataset.scheduleBps = m.bps.toFixed(1);
    if (latest) { latest.bps = m.bps; dirty = true; }
    document.body.dataset.state = "schedule-done";
  }
};
function frame() {
  if (dirty && latest) {
    const b = lastBurst;
    $("burst").textContent = latest.burst;
    $("bps").textContent = latest.bps.toFixed(1);
    if (b) { $("fired").textContent = b.count; $("digest").textContent = hex8(b.digest); }
    else { $("fired").textContent = "0"; $("digest").textContent = "--------"; }
    $("final").textContent = hex8(latest.final);
    if (latest.dropped) $("status").textContent = `queue full: ${latest.dropped} inputs dropped (FEAGI_QUEUE_LEN ${model.queue_len})`;
    heatDraw(); drawOutputs(); dirty = false;
  }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

// ---- controls
let running = false;
$("run").onclick = () => { running = !running; $("run").textContent = running ? "Pause" : "Run"; worker.postMessage({ type: running ? "run" : "pause" }); };
$("step").onclick = () => worker.postMessage({ type: "step" });
$("reset").onclick = () => { running = false; $("run").textContent = "Run"; worker.postMessage({ type: "reset" }); };
$("rate").oninput = () => { $("rate-out").textContent = $("rate").value; worker.postMessage({ type: "config", rate: Number($("rate").value) }); };
$("max-rate").onchange = () => worker.postMessage({ type: "config", maxRate: $("max-rate").checked });
if ($("run-schedule")) $("run-schedule").onclick = () => {
  running = false; $("run").textContent = "Run"; document.body.dataset.state = "schedule-running";
  $("status").textContent = "running the test schedule…"; rasterBackground(); for (const g of act) g.fill(0);
  for (const h of opuHist.values()) h.length = 0;
  worker.postMessage({ type: "schedule" });
};
worker.postMessage({ type: "load", model });
worker.postMessage({ type: "config", rate: Number($("rate").value), stim });
