#include "cluster/world.h"

#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "util/build_config.h"
#include "util/error.h"

#if PREIMAGE_HAVE_MPI
#include <mpi.h>
#endif

namespace preimage::cluster {

namespace {
const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}
#if !PREIMAGE_HAVE_MPI
// The job's size as the launcher says it (Open MPI, PMI-1/2), without MPI.
int launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = env(name)) return std::max(std::atoi(v), 1);
  return 1;
}
#endif

// This rank and the job's size, for messages made while World is being built.
int g_rank = 0, g_size = 1;

#if PREIMAGE_HAVE_MPI
// An MPI call's failure as a UserError (the communicator returns errors instead of aborting).
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw UserError(fmt::format("rank {} of {}: MPI failed in {}: {}", g_rank, g_size, call, text),
                  "another rank may have stopped; its error is above");
}
#endif
}  // namespace

bool World::launched_by_mpi() {
  return env("OMPI_COMM_WORLD_SIZE") || env("PMI_SIZE") || env("PMIX_RANK");
}

World& World::get() {
  static World world;
  return world;
}

World::World() {
  if (!launched_by_mpi()) return;
#if PREIMAGE_HAVE_MPI
  // The report runs gnuplot and a browser as child processes: Open MPI's warning about fork()
  // concerns memory registered with a network card, which no message here uses.
  ::setenv("OMPI_MCA_mpi_warn_on_fork", "0", /*overwrite=*/0);
  int provided = 0;
  // Only the main thread calls MPI; rank 0's solving thread never does.
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  started_ = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  g_rank = rank_, g_size = size_;
  MPI_Comm node;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
        "MPI_Comm_split_type");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
#else
  launched_size_ = launcher_size();
#endif
}

void World::require_usable() const {
  require(launched_size_ <= 1,
          fmt::format("launched by an MPI launcher with {} ranks, but this preimage was built "
                      "without MPI (each rank would do the whole job)",
                      launched_size_),
          "install libopenmpi-dev (scripts/setup.sh does) and rebuild, or run preimage without "
          "mpirun");
}

void World::send(int to, Tag tag, const std::string& bytes) {
#if PREIMAGE_HAVE_MPI
  require(bytes.size() <= static_cast<size_t>(INT_MAX),
          fmt::format("a message of {} bytes to rank {} is over MPI's 2 GiB", bytes.size(), to),
          "ask for a smaller --chunk");
  check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, static_cast<int>(tag),
                 MPI_COMM_WORLD),
        "MPI_Send");
  sent_ += static_cast<int64_t>(bytes.size());
#else
  (void)to, (void)tag, (void)bytes;
  throw UserError("no other process to send to: this preimage was built without MPI");
#endif
}

std::optional<Message> World::poll() {
#if PREIMAGE_HAVE_MPI
  if (!started_) return std::nullopt;
  int flag = 0;
  MPI_Status status;
  check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  Message m;
  m.from = status.MPI_SOURCE;
  m.tag = static_cast<Tag>(status.MPI_TAG);
  m.bytes.resize(static_cast<size_t>(count));
  check(MPI_Recv(m.bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE),
        "MPI_Recv");
  received_ += count;
  return m;
#else
  return std::nullopt;
#endif
}

Message World::receive(int sleep_us) {
  require(distributed(), "waiting for a message in a job of one process");
  for (;;) {
    if (auto m = poll()) return *std::move(m);
    ::usleep(static_cast<useconds_t>(sleep_us));
  }
}

void World::release_workers() {
  if (!coordinator() || !distributed() || released_ || finished_) return;
  released_ = true;
  for (int r = 1; r < size_; ++r) send(r, Tag::kStop, {});
}

void World::finish() {
#if PREIMAGE_HAVE_MPI
  if (started_ && !finished_) MPI_Finalize();
#endif
  finished_ = true;
}

void World::abort(int code) {
#if PREIMAGE_HAVE_MPI
  if (started_ && !finished_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::_Exit(code);
}

std::string rank_prefix() {
  return g_rank > 0 ? fmt::format("rank {} of {}: ", g_rank, g_size) : std::string();
}

}  // namespace preimage::cluster
