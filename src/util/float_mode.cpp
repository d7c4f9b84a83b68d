#include "util/float_mode.h"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define PREIMAGE_HAS_MXCSR 1
#endif

#include "util/blas_threads.h"

namespace preimage::util {
namespace {
#if defined(PREIMAGE_HAS_MXCSR)
constexpr unsigned kFlushToZero = 0x8000;       // MXCSR bit 15: denormal results become 0
constexpr unsigned kDenormalsAreZero = 0x0040;  // MXCSR bit 6: denormal inputs read as 0
#endif
}  // namespace

void flush_denormals_in_this_thread() {
#if defined(PREIMAGE_HAS_MXCSR)
  _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
#endif
}

bool denormals_flushed_in_this_thread() {
#if defined(PREIMAGE_HAS_MXCSR)
  const unsigned both = kFlushToZero | kDenormalsAreZero;
  return (_mm_getcsr() & both) == both;
#else
  return false;
#endif
}

void flush_denormals_everywhere() {
  flush_denormals_in_this_thread();
  restart_blas_threads();
}

}  // namespace preimage::util
