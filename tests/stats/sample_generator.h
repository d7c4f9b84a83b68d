#pragma once
// Deterministic samples for the golden tests, bit-identical to `generate()` in
// scripts/golden_stats.py: splitmix64 (Steele, Lea & Flood 2014) uniforms, Box-Muller normals,
// glibc's log/cos/sin/sqrt on both sides. Lets the fixtures hold large samples as a recipe.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace preimage::stats::testing {

// Shared with the Python script: every sample's stream is SEED * 1000 + its stream number.
constexpr std::uint64_t kGoldenSeed = 20240607;

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  // Box-Muller, one output per pair of uniforms.
  double normal() {
    const double u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * kPi * u2);
  }

  static constexpr double kPi = 3.141592653589793;  // Python's math.pi

 private:
  std::uint64_t state_;
};

// The sample `kind` of size n from stream `stream`; 2-D kinds return 2n values (x0, y0, x1, ...).
inline std::vector<double> generate(const std::string& kind, std::size_t n, std::uint64_t stream) {
  SplitMix64 rng(kGoldenSeed * 1000 + stream);
  std::vector<double> out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    if (kind == "normal") {
      out.push_back(1.5 + 2.0 * rng.normal());
    } else if (kind == "exponential") {
      out.push_back(-std::log(1.0 - rng.uniform()));
    } else if (kind == "uniform") {
      out.push_back(2.0 * rng.uniform() - 1.0);
    } else if (kind == "bimodal") {
      const double z = rng.normal();
      out.push_back(z + (rng.uniform() < 0.5 ? -2.5 : 2.5));
    } else if (kind == "radius") {
      const double a = rng.normal();
      const double b = rng.normal();
      out.push_back(std::sqrt(a * a + b * b));
    } else if (kind == "normal2d") {
      const double a = rng.normal();
      const double b = rng.normal();
      out.push_back(0.5 + a);
      out.push_back(-1.0 + 0.6 * a + 0.8 * b);
    } else if (kind == "ring2d") {
      const double t = 2.0 * SplitMix64::kPi * rng.uniform();
      const double r = 2.0 + 0.3 * rng.normal();
      out.push_back(r * std::cos(t));
      out.push_back(r * std::sin(t));
    } else {
      throw std::invalid_argument("generate: unknown sample kind '" + kind +
                                  "' (known: normal, exponential, uniform, bimodal, radius, "
                                  "normal2d, ring2d)");
    }
  }
  return out;
}

}  // namespace preimage::stats::testing
