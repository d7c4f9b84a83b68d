#pragma once
// The chunks of one job shared by the ranks of an MPI job (world.h). Rank 0, the coordinator,
// sends every worker the job's header, then hands the chunks out one at a time as ranks finish
// theirs, so that a slow rank holds up nobody; it solves chunks too, on a thread of its own. Each
// result comes back to rank 0, which alone records and writes: the output is the one process's,
// byte for byte, wherever each chunk was solved (a chunk's result depends on its images only).
//
// A worker that fails (opening the job or solving a chunk) answers with its error; rank 0 then
// hands out nothing more, waits for the chunks still out, and throws that error with the rank in
// it, so the command stops with nothing half-written (the chunks recorded so far stay, to resume).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace preimage::cluster {

struct FarmWork {
  std::string job;              // what each worker opens first (a header the command defines)
  std::vector<int64_t> chunks;  // the chunks to solve, handed out in this order
  // On rank 0's main thread: chunk -> the message a worker solves it from.
  std::function<std::string(int64_t)> pack;
  // On rank 0's own solving thread: solves the chunk in place.
  std::function<void(int64_t)> solve_here;
  // On rank 0's main thread, one at a time: a chunk solved here, or a worker's result (its bytes).
  std::function<void(int64_t)> solved_here;
  std::function<void(int64_t, const std::string&)> solved_remotely;
};

struct FarmReport {
  int64_t chunks_here = 0, chunks_remote = 0;
  int64_t bytes_sent = 0, bytes_received = 0;  // message bodies, at rank 0
};

// Rank 0 of a distributed job: solves every chunk of `work` across the ranks.
FarmReport coordinate(const FarmWork& work);

// One process: `workers` threads take `chunks` in turn and `solve` each (fewer threads where the
// system refuses one); `keep` is told each solved chunk, one call at a time. After the threads
// end, the first error is thrown again; no chunk is started after it.
void solve_locally(const std::vector<int64_t>& chunks, int64_t workers,
                   const std::function<void(int64_t)>& solve,
                   const std::function<void(int64_t)>& keep);

// The chunks of `work` solved by the ranks of an MPI job that share this command's work
// (World::sharing, coordinate), or in this process by `workers` threads (0: as many as the BLAS
// has; solve_here, then solved_here); `job`, `pack` and `solved_remotely` serve only the ranks.
// Every chunk is solved with a single-threaded BLAS: OpenBLAS's sums depend on its threads, and
// a chunk's result must not depend on where it was solved.
FarmReport share(const FarmWork& work, int64_t workers = 0);

// What a worker does with one chunk's message: its result's bytes.
using ChunkSolver = std::function<std::string(const std::string& chunk)>;

// A worker (rank > 0): opens each job rank 0 sends with `open`, solves its chunks, until rank 0
// says stop. Errors go back to rank 0 as messages; it returns normally.
// Test hook: with PREIMAGE_TEST_FAIL_RANK=r in the environment, rank r fails its first chunk.
void serve(const std::function<ChunkSolver(const std::string& job)>& open);

}  // namespace preimage::cluster
