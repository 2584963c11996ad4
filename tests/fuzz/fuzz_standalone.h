/*
 * fuzz_standalone.h — a main() for the fuzz harnesses when built without libFuzzer
 * (-DLIQ_FUZZ_STANDALONE): replays the files named on the command line (a corpus) through
 * LLVMFuzzerTestOneInput, with any compiler and any sanitizer. Include it once, after the
 * harness's LLVMFuzzerTestOneInput.
 */
#ifndef LIQ_FUZZ_STANDALONE_H
#define LIQ_FUZZ_STANDALONE_H
#ifdef LIQ_FUZZ_STANDALONE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { perror(argv[i]); return 2; }
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0, got;
        do {
            if (n == cap) {
                cap = cap ? cap * 2 : 4096;
                buf = realloc(buf, cap);
                if (!buf) abort();
            }
            got = fread(buf + n, 1, cap - n, f);
            n += got;
        } while (got);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
    }
    printf("replayed %d input(s)\n", argc - 1);
    return 0;
}
#endif
#endif
