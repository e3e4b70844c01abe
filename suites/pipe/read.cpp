// pipe.read.*: reading from a pipe. Source: pipe(7) "I/O on pipes and FIFOs"; POSIX read().
#include "fx/fx.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <cstring>
#include <string>
#include <vector>

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

BEHAVIOUR("pipe.read.returns-available-without-waiting-for-more", "[posix]",
          "a read asking for more than is queued returns the bytes available at once, without "
          "waiting for the rest",
          "POSIX.1-2017 read() RETURN VALUE (fewer than nbyte bytes immediately available); "
          "pipe(7) I/O on pipes and FIFOs") {
  auto [r, w] = make_pipe();
  write_all(w.get(), "abc", 3);
  Shared<long> got(-2);
  Shared<char> first(0);
  // In a child: a kernel that waited for the full request would leave it blocked, and the
  // deadline of wait() turns that into a failure instead of a hung test. The write end stays
  // open in both processes, so nothing but the queued bytes can end the read.
  auto reader = Child::fork([&, rfd = r.get()] {
    std::vector<char> buf(1 << 20);
    *got = ::read(rfd, buf.data(), buf.size());
    *first = buf[0];
  });
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
  REQUIRE(*got == 3);
  REQUIRE(*first == 'a');
}

BEHAVIOUR("pipe.read.zero-length-read-returns-zero-without-blocking", "[posix]",
          "a read of 0 bytes on an empty pipe with a writer returns 0 at once",
          "POSIX.1-2017 read() DESCRIPTION (nbyte zero); read(2) DESCRIPTION") {
  auto [r, w] = make_pipe();
  Shared<long> got(-2);
  auto reader = Child::fork([&, rfd = r.get()] {
    char b;
    *got = ::read(rfd, &b, 0);
  });
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
  REQUIRE(*got == 0);
}

BEHAVIOUR("pipe.read.blocked-read-released-by-last-close-returns-zero", "[posix]",
          "a read blocked on an empty pipe returns 0 when the last write end is closed",
          "pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 read() (no process has the pipe open for writing)") {
  auto [r, w] = make_pipe();
  Shared<long> got(-2);
  auto reader = Child::fork([&, rfd = r.get()] {
    w.reset();  // the child's copy of the write end must not keep the pipe open
    char b;
    *got = ::read(rfd, &b, 1);
  });
  REQUIRE(wait_blocked(reader.pid(), SYS_read));
  w.reset();
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
  REQUIRE(*got == 0);
}

BEHAVIOUR("pipe.read.dup-of-write-end-prevents-eof", "[posix]",
          "end-of-file needs every descriptor for the write end closed: an open dup() keeps read "
          "from returning 0",
          "pipe(7) I/O on pipes and FIFOs (all file descriptors referring to the write end)") {
  auto [r, w] = make_pipe();
  Fd w2 = dup_fd(w.get());
  w.reset();
  set_nonblock(r.get());
  char b;
  // With a writer left, an empty non-blocking pipe says "try again", not end-of-file.
  REQUIRE_THAT(sys(::read(r.get(), &b, 1)), FailsWith(EAGAIN));
  w2.reset();
  REQUIRE_THAT(sys(::read(r.get(), &b, 1)), Returns(0));
}

BEHAVIOUR("pipe.read.write-end-open-in-child-prevents-eof", "[posix]",
          "a write end inherited by a forked child keeps readers blocked after the parent closes "
          "its copy; end-of-file comes when the child exits",
          "pipe(7) I/O on pipes and FIFOs (close unnecessary duplicate file descriptors)") {
  auto [r, w] = make_pipe();
  Checkpoints cp;
  auto holder = Child::fork([&] {
    r.reset();
    // Holds its inherited write end until told to go.
    (void)cp.wait(0, deadline(2 * kWait));
  });
  Shared<long> got(-2);
  auto reader = Child::fork([&, rfd = r.get()] {
    w.reset();
    char b;
    *got = ::read(rfd, &b, 1);
  });
  w.reset();
  // Only the holder has a write end now, and the reader still sleeps in read.
  REQUIRE(wait_blocked(reader.pid(), SYS_read));
  REQUIRE_FALSE(reader.exited_yet());
  cp.wake(0);
  REQUIRE_THAT(holder.wait(), ExitedWith(0));
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
  REQUIRE(*got == 0);
}

namespace {
// Where a child's handler counts its runs: memory shared with the parent.
int* g_read_handler_ran = nullptr;
void note_signal(int) {
  if (g_read_handler_ran) std::atomic_ref<int>(*g_read_handler_ran).fetch_add(1);
}
int load(Shared<int> const& v) { return std::atomic_ref<int>(*v).load(); }
}  // namespace

BEHAVIOUR("pipe.read.interrupted-empty-read-fails-eintr", "[posix][signal]",
          "a read blocked on an empty pipe and interrupted by a handler installed without "
          "SA_RESTART fails with EINTR",
          "signal(7) Interruption of system calls and library functions by signal handlers; "
          "read(2) ERRORS EINTR; POSIX.1-2017 read() ERRORS [EINTR]") {
  auto [r, w] = make_pipe();
  Shared<SysResult> res(SysResult{0, 0});
  Shared<int> ran(0);
  auto reader = Child::fork([&, rfd = r.get()] {
    reset_signals();
    g_read_handler_ran = ran.get();
    ScopedHandler h(SIGUSR1, note_signal, 0);
    char b;
    *res = sys(::read(rfd, &b, 1));
  });
  REQUIRE(wait_blocked(reader.pid(), SYS_read));
  reader.signal(SIGUSR1);
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
  REQUIRE(load(ran) == 1);
  REQUIRE_THAT(*res, FailsWith(EINTR));
}

BEHAVIOUR("pipe.read.interrupted-empty-read-restarts-with-sa-restart", "[posix][signal]",
          "a read blocked on an empty pipe and interrupted by a handler installed with SA_RESTART "
          "is restarted and later returns the data",
          "signal(7) Interruption of system calls and library functions by signal handlers; "
          "POSIX.1-2017 sigaction() SA_RESTART") {
  auto [r, w] = make_pipe();
  Shared<SysResult> res(SysResult{0, 0});
  Shared<int> ran(0);
  Shared<char> byte(0);
  auto reader = Child::fork([&, rfd = r.get()] {
    reset_signals();
    g_read_handler_ran = ran.get();
    ScopedHandler h(SIGUSR1, note_signal, SA_RESTART);
    *res = sys(::read(rfd, byte.get(), 1));
  });
  REQUIRE(wait_blocked(reader.pid(), SYS_read));
  reader.signal(SIGUSR1);
  // The handler has run, and the child is back asleep in read: the call was restarted.
  REQUIRE(wait_until([&] { return load(ran) != 0; }));
  REQUIRE(load(ran) == 1);
  REQUIRE(wait_blocked(reader.pid(), SYS_read));
  write_all(w.get(), "R", 1);
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
  REQUIRE_THAT(*res, Returns(1));
  REQUIRE(*byte == 'R');
}
