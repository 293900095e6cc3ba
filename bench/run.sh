#!/usr/bin/env bash
# One command per benchmark (see bench/README.md):
#   bash bench/run.sh hnsw    [options]   hnsw index, ef_search sweep, FAISS IndexHNSWFlat reference
#   bash bench/run.sh ivfflat [options]   ivfflat index, probes sweep, FAISS IndexIVFFlat reference
#   bash bench/run.sh exact   [options]   no index: exact scan (recall must be 1.000), FAISS IndexFlat
#   bash bench/run.sh filtered [--quick]  WHERE filters of selectivity 1%, 0.1%, 0.01%: hnsw and
#                                         ivfflat iterative scans, FAISS with an IDSelector
#                                         (50,000 x 1,536 synthetic; --quick: 20,000 x 128)
#   bash bench/run.sh quantized [--quick] every quantizer (none, sq8, binary, pq) of hnsw and
#                                         ivfflat side by side, FAISS IndexHNSWSQ,
#                                         IndexIVFScalarQuantizer + IndexRefineFlat (--faiss-pq:
#                                         IndexIVFPQ too, minutes of training CPU)
#                                         (100,000 x 1,536 synthetic; --quick: 10,000; real
#                                         data: --data ada002 | mnist10k)
#   bash bench/run.sh highdim [--quick]  the same at 50,000 x 3,072 and 50,000 x 4,096
# Options (passed to build/ann_bench; `bash bench/run.sh hnsw --help` lists them all):
#   --rows 100000|1000000  --data synthetic|sift5k|mnist10k  --m 16  --ef-construction 64
#   --lists 316  --maintenance-work-mem 1GB  --parallel-workers 2  --sweep 10,20,40  --queries N
# It builds the extension and installs it (scripts/setup.sh, honouring RAGSTORE_PRIVATE_INSTALL),
# starts the throwaway cluster (scripts/cluster.sh, RAGSTORE_PORT), builds the driver with CMake
# and runs it. Results: bench/results/*.csv and *.json (not in git).
source "$(dirname "$0")/../scripts/lib.sh"
cd "$RS_ROOT"

method=${1:-}
case "$method" in
  hnsw|ivfflat|filtered|quantized|highdim) shift ;;
  exact|none) method=none; shift ;;
  -h|--help|"") sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) rs_die "unknown benchmark '$method' (hnsw, ivfflat, exact, filtered, quantized, highdim)" ;;
esac

export RAGSTORE_DATA_DIR=$RS_DATA_DIR
bash scripts/setup.sh
bash scripts/cluster.sh start
rs_log "building the benchmark driver (cmake)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target ann_bench >/dev/null
# FAISS's OpenMP threads sleep instead of spinning at barriers: on a shared machine spinning
# threads burn the time slices other processes need and inflate the FAISS build's CPU time.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
exec build/ann_bench --method "$method" --out "$RS_ROOT/bench/results" "$@"
