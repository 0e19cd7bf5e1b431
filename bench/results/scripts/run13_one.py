# one variant, one process: T threads, min wall µs per burst over reps of run(4) at 10 % and 1 %
import sys, os, time, json, importlib
sys.path.insert(0, os.path.join(os.getcwd(), 'bench'))
import bench_speed as bs, bench_twin as bt
name, T, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if name == 'this':
    from feagi_embed.host.twin import Twin
else:
    sys.path.insert(0, os.path.join(sys.argv[4], '.whl/pk'))
    Twin = importlib.import_module('feagi_' + name + '.host.twin').Twin
model = bt.synthetic_model(1_000_000, 100, seed=1)
row = {"v": name, "T": T}
for act in (0.1, 0.01):
    pre = bs.fresh_force(model, len(model.areas.ids) - 1, act, 2 + reps * 4, 1)
    tw = Twin(model, threads=T); crc = list(tw.run(2, pre, final_state=False).burst_crc)
    ts = []
    for r in range(reps):
        t0 = time.perf_counter(); tr = tw.run(4, pre, final_state=False); ts.append((time.perf_counter() - t0) / 4 * 1e6)
        crc += list(tr.burst_crc)
    row[str(act)] = round(min(ts)); row["crc" + str(act)] = hex(hash(tuple(crc)) & 0xffffffff)
    del tw
print(json.dumps(row), flush=True)
