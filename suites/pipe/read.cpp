// pipe.read.*: reading from a pipe. Source: pipe(7) "I/O on pipes and FIFOs"; POSIX read().
#include "fx/fx.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace fx;

BEHAVIOUR("pipe.read.eof-after-last-writer-closes", "[posix]",
          "once every write end is closed and the pipe is drained, read returns 0",
          "pipe(7) I/O on pipes and FIFOs; POSIX read()") {
  GIVEN("a pipe holding 3 bytes") {
    auto [r, w] = make_pipe();
    write_all(w.get(), "abc", 3);
    WHEN("the only write end is closed") {
      w.reset();
      THEN("the queued bytes are read first, then read returns 0") {
        char buf[8];
        REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(3));
        REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(0));
      }
    }
  }
}

BEHAVIOUR("pipe.read.empty-blocks-while-writer-exists", "[posix]",
          "a read on an empty pipe blocks while a write end is open, until data arrives",
          "pipe(7) I/O on pipes and FIFOs") {
  auto [r, w] = make_pipe();
  Shared<long> got(-2);
  auto reader = Child::fork([&, rfd = r.get()] {
    char b;
    *got = ::read(rfd, &b, 1);
  });
  THEN("the reader sleeps in read, and a write releases it with the byte") {
    REQUIRE(wait_blocked(reader.pid(), SYS_read));
    write_all(w.get(), "z", 1);
    REQUIRE_THAT(reader.wait(), ExitedWith(0));
    REQUIRE(*got == 1);
  }
}
