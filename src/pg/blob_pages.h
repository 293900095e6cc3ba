// ragstore: a byte string stored across consecutive index pages (quantizer parameters,
// centroids too large for one page), shared by the index access methods.
//
// Each page is an ordinary page of the access method (standard header, the AM's special space,
// initialised by the AM with its own page type): its contents area holds the next slice of the
// bytes and pd_lower ends right after them, so full-page images and generic WAL, which skip the
// hole between pd_lower and pd_upper, keep the bytes. The pages are written once by a build, one
// after the other (consecutive block numbers), and never change; the reader checks each page's
// slice length.
#pragma once

extern "C" {
#include "postgres.h"
#include "storage/block.h"
#include "storage/bufpage.h"
#include "utils/relcache.h"
}

namespace ragstore {
namespace pg {

// Bytes one page holds for an access method whose special space is `special_size` bytes.
Size BlobBytesPerPage(Size special_size);
// Pages needed for `len` bytes.
BlockNumber BlobPageCount(Size len, Size special_size);

// Copies `len` bytes (at most BlobBytesPerPage) into a freshly initialised page's contents and
// sets pd_lower after them.
void BlobPageFill(Page page, const char* data, Size len);

// Reads `len` bytes stored from block `first` on into `out`. Errors (XX002 index_corrupted)
// when a page lies beyond the relation or holds a slice of another length than expected.
void BlobRead(Relation index, BlockNumber first, Size len, Size special_size, char* out);

// The slice length page `page` holds (for verifiers): pd_lower - header, or -1 when pd_lower is
// not inside the page's contents area.
long BlobPageBytes(Page page);

}  // namespace pg
}  // namespace ragstore
