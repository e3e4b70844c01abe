// pipe.basic.*: what pipe() creates, the direction of its ends, ordering, and duplex use.
// Sources: pipe(2) DESCRIPTION, pipe(7), POSIX.1-2017 pipe().
#include "fx/fx.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace fx;

BEHAVIOUR("pipe.basic.first-end-reads-second-end-writes", "[posix]",
          "pipefd[0] is the read end and pipefd[1] the write end: bytes written to [1] are read from [0]",
          "pipe(2) DESCRIPTION; POSIX.1-2017 pipe() DESCRIPTION") {
  int fds[2] = {-1, -1};
  REQUIRE_THAT(sys(::pipe(fds)), Returns(0));
  Fd r(fds[0]), w(fds[1]);
  REQUIRE_THAT(sys(::write(w.get(), "ping", 4)), Returns(4));
  char buf[8] = {};
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(4));
  REQUIRE(std::string(buf, 4) == "ping");
}

BEHAVIOUR("pipe.basic.ends-open-read-only-and-write-only", "[linux-specific]",
          "on Linux the read end is open O_RDONLY and the write end O_WRONLY (POSIX leaves it "
          "unspecified whether either end is also open the other way)",
          "pipe(7) Portability notes; POSIX.1-2017 pipe() DESCRIPTION") {
  auto [r, w] = make_pipe();
  REQUIRE((get_fl(r.get()) & O_ACCMODE) == O_RDONLY);
  REQUIRE((get_fl(w.get()) & O_ACCMODE) == O_WRONLY);
}

BEHAVIOUR("pipe.basic.both-ends-are-fifos", "[posix]",
          "fstat on either end of a pipe reports a FIFO (S_ISFIFO)",
          "POSIX.1-2017 <sys/stat.h> S_ISFIFO; pipe(7) DESCRIPTION") {
  auto [r, w] = make_pipe();
  struct stat sr {}, sw {};
  REQUIRE_THAT(sys(::fstat(r.get(), &sr)), Returns(0));
  REQUIRE_THAT(sys(::fstat(w.get(), &sw)), Returns(0));
  REQUIRE(S_ISFIFO(sr.st_mode));
  REQUIRE(S_ISFIFO(sw.st_mode));
  // Both ends are the same object: one inode.
  REQUIRE(sr.st_ino == sw.st_ino);
  REQUIRE(sr.st_dev == sw.st_dev);
}

BEHAVIOUR("pipe.basic.new-ends-blocking-and-not-close-on-exec", "[posix]",
          "pipe() leaves O_NONBLOCK and FD_CLOEXEC clear on both new descriptors",
          "POSIX.1-2017 pipe() DESCRIPTION") {
  auto [r, w] = make_pipe();
  REQUIRE((get_fl(r.get()) & O_NONBLOCK) == 0);
  REQUIRE((get_fl(w.get()) & O_NONBLOCK) == 0);
  REQUIRE((get_fd_flags(r.get()) & FD_CLOEXEC) == 0);
  REQUIRE((get_fd_flags(w.get()) & FD_CLOEXEC) == 0);
}

BEHAVIOUR("pipe.basic.ends-stay-open-across-exec", "[posix]",
          "without close-on-exec both ends of a pipe stay open in a program started by execve",
          "POSIX.1-2017 pipe() DESCRIPTION (FD_CLOEXEC clear); execve(2) file descriptors") {
  auto [r, w] = make_pipe();
  auto rs = run_in_child([fd = r.get()] { exec_helper({"fd-is-open", std::to_string(fd)}); });
  auto ws = run_in_child([fd = w.get()] { exec_helper({"fd-is-open", std::to_string(fd)}); });
  // The helper exits 0 when the descriptor is open, 3 when it is not.
  REQUIRE_THAT(rs, ExitedWith(0));
  REQUIRE_THAT(ws, ExitedWith(0));
}

BEHAVIOUR("pipe.basic.read-from-write-end-fails-ebadf", "[linux-specific]",
          "read(2) on the write end of a pipe fails with EBADF (not open for reading)",
          "read(2) ERRORS EBADF; pipe(7) Portability notes (Linux pipes are not bidirectional)") {
  auto [r, w] = make_pipe();
  write_all(w.get(), "x", 1);  // data is queued: the error is about the end, not emptiness
  char b;
  REQUIRE_THAT(sys(::read(w.get(), &b, 1)), FailsWith(EBADF));
}

BEHAVIOUR("pipe.basic.write-to-read-end-fails-ebadf-without-sigpipe", "[linux-specific][signal]",
          "write(2) on the read end of a pipe fails with EBADF and raises no SIGPIPE",
          "write(2) ERRORS EBADF; pipe(7) Portability notes (Linux pipes are not bidirectional)") {
  auto [r, w] = make_pipe();
  // In a child with default SIGPIPE: a SIGPIPE would kill it instead of letting it report.
  auto c = call_in_child([rfd = r.get()] { return ::write(rfd, "x", 1); });
  REQUIRE_THAT(c.status, ExitedWith(0));
  REQUIRE_THAT(c.result, FailsWith(EBADF));
  REQUIRE(fionread(r.get()) == 0);
}

