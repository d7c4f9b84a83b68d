#pragma once
// Memory allocator policy for the process. Tensors of a batch are tens to hundreds of MB and are
// allocated and freed at every solver iteration; glibc serves such blocks with mmap and returns
// them to the kernel on free, so each iteration paid page faults on fresh memory (the grid
// search spent more time in the kernel than in its matrix products: docs/PERFORMANCE.md).
// Keeping freed memory in the heap makes the next iteration reuse it: the peak stays the same.
namespace preimage::util {

// Serves large blocks from the heap and never trims it (glibc; no-op elsewhere).
void keep_freed_memory();

}  // namespace preimage::util
