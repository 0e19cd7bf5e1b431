# interleaved A/B/C of snapshot kernels (.whl/pk/feagi_<name>) vs this checkout, one process
import sys, os, time, json, importlib
sys.path.insert(0, os.path.join(os.getcwd(), 'bench'))
import bench_speed as bs, bench_twin as bt
from feagi_embed.host.twin import Twin
pk = {}
sys.path.insert(0, os.path.join(sys.argv[5], '.whl/pk'))
for name in sys.argv[1].split(','):
    pk[name] = importlib.import_module('feagi_' + name + '.host.twin').Twin
pk['this'] = Twin
Ts = [int(x) for x in sys.argv[2].split(',')]; acts = [float(x) for x in sys.argv[3].split(',')]; reps = int(sys.argv[4])
model = bt.synthetic_model(1_000_000, 100, seed=1)
out = []
for act in acts:
    pre = bs.fresh_force(model, len(model.areas.ids) - 1, act, 2 + reps * 4 + 2, 1)
    for T in Ts:
        tw = {n: c(model, threads=T) for n, c in pk.items()}
        crc = {n: list(t.run(2, pre, final_state=False).burst_crc) for n, t in tw.items()}
        wall = {n: [] for n in tw}; cpu = {n: [] for n in tw}
        for r in range(reps):
            for n, t in tw.items():
                c0, t0 = time.process_time(), time.perf_counter(); tr = t.run(4, pre, final_state=False)
                wall[n].append((time.perf_counter() - t0) / 4 * 1e6); cpu[n].append((time.process_time() - c0) / 4 * 1e6)
                crc[n] += list(tr.burst_crc)
        base = crc['this']
        row = {"act": act, "T": T, "wall_min_us": {n: round(min(v)) for n, v in wall.items()},
               "cpu_min_us": {n: round(min(v)) for n, v in cpu.items()}, "equal": all(c == base for c in crc.values())}
        out.append(row); print(json.dumps(row), flush=True)
        del tw
json.dump(out, open(sys.argv[6], 'w'), indent=1)
