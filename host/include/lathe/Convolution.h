// Lathe: partitioned FFT convolution (linear-phase EQ, convolution reverb, crossovers).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/Types.h>

#include <memory>
#include <vector>

namespace lathe {

/// One filter from an input channel to an output channel.
struct FilterPath {
    int input = 0;
    int output = 0;
    int filter = 0; ///< index into FilterMatrix::filters
};

/// A matrix of FIR filters: output o = Σ over paths (i → o) of filters[path.filter] ∗ input i.
/// Covers per-channel filters (diagonal), one IR shared by every channel, mid/side filters
/// (a full 2×2 matrix) and true-stereo reverb (4 paths).
struct FilterMatrix {
    int inputs = 0;
    int outputs = 0;
    std::vector<std::vector<float>> filters;
    std::vector<FilterPath> paths;

    /// The longest filter, in taps.
    Frames length() const;
    /// `channels` inputs, each filtered by the same filter into its own output.
    static FilterMatrix diagonal(int channels, std::vector<float> filter);
};

/// Throws UsageError unless the matrix is well formed: ≥ 1 input/output, every path's channels
/// and filter index in range, at most one path per (input, output), no empty filter, every tap
/// finite.
void validate(const FilterMatrix& m);

struct ConvolverOptions {
    /// Partition size B: uniformly partitioned overlap-save with FFTs of 2B. 4096–8192 keeps the
    /// float rounding error relative to the local signal (a quiet passage is not buried under the
    /// error of a loud one elsewhere) and digital silence exactly zero.
    Frames blockFrames = 8192;
    /// Worker threads (channels and blocks in parallel); 0 = all hardware threads.
    unsigned threads = 0;
    /// A device backend may leave process()'s output where it computed it, for a backend
    /// operation that reads it there (the multiband dynamics: MultibandCall::bandsOn); its
    /// Convolver::outputOnDevice() then says so. Ignored by the CPU.
    bool outputOnDevice = false;
};

/// A streaming convolution made by a Backend (Capability::Convolution).
///
/// process() takes blocks whose length is a multiple of blockFrames() and returns as many frames:
/// output frame n is Σ_k h[k]·x[n − k] over everything processed so far (zero latency, the
/// filter's own delay included: a linear-phase FIR of length 2d+1 delays by d). The caller pads
/// the end of the input with zeros to read out the rest of the response.
///
/// Exactness: the error is float rounding relative to the local signal (≤ −110 dB RMS against a
/// double-precision direct convolution, tests/unit/ConvolutionTest); when the input has been
/// exactly zero for length() + blockFrames() frames, the output is exactly 0.0.
class Convolver {
public:
    virtual ~Convolver() = default;
    virtual Frames blockFrames() const = 0;
    /// Frames per process() call that use the backend best (a multiple of blockFrames(); callers
    /// that can gather this much should: the multiply-accumulate reuses each filter partition
    /// across the blocks of one call).
    virtual Frames preferredFrames() const { return blockFrames(); }
    virtual int inputs() const = 0;
    virtual int outputs() const = 0;
    /// `in` has inputs() channels and frames a multiple of blockFrames(); `out` is resized to
    /// outputs() channels × the same frames — and left unwritten when outputOnDevice().
    virtual void process(const AudioBuffer& in, AudioBuffer& out) = 0;
    /// Whether process() leaves its output on the device (ConvolverOptions::outputOnDevice, on a
    /// backend that can): only the backend's own operations can read it.
    virtual bool outputOnDevice() const { return false; }
};

/// What every backend's convolver checks when it is made: validate(matrix), and a block size that
/// is a power of two ≥ 16. Throws UsageError / Error(Internal).
void validateConvolverSetup(const FilterMatrix& matrix, const ConvolverOptions& options);

/// The contract of Convolver::process: `in` has c.inputs() channels and whole blocks (else an
/// internal error); `out` becomes c.outputs() channels × in.frames().
void prepareConvolverOutput(const Convolver& c, const AudioBuffer& in, AudioBuffer& out);

/// The CPU reference (FFTW single precision, split spectra, plans made once).
std::unique_ptr<Convolver> makeCpuConvolver(const FilterMatrix& matrix, const ConvolverOptions& options);

} // namespace lathe
