// preimage: for each image z, the latent y whose decoding D(y) is closest to z.
// This file only builds the command line; every subcommand calls the library.
#include <cstdio>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "pipeline/threads.h"
#include "util/allocator.h"
#include "util/build_config.h"
#include "util/error.h"
#include "util/progress.h"

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "  ---> HINT: %s\n", e.hint().c_str());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error (LibTorch): %s\n", e.what_without_backtrace());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
