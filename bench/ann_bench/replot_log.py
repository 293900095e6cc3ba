#!/usr/bin/env python3
"""Redraws ann_bench's recall plots (--method quantized | highdim) from the driver's log.

The driver prints its tables and writes its CSV and plots only at the end of a run; a run stopped
before its end (a deadline, a loaded machine) leaves only the per-point lines of its stderr log.
This script reads those lines (`[bench] ragstore ef_search=... recall@10 ... cpu ... ms/q` after
each `CREATE INDEX ... USING hnsw|ivfflat ... WITH (...)`, and `[bench] faiss <Index> ...`) and
writes the same .dat/.gp pair and PNGs as PlotMethod in quantized.cpp: recall@10 against
queries/s (1 client or 1 FAISS thread) and against queries per CPU-second (1000 / CPU ms per
query).

usage: replot_log.py OUT_STEM hnsw|ivfflat TITLE LOG [LOG...]
  writes OUT_STEM.dat, OUT_STEM.gp, OUT_STEM_cpu.gp, OUT_STEM.png and OUT_STEM_cpu.png (gnuplot)
"""
import sys, re, subprocess, os
stem, method, title = sys.argv[1:4]
curves = {}
label = None
for path in sys.argv[4:]:
  for line in open(path):
    m = re.search(r'USING (hnsw|ivfflat) \(embedding \w+\) WITH \(([^)]*)\)', line)
    if m and 'CREATE INDEX' in line:
        q = re.search(r"quantizer = '(\w+)'", m.group(2)); label = f"ragstore {m.group(1)} {q.group(1) if q else 'none'}"; continue
    m = re.search(r'\] ragstore (ef_search|probes)=(\d+) rerank -?\d+ recall@10 ([\d.]+) qps (\d+) p50 \S+ ms p99 \S+ ms cpu ([\d.]+)', line)
    if m and (m.group(1) == 'ef_search') == (method == 'hnsw'):
        curves.setdefault(label, []).append((m.group(3), m.group(4), m.group(2), m.group(5))); continue
    m = re.search(r'\] faiss (\S+) (ef_search|probes)=(\d+) rerank -?\d+ recall@10 ([\d.]+) qps (\d+) p50 \S+ ms p99 \S+ ms cpu ([\d.]+)', line)
    if m and (m.group(2) == 'ef_search') == (method == 'hnsw'):
        curves.setdefault('faiss ' + m.group(1), []).append((m.group(4), m.group(5), m.group(3), m.group(6)))
base = os.path.basename(stem)
titles = []
with open(stem + '.dat', 'w') as f:
    for name, pts in curves.items():
        f.write(f'# {name}\n')
        for rec, qps, v, cpu in pts:
            f.write(f'{rec} {float(qps):.1f} {v} {1000.0/float(cpu) if float(cpu) > 0 else 0:.1f}\n')
        f.write('\n\n')
        titles.append(name + (', 1 client' if name.startswith('ragstore') else ', 1 thread'))
for cpu in (0, 1):
    name = base + ('_cpu' if cpu else '')
    with open(stem + ('_cpu' if cpu else '') + '.gp', 'w') as f:
        f.write("set terminal pngcairo size 1000,700 font 'sans,10' noenhanced\n")
        f.write(f"set output '{name}.png'\n")
        f.write(f'set title "{method}, {title}\\nlabels: {"ef_search" if method == "hnsw" else "probes"}; compare curves of this run only"\n')
        f.write("set xlabel 'recall@10'\nset ylabel '" + ("queries per CPU-second (1000 / cpu ms per query), log" if cpu else "queries/s, log") + "'\nset logscale y\n")
        f.write('set grid\nset key below\nplot ')
        col = '4' if cpu else '2'
        for i, t in enumerate(titles):
            faiss = t.startswith('faiss')
            f.write((', \\\n     ' if i else '') + f"'{base}.dat' index {i} using 1:{col} with linespoints lw 2" + (' dt 2' if faiss else '') + f" title '{t}'")
            if not faiss:
                f.write(f", '' index {i} using 1:{col}:3 with labels offset 0,0.8 notitle")
        f.write('\n')
d = os.path.dirname(stem) or '.'
subprocess.run(f"cd '{d}' && gnuplot '{base}.gp' && gnuplot '{base}_cpu.gp'", shell=True, check=True)
print('plot', stem)
