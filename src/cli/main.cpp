// preimage: for each image z, the latent y whose decoding D(y) is closest to z.
// This file only builds the command line; every subcommand calls the library.
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include <fmt/format.h>

#include <spdlog/cfg/env.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cluster/world.h"
#include "pipeline/threads.h"
#include "util/allocator.h"
#include "util/build_config.h"
#include "util/error.h"
#include "util/progress.h"

namespace {
// The system refused memory: say how much was asked (LibTorch's message has the bytes) and what
// asks for less, instead of the allocator's own words.
int out_of_memory(const std::string& libtorch_message) {
  std::string asked;
  const std::string key = "tried to allocate ";
  if (const auto at = libtorch_message.find(key); at != std::string::npos) {
    const double bytes = std::strtod(libtorch_message.c_str() + at + key.size(), nullptr);
    if (bytes > 0) asked = fmt::format(" (one allocation of {:.2f} GB was refused)", bytes / 1e9);
  }
  std::fprintf(stderr, "error: out of memory%s\n", asked.c_str());
  std::fprintf(stderr, "  ---> HINT: ask for less at once: fewer --images, a smaller --chunk or "
                       "--batch-size, fewer --workers, or a smaller model\n");
  return 1;
}
}  // namespace

// Under MPI (cluster/world.h) these commands share their chunks (blocks, batches, rows) across
// the ranks; any other command runs on rank 0 alone while the other ranks wait for it.
bool shares_work(const std::string& command) {
  for (const char* name : {"invert", "run", "certify", "encode", "likelihood", "analyze",
                           "bench-solvers"})
    if (command == name) return true;
  return false;
}

void set_up_ranks(CLI::App& app, const preimage::cluster::World& world) {
  if (!world.distributed()) return;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    const std::string name = sub->get_name();
    if (shares_work(name)) {
      sub->preparse_callback([](size_t) { preimage::cluster::World::get().set_sharing(true); });
      continue;
    }
    if (world.coordinator())
      sub->preparse_callback([name](size_t) {
        spdlog::warn("{} is not shared across MPI ranks: rank 0 does it alone", name);
      });
    else
      sub->callback([] {});
  }
  if (!world.coordinator()) {  // rank 0 speaks for the job
    preimage::util::Progress::set_enabled(false);
    spdlog::set_level(spdlog::level::warn);
  }
}

// After an error: a rank other than 0 ends the whole job (rank 0 may be waiting for it); rank 0
// lets the other ranks go.
int end_failed(int code) {
  auto& world = preimage::cluster::World::get();
  if (world.distributed() && !world.coordinator()) world.abort(code);
  try {
    world.release_workers();
  } catch (const std::exception&) {
  }
  world.finish();
  return code;
}

// Prints an error (a rank other than 0 names itself), then end_failed.
int fail(int code, const std::string& label, const std::string& what,
         const std::string& hint = "") {
  std::fprintf(stderr, "%s: %s%s\n", label.c_str(), preimage::cluster::rank_prefix().c_str(),
               what.c_str());
  if (!hint.empty()) std::fprintf(stderr, "  ---> HINT: %s\n", hint.c_str());
  return end_failed(code);
}

int main(int argc, char** argv) {
  using namespace preimage;
  pipeline::configure_threads();
  util::keep_freed_memory();
  CLI::App app{
      "preimage " PREIMAGE_VERSION ": the empirical preimage of a generative decoder.\n"
      "Trains the thesis's VAE on MNIST, encodes images (latent space MT), inverts the decoder\n"
      "(for each image z, the latent y minimising |z - sigmoid(D(y))|^2: latent space MN) and\n"
      "compares the two. Start with:  preimage run --out runs/default"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags (--quiet) may follow the subcommand
  app.set_version_flag("--version", PREIMAGE_VERSION " (" PREIMAGE_GIT_DESCRIBE ")");
  bool quiet = false;
  app.add_flag_callback(
      "--quiet", [] { util::Progress::set_enabled(false); spdlog::set_level(spdlog::level::warn); },
      "Only warnings and results: no progress bars or log lines");
  (void)quiet;
  spdlog::set_pattern("[%H:%M:%S] %v");
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=debug: the steps' detail (certify: per level)

  cli::add_run_command(app);
  cli::add_analyze_command(app);
  cli::add_report_command(app);
  cli::add_train_command(app);
  cli::add_encode_command(app);
  cli::add_invert_command(app);
  cli::add_bench_command(app);
  cli::add_merge_command(app);
  cli::add_complete_command(app);
  cli::add_bench_solvers_command(app);
  cli::add_likelihood_command(app);
  cli::add_certify_command(app);

  try {
    auto& world = cluster::World::get();
    world.require_usable();
    set_up_ranks(app, world);
    app.parse(argc, argv);
    world.release_workers();
    world.finish();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    auto& world = cluster::World::get();
    world.release_workers();
    world.finish();
    return code;
  } catch (const UserError& e) {
    return fail(1, "error", e.what(), e.hint());
  } catch (const std::bad_alloc&) {
    return end_failed(out_of_memory(""));
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("can't allocate memory") != std::string::npos)
      return end_failed(out_of_memory(what));
    return fail(2, "error (LibTorch)", what);
  } catch (const std::exception& e) {
    return fail(2, "error", e.what());
  }
  return 0;
}