BEHAVIOUR("pipe.basic.data-arrives-in-write-order", "[posix]",
          "bytes from successive writes are read in the order they were written (first in, first out)",
          "pipe(7) DESCRIPTION; POSIX.1-2017 pipe() (FIFO data channel)") {
  auto [r, w] = make_pipe();
  for (char const* s : {"one,", "two,", "three,", "four"}) write_all(w.get(), s, std::strlen(s));
  w.reset();
  std::string got;
  char buf[3];
  for (;;) {
    // Small reads, so that order is checked across many read calls too.
    ssize_t n = ::read(r.get(), buf, sizeof buf);
    REQUIRE(n >= 0);
    if (n == 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  REQUIRE(got == "one,two,three,four");
}

BEHAVIOUR("pipe.basic.byte-stream-without-message-boundaries", "[linux-specific]",
          "a pipe is a byte stream: one read returns the bytes of several earlier writes together",
          "pipe(7) I/O on pipes and FIFOs (no concept of message boundaries)") {
  auto [r, w] = make_pipe();
  write_all(w.get(), "abc", 3);
  write_all(w.get(), "defg", 4);
  char buf[16];
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(7));
  REQUIRE(std::string(buf, 7) == "abcdefg");
}

BEHAVIOUR("pipe.basic.one-pipe-is-half-duplex", "[posix]",
          "a pipe carries data one way only: two processes that both write and read one pipe "
          "read their own data back",
          "pipe(7) DESCRIPTION (unidirectional channel); pipe(2) DESCRIPTION") {
  auto [r, w] = make_pipe();
  Checkpoints cp;
  struct Bytes { char b[8]; };
  Shared<Bytes> child_got;
  auto child = Child::fork([&, rfd = r.get(), wfd = w.get()]() -> int {
    if (::write(wfd, "child", 5) != 5) return 1;
    if (::read(rfd, child_got->b, 5) != 5) return 2;
    cp.wake(0);
    return 0;
  });
  // The child wrote and read back before the parent writes anything.
  REQUIRE(cp.wait(0));
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(std::string(child_got->b, 5) == "child");
  write_all(w.get(), "parent", 6);
  char buf[8];
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(6));
  REQUIRE(std::string(buf, 6) == "parent");
}

BEHAVIOUR("pipe.basic.two-pipes-make-a-duplex-channel", "[posix]",
          "two pipes, one per direction, give a working two-way channel between two processes",
          "pipe(7) DESCRIPTION and Portability notes; pipe(2) EXAMPLES") {
  auto to_child = make_pipe();
  auto to_parent = make_pipe();
  auto child = Child::fork([&]() -> int {
    to_child.w.reset();
    to_parent.r.reset();
    char buf[16];
    ssize_t n = ::read(to_child.r.get(), buf, sizeof buf);
    if (n != 4 || std::memcmp(buf, "ping", 4) != 0) return 1;
    return ::write(to_parent.w.get(), "pong", 4) == 4 ? 0 : 2;
  });
  to_child.r.reset();
  to_parent.w.reset();
  write_all(to_child.w.get(), "ping", 4);
  char buf[16];
  REQUIRE_THAT(sys(::read(to_parent.r.get(), buf, sizeof buf)), Returns(4));
  REQUIRE(std::string(buf, 4) == "pong");
  REQUIRE_THAT(child.wait(), ExitedWith(0));
}

BEHAVIOUR("pipe.basic.no-two-free-descriptors-fails-emfile", "[posix]",
          "pipe() fails with EMFILE when the process cannot open two more descriptors, and leaves "
          "pipefd unchanged",
          "pipe(2) ERRORS EMFILE and RETURN VALUE; POSIX.1-2017 pipe() ERRORS") {
  Shared<SysResult> res(SysResult{0, 0});
  struct Pair { int fd0, fd1; };
  Shared<Pair> fds_after;
  auto st = run_in_child([&]() -> int {
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 10;
    // Leave exactly one free descriptor below a small limit.
    rl.rlim_cur = 64;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return 11;
    int src = ::open("/dev/null", O_RDONLY);
    if (src < 0) return 14;
    int last = -1;
    for (;;) {
      int d = ::dup(src);
      if (d < 0) {
        if (errno != EMFILE) return 12;
        break;
      }
      last = d;
    }
    if (last < 0) return 13;
    ::close(last);
    int fds[2] = {-7, -7};
    *res = sys(::pipe(fds));
    *fds_after = Pair{fds[0], fds[1]};
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*res, FailsWith(EMFILE));
  REQUIRE(fds_after->fd0 == -7);
  REQUIRE(fds_after->fd1 == -7);
}
