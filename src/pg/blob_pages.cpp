// ragstore: byte strings across consecutive index pages (see blob_pages.h).
#include "pg/blob_pages.h"

#include <algorithm>

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

namespace ragstore {
namespace pg {

Size BlobBytesPerPage(Size special_size) {
  return BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(special_size);
}

BlockNumber BlobPageCount(Size len, Size special_size) {
  Size per = BlobBytesPerPage(special_size);
  return static_cast<BlockNumber>((len + per - 1) / per);
}

void BlobPageFill(Page page, const char* data, Size len) {
  memcpy(PageGetContents(page), data, len);
  reinterpret_cast<PageHeader>(page)->pd_lower =
      static_cast<LocationIndex>(MAXALIGN(SizeOfPageHeaderData) + len);
}

long BlobPageBytes(Page page) {
  PageHeader h = reinterpret_cast<PageHeader>(page);
  if (h->pd_lower < MAXALIGN(SizeOfPageHeaderData) || h->pd_lower > h->pd_upper) return -1;
  return static_cast<long>(h->pd_lower - MAXALIGN(SizeOfPageHeaderData));
}

void BlobRead(Relation index, BlockNumber first, Size len, Size special_size, char* out) {
  Size per = BlobBytesPerPage(special_size);
  BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  Size done = 0;
  for (BlockNumber blk = first; done < len; blk++) {
    Size want = std::min(per, len - done);
    if (blk >= nblocks)
      ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                      errmsg("index \"%s\" ends before its parameter pages (block %u)",
                             RelationGetRelationName(index), blk)));
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    long have = PageIsNew(page) ? -1 : BlobPageBytes(page);
    if (have != static_cast<long>(want)) {
      UnlockReleaseBuffer(buf);
      ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                      errmsg("index \"%s\" has a damaged parameter page (block %u)",
                             RelationGetRelationName(index), blk)));
    }
    memcpy(out + done, PageGetContents(page), want);
    UnlockReleaseBuffer(buf);
    done += want;
  }
}

}  // namespace pg
}  // namespace ragstore
