// SPDX-License-Identifier: GPL-3.0-or-later
// Uniformly partitioned overlap-save convolution on FFTW (the CPU reference of lathe/Convolution.h).
//
// Layout. B = partition size, N = 2B, K = B+1 bins, stored split (real block, then imaginary block,
// each padded to a multiple of 16 floats so every array FFTW touches keeps its SIMD alignment).
// Filter f is cut into P_f partitions of B taps; partition p is zero-padded to N, transformed and
// scaled by 1/N (the inverse transform is unscaled, lathe/Backend.h). Input channel i keeps a ring
// of the spectra of its last blocks: X_j = FFT[x_{j−1} | x_j] (2B samples). Output block j is
// the last B samples of IFFT(Σ_p X_{j−p} · H_p) — each partition contributes the linear convolution
// of its taps with exactly the input it overlaps, so error stays local to the signal near j.
//
// Work order per call, for up to kChunkBlocks blocks at once ("offline": all of a chunk's blocks
// are transformed before any is multiplied), each phase parallel over the thread pool:
//   1. forward FFTs: inputs × blocks
//   2. spectral multiply-accumulate: outputs × bin tiles; for one tile the partitions of H and the
//      spectra of X it meets stay in cache while every block of the chunk reuses them
//   3. inverse FFTs: outputs × blocks
#include "../../core/Fftw.h"
#include "../../core/Simd.h"
#include "../../core/ThreadPool.h"

#include <lathe/Convolution.h>
#include <lathe/Error.h>
#include <lathe/math/Hd.h>
#include <lathe/math/Spectral.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

