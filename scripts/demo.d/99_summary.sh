#!/usr/bin/env bash
# Demo part: "what just happened": one table of what the parts built and measured
# (demo_summary), and the semantic cache's hit rate from 80_interactions.sh.
source "$RAGSTORE_DEMO_LIB"

demo_step "what just happened"
demo_query "SELECT what, data, build, size, setting, recall AS \"recall@10\", p50_ms AS \"p50 ms\", note
              FROM demo_summary ORDER BY n"
echo "(recall@10 against each data set's ground truth (shipped, or exact for generated data); p50: time per query inside the server; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
demo_done
