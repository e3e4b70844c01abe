// pipe.limits.*: PIPE_BUF, the atomic-write limit of pipes.
// Sources: pipe(7) PIPE_BUF; fpathconf(3) _PC_PIPE_BUF; POSIX.1-2017 <limits.h>.
#include "fx/fx.hpp"

#include <limits.h>
#include <unistd.h>

using namespace fx;

BEHAVIOUR("pipe.limits.pipe-buf-at-least-512", "[posix]",
          "PIPE_BUF, and fpathconf(_PC_PIPE_BUF) on either end of a pipe, are at least 512 "
          "(_POSIX_PIPE_BUF)",
          "pipe(7) PIPE_BUF (POSIX.1 requires PIPE_BUF to be at least 512 bytes); POSIX.1-2017 "
          "<limits.h> {_POSIX_PIPE_BUF}") {
  STATIC_REQUIRE(PIPE_BUF >= 512);
  STATIC_REQUIRE(_POSIX_PIPE_BUF == 512);
  auto [r, w] = make_pipe();
  REQUIRE(::fpathconf(r.get(), _PC_PIPE_BUF) >= 512);
  REQUIRE(::fpathconf(w.get(), _PC_PIPE_BUF) >= 512);
}

BEHAVIOUR("pipe.limits.pipe-buf-is-4096", "[linux-specific]",
          "on Linux PIPE_BUF is 4096 bytes",
          "pipe(7) PIPE_BUF (On Linux, PIPE_BUF is 4096 bytes)") {
  STATIC_REQUIRE(PIPE_BUF == 4096);
}

BEHAVIOUR("pipe.limits.fpathconf-pipe-buf-equals-pipe-buf", "[linux-specific]",
          "fpathconf(_PC_PIPE_BUF) on either end of a pipe returns PIPE_BUF (4096)",
          "fpathconf(3) _PC_PIPE_BUF; pipe(7) PIPE_BUF") {
  auto [r, w] = make_pipe();
  REQUIRE(::fpathconf(r.get(), _PC_PIPE_BUF) == PIPE_BUF);
  REQUIRE(::fpathconf(w.get(), _PC_PIPE_BUF) == PIPE_BUF);
}
