// Run this page's wasm module under Node (no browser), as `feagi-embed verify` does:
//   node run_node.mjs SITE_DIR [--ids]
// Runs SITE_DIR/schedule.json (written by `feagi-embed build --board wasm --test-stimulus ...`)
// through feagi_core.mjs exactly as the page's worker does, and prints the device protocol
// (B/S/E lines; with --ids also "I <b> <id> ..." lines) and "T <seconds>" (time in the loop).
import { readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { FeagiBrain, runSchedule } from "./feagi_core.mjs";

const site = process.argv[2];
const withIds = process.argv.includes("--ids");
const schedule = JSON.parse(readFileSync(join(site, "schedule.json"), "utf8"));
const brain = await FeagiBrain.load(readFileSync(join(site, "feagi.wasm")));
const idLines = [];
const onBurst = withIds ? (b, r, br) => { idLines.push(`I ${b}${Array.from(br.firedIds(), (i) => " " + i).join("")}\n`); } : null;
const { text, seconds } = runSchedule(brain, schedule, onBurst);
writeSync(1, text + idLines.join("") + `T ${seconds}\n`);
