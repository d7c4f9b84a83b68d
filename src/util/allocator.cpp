#include "util/allocator.h"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace preimage::util {

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);              // no mmap for large blocks (glibc falls back to it if
                                       // the heap cannot grow)
  mallopt(M_TRIM_THRESHOLD, INT_MAX);  // return heap memory only above 2 GiB free at the top
  // M_TOP_PAD stays at glibc's default: a larger padding cost page faults and wall time
  // (docs/PERFORMANCE.md).
#endif
}

}  // namespace preimage::util
