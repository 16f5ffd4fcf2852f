/* The standard names of the runtime's libm functions (math.c). */
double riad_trunc(double x);
double riad_floor(double x);
double riad_ceil(double x);
double riad_round(double x);

double trunc(double x) { return riad_trunc(x); }
double floor(double x) { return riad_floor(x); }
double ceil(double x) { return riad_ceil(x); }
double round(double x) { return riad_round(x); }
