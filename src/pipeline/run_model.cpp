#include "pipeline/run_model.h"

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::pipeline {

decoders::GenerativeModel open_run_model(const run::RunFolder& run) {
  return decoders::open_model({run.model_path()});
}

void require_model_fits(const decoders::GenerativeModel& model, const data::Dataset& images,
                        const std::string& what) {
  require(images.pixels() == model.pixels(),
          fmt::format("{} ({}) are {}x{} = {} pixels, the model decodes images of {} pixels "
                      "({}x{})",
                      what, images.name, images.height, images.width, images.pixels(),
                      model.pixels(), model.image_height, model.image_width),
          "train a model on this data set (preimage train --data ...)");
}

}  // namespace preimage::pipeline
