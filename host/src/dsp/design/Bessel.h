// Lathe (private to the design code): the Kaiser windows' Bessel function.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace lathe::design {

/// I0, the zeroth-order modified Bessel function of the first kind, by its power series
/// Σ ((x/2)^k / k!)² until a term adds less than 1e-17 of the sum (converges for every β a Kaiser
/// window here uses). Our own rather than std::cyl_bessel_i, whose libstdc++ series calls lgamma,
/// which writes the global `signgam`: a data race when filters are designed on several threads at
/// once (speaker models and batch jobs do; ThreadSanitizer reported it).
inline double besselI0(double x) {
    double sum = 1.0;
    double term = 1.0;
    for (int k = 1; k < 60; ++k) {
        const double f = x / (2.0 * k);
        term *= f * f;
        sum += term;
        if (term < 1e-17 * sum) {
            break;
        }
    }
    return sum;
}

} // namespace lathe::design
