// pipe.capacity.*: the capacity of a pipe and changing it with fcntl F_GETPIPE_SZ /
// F_SETPIPE_SZ (Linux-only operations).
// Sources: pipe(7) Pipe capacity and /proc files; fcntl(2) Changing the capacity of a pipe.
//
// An unprivileged user whose pipes already use /proc/sys/fs/pipe-user-pages-soft pages gets
// one-page pipes and may not grow any (pipe(7) /proc files): tests whose precondition that
// breaks are skipped with that reason instead of failing.
#include "fx/fx.hpp"
#include "fx/pipe_extra.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

using namespace fx;

namespace {

long page() { return ::sysconf(_SC_PAGESIZE); }
long pipe_max_size() { return read_long("/proc/sys/fs/pipe-max-size"); }

// Fails the precondition of a capacity test when the user's pipe pages are limited.
void skip_if_user_limited(int fd) {
  long cap = pipe_capacity(fd);
  if (cap == page() && !has_effective_cap(CAP_SYS_RESOURCE) && !has_effective_cap(CAP_SYS_ADMIN))
    skip("new pipes get one page: this user is at /proc/sys/fs/pipe-user-pages-soft (pipe(7))");
}

// Grows fd to `bytes`, or skips when the per-user soft/hard limits refuse it (EPERM).
long grow_or_skip(int fd, long bytes) {
  long r = ::fcntl(fd, F_SETPIPE_SZ, bytes);
  if (r < 0 && errno == EPERM && bytes <= pipe_max_size())
    skip("F_SETPIPE_SZ(" + std::to_string(bytes) + ") refused by the per-user pipe page limits (pipe(7))");
  if (r < 0) throw std::system_error(errno, std::generic_category(), "F_SETPIPE_SZ");
  return r;
}

}  // namespace

BEHAVIOUR("pipe.capacity.default-is-16-pages", "[linux-specific]",
          "a new pipe has a capacity of 16 pages (65536 bytes with 4 KiB pages), as F_GETPIPE_SZ reports",
          "pipe(7) Pipe capacity (since Linux 2.6.35 the default pipe capacity is 16 pages); "
          "fcntl(2) F_GETPIPE_SZ") {
  if (pipe_max_size() < 16 * page())
    skip("/proc/sys/fs/pipe-max-size is below 16 pages and caps the default capacity (pipe(7))");
  auto [r, w] = make_pipe();
  skip_if_user_limited(r.get());
  REQUIRE_THAT(sys(::fcntl(r.get(), F_GETPIPE_SZ)), Returns(16 * page()));
  REQUIRE_THAT(sys(::fcntl(w.get(), F_GETPIPE_SZ)), Returns(16 * page()));
}

BEHAVIOUR("pipe.capacity.nonblocking-fill-until-eagain-writes-capacity", "[linux-specific]",
          "filling a pipe with page-sized non-blocking writes until EAGAIN queues exactly its "
          "F_GETPIPE_SZ capacity",
          "pipe(7) Pipe capacity; fcntl(2) F_GETPIPE_SZ") {
  auto [r, w] = make_pipe();
  long cap = pipe_capacity(w.get());
  REQUIRE(static_cast<long>(fill_pipe(w.get())) == cap);
  REQUIRE(fionread(r.get()) == cap);
}

BEHAVIOUR("pipe.capacity.setpipe-sz-rounds-up-to-power-of-two-pages", "[linux-specific]",
          "F_SETPIPE_SZ sets the next power-of-two number of pages at or above the request and "
          "returns it; F_GETPIPE_SZ then reports it",
          "fcntl(2) Changing the capacity of a pipe (the allocation is the next higher "
          "power-of-two page-size multiple of the requested size)") {
  auto [r, w] = make_pipe();
  // Shrinking is always allowed (pipe(7) BUGS, since Linux 4.9): 3 pages + 1 byte -> 4 pages.
  REQUIRE_THAT(sys(::fcntl(w.get(), F_SETPIPE_SZ, 3 * page() + 1)), Returns(4 * page()));
  REQUIRE_THAT(sys(::fcntl(r.get(), F_GETPIPE_SZ)), Returns(4 * page()));
  // 5 pages -> 8 pages: a growth, subject to the per-user limits.
  REQUIRE(grow_or_skip(w.get(), 5 * page()) == 8 * page());
  REQUIRE_THAT(sys(::fcntl(r.get(), F_GETPIPE_SZ)), Returns(8 * page()));
}

