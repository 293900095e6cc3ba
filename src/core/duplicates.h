// ragstore core: grouping of rows with equal values into graph elements (the hnsw build keeps
// up to kHnswHeapTids heap rows of one value in one element, as pgvector does). Pure C++, no
// PostgreSQL; the caller gives a hash of each row's value and an equality test, so the same
// code serves every element type (dense floats, bit strings, sparse vectors).
#pragma once

#include <cstdint>

namespace ragstore {

// Whether rows a and b hold equal values (exact bytes); ctx is the caller's.
using RowsEqualFn = bool (*)(const void* ctx, int64_t a, int64_t b);

// Groups rows 0..n-1 into elements: rows of one element hold equal values (equal(ctx, a, b)
// true; called only for rows whose hashes are equal), at most max_rows of them; a value held by
// more rows gets ceil(rows / max_rows) elements, the first ones full. Elements are ordered by
// their first row, the rows of an element ascending. Writes the rows in element order to
// rows[0..n) and element e's range [first[e], first[e + 1]) to first[0..elements] (first must
// hold n + 1 entries); returns the number of elements (n when no two values are equal).
// hashes: n entries, equal values must have equal hashes. max_rows >= 1. Throws std::bad_alloc
// (about 24 bytes of working memory per row, freed before it returns).
int64_t GroupEqualRows(int64_t n, const uint64_t* hashes, RowsEqualFn equal, const void* ctx,
                       int max_rows, int32_t* rows, int64_t* first);

}  // namespace ragstore
