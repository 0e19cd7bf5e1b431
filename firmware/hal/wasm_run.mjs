// Run a wasm32 program built with firmware/hal/hal_wasm.c + hal_wasm_start.c under Node:
//   node wasm_run.mjs firmware.wasm
// The module imports feagi.putc (one byte of text, written to stdout) and feagi.exit (ends the
// run with that exit code); the exported _start calls main(). Exit 99: the module trapped.
import { readFileSync, writeSync } from "node:fs";

class Exit extends Error {
  constructor(code) { super(`exit ${code}`); this.code = code; }
}

const bytes = readFileSync(process.argv[2]);
const out = [];
const flush = () => { if (out.length) { writeSync(1, Buffer.from(out)); out.length = 0; } };
const imports = {
  feagi: {
    putc: (c) => { out.push(c & 255); if (out.length >= 65536) flush(); },
    exit: (code) => { throw new Exit(code); },
  },
};
let code = 0;
try {
  const { instance } = await WebAssembly.instantiate(bytes, imports);
  instance.exports._start();
} catch (e) {
  if (e instanceof Exit) code = e.code;
  else { flush(); process.stderr.write(`wasm_run: ${e.stack || e}\n`); code = 99; }
}
flush();
process.exitCode = code;
