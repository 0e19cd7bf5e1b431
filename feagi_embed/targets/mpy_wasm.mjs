// Run a generated MicroPython package in the official MicroPython WebAssembly port under Node.
//
// usage: node mpy_wasm.mjs PKG_DIR APP_DIR ENTRY.py [HEAP_BYTES]
//   PKG_DIR   folder of the npm package @micropython/micropython-webassembly-pyscript
//   APP_DIR   folder whose files (.py, .mpy, .bin) are copied into the port's file system at /app
//   ENTRY.py  script (in APP_DIR) run with /app as the working directory and first on sys.path
// stdout: the script's output; exit status 0, N for sys.exit(N), 1 for an uncaught exception
// (traceback on stderr).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [pkgDir, appDir, entry, heap] = process.argv.slice(2);
if (!pkgDir || !appDir || !entry) {
  process.stderr.write("usage: node mpy_wasm.mjs PKG_DIR APP_DIR ENTRY.py [HEAP_BYTES]\n");
  process.exit(2);
}
const { loadMicroPython } = await import(pathToFileURL(join(pkgDir, "micropython.mjs")).href);
const mp = await loadMicroPython({
  heapsize: heap ? Number(heap) : 64 * 1024 * 1024,
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
mp.FS.mkdir("/app");
for (const name of readdirSync(appDir)) {
  const p = join(appDir, name);
  if (statSync(p).isFile() && /\.(py|mpy|bin)$/.test(name)) mp.FS.writeFile("/app/" + name, readFileSync(p));
}
let code = 0;
try {
  mp.runPython("import os, sys\nos.chdir('/app')\nsys.path.insert(0, '/app')\n");
  mp.runPython(readFileSync(join(appDir, entry), "utf8"));
} catch (e) {
  if (e.type === "SystemExit") {
    const m = /SystemExit: (-?\d+)/.exec(e.message);
    code = m ? Number(m[1]) : 0;
  } else {
    process.stderr.write(String(e.message) + "\n");
    code = 1;
  }
}
process.exit(code);
