// pipe.seek.*: pipes have no file offset: seeking and positioned I/O fail with ESPIPE.
// Sources: pipe(7) I/O on pipes and FIFOs; lseek(2), pread(2) ERRORS; POSIX.1-2017 lseek(), pread(), pwrite().
#include "fx/fx.hpp"

#include <unistd.h>

using namespace fx;

BEHAVIOUR("pipe.seek.lseek-fails-espipe", "[posix]",
          "lseek on either end of a pipe fails with ESPIPE",
          "pipe(7) I/O on pipes and FIFOs (not possible to apply lseek); lseek(2) ERRORS ESPIPE; "
          "POSIX.1-2017 lseek() ERRORS [ESPIPE]") {
  auto [r, w] = make_pipe();
  write_all(w.get(), "abc", 3);
  REQUIRE_THAT(sys(::lseek(r.get(), 0, SEEK_CUR)), FailsWith(ESPIPE));
  REQUIRE_THAT(sys(::lseek(r.get(), 1, SEEK_SET)), FailsWith(ESPIPE));
  REQUIRE_THAT(sys(::lseek(w.get(), 0, SEEK_END)), FailsWith(ESPIPE));
  REQUIRE(fionread(r.get()) == 3);
}

BEHAVIOUR("pipe.seek.pread-fails-espipe", "[posix]",
          "pread on the read end of a pipe fails with ESPIPE and consumes nothing",
          "pread(2) ERRORS (any error of lseek(2): ESPIPE); POSIX.1-2017 pread() ERRORS [ESPIPE]") {
  auto [r, w] = make_pipe();
  write_all(w.get(), "abc", 3);
  char buf[4];
  REQUIRE_THAT(sys(::pread(r.get(), buf, sizeof buf, 0)), FailsWith(ESPIPE));
  REQUIRE(fionread(r.get()) == 3);
}

BEHAVIOUR("pipe.seek.pwrite-fails-espipe", "[posix]",
          "pwrite on the write end of a pipe fails with ESPIPE and writes nothing",
          "pread(2) ERRORS (pwrite: any error of lseek(2): ESPIPE); POSIX.1-2017 pwrite() ERRORS [ESPIPE]") {
  auto [r, w] = make_pipe();
  REQUIRE_THAT(sys(::pwrite(w.get(), "abc", 3, 0)), FailsWith(ESPIPE));
  REQUIRE(fionread(r.get()) == 0);
}
