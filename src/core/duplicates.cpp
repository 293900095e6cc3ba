// ragstore core: grouping of rows with equal values (see duplicates.h).
#include "core/duplicates.h"

#include <algorithm>
#include <vector>

namespace ragstore {

int64_t GroupEqualRows(int64_t n, const uint64_t* hashes, RowsEqualFn equal, const void* ctx,
                       int max_rows, int32_t* rows, int64_t* first) {
  if (max_rows < 1) max_rows = 1;
  // Rows sorted by (hash, row): equal values are neighbours in this order, within one run of
  // equal hashes (a run holds more than one value only when hashes collide).
  std::vector<int32_t> by_hash(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) by_hash[i] = static_cast<int32_t>(i);
  std::sort(by_hash.begin(), by_hash.end(), [hashes](int32_t a, int32_t b) {
    return hashes[a] != hashes[b] ? hashes[a] < hashes[b] : a < b;
  });
  // group_of[row]: the element's first row (its leader); each run is split into classes of
  // equal values (compared with each class's first row), each class into chunks of max_rows.
  std::vector<int32_t> leader(static_cast<size_t>(n));
  std::vector<int32_t> classes;   // first row of each open class of the current run
  std::vector<int32_t> chunk_of;  // per class: the leader of its current chunk
  std::vector<int32_t> filled;    // per class: rows in its current chunk
  for (int64_t s = 0; s < n;) {
    int64_t e = s + 1;
    while (e < n && hashes[by_hash[e]] == hashes[by_hash[s]]) e++;
    classes.clear();
    chunk_of.clear();
    filled.clear();
    for (int64_t k = s; k < e; k++) {  // ascending rows within the run
      int32_t r = by_hash[k];
      size_t c = 0;
      while (c < classes.size() && !equal(ctx, classes[c], r)) c++;
      if (c == classes.size()) {
        classes.push_back(r);
        chunk_of.push_back(r);
        filled.push_back(0);
      }
      if (filled[c] == max_rows) {
        chunk_of[c] = r;
        filled[c] = 0;
      }
      leader[r] = chunk_of[c];
      filled[c]++;
    }
    s = e;
  }
  // Elements in the order of their leaders (= first rows), each one's rows ascending: a
  // counting pass over the leaders, then a placement pass in row order.
  std::vector<int32_t> start(static_cast<size_t>(n), -1);  // by leader row: element number
  int64_t elements = 0;
  std::vector<int32_t> size(static_cast<size_t>(n), 0);
  for (int64_t r = 0; r < n; r++) {
    if (leader[r] == r) start[r] = static_cast<int32_t>(elements++);
    size[start[leader[r]]]++;
  }
  first[0] = 0;
  for (int64_t el = 0; el < elements; el++) first[el + 1] = first[el] + size[el];
  std::vector<int64_t> next(first, first + elements);
  for (int64_t r = 0; r < n; r++) rows[next[start[leader[r]]]++] = static_cast<int32_t>(r);
  return elements;
}

}  // namespace ragstore