BEHAVIOUR("pipe.capacity.setpipe-sz-below-a-page-rounds-up-to-a-page", "[linux-specific]",
          "F_SETPIPE_SZ with a size below the page size silently sets one page",
          "fcntl(2) Changing the capacity of a pipe (below the page size are silently rounded up)") {
  auto [r, w] = make_pipe();
  REQUIRE_THAT(sys(::fcntl(w.get(), F_SETPIPE_SZ, 1)), Returns(page()));
  REQUIRE_THAT(sys(::fcntl(w.get(), F_GETPIPE_SZ)), Returns(page()));
}

BEHAVIOUR("pipe.capacity.resized-pipe-holds-new-capacity", "[linux-specific]",
          "after F_SETPIPE_SZ, page-sized non-blocking writes fill the pipe to exactly the new capacity",
          "fcntl(2) Changing the capacity of a pipe; pipe(7) Pipe capacity") {
  auto [r, w] = make_pipe();
  // From the default 16 pages this shrinks; from a 1-page pipe (user limits) it grows.
  REQUIRE(grow_or_skip(w.get(), 2 * page()) == 2 * page());
  REQUIRE(static_cast<long>(fill_pipe(w.get())) == 2 * page());
}

BEHAVIOUR("pipe.capacity.shrink-below-queued-data-fails-ebusy", "[linux-specific]",
          "F_SETPIPE_SZ smaller than the data queued in the pipe fails with EBUSY and changes nothing",
          "fcntl(2) ERRORS EBUSY; fcntl(2) Changing the capacity of a pipe") {
  auto [r, w] = make_pipe();
  skip_if_user_limited(w.get());
  long cap = pipe_capacity(w.get());
  std::string data(3 * page(), 'q');
  write_all(w.get(), data.data(), data.size());
  REQUIRE_THAT(sys(::fcntl(w.get(), F_SETPIPE_SZ, page())), FailsWith(EBUSY));
  REQUIRE_THAT(sys(::fcntl(w.get(), F_GETPIPE_SZ)), Returns(cap));
  REQUIRE(read_exactly(r.get(), data.size()) == data);
}

BEHAVIOUR("pipe.capacity.unprivileged-above-pipe-max-size-fails-eperm", "[linux-specific][unprivileged]",
          "an unprivileged process gets EPERM from F_SETPIPE_SZ above /proc/sys/fs/pipe-max-size, "
          "while pipe-max-size itself is allowed",
          "fcntl(2) Changing the capacity of a pipe (unprivileged ... above the limit ... EPERM); "
          "pipe(7) /proc files (pipe-max-size)") {
  long max = pipe_max_size();
  struct Report {
    long at_max;
    int at_max_err;
    SysResult above;
    bool privileged;
  };
  Shared<Report> rep(Report{0, 0, {0, 0}, false});
  auto st = run_unprivileged([&]() -> int {
    rep->privileged = has_effective_cap(CAP_SYS_RESOURCE) || has_effective_cap(CAP_SYS_ADMIN);
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    // Reaching pipe-max-size itself succeeds: a later EPERM is about that limit, not about
    // the per-user page limits.
    rep->at_max = ::fcntl(fds[1], F_SETPIPE_SZ, max);
    rep->at_max_err = rep->at_max < 0 ? errno : 0;
    rep->above = sys(::fcntl(fds[1], F_SETPIPE_SZ, max + 1));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  if (rep->privileged) skip("the unprivileged caller still has CAP_SYS_RESOURCE or CAP_SYS_ADMIN");
  if (rep->at_max < 0)
    skip("F_SETPIPE_SZ(pipe-max-size) refused (" + errno_name(rep->at_max_err) +
         "): per-user pipe page limits reached (pipe(7))");
  REQUIRE(rep->at_max >= max);
  REQUIRE_THAT(rep->above, FailsWith(EPERM));
}

BEHAVIOUR("pipe.capacity.cap-sys-resource-may-exceed-pipe-max-size", "[linux-specific][root]",
          "a process with CAP_SYS_RESOURCE may set a capacity above /proc/sys/fs/pipe-max-size",
          "fcntl(2) Changing the capacity of a pipe (a privileged process (CAP_SYS_RESOURCE) can "
          "override the limit); pipe(7) /proc files") {
  require_root();
  if (!has_effective_cap(CAP_SYS_RESOURCE)) skip("root here lacks CAP_SYS_RESOURCE");
  long max = pipe_max_size();
  if (max > (1L << 29)) skip("pipe-max-size is too large to double safely here");
  auto [r, w] = make_pipe();
  auto res = sys(::fcntl(w.get(), F_SETPIPE_SZ, 2 * max));
  REQUIRE(res.value >= 2 * max);
  REQUIRE_THAT(sys(::fcntl(w.get(), F_GETPIPE_SZ)), Returns(res.value));
}
