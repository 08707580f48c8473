/* native: the power step's tables for k = 2, a = 1e-4, beta = 0.75 as bytes (params.h) */
#include "KERN"
#include <stdio.h>
int main(void) {
    fastlrn_pw W; unsigned char* b = (unsigned char*)&W; size_t i;
    memset(&W, 0, sizeof W);
    if (!fastlrn_pw_init(&W, 2.0, 1e-4, 0.75, 1)) return 1;
    printf("static const unsigned char W_bytes[%zu] = {", sizeof W);
    for (i = 0; i < sizeof W; i++) printf("%s%u", i ? "," : "", b[i]);
    printf("};\n");
    return 0;
}
