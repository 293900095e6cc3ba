#!/usr/bin/env bash
# Demo part: loads mnist10k (9,000 MNIST test images as 784-dimensional vectors, pixels 0..255,
# 1,000 held-out query images, exact L2 ground truth top-100) for the index parts, and
# registers it in demo_datasets. No stand-in: without the data directory the index parts run on
# the two generated sets of 10_vectors.sh only, and this part says so.
source "$RAGSTORE_DEMO_LIB"

dir=$RAGSTORE_DATA_DIR/mnist10k
demo_step "loading mnist10k (binary COPY from fvecs)"
if [ ! -r "$dir/base.fvecs" ]; then
  echo "!!! $dir NOT FOUND (RAGSTORE_DATA_DIR): the index parts run without mnist10k."
  demo_done "skipped"
  exit 0
fi
load_fvecs mnist_base "$dir/base.fvecs"
load_fvecs mnist_query "$dir/query.fvecs"
load_ivecs mnist_truth "$dir/groundtruth_l2.ivecs"
demo_psql -c "INSERT INTO demo_datasets VALUES ('mnist', 'mnist_base', 'mnist_query', 'mnist_truth', '<->', 1000, 'mnist10k')"
demo_query "SELECT (SELECT count(*) FROM mnist_base) AS base_rows, (SELECT vector_dims(embedding) FROM mnist_base LIMIT 1) AS dims,
                   (SELECT count(*) FROM mnist_query) AS queries, pg_size_pretty(pg_total_relation_size('mnist_base')) AS table_size"
demo_done
