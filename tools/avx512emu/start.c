/* freestanding startup for the emulated run: test(), then hlt */
#include <stddef.h>
void test(void);
void* memcpy(void* d, const void* s, size_t n) { char* a = d; const char* b = s; while (n--) *a++ = *b++; return d; }
void* memset(void* d, int c, size_t n) { char* a = d; while (n--) *a++ = (char)c; return d; }
float nextafterf(float x, float y) {
    union { float f; unsigned u; } v = { x };
    if (x != x || y != y) return x + y;
    if (x == y) return y;
    if (x == 0.0f) { v.u = 1; return y > 0 ? v.f : -v.f; }
    if ((x < y) == (x > 0.0f)) v.u++; else v.u--;
    return v.f;
}
__attribute__((noreturn)) void _start(void) {
    test();
    for (;;) __asm__ volatile("hlt");
}
