// pipe.poll.*: readiness of pipe ends reported by poll(2).
// Sources: poll(2) DESCRIPTION; POSIX.1-2017 poll() (POLLIN, POLLOUT, POLLHUP).
#include "fx/fx.hpp"
#include "fx/pipe_extra.hpp"

#include <poll.h>
#include <cerrno>
#include <system_error>
#include <unistd.h>

using namespace fx;

namespace {
// One look, no waiting: the revents of fd for events.
short revents_now(int fd, short events) {
  pollfd p{fd, events, 0};
  int n = ::poll(&p, 1, 0);
  if (n < 0) throw std::system_error(errno, std::generic_category(), "poll");
  return p.revents;
}
}  // namespace

BEHAVIOUR("pipe.poll.pollin-when-data-queued", "[posix]",
          "poll reports POLLIN on the read end when data is queued",
          "poll(2) DESCRIPTION POLLIN; POSIX.1-2017 poll() POLLIN") {
  auto [r, w] = make_pipe();
  write_all(w.get(), "x", 1);
  pollfd p{r.get(), POLLIN, 0};
  REQUIRE_THAT(sys(::poll(&p, 1, 0)), Returns(1));
  REQUIRE((p.revents & POLLIN) != 0);
}

BEHAVIOUR("pipe.poll.no-pollin-when-empty-with-writer", "[posix]",
          "poll reports nothing on the read end of an empty pipe that has a writer",
          "poll(2) DESCRIPTION; POSIX.1-2017 poll() POLLIN") {
  auto [r, w] = make_pipe();
  pollfd p{r.get(), POLLIN, 0};
  REQUIRE_THAT(sys(::poll(&p, 1, 0)), Returns(0));
  REQUIRE(p.revents == 0);
}

BEHAVIOUR("pipe.poll.blocks-until-data-arrives", "[posix]",
          "poll with no timeout on an empty pipe's read end sleeps until a write makes it readable",
          "poll(2) DESCRIPTION (if none of the events requested has occurred, poll() blocks)") {
  auto [r, w] = make_pipe();
  struct Report {
    SysResult res;
    short revents;
  };
  Shared<Report> rep(Report{{0, 0}, 0});
  auto c = Child::fork([&, rfd = r.get()] {
    pollfd p{rfd, POLLIN, 0};
    rep->res = sys(::poll(&p, 1, -1));
    rep->revents = p.revents;
  });
  REQUIRE(wait_blocked(c.pid(), SYS_poll));
  write_all(w.get(), "x", 1);
  REQUIRE_THAT(c.wait(), ExitedWith(0));
  REQUIRE_THAT(rep->res, Returns(1));
  REQUIRE((rep->revents & POLLIN) != 0);
}

BEHAVIOUR("pipe.poll.pollhup-on-read-end-once-writers-gone", "[posix]",
          "poll reports POLLHUP on the read end once every write end is closed",
          "poll(2) DESCRIPTION POLLHUP; POSIX.1-2017 poll() POLLHUP (a pipe or FIFO has been closed "
          "by the last process that had it open for writing)") {
  auto [r, w] = make_pipe();
  REQUIRE((revents_now(r.get(), POLLIN) & POLLHUP) == 0);
  w.reset();
  short ev = revents_now(r.get(), POLLIN);
  REQUIRE((ev & POLLHUP) != 0);
  REQUIRE((ev & POLLIN) == 0);  // nothing to read: only the hang-up
}

BEHAVIOUR("pipe.poll.pollhup-with-pollin-while-data-remains", "[linux-specific]",
          "with the writers gone and data still queued, poll reports POLLIN together with POLLHUP; "
          "the data is still read before end-of-file",
          "poll(2) DESCRIPTION POLLHUP (subsequent reads return 0 only after all outstanding data) "
          "and EXAMPLES") {
  auto [r, w] = make_pipe();
  write_all(w.get(), "left", 4);
  w.reset();
  short ev = revents_now(r.get(), POLLIN);
  REQUIRE((ev & POLLIN) != 0);
  REQUIRE((ev & POLLHUP) != 0);
  char buf[8];
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(4));
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(0));
}

BEHAVIOUR("pipe.poll.pollout-when-room", "[posix]",
          "poll reports POLLOUT on the write end of a pipe with room",
          "poll(2) DESCRIPTION POLLOUT; POSIX.1-2017 poll() POLLOUT") {
  auto [r, w] = make_pipe();
  pollfd p{w.get(), POLLOUT, 0};
  REQUIRE_THAT(sys(::poll(&p, 1, 0)), Returns(1));
  REQUIRE((p.revents & POLLOUT) != 0);
}

BEHAVIOUR("pipe.poll.no-pollout-when-full", "[posix]",
          "poll reports no POLLOUT on the write end of a full pipe, and POLLOUT again once the "
          "reader drains it",
          "poll(2) DESCRIPTION POLLOUT (writing is now possible); POSIX.1-2017 poll() POLLOUT") {
  auto [r, w] = make_pipe();
  size_t queued = fill_pipe(w.get());
  pollfd p{w.get(), POLLOUT, 0};
  REQUIRE_THAT(sys(::poll(&p, 1, 0)), Returns(0));
  REQUIRE(p.revents == 0);
  (void)read_exactly(r.get(), queued);
  REQUIRE((revents_now(w.get(), POLLOUT) & POLLOUT) != 0);
}

BEHAVIOUR("pipe.poll.pollerr-on-write-end-once-readers-gone", "[linux-specific]",
          "poll reports POLLERR on the write end once every read end is closed",
          "poll(2) DESCRIPTION POLLERR (also set for the write end of a pipe when the read end has "
          "been closed)") {
  auto [r, w] = make_pipe();
  REQUIRE((revents_now(w.get(), POLLOUT) & POLLERR) == 0);
  r.reset();
  REQUIRE((revents_now(w.get(), POLLOUT) & POLLERR) != 0);
}
