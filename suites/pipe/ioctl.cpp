// pipe.ioctl.*: FIONREAD on pipes. Source: pipe(7) Pipe capacity (FIONREAD is not in any
// standard, hence linux-specific).
#include "fx/fx.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

using namespace fx;

BEHAVIOUR("pipe.ioctl.fionread-on-read-end-counts-unread-bytes", "[linux-specific]",
          "ioctl FIONREAD on the read end gives the number of unread bytes in the pipe",
          "pipe(7) Pipe capacity (ioctl(fd, FIONREAD, &nbytes))") {
  auto [r, w] = make_pipe();
  int n = -1;
  REQUIRE_THAT(sys(::ioctl(r.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 0);
  write_all(w.get(), "hello", 5);
  write_all(w.get(), "world!", 6);
  REQUIRE_THAT(sys(::ioctl(r.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 11);
  char buf[4];
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(4));
  REQUIRE_THAT(sys(::ioctl(r.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 7);
}

BEHAVIOUR("pipe.ioctl.fionread-on-write-end-counts-unread-bytes", "[linux-specific]",
          "ioctl FIONREAD also works on the write end and gives the same count of unread bytes",
          "pipe(7) Pipe capacity (applied to a file descriptor that refers to either end of a pipe)") {
  auto [r, w] = make_pipe();
  write_all(w.get(), "abcdefg", 7);
  int n = -1;
  REQUIRE_THAT(sys(::ioctl(w.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 7);
}
