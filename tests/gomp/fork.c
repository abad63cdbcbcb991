/* fork() in a process whose team is alive (its workers idle between regions): the
   child runs regions of its own with the full team, and so does the parent after. */
#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int team_size(void) {
  int n = 0, sum = 0;
  #pragma omp parallel reduction(+:sum)
  {
    #pragma omp single
    n = omp_get_num_threads();
    #pragma omp barrier
    sum += 1;
  }
  return n == sum ? n : -1;
}

int main(void) {
  CHECK_EQ_LONG(team_size(), 4);
  const pid_t child = fork();
  if (child == 0) {
    int ok = team_size() == 4 && team_size() == 4;
    _exit(ok ? 0 : 3);
  }
  CHECK(child > 0);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_EQ_LONG(team_size(), 4);
  CHECK_DONE();
}
