/* The runtime's rounding functions against the host's libm, bit for bit,
 * on special values and a million pseudo-random doubles of every exponent. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

double riad_trunc(double x);
double riad_floor(double x);
double riad_ceil(double x);
double riad_round(double x);

static int failures;

static void check(const char *name, double (*ours)(double), double (*theirs)(double), double x)
{
    double a = ours(x), b = theirs(x);
    if (isnan(a) && isnan(b)) return;
    if (memcmp(&a, &b, sizeof a) != 0 && failures++ < 10)
        printf("%s(%.17g): %.17g, libm %.17g\n", name, x, a, b);
}

static void all(double x)
{
    check("trunc", riad_trunc, trunc, x);
    check("floor", riad_floor, floor, x);
    check("ceil", riad_ceil, ceil, x);
    check("round", riad_round, round, x);
}

int main(void)
{
    double special[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
                        4503599627370495.5, -4503599627370495.5, 4503599627370496.0, 1e300, -1e300,
                        INFINITY, -INFINITY, NAN, 5e-324, -5e-324};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) all(special[i]);
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 1000000; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        double x;
        memcpy(&x, &state, sizeof x);
        all(x);
        all((double)(int64_t)(state >> 20) / 1024.0);
    }
    if (failures) { printf("%d mismatches\n", failures); return 1; }
    printf("SUCCESS\n");
    return 0;
}
