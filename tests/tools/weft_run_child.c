/* The program weft-run launches in its tests. It knows nothing of weft (links only libc
 * and libdl) and reports what it was started with:
 *   LD_PRELOAD=<value>
 *   entry <path> absolute=<0|1> exists=<0|1>     one line per LD_PRELOAD entry
 *   WEFT_<NAME>=<value>                           each WEFT_* variable set
 *   pthreadpool_create: <file that defines it, or "none">
 *   omp_get_max_threads: <file that defines it, or "none">
 * The file names come from the loader (dladdr), so they show which library actually
 * won, not which one was asked for. Exits with the status given as argv[1] (default 0). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char** environ;

static void report_symbol(const char* name) {
  void* symbol = dlsym(RTLD_DEFAULT, name);
  Dl_info info;
  if (symbol != NULL && dladdr(symbol, &info) != 0 && info.dli_fname != NULL)
    printf("%s: %s\n", name, info.dli_fname);
  else
    printf("%s: none\n", name);
}

int main(int argc, char** argv) {
  const char* preload = getenv("LD_PRELOAD");
  printf("LD_PRELOAD=%s\n", preload ? preload : "");
  if (preload) {
    /* The loader's own separators: spaces and colons. */
    char* copy = strdup(preload);
    for (char* entry = strtok(copy, " :"); entry != NULL; entry = strtok(NULL, " :"))
      printf("entry %s absolute=%d exists=%d\n", entry, entry[0] == '/',
             access(entry, R_OK) == 0);
    free(copy);
  }
  for (char** e = environ; *e != NULL; ++e)
    if (strncmp(*e, "WEFT_", 5) == 0) printf("%s\n", *e);
  report_symbol("pthreadpool_create");
  report_symbol("omp_get_max_threads");
  fflush(stdout);
  return argc > 1 ? atoi(argv[1]) : 0;
}
