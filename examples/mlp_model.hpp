// A small MLP block as inference engines run it: y = LayerNorm(x + W2·GELU(W1·x + b1) + b2).
//
// The model is plain C++ and never names a threading library: every parallel region goes
// through a `Tiles2d` callable with the signature of weft's parallel_for_2d,
//   tiles(rows, cols, tile_rows, tile_cols, body(r0, r1, c0, c1)),
// so the example runs it on weft and the benchmark runs the very same tiles on OpenMP
// and oneTBB.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mlp {

struct Shape {
  std::size_t batch = 8;
  std::size_t model = 1024;   // d_model
  std::size_t hidden = 4096;  // d_ff
};

// Row-major matrix of floats.
struct Matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<float> data;
  Matrix() = default;
  Matrix(std::size_t r, std::size_t c) : rows(r), cols(c), data(r * c, 0.0f) {}
  float* row(std::size_t r) { return data.data() + r * cols; }
  const float* row(std::size_t r) const { return data.data() + r * cols; }
};

// Weights from a fixed seed (xorshift), scaled like a trained layer's (±1/sqrt(fan_in)).
inline void fill_random(Matrix& m, std::uint64_t seed, float scale) {
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& v : m.data) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    v = scale * (static_cast<float>(s >> 40) / static_cast<float>(1u << 24) * 2.0f - 1.0f);
  }
}

struct Weights {
  Matrix w1, b1, w2, b2, gamma, beta;  // w1: model×hidden, w2: hidden×model (K×N layout)
  explicit Weights(const Shape& s)
      : w1(s.model, s.hidden), b1(1, s.hidden), w2(s.hidden, s.model), b2(1, s.model),
        gamma(1, s.model), beta(1, s.model) {
    fill_random(w1, 1, 1.0f / std::sqrt(static_cast<float>(s.model)));
    fill_random(b1, 2, 0.1f);
    fill_random(w2, 3, 1.0f / std::sqrt(static_cast<float>(s.hidden)));
    fill_random(b2, 4, 0.1f);
    fill_random(gamma, 5, 0.2f);
    for (float& g : gamma.data) g += 1.0f;
    fill_random(beta, 6, 0.1f);
  }
};

// Output tiles: every row of the batch (it is small) by kTileCols columns. The k loop is
// blocked so a kTileK×kTileCols panel of B stays in L2 while every row uses it.
inline constexpr std::size_t kTileRows = 8;
inline constexpr std::size_t kTileCols = 128;
inline constexpr std::size_t kTileK = 256;

// c[r0:r1, c0:c1] = a[r0:r1, :] · b[:, c0:c1] + bias[c0:c1]; one output tile, one thread.
// Not inlined, so that every threading library in the benchmark runs the very same
// machine code (inlined into each library's loop body, the compiler's choices differ).
// Aligned to a cache line, so that two builds place its loops alike: the same code
// at another offset ran 20% slower in weft-bench-priority (an A/B of a change that did
// not touch it), which no change of the scheduler could then be told apart from.
[[gnu::noinline, gnu::aligned(64)]] inline void gemm_tile(const Matrix& a, const Matrix& b, const Matrix& bias, Matrix& c,
                      std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
  for (std::size_t i = r0; i < r1; ++i) std::copy(bias.row(0) + c0, bias.row(0) + c1, c.row(i) + c0);
  for (std::size_t k0 = 0; k0 < a.cols; k0 += kTileK) {
    const std::size_t k1 = std::min(a.cols, k0 + kTileK);
    for (std::size_t i = r0; i < r1; ++i) {
      float* __restrict out = c.row(i);
      for (std::size_t k = k0; k < k1; ++k) {
        const float aik = a.row(i)[k];
        const float* __restrict bk = b.row(k);
        for (std::size_t j = c0; j < c1; ++j) out[j] += aik * bk[j];
      }
    }
  }
}

inline float gelu(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
}

// One forward pass. `hidden` and `out` are caller-owned scratch, so repeated passes do
// not allocate.
template <class Tiles2d>
void forward(const Weights& w, const Matrix& x, Matrix& hidden, Matrix& out, Tiles2d&& tiles) {
  const std::size_t batch = x.rows;
  tiles(batch, w.w1.cols, kTileRows, kTileCols,
        [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
          gemm_tile(x, w.w1, w.b1, hidden, r0, r1, c0, c1);
          for (std::size_t i = r0; i < r1; ++i)
            for (std::size_t j = c0; j < c1; ++j) hidden.row(i)[j] = gelu(hidden.row(i)[j]);
        });
  tiles(batch, w.w2.cols, kTileRows, kTileCols,
        [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
          gemm_tile(hidden, w.w2, w.b2, out, r0, r1, c0, c1);
          for (std::size_t i = r0; i < r1; ++i)
            for (std::size_t j = c0; j < c1; ++j) out.row(i)[j] += x.row(i)[j];  // residual
        });
  // Layer norm: a few µs of work per row; one tile per row.
  tiles(batch, 1, 1, 1, [&](std::size_t r0, std::size_t r1, std::size_t, std::size_t) {
    for (std::size_t i = r0; i < r1; ++i) {
      float* y = out.row(i);
      const std::size_t n = out.cols;
      double mean = 0, var = 0;
      for (std::size_t j = 0; j < n; ++j) mean += y[j];
      mean /= static_cast<double>(n);
      for (std::size_t j = 0; j < n; ++j) var += (y[j] - mean) * (y[j] - mean);
      const float inv = 1.0f / std::sqrt(static_cast<float>(var / static_cast<double>(n)) + 1e-5f);
      for (std::size_t j = 0; j < n; ++j)
        y[j] = (y[j] - static_cast<float>(mean)) * inv * w.gamma.row(0)[j] + w.beta.row(0)[j];
    }
  });
}

// Runs every tile on the calling thread, in order: the single-threaded reference.
struct SerialTiles {
  template <class Body>
  void operator()(std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                  Body&& body) const {
    for (std::size_t r = 0; r < rows; r += tr)
      for (std::size_t c = 0; c < cols; c += tc)
        body(r, std::min(rows, r + tr), c, std::min(cols, c + tc));
  }
};

inline float max_abs_diff(const Matrix& a, const Matrix& b) {
  float d = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) d = std::max(d, std::fabs(a.data[i] - b.data[i]));
  return d;
}

}  // namespace mlp
