/* The loops with both formulas on fixed inputs (run.sh): outputs in out_all, return values in ret_all. KERN: the extracted kernel header. */
#include "KERN"
#include "data.h"
#include "params.h"
#define OUTN (NSETS * 16 * R * N)
float out_all[OUTN];
long long ret_all[NSETS * 32];
static double sqbuf[3 * (64 + 32)];   /* fastlrn_linesg's buffer for C = 64 */
static float xin[R * N];
static void run_set(int s, float* out, long long* ret) {
    fastlrn_pw W;
    const float* p[16];
    float* ys[4];
    ptrdiff_t i, done;
    /* the float tier: t = (a/k) v up to 2**-7; k**-beta split in two floats */
    const double k = 2.0, a = 1e-4, beta = 0.75, kb = 0.59460355750136053;  /* 2**-0.75 */
    double c[5];
    float ts = (float)(a / k), kh = (float)kb, kl = (float)(kb - (double)(float)kb);
    float hi = (float)(0x1p-7 * k / a);
    double vlo = 0.0, vhi = (0x1p33 - 2.0) / a * (1 - 0x1p-20);
    int n;
    memcpy(&W, W_bytes, sizeof W);
    c[0] = 1.0;
    for (n = 1; n <= 4; n++) c[n] = c[n - 1] * (-beta - (n - 1)) / n;
    memcpy(xin, data_bits[s], sizeof xin);
    for (i = 0; i < R; i++) p[i] = xin + i * N;
    /* four-row loop: 8 rows, n = 250 (a tail of 10) */
    for (i = 0; i < 4; i++) ys[i] = out + i * N;
    ret[0] = fastlrn_q5x4g(p, ys, 250, ts, (float)c[1], (float)c[2], (float)c[3], (float)c[4],
                           kh, kl, hi, &W, vlo, vhi, 0);
    out += 4 * N;
    /* rows of 7 and 11 */
    ret[1] = fastlrn_rowg(p, 7, p[3], out, 250, ts, (float)c[1], (float)c[2], (float)c[3],
                          (float)c[4], kh, kl, hi, &W, vlo, vhi);
    out += N;
    ret[2] = fastlrn_rowg(p, 11, p[5], out, 253, ts, (float)c[1], (float)c[2], (float)c[3],
                          (float)c[4], kh, kl, hi, &W, vlo, vhi);
    out += N;
    /* channels-last lines: 48 lines of 64 channels, windows of 5 and 11 */
    memset(sqbuf, 0, sizeof sqbuf);
    ret[3] = fastlrn_linesg(xin, out, 48, 64, 2, 2, ts, (float)c[1], (float)c[2], (float)c[3],
                            (float)c[4], kh, kl, hi, &W, vlo, vhi, sqbuf);
    out += 48 * 64;
    memset(sqbuf, 0, sizeof sqbuf);
    ret[4] = fastlrn_linesg(xin, out, 48, 64, 5, 5, ts, (float)c[1], (float)c[2], (float)c[3],
                            (float)c[4], kh, kl, hi, &W, vlo, vhi, sqbuf);
    out += 48 * 64;
    /* 5 x 5 within: a plane of 12 x 250 (row stride 256), strip rows 0-12, as the
       caller: the power step alone, then both formulas from where it stopped */
    done = -7;
    ret[5] = fastlrn_w5p_strip(xin, N, out, N, R, 250, 0, R, hi, &W, vlo, vhi, &done);
    ret[6] = done;
    if (done < 250 && done >= 0)
        ret[7] = fastlrn_w5g_strip(xin, N, out, N, R, 250, 0, R, done, ts, (float)c[1],
                                   (float)c[2], (float)c[3], (float)c[4], kh, kl, hi, &W, vlo, vhi);
    out += R * N;
    ret[8] = fastlrn_w5g_strip(xin, N, out, N, R, 250, 3, 9, 0, ts, (float)c[1], (float)c[2],
                               (float)c[3], (float)c[4], kh, kl, hi, &W, vlo, vhi);
    out += R * N;
#ifdef FASTLRN_QMX4G_ROWS
    /* four rows of windows of 7 channels (lo 3) from the rows p[0..9], then
       each row by rowg: the two must give the same bits */
    for (i = 0; i < 4; i++) ys[i] = out + i * N;
    ret[9] = fastlrn_qmx4g(p, ys, 250, 7, 3, ts, (float)c[1], (float)c[2], (float)c[3],
                           (float)c[4], kh, kl, hi, &W, vlo, vhi);
    for (i = 0; i < 4; i++)
        ret[10 + i] = fastlrn_rowg(p + i, 7, p[i + 3], out + (4 + i) * N, 250, ts, (float)c[1],
                                   (float)c[2], (float)c[3], (float)c[4], kh, kl, hi, &W,
                                   vlo, vhi);
#endif
}
void test(void) {
    int s;
    for (s = 0; s < NSETS; s++) run_set(s, out_all + s * 16 * R * N, ret_all + s * 32);
}
#ifdef NATIVE
#include <stdio.h>
int main(void) {
    FILE* f;
    test();
    f = fopen("out_all.bin", "wb"); fwrite(out_all, sizeof out_all, 1, f); fclose(f);
    f = fopen("ret_all.bin", "wb"); fwrite(ret_all, sizeof ret_all, 1, f); fclose(f);
    return 0;
}
#endif
