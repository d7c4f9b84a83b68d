#include "cluster/farm.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>
#include <thread>

#include "cluster/world.h"
#include "util/blas_threads.h"
#include "util/error.h"

namespace preimage::cluster {

namespace {

// An error as the message a worker sends: what failed and the hint, with the rank.
std::string error_message(const std::exception& e) {
  nlohmann::json j{{"what", rank_prefix() + e.what()}, {"hint", ""}};
  if (const auto* user = dynamic_cast<const UserError*>(&e)) j["hint"] = user->hint();
  return j.dump();
}

UserError error_of(const std::string& bytes, int from) {
  try {
    const auto j = nlohmann::json::parse(bytes);
    return UserError(j.at("what").get<std::string>(), j.at("hint").get<std::string>());
  } catch (const std::exception&) {
    return UserError(fmt::format("rank {} failed and its message is unreadable", from));
  }
}

// Where each worker is.
enum class Worker { kOpening, kIdle, kBusy };

}  // namespace

FarmReport coordinate(const FarmWork& work) {
  auto& world = World::get();
  require(world.coordinator() && world.distributed(), "coordinate: not rank 0 of an MPI job");
  const int n = world.size();
  const int64_t sent0 = world.bytes_sent(), received0 = world.bytes_received();
  for (int r = 1; r < n; ++r) world.send(r, Tag::kJob, work.job);

  // The chunks are taken in order by the workers and by rank 0's own thread.
  std::mutex mutex;
  size_t next = 0;
  bool stop = false, thread_done = false;
  std::vector<int64_t> done_here;
  std::exception_ptr thread_error;
  auto take = [&]() -> std::optional<int64_t> {
    std::lock_guard<std::mutex> lock(mutex);
    if (stop || next >= work.chunks.size()) return std::nullopt;
    return work.chunks[next++];
  };
  std::thread here([&] {
    while (const auto chunk = take()) {
      try {
        work.solve_here(*chunk);
        std::lock_guard<std::mutex> lock(mutex);
        done_here.push_back(*chunk);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        thread_error = std::current_exception();
        stop = true;
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    thread_done = true;
  });

  FarmReport report;
  std::vector<Worker> state(static_cast<size_t>(n), Worker::kOpening);
  std::vector<int64_t> holds(static_cast<size_t>(n), -1);  // the chunk a busy worker solves
  std::exception_ptr failure;
  auto fail = [&](std::exception_ptr e) {
    if (!failure) failure = e;
    std::lock_guard<std::mutex> lock(mutex);
    stop = true;
  };
  auto hand_out = [&](int r) {
    state[static_cast<size_t>(r)] = Worker::kIdle;
    if (failure) return;
    const auto chunk = take();
    if (!chunk) return;
    try {
      world.send(r, Tag::kTask, work.pack(*chunk));
      state[static_cast<size_t>(r)] = Worker::kBusy;
      holds[static_cast<size_t>(r)] = *chunk;
    } catch (...) {
      fail(std::current_exception());
    }
  };
  // The loop's own failures (MPI's) end it at once: nothing can be drained then.
  try {
    for (;;) {
      bool progressed = false;
      std::vector<int64_t> finished;
      bool local_over = false;
      {
        std::lock_guard<std::mutex> lock(mutex);
        finished.swap(done_here);
        local_over = thread_done;
        if (thread_error && !failure) failure = thread_error;
      }
      for (int64_t chunk : finished) {
        progressed = true;
        if (failure) continue;
        try {
          work.solved_here(chunk);
          ++report.chunks_here;
        } catch (...) {
          fail(std::current_exception());
        }
      }
      if (auto m = world.poll()) {
        progressed = true;
        const auto r = static_cast<size_t>(m->from);
        switch (m->tag) {
          case Tag::kReady:
            hand_out(m->from);
            break;
          case Tag::kResult:
            if (!failure) {
              try {
                work.solved_remotely(holds[r], m->bytes);
                ++report.chunks_remote;
              } catch (...) {
                fail(std::current_exception());
              }
            }
            hand_out(m->from);
            break;
          case Tag::kError:
            state[r] = Worker::kIdle;
            fail(std::make_exception_ptr(error_of(m->bytes, m->from)));
            break;
          default:
            state[r] = Worker::kIdle;
            fail(std::make_exception_ptr(
                UserError(fmt::format("rank {} sent an unexpected message", m->from))));
        }
      }
      bool waiting = !local_over;
      for (int r = 1; r < n; ++r)
        waiting = waiting || state[static_cast<size_t>(r)] != Worker::kIdle;
      if (!waiting) break;
      if (!progressed) ::usleep(200);
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    here.join();
    throw;
  }
  here.join();
  report.bytes_sent = world.bytes_sent() - sent0;
  report.bytes_received = world.bytes_received() - received0;
  if (failure) std::rethrow_exception(failure);
  return report;
}

void solve_locally(const std::vector<int64_t>& chunks, int64_t workers,
                   const std::function<void(int64_t)>& solve,
                   const std::function<void(int64_t)>& keep) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::exception_ptr error;
  auto work = [&] {
    for (size_t t = next++; t < chunks.size() && !failed; t = next++) {
      try {
        solve(chunks[t]);
        std::lock_guard<std::mutex> lock(mutex);
        keep(chunks[t]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> helpers;
  const auto wanted = std::min<int64_t>(workers, static_cast<int64_t>(chunks.size()));
  for (int64_t w = 1; w < wanted; ++w) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // the system refused one more thread: fewer workers
    }
  }
  work();
  for (auto& h : helpers) h.join();
  if (error) std::rethrow_exception(error);
}

FarmReport share(const FarmWork& work, int64_t workers) {
  if (workers <= 0) workers = std::max(util::blas_threads(), 1);
  util::ScopedBlasThreads single_threaded_blas(1);
  if (World::get().sharing()) return coordinate(work);
  solve_locally(work.chunks, workers, work.solve_here, work.solved_here);
  FarmReport report;
  report.chunks_here = static_cast<int64_t>(work.chunks.size());
  return report;
}

void serve(const std::function<ChunkSolver(const std::string& job)>& open) {
  auto& world = World::get();
  require(world.distributed() && !world.coordinator(), "serve: not a worker of an MPI job");
  const char* fail_rank = std::getenv("PREIMAGE_TEST_FAIL_RANK");
  const bool test_failure = fail_rank && std::atoi(fail_rank) == world.rank();
  ChunkSolver solve;
  for (;;) {
    const Message m = world.receive();
    switch (m.tag) {
      case Tag::kStop:
        return;
      case Tag::kJob:
        try {
          solve = open(m.bytes);
          world.send(0, Tag::kReady, {});
        } catch (const std::exception& e) {
          solve = nullptr;
          world.send(0, Tag::kError, error_message(e));
        }
        break;
      case Tag::kTask:
        try {
          require(solve != nullptr, "a chunk came before its job");
          require(!test_failure, "failing as asked (PREIMAGE_TEST_FAIL_RANK, a test hook)");
          world.send(0, Tag::kResult, solve(m.bytes));
        } catch (const std::exception& e) {
          world.send(0, Tag::kError, error_message(e));
        }
        break;
      default:
        world.send(0, Tag::kError,
                   error_message(UserError(fmt::format("unexpected message {}", int(m.tag)))));
    }
  }
}

}  // namespace preimage::cluster
