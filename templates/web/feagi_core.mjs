// feagi_core.mjs - host side of the feagi-embed wasm32 runtime, shared by the page's Web Worker
// (worker.mjs) and Node (run_node.mjs, the `wasm` executor of `feagi-embed verify`).
//
// The module (feagi.wasm) is firmware/feagi_runtime.c + the generated model compiled with
// clang --target=wasm32; it imports feagi.putc (protocol text, one byte at a time) and feagi.exit,
// and exports the runtime API of feagi_runtime.h plus feagi_wasm_collect_fired/feagi_wasm_ids.
// Everything bit-relevant happens in the C runtime; this file only queues inputs, calls bursts and
// reads results.

export class FeagiExit extends Error {
  constructor(code) { super(`feagi_hal_exit(${code})`); this.code = code; }
}

/** q(value) = round_half_away(f32(value) * 2^F) (docs/model.md §2), as the stimulus compiler. */
export function quantize(value, fracBits) {
  const x = Math.fround(value) * 2 ** fracBits;
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

export class FeagiBrain {
  /** Instantiate feagi.wasm (an ArrayBuffer / Uint8Array) and reset the brain (burst 0). */
  static async load(bytes) {
    const brain = new FeagiBrain();
    const imports = {
      feagi: {
        putc: (c) => { brain._text.push(c & 255); },
        exit: (code) => { throw new FeagiExit(code); },
      },
    };
    const { instance } = await WebAssembly.instantiate(bytes, imports);
    brain.x = instance.exports;
    brain.neurons = brain.x.feagi_wasm_neurons();
    brain.init();
    return brain;
  }

  constructor() { this._text = []; this.x = null; this.neurons = 0; }

  /** Reset all state to the model's initial state (feagi_init); throws when it fails. */
  init() {
    const rc = this.x.feagi_init();
    if (rc !== 0) throw new Error(`feagi_init returned ${rc}`);
    this._text.length = 0;
  }

  /** Protocol text written by the runtime since the last call (B/S/E lines). */
  takeText() {
    const s = String.fromCharCode(...this._text);
    this._text.length = 0;
    return s;
  }

  /** Queue q(value) into neuron `id` for the next burst (feagi_inject_id); returns its code. */
  injectId(id, valueQ) { return this.x.feagi_inject_id(id >>> 0, valueQ | 0); }
  /** Queue a force-fire of neuron `id` (feagi_force_fire_id). */
  forceId(id) { return this.x.feagi_force_fire_id(id >>> 0); }
  /** Queue q(value) into voxel (x, y, z) of area index `a` (feagi_inject; 0 is dropped). */
  inject(a, x, y, z, valueQ) { return this.x.feagi_inject(a, x, y, z, valueQ | 0); }
  force(a, x, y, z) { return this.x.feagi_force_fire(a, x, y, z); }

  /** Run one burst; returns {burst, count, digest} (digest: u32 CRC-32 of [b, count, ids]). */
  burst() {
    const count = this.x.feagi_burst() >>> 0;
    return { burst: this.x.feagi_burst_number() >>> 0, count, digest: this.x.feagi_burst_digest() >>> 0 };
  }

  /** The last burst's fired neuron ids, ascending (a copy). */
  firedIds() {
    const n = this.x.feagi_wasm_collect_fired() >>> 0;
    return new Uint32Array(this.x.memory.buffer, this.x.feagi_wasm_ids(), n).slice();
  }

  stateDigest() { return this.x.feagi_state_digest() >>> 0; }
  finalDigest() { return this.x.feagi_final_digest() >>> 0; }
  traceBurst() { this.x.feagi_trace_burst(); }
  traceState() { this.x.feagi_trace_state(); }
  traceEnd() { this.x.feagi_trace_end(); }
  burstNumber() { return this.x.feagi_burst_number() >>> 0; }

  /** Queue the entries of burst b of a compiled schedule ({ptr, nrn, val, kind}, as
   * Stimulus.compile); throws on a queue/value error (as the generated test main stops). */
  queueScheduled(schedule, b) {
    for (let j = schedule.ptr[b - 1]; j < schedule.ptr[b]; j++) {
      const rc = schedule.kind[j] ? this.forceId(schedule.nrn[j]) : this.injectId(schedule.nrn[j], schedule.val[j]);
      if (rc !== 0) throw new Error(`stimulus entry ${j} of burst ${b}: runtime error ${rc}`);
    }
  }
}

/** Run a compiled schedule from a fresh state like the generated test main (main.c.j2): per burst
 * queue, burst, "B" line, "S" line every state_every bursts (and after the last one when that is not
 * a multiple), then "E". onBurst(b, result, brain) is called after each burst (e.g. to read fired
 * ids). Returns {text: the protocol lines, seconds: time spent}. */
export function runSchedule(brain, schedule, onBurst) {
  brain.init();
  const n = schedule.bursts, every = schedule.state_every;
  const t0 = (globalThis.performance || Date).now();
  let text = "";
  for (let b = 1; b <= n; b++) {
    brain.queueScheduled(schedule, b);
    const r = brain.burst();
    brain.traceBurst();
    if (every > 0 && b % every === 0) brain.traceState();
    if (onBurst) onBurst(b, r, brain);
    if (b % 256 === 0) text += brain.takeText();
  }
  if (every === 0 || n % every !== 0) brain.traceState();
  brain.traceEnd();
  const seconds = ((globalThis.performance || Date).now() - t0) / 1000;
  return { text: text + brain.takeText(), seconds };
}