namespace lathe {
namespace {

/// Blocks transformed and multiplied together; bounds memory (a few MB) and sets the reuse of each
/// filter partition in phase 2.
constexpr Frames kChunkBlocks = 24;
/// Bins per multiply-accumulate task: 256 bins × 8 bytes = 2 KB per spectrum tile, so the tiles of
/// ~100 partitions of H and X fit in a 512 KB L2 cache.
constexpr int kTileBins = 256;

std::size_t padded(std::size_t n) {
    return (n + 15) / 16 * 16;
}

/// One spectrum (a block of X or a partition of H) at a tile's first bin, split.
struct SpectrumTile {
    const float* re;
    const float* im;
};

using Float8 = float __attribute__((vector_size(32)));
using Float16 = float __attribute__((vector_size(64)));
// Float8 values never cross a non-inlined call boundary, so the AVX-vs-SSE argument-passing ABI
// difference GCC warns about (-Wpsabi) cannot arise.
#pragma GCC diagnostic ignored "-Wpsabi"

/// The hot loop: Y_r += Σ_{p<parts} X_{r−p} · H_p for R consecutive output blocks r of one filter
/// path, over one tile of bins. xs[q] is X at block (last row − q), so row r at partition p reads
/// xs[R − 1 − r + p]: stepping p by one shifts every row's X to the next row, and only one new X
/// and one H are loaded per step for R multiply-accumulates (register blocking). Each bin's
/// accumulator still receives its terms one by one in partition order, exactly as the scalar
/// definition in lathe/math does, so the result is bit-identical to it. Partitions that would
/// reach before the first block point at a zero spectrum (adding 0 changes nothing).
template <int R, typename V = Float8>
[[gnu::always_inline]] inline void macRowsImpl(const SpectrumTile* xs, const SpectrumTile* hs, int parts,
                                               float* const* accRe, float* const* accIm, bool zeroFirst,
                                               int bins) {
    int k = 0;
    constexpr int kLanes = static_cast<int>(sizeof(V) / sizeof(float));
    for (; k + kLanes <= bins; k += kLanes) {
        V are[R], aim[R], xre[R], xim[R];
        for (int r = 0; r < R; ++r) {
            if (zeroFirst) {
                are[r] = V{};
                aim[r] = V{};
            } else {
                std::memcpy(&are[r], accRe[r] + k, sizeof(V));
                std::memcpy(&aim[r], accIm[r] + k, sizeof(V));
            }
            std::memcpy(&xre[r], xs[R - 1 - r].re + k, sizeof(V));
            std::memcpy(&xim[r], xs[R - 1 - r].im + k, sizeof(V));
        }
        for (int p = 0; p < parts; ++p) {
            V hr, hi;
            std::memcpy(&hr, hs[p].re + k, sizeof hr);
            std::memcpy(&hi, hs[p].im + k, sizeof hi);
            for (int r = 0; r < R; ++r) {
                math::complexMac(xre[r], xim[r], hr, hi, are[r], aim[r]);
            }
            if (p + 1 < parts) {
                for (int r = R - 1; r > 0; --r) {
                    xre[r] = xre[r - 1];
                    xim[r] = xim[r - 1];
                }
                std::memcpy(&xre[0], xs[R + p].re + k, sizeof(V));
                std::memcpy(&xim[0], xs[R + p].im + k, sizeof(V));
            }
        }
        for (int r = 0; r < R; ++r) {
            std::memcpy(accRe[r] + k, &are[r], sizeof(V));
            std::memcpy(accIm[r] + k, &aim[r], sizeof(V));
        }
    }
    for (; k < bins; ++k) {
        for (int r = 0; r < R; ++r) {
            float re = zeroFirst ? 0.0f : accRe[r][k];
            float im = zeroFirst ? 0.0f : accIm[r][k];
            for (int p = 0; p < parts; ++p) {
                const SpectrumTile& x = xs[R - 1 - r + p];
                math::complexMac(x.re[k], x.im[k], hs[p].re[k], hs[p].im[k], re, im);
            }
            accRe[r][k] = re;
            accIm[r][k] = im;
        }
    }
}

/// Rows per register block: 3 rows × (accumulator + X) + H = 14 AVX2 registers of 16.
constexpr int kMacRows = 3;
constexpr int kMaxMacRows = 6;

LATHE_TARGET_CLONES void macRows3(const SpectrumTile* xs, const SpectrumTile* hs, int parts,
                                  float* const* accRe, float* const* accIm, bool zeroFirst, int bins) {
    macRowsImpl<kMacRows>(xs, hs, parts, accRe, accIm, zeroFirst, bins);
}

LATHE_TARGET_CLONES void macRows2(const SpectrumTile* xs, const SpectrumTile* hs, int parts,
                                  float* const* accRe, float* const* accIm, bool zeroFirst, int bins) {
    macRowsImpl<2>(xs, hs, parts, accRe, accIm, zeroFirst, bins);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define LATHE_HAVE_AVX512_MAC 1
/// AVX-512 (32 registers of 16 floats): 6 rows × (accumulator + X) + H = 26 registers. Chosen at
/// run time when the CPU has AVX-512F; the same per-lane float operations as the others.
template <int R>
[[gnu::target("avx512f")]] void macRows512(const SpectrumTile* xs, const SpectrumTile* hs, int parts,
                                           float* const* accRe, float* const* accIm, bool zeroFirst,
                                           int bins) {
    macRowsImpl<R, Float16>(xs, hs, parts, accRe, accIm, zeroFirst, bins);
}
#endif

LATHE_TARGET_CLONES void macRows1(const SpectrumTile* xs, const SpectrumTile* hs, int parts,
                                  float* const* accRe, float* const* accIm, bool zeroFirst, int bins) {
    macRowsImpl<1>(xs, hs, parts, accRe, accIm, zeroFirst, bins);
}

using MacFn = void (*)(const SpectrumTile*, const SpectrumTile*, int, float* const*, float* const*, bool,
                       int);

/// The kernels for 1…kMaxMacRows rows on this CPU (index = rows − 1), and how many rows they go to.
struct MacKernels {
    int maxRows = 3;
    MacFn fn[6] = {macRows1, macRows2, macRows3, macRows3, macRows3, macRows3};
};

const MacKernels& macKernels() {
    static const MacKernels k = [] {
        MacKernels m;
#if defined(LATHE_HAVE_AVX512_MAC)
        if (__builtin_cpu_supports("avx512f")) {
            m.maxRows = 6;
            m.fn[0] = macRows512<1>;
            m.fn[1] = macRows512<2>;
            m.fn[2] = macRows512<3>;
            m.fn[3] = macRows512<4>;
            m.fn[4] = macRows512<5>;
            m.fn[5] = macRows512<6>;
        }
#endif
        return m;
    }();
    return k;
}

class CpuConvolver final : public Convolver {
public:
    CpuConvolver(const FilterMatrix& m, const ConvolverOptions& o)
        : m_inputs(m.inputs), m_outputs(m.outputs), m_paths(m.paths), m_block(o.blockFrames),
          m_n(2 * static_cast<std::size_t>(o.blockFrames)),
          m_bins(static_cast<std::size_t>(o.blockFrames) + 1), m_stride(padded(m_bins)),
          m_pool(detail::threadBudget(o.threads)) {
        validateConvolverSetup(m, o);
        makePlans();
        for (unsigned w = 0; w < m_pool.size(); ++w) {
            m_scratch.push_back(detail::allocateFloats(m_n));
        }
        m_xs.resize(m_pool.size());
        m_hs.resize(m_pool.size());
        m_zero = detail::allocateFloats(2 * m_stride);
        // Filter spectra.
        m_filters.resize(m.filters.size());
        m_maxPartitions = 1;
        for (std::size_t f = 0; f < m.filters.size(); ++f) {
            const auto& taps = m.filters[f];
            Spectra& s = m_filters[f];
            s.partitions = (static_cast<Frames>(taps.size()) + m_block - 1) / m_block;
            m_maxPartitions = std::max(m_maxPartitions, s.partitions);
            s.data = detail::allocateFloats(static_cast<std::size_t>(s.partitions) * 2 * m_stride);
        }
        const float scale = 1.0f / static_cast<float>(m_n);
        m_pool.parallelFor(m.filters.size(), [&](std::size_t f, unsigned w) {
            const auto& taps = m.filters[f];
            Spectra& s = m_filters[f];
            float* t = m_scratch[w].get();
            for (Frames p = 0; p < s.partitions; ++p) {
                std::fill(t, t + m_n, 0.0f);
                const std::size_t first = static_cast<std::size_t>(p * m_block);
                const std::size_t last = std::min(taps.size(), first + static_cast<std::size_t>(m_block));
                for (std::size_t k = first; k < last; ++k) {
                    t[k - first] = taps[k] * scale;
                }
                fftwf_execute_split_dft_r2c(m_forward, t, re(s, p), im(s, p));
            }
        });
        // Input spectrum rings and overlap, output spectra.
        m_ring = static_cast<std::size_t>(m_maxPartitions + kChunkBlocks);
        for (int i = 0; i < m_inputs; ++i) {
            m_history.push_back(detail::allocateFloats(m_ring * 2 * m_stride));
            m_overlap.push_back(detail::allocateFloats(static_cast<std::size_t>(m_block)));
        }
        for (int out = 0; out < m_outputs; ++out) {
            m_y.push_back(detail::allocateFloats(static_cast<std::size_t>(kChunkBlocks) * 2 * m_stride));
        }
    }

    ~CpuConvolver() override {
        std::lock_guard lock(detail::fftwPlannerMutex());
        fftwf_destroy_plan(m_forward);
        fftwf_destroy_plan(m_inverse);
    }

    Frames blockFrames() const override { return m_block; }
    Frames preferredFrames() const override { return m_block * kChunkBlocks; }
    int inputs() const override { return m_inputs; }
    int outputs() const override { return m_outputs; }

    void process(const AudioBuffer& in, AudioBuffer& out) override {
        prepareConvolverOutput(*this, in, out);
        const Frames blocks = in.frames() / m_block;
        for (Frames first = 0; first < blocks; first += kChunkBlocks) {
            processChunk(in, out, first, std::min(kChunkBlocks, blocks - first));
        }
    }

private:
    struct Spectra {
        Frames partitions = 0;
        detail::FftwFloats data; // partition p: real at p·2·stride, imaginary at p·2·stride + stride
    };

    float* re(Spectra& s, Frames p) const {
        return s.data.get() + static_cast<std::size_t>(p) * 2 * m_stride;
    }
    float* im(Spectra& s, Frames p) const { return re(s, p) + m_stride; }
    float* historyRe(int input, Frames block) const {
        const std::size_t slot = static_cast<std::size_t>(block) % m_ring;
        return m_history[static_cast<std::size_t>(input)].get() + slot * 2 * m_stride;
    }
    float* yRe(int output, Frames b) const {
        return m_y[static_cast<std::size_t>(output)].get() + static_cast<std::size_t>(b) * 2 * m_stride;
    }

    void makePlans() {
        auto t = detail::allocateFloats(m_n);
        auto r = detail::allocateFloats(m_stride);
        auto i = detail::allocateFloats(m_stride);
        fftwf_iodim dim{static_cast<int>(m_n), 1, 1};
        std::lock_guard lock(detail::fftwPlannerMutex());
        m_forward =
            fftwf_plan_guru_split_dft_r2c(1, &dim, 0, nullptr, t.get(), r.get(), i.get(), FFTW_ESTIMATE);
        m_inverse =
            fftwf_plan_guru_split_dft_c2r(1, &dim, 0, nullptr, r.get(), i.get(), t.get(), FFTW_ESTIMATE);
        if (m_forward == nullptr || m_inverse == nullptr) {
            throw Error(ErrorKind::Internal,
                        "FFTW could not plan a split real transform of size " + std::to_string(m_n));
        }
    }

    void processChunk(const AudioBuffer& in, AudioBuffer& out, Frames firstBlock, Frames count) {
        const Frames j0 = m_blocksDone;
        const std::size_t blocks = static_cast<std::size_t>(count);
        const std::size_t B = static_cast<std::size_t>(m_block);
        // 1. Forward transforms of [previous block | this block] for every input and block.
        m_pool.parallelFor(static_cast<std::size_t>(m_inputs) * blocks, [&](std::size_t task, unsigned w) {
            const int i = static_cast<int>(task / blocks);
            const Frames b = static_cast<Frames>(task % blocks);
            const float* x = in.channel(i) + (firstBlock + b) * m_block;
            const float* prev = b == 0 ? m_overlap[static_cast<std::size_t>(i)].get() : x - m_block;
            float* t = m_scratch[w].get();
            std::memcpy(t, prev, B * sizeof(float));
            std::memcpy(t + B, x, B * sizeof(float));
            float* r = historyRe(i, j0 + b);
            fftwf_execute_split_dft_r2c(m_forward, t, r, r + m_stride);
        });
        for (int i = 0; i < m_inputs; ++i) {
            std::memcpy(m_overlap[static_cast<std::size_t>(i)].get(),
                        in.channel(i) + (firstBlock + count - 1) * m_block, B * sizeof(float));
        }
        // 2. Y_j = Σ_paths Σ_p X_{j−p} · H_p, tile by tile.
        const std::size_t tiles = (m_bins + kTileBins - 1) / kTileBins;
        m_pool.parallelFor(static_cast<std::size_t>(m_outputs) * tiles, [&](std::size_t task, unsigned w) {
            const int o = static_cast<int>(task / tiles);
            const std::size_t k0 = (task % tiles) * kTileBins;
            const int bins = static_cast<int>(std::min<std::size_t>(kTileBins, m_bins - k0));
            const MacKernels& kernels = macKernels();
            std::vector<SpectrumTile>& xs = m_xs[w];
            std::vector<SpectrumTile>& hs = m_hs[w];
            bool first = true;
            for (const FilterPath& path : m_paths) {
                if (path.output != o) {
                    continue;
                }
                Spectra& h = m_filters[static_cast<std::size_t>(path.filter)];
                const int parts = static_cast<int>(h.partitions);
                hs.clear();
                for (Frames p = 0; p < h.partitions; ++p) {
                    hs.push_back({re(h, p) + k0, im(h, p) + k0});
                }
                for (Frames b = 0; b < count;) {
                    const int rows = static_cast<int>(std::min<Frames>(kernels.maxRows, count - b));
                    // xs[q] = X at block (last row − q); before the first block: zeros.
                    const Frames last = j0 + b + rows - 1;
                    xs.clear();
                    for (Frames q = 0; q < parts + rows - 1; ++q) {
                        const Frames jx = last - q;
                        const float* xr = jx >= 0 ? historyRe(path.input, jx) + k0 : m_zero.get() + k0;
                        xs.push_back({xr, xr + m_stride});
                    }
                    float* accRe[kMaxMacRows];
                    float* accIm[kMaxMacRows];
                    for (int r = 0; r < rows; ++r) {
                        accRe[r] = yRe(o, b + r) + k0;
                        accIm[r] = accRe[r] + m_stride;
                    }
                    kernels.fn[rows - 1](xs.data(), hs.data(), parts, accRe, accIm, first, bins);
                    b += rows;
                }
                first = false;
            }
            if (first) { // no path reaches this output: silence
                for (Frames b = 0; b < count; ++b) {
                    std::fill(yRe(o, b) + k0, yRe(o, b) + k0 + bins, 0.0f);
                    std::fill(yRe(o, b) + m_stride + k0, yRe(o, b) + m_stride + k0 + bins, 0.0f);
                }
            }
        });
        // 3. Inverse transforms; the last B samples of each are the output block.
        m_pool.parallelFor(static_cast<std::size_t>(m_outputs) * blocks, [&](std::size_t task, unsigned w) {
            const int o = static_cast<int>(task / blocks);
            const Frames b = static_cast<Frames>(task % blocks);
            float* y = yRe(o, b);
            float* t = m_scratch[w].get();
            fftwf_execute_split_dft_c2r(m_inverse, y, y + m_stride, t);
            std::memcpy(out.channel(o) + (firstBlock + b) * m_block, t + B, B * sizeof(float));
        });
        m_blocksDone += count;
    }

    int m_inputs;
    int m_outputs;
    std::vector<FilterPath> m_paths;
    Frames m_block;
    std::size_t m_n;
    std::size_t m_bins;
    std::size_t m_stride;
    detail::ThreadPool m_pool;
    fftwf_plan m_forward = nullptr;
    fftwf_plan m_inverse = nullptr;
    std::vector<detail::FftwFloats> m_scratch;
    std::vector<std::vector<SpectrumTile>> m_xs; // per worker
    std::vector<std::vector<SpectrumTile>> m_hs; // per worker
    detail::FftwFloats m_zero;                   // the spectrum of a block before the first
    std::vector<Spectra> m_filters;
    Frames m_maxPartitions = 1;
    std::size_t m_ring = 0;
    std::vector<detail::FftwFloats> m_history;
    std::vector<detail::FftwFloats> m_overlap;
    std::vector<detail::FftwFloats> m_y;
    Frames m_blocksDone = 0;
};

} // namespace

Frames FilterMatrix::length() const {
    Frames n = 0;
    for (const auto& f : filters) {
        n = std::max(n, static_cast<Frames>(f.size()));
    }
    return n;
}

FilterMatrix FilterMatrix::diagonal(int channels, std::vector<float> filter) {
    FilterMatrix m;
    m.inputs = channels;
    m.outputs = channels;
    m.filters.push_back(std::move(filter));
    for (int c = 0; c < channels; ++c) {
        m.paths.push_back({c, c, 0});
    }
    return m;
}

void validateConvolverSetup(const FilterMatrix& matrix, const ConvolverOptions& options) {
    validate(matrix);
    LATHE_EXPECTS(options.blockFrames >= 16 && (options.blockFrames & (options.blockFrames - 1)) == 0,
                  "convolution block must be a power of two ≥ 16, got " +
                      std::to_string(options.blockFrames));
}

void prepareConvolverOutput(const Convolver& c, const AudioBuffer& in, AudioBuffer& out) {
    LATHE_EXPECTS(in.channels() == c.inputs(), "convolver expects " + std::to_string(c.inputs()) +
                                                   " channels, got " + std::to_string(in.channels()));
    LATHE_EXPECTS(in.frames() % c.blockFrames() == 0, "convolver input must be whole blocks");
    out.reset(c.outputs(), in.frames());
    out.setFrames(in.frames());
}

void validate(const FilterMatrix& m) {
    if (m.inputs < 1 || m.outputs < 1) {
        throw UsageError("a filter matrix needs at least one input and one output channel");
    }
    for (const auto& f : m.filters) {
        if (f.empty()) {
            throw UsageError("a filter has no taps");
        }
        for (float v : f) {
            if (!math::isFiniteSample(v)) {
                throw UsageError("a filter has a NaN or infinite tap");
            }
        }
    }
    for (std::size_t a = 0; a < m.paths.size(); ++a) {
        const FilterPath& p = m.paths[a];
        if (p.input < 0 || p.input >= m.inputs || p.output < 0 || p.output >= m.outputs || p.filter < 0 ||
            p.filter >= static_cast<int>(m.filters.size())) {
            throw UsageError("filter path " + std::to_string(a) + " is out of range");
        }
        for (std::size_t b = 0; b < a; ++b) {
            if (m.paths[b].input == p.input && m.paths[b].output == p.output) {
                throw UsageError("two filter paths from input " + std::to_string(p.input + 1) +
                                 " to output " + std::to_string(p.output + 1));
            }
        }
    }
}

std::unique_ptr<Convolver> makeCpuConvolver(const FilterMatrix& matrix, const ConvolverOptions& options) {
    return std::make_unique<CpuConvolver>(matrix, options);
}

} // namespace lathe
