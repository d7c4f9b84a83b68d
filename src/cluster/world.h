#pragma once
// The processes of one job: this process alone, or the ranks of an MPI job (`mpirun -np N
// preimage ...`, Slurm's `srun`). MPI is started only when a launcher started the process (its
// environment says so), so that a plain `preimage ...` never touches MPI; in a build without MPI
// a launched process says so and stops (every rank would otherwise write the same run).
//
// Messages are whole byte strings with a tag, to and from rank 0 (the coordinator): what the
// chunk farm (farm.h) needs, nothing more. Waiting for one polls with a short sleep instead of
// MPI's busy wait, so a rank that waits (for rank 0 to train, for its next chunk) leaves its core
// to the ranks that compute.
#include <cstdint>
#include <optional>
#include <string>

namespace preimage::cluster {

// What a message is (its MPI tag).
enum class Tag : int {
  kJob = 1,     // rank 0 -> worker: what to solve (a header the command understands)
  kReady = 2,   // worker -> 0: the job is open, send chunks
  kTask = 3,    // 0 -> worker: one chunk
  kResult = 4,  // worker -> 0: its solution
  kError = 5,   // worker -> 0: the job or a chunk failed; the text says why
  kStop = 6,    // 0 -> worker: no more jobs, exit
};

struct Message {
  int from = 0;
  Tag tag = Tag::kStop;
  std::string bytes;
};

class World {
 public:
  // Starts MPI when a launcher started this process (the first call; later ones return it).
  static World& get();
  // Throws UserError when launched with several ranks by a build without MPI (then this world
  // is of one process, and every rank would do the whole job).
  void require_usable() const;
  static bool launched_by_mpi();  // OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK is set

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }
  bool coordinator() const { return rank_ == 0; }
  // Whether the other ranks serve this command's shared work (farm.h): set for the commands that
  // share it; elsewhere a distributed process keeps such work on rank 0 alone.
  bool sharing() const { return distributed() && sharing_; }
  void set_sharing(bool on) { sharing_ = on; }
  // This rank's index among the ranks of its machine (GPU r for local rank r).
  int local_rank() const { return local_rank_; }

  void send(int to, Tag tag, const std::string& bytes);
  // A message that has arrived, if any (from any rank).
  std::optional<Message> poll();
  // Waits for the next message, polling every `sleep_us` microseconds.
  Message receive(int sleep_us = 500);

  // Bytes sent and received by this rank so far (message bodies).
  int64_t bytes_sent() const { return sent_; }
  int64_t bytes_received() const { return received_; }

  // Rank 0: tells every worker to exit (once); a worker's serve loop then returns.
  void release_workers();
  // Ends MPI (after release_workers on rank 0); nothing after it may send.
  void finish();
  // Ends every rank of the job at once with `code` (the last resort when a rank cannot report).
  [[noreturn]] void abort(int code);

 private:
  World();
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool started_ = false, released_ = false, finished_ = false, sharing_ = false;
  int64_t sent_ = 0, received_ = 0;
  int launched_size_ = 1;  // the launcher's count of ranks, in a build without MPI
};

// "rank r of n: " on a worker rank (r > 0), "" on rank 0 and without MPI: the prefix of a
// worker's errors (rank 0 speaks for the job).
std::string rank_prefix();

}  // namespace preimage::cluster
