/*
 * The few libm functions compiled Swift calls for Double (rounding, which
 * Swift's standard library lowers to trunc/floor/ceil/round calls). They run
 * in ring 3, where SSE is native. Named riad_* here so that the host tests
 * can compare them with the host's libm; math_symbols.c gives them the
 * standard names in a kernel.
 */
#include "libc.h"

/* 2^52: from here on every double is an integer. */
#define INTEGRAL_LIMIT 4503599627370496.0

static double riad_copysign(double magnitude, double sign)
{
    return __builtin_copysign(magnitude, sign);
}

double riad_trunc(double x)
{
    /* NaN, infinities and large values are their own truncation. */
    if (!(__builtin_fabs(x) < INTEGRAL_LIMIT)) return x;
    return riad_copysign((double)(long long)x, x);
}

double riad_floor(double x)
{
    double t = riad_trunc(x);
    return (t > x) ? t - 1.0 : t;
}

double riad_ceil(double x)
{
    double t = riad_trunc(x);
    return (t < x) ? riad_copysign(t + 1.0, x) : t;
}

/* Halfway cases away from zero, as C's round. */
double riad_round(double x)
{
    if (!(__builtin_fabs(x) < INTEGRAL_LIMIT)) return x;
    double t = riad_trunc(x);
    double fraction = x - t;
    if (fraction >= 0.5) return t + 1.0;
    if (fraction <= -0.5) return t - 1.0;
    return t;
}
