// fifo.poll.*: readiness of a FIFO's read end, as for a pipe.
// Sources: poll(2) DESCRIPTION and EXAMPLES (a FIFO); POSIX.1-2017 poll() DESCRIPTION.
#include "fx/fifo_extra.hpp"
#include "fx/fx.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

using namespace fx;

namespace {
// One poll of fd for POLLIN with a zero timeout: readiness now, never a wait.
pollfd poll_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) < 0) throw std::system_error(errno, std::generic_category(), "poll");
  return p;
}
}  // namespace

BEHAVIOUR("fifo.poll.pollin-when-data-queued", "[posix]",
          "poll reports POLLIN on a FIFO's read end exactly when bytes are queued (a writer "
          "being open)",
          "poll(2) DESCRIPTION (POLLIN); POSIX.1-2017 poll() DESCRIPTION") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  pollfd p{r.get(), POLLIN, 0};
  REQUIRE_THAT(sys(::poll(&p, 1, 0)), Returns(0));
  REQUIRE(p.revents == 0);
  write_all(w.get(), "x", 1);
  REQUIRE_THAT(sys(::poll(&p, 1, 0)), Returns(1));
  REQUIRE(p.revents == POLLIN);
  char b;
  REQUIRE(::read(r.get(), &b, 1) == 1);
  REQUIRE(poll_now(r.get()).revents == 0);
}

BEHAVIOUR("fifo.poll.pollhup-after-last-writer-closes", "[posix]",
          "once the last writer of a FIFO closes, poll reports POLLHUP on the read end (with "
          "POLLIN while data remains, POLLHUP alone once drained)",
          "poll(2) POLLHUP and EXAMPLES; POSIX.1-2017 poll() DESCRIPTION (POLLHUP: a FIFO closed "
          "by the last process that had it open for writing)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  write_all(w.get(), "ab", 2);
  REQUIRE((poll_now(r.get()).revents & POLLHUP) == 0);
  w.reset();
  pollfd p{r.get(), POLLIN, 0};
  REQUIRE_THAT(sys(::poll(&p, 1, 0)), Returns(1));
  REQUIRE(p.revents == (POLLIN | POLLHUP));
  char b[4];
  REQUIRE(::read(r.get(), b, sizeof b) == 2);
  REQUIRE_THAT(sys(::poll(&p, 1, 0)), Returns(1));
  REQUIRE(p.revents == POLLHUP);
}
