// worker.mjs - the page's Web Worker: owns the wasm brain, runs bursts at the chosen rate and
// posts frames (fired ids per burst, digests, bursts/s) to page.mjs. No network beyond this site.
import { FeagiBrain, quantize, runSchedule } from "./feagi_core.mjs";

let brain = null, model = null;
let running = false, rate = 20, maxRate = false;
let stim = {};            // area index -> {pattern: "off"|"all"|"bar"|"random"|"center", value, mode}
let pending = [];         // bursts not yet posted
let t0 = 0, done0 = 0, timer = null, dropped = 0;
let seed = 0x9e3779b9 >>> 0;
const BPS_WINDOW = [];    // [time ms, burst number] samples for bursts/s

function rnd() { // xorshift32: deterministic "random" stimulus pattern
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}

function queueInputs(b) {
  for (const [key, s] of Object.entries(stim)) {
    if (s.pattern === "off") continue;
    const a = Number(key), [w, h, d] = model.areas[a].dims;
    const q = quantize(s.value, model.frac_bits);
    if (s.mode === "inject" && q === 0) continue;
    for (let x = 0; x < w; x++) {
      if (s.pattern === "bar" && x !== b % w) continue;
      if (s.pattern === "center" && x !== (w >> 1)) continue;
      for (let y = 0; y < h; y++) {
        if (s.pattern === "center" && y !== (h >> 1)) continue;
        for (let z = 0; z < d; z++) {
          if (s.pattern === "random" && rnd() >= 0.1) continue;
          const rc = s.mode === "force" ? brain.force(a, x, y, z) : brain.inject(a, x, y, z, q);
          if (rc === -2) { dropped++; return; } // queue full for this burst
        }
      }
    }
  }
}

function oneBurst() {
  queueInputs(brain.burstNumber() + 1);
  const r = brain.burst();
  r.ids = brain.firedIds();
  pending.push(r);
  if (pending.length > 400) pending.shift();
}

function bps() {
  const now = performance.now(), b = brain.burstNumber();
  BPS_WINDOW.push([now, b]);
  while (BPS_WINDOW.length > 2 && now - BPS_WINDOW[0][0] > 2000) BPS_WINDOW.shift();
  const [t, b0] = BPS_WINDOW[0];
  return now > t ? (b - b0) * 1000 / (now - t) : 0;
}

function post(extra = {}) {
  const frame = { type: "frame", bursts: pending, burst: brain.burstNumber(), final: brain.finalDigest(),
                  bps: bps(), dropped, ...extra };
  postMessage(frame, pending.map((p) => p.ids.buffer));
  pending = [];
}

function tick() {
  timer = null;
  if (!running) return;
  const start = performance.now();
  if (maxRate) {
    while (performance.now() - start < 30) oneBurst();
  } else {
    const due = Math.floor((start - t0) * rate / 1000) - (brain.burstNumber() - done0);
    for (let i = 0; i < due && performance.now() - start < 30; i++) oneBurst();
  }
  post();
  timer = setTimeout(tick, maxRate ? 0 : Math.max(1, Math.min(16, 1000 / rate)));
}

function restartClock() { t0 = performance.now(); done0 = brain ? brain.burstNumber() : 0; BPS_WINDOW.length = 0; }

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

onmessage = async (ev) => {
  const m = ev.data;
  if (!brain && m.type !== "load" && m.type !== "config") return; // not loaded yet
  try {
    if (m.type === "load") {
      model = m.model;
      brain = await FeagiBrain.load(await fetchBytes("feagi.wasm"));
      if (brain.neurons !== model.neurons) throw new Error(`feagi.wasm has ${brain.neurons} neurons, model.json ${model.neurons}`);
      postMessage({ type: "ready", neurons: brain.neurons });
      post();
    } else if (m.type === "config") {
      if (m.rate !== undefined) rate = Math.max(1, m.rate);
      if (m.maxRate !== undefined) maxRate = m.maxRate;
      if (m.stim !== undefined) stim = m.stim;
      restartClock();
    } else if (m.type === "run") {
      running = true; restartClock(); if (!timer) tick();
    } else if (m.type === "pause") {
      running = false;
    } else if (m.type === "step") {
      oneBurst(); post();
    } else if (m.type === "reset") {
      running = false; brain.init(); dropped = 0; pending = []; restartClock(); post({ reset: true });
    } else if (m.type === "schedule") {
      // the test schedule (schedule.json): the same loop as the Node executor, frames posted as it goes
      running = false;
      const schedule = JSON.parse(new TextDecoder().decode(await fetchBytes("schedule.json")));
      let last = performance.now(), compute = 0;
      const { text, seconds } = runSchedule(brain, schedule, (b, r, br) => {
        r.ids = br.firedIds();
        pending.push(r);
        if (pending.length > 400) pending.shift();
        const now = performance.now();
        if (now - last > 50) { const p0 = performance.now(); post(); compute -= performance.now() - p0; last = performance.now(); }
      });
      post();
      postMessage({ type: "schedule-done", text, seconds, bursts: schedule.bursts,
                    bps: schedule.bursts / Math.max(seconds + compute / 1000, 1e-9) });
    }
  } catch (e) {
    postMessage({ type: "error", message: String(e && e.stack || e) });
  }
};
