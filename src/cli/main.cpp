// preimage: for each image z, the latent y whose decoding D(y) is closest to z.
// This file only builds the command line; every subcommand calls the library.
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
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
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "  ---> HINT: %s\n", e.hint().c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    return out_of_memory("");
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("can't allocate memory") != std::string::npos) return out_of_memory(what);
    std::fprintf(stderr, "error (LibTorch): %s\n", what.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
