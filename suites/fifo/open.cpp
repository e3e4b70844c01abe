// fifo.open.*: the rendezvous of opening a FIFO's two ends, blocking and non-blocking.
// Sources: fifo(7); open(2); POSIX.1-2017 open() DESCRIPTION (O_NONBLOCK on FIFOs) and ERRORS.
#include "fx/fifo_extra.hpp"
#include "fx/fx.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace fx;

namespace {
// What a child saw: its open's result, and how many bytes it then moved through the FIFO.
struct OpenReport {
  SysResult open{-2, 0};
  long io = -2;
};

// A forked child that opens path with flags (blocking unless flags say otherwise) and then
// reads one byte (reader) or writes one byte (writer), reporting both results.
Child opener(std::string const& path, int flags, Shared<OpenReport>& rep) {
  return Child::fork([&path, flags, &rep] {
    rep->open = sys(::open(path.c_str(), flags));
    if (rep->open.value < 0) return;
    char b = 'x';
    rep->io = (flags & O_ACCMODE) == O_RDONLY ? ::read(static_cast<int>(rep->open.value), &b, 1)
                                               : ::write(static_cast<int>(rep->open.value), &b, 1);
  });
}

// The handler of the interrupted-open tests runs in the child; it announces itself on a
// checkpoint (futex memory made before the fork: async-signal-safe, no pipe or FIFO).
// Only the child's copy of this pointer is ever used, so it needs no reset in the test.
Checkpoints* g_handled = nullptr;
void note_signal(int) {
  if (g_handled) g_handled->wake(0);
}
}  // namespace

BEHAVIOUR("fifo.open.rdonly-blocks-until-writer-opens", "[posix]",
          "a blocking open for reading sleeps until another process opens the FIFO for "
          "writing; then both opens succeed",
          "fifo(7) DESCRIPTION; POSIX.1-2017 open() DESCRIPTION (O_NONBLOCK clear)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  Shared<OpenReport> rd, wr;
  auto reader = opener(path, O_RDONLY, rd);
  THEN("the reader sleeps in openat while no writer exists") {
    REQUIRE(wait_blocked(reader.pid(), SYS_openat));
    REQUIRE(rd->open.value == -2);
    AND_THEN("a writer's open releases it, and a byte passes") {
      auto writer = opener(path, O_WRONLY, wr);
      REQUIRE_THAT(writer.wait(), ExitedWith(0));
      REQUIRE_THAT(reader.wait(), ExitedWith(0));
      REQUIRE_THAT(rd->open, Succeeds());
      REQUIRE_THAT(wr->open, Succeeds());
      REQUIRE(wr->io == 1);
      REQUIRE(rd->io == 1);
    }
  }
}

BEHAVIOUR("fifo.open.wronly-blocks-until-reader-opens", "[posix]",
          "a blocking open for writing sleeps until another process opens the FIFO for "
          "reading; then both opens succeed",
          "fifo(7) DESCRIPTION; POSIX.1-2017 open() DESCRIPTION (O_NONBLOCK clear)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  Shared<OpenReport> rd, wr;
  auto writer = opener(path, O_WRONLY, wr);
  THEN("the writer sleeps in openat while no reader exists") {
    REQUIRE(wait_blocked(writer.pid(), SYS_openat));
    REQUIRE(wr->open.value == -2);
    AND_THEN("a reader's open releases it, and a byte passes") {
      auto reader = opener(path, O_RDONLY, rd);
      REQUIRE_THAT(reader.wait(), ExitedWith(0));
      REQUIRE_THAT(writer.wait(), ExitedWith(0));
      REQUIRE_THAT(wr->open, Succeeds());
      REQUIRE_THAT(rd->open, Succeeds());
      REQUIRE(wr->io == 1);
      REQUIRE(rd->io == 1);
    }
  }
}

BEHAVIOUR("fifo.open.blocked-open-interrupted-by-handler-fails-eintr", "[posix][signal]",
          "a blocked FIFO open interrupted by a caught signal whose handler lacks SA_RESTART "
          "fails with EINTR",
          "open(2) ERRORS (EINTR: slow device, e.g. a FIFO); signal(7) Interruption of system "
          "calls; POSIX.1-2017 open() ERRORS") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  Checkpoints cp;
  g_handled = &cp;
  Shared<SysResult> res(SysResult{-2, 0});
  auto reader = Child::fork([&] {
    ScopedHandler h(SIGUSR1, note_signal, 0);
    *res = sys(::open(path.c_str(), O_RDONLY));
  });
  REQUIRE(wait_blocked(reader.pid(), SYS_openat));
  reader.signal(SIGUSR1);
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
  REQUIRE(cp.passed(0) == 1);
  REQUIRE_THAT(*res, FailsWith(EINTR));
}

BEHAVIOUR("fifo.open.blocked-open-restarts-after-sa-restart-handler", "[posix][signal]",
          "a blocked FIFO open interrupted by a caught signal whose handler has SA_RESTART "
          "resumes waiting and succeeds once the other end opens",
          "signal(7) Interruption of system calls (open(2) of a FIFO is restarted); "
          "POSIX.1-2017 sigaction() SA_RESTART") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  Checkpoints cp;
  g_handled = &cp;
  Shared<OpenReport> rd, wr;
  auto reader = Child::fork([&] {
    ScopedHandler h(SIGUSR1, note_signal, SA_RESTART);
    rd->open = sys(::open(path.c_str(), O_RDONLY));
    char b;
    if (rd->open.value >= 0) rd->io = ::read(static_cast<int>(rd->open.value), &b, 1);
  });
  REQUIRE(wait_blocked(reader.pid(), SYS_openat));
  reader.signal(SIGUSR1);
  THEN("the handler runs, the reader sleeps in openat again, and a writer releases it") {
    REQUIRE(cp.wait(0));
    REQUIRE(wait_blocked(reader.pid(), SYS_openat));
    REQUIRE(rd->open.value == -2);
    auto writer = opener(path, O_WRONLY, wr);
    REQUIRE_THAT(writer.wait(), ExitedWith(0));
    REQUIRE_THAT(reader.wait(), ExitedWith(0));
    REQUIRE_THAT(rd->open, Succeeds());
    REQUIRE(rd->io == 1);
  }
}

BEHAVIOUR("fifo.open.rdonly-nonblock-succeeds-without-writer", "[posix]",
          "open(O_RDONLY | O_NONBLOCK) of a FIFO that no process has open for writing "
          "returns at once with a descriptor",
          "fifo(7) DESCRIPTION; POSIX.1-2017 open() DESCRIPTION (O_NONBLOCK set)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  // In a child with a deadline: on a kernel that wrongly blocks, the test fails, not hangs.
  Shared<SysResult> res(SysResult{-2, 0});
  REQUIRE_THAT(run_in_child([&] { *res = sys(::open(path.c_str(), O_RDONLY | O_NONBLOCK)); }),
               ExitedWith(0));
  REQUIRE_THAT(*res, Succeeds());
}

BEHAVIOUR("fifo.open.wronly-nonblock-without-reader-fails-enxio", "[posix]",
          "open(O_WRONLY | O_NONBLOCK) of a FIFO that no process has open for reading fails "
          "with ENXIO",
          "fifo(7) DESCRIPTION; open(2) ERRORS (ENXIO); POSIX.1-2017 open() ERRORS") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  REQUIRE_THAT(sys(::open(path.c_str(), O_WRONLY | O_NONBLOCK)), FailsWith(ENXIO));
}

BEHAVIOUR("fifo.open.wronly-nonblock-with-reader-succeeds", "[posix]",
          "open(O_WRONLY | O_NONBLOCK) succeeds once a process has the FIFO open for reading",
          "fifo(7) DESCRIPTION; POSIX.1-2017 open() DESCRIPTION (O_NONBLOCK set)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  Shared<OpenReport> rd;
  // The reader is another process, which holds its end until released.
  Checkpoints cp;
  auto reader = Child::fork([&] {
    rd->open = sys(::open(path.c_str(), O_RDONLY | O_NONBLOCK));
    cp.wake(0);
    return cp.wait(1) ? 0 : 1;
  });
  REQUIRE(cp.wait(0));
  REQUIRE_THAT(rd->open, Succeeds());
  auto res = sys(::open(path.c_str(), O_WRONLY | O_NONBLOCK));
  Fd w(static_cast<int>(res.value));
  cp.wake(1);
  REQUIRE_THAT(res, Succeeds());
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
}

BEHAVIOUR("fifo.open.rdwr-does-not-block", "[linux-specific]",
          "on Linux, opening a FIFO with O_RDWR succeeds at once, blocking or not, with no "
          "other opener",
          "fifo(7) DESCRIPTION (POSIX leaves O_RDWR on a FIFO undefined)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  Shared<SysResult> blocking(SysResult{-2, 0}), nonblocking(SysResult{-2, 0});
  // In a child with a deadline: a kernel that blocks here fails the test instead of hanging it.
  REQUIRE_THAT(run_in_child([&] {
                 *nonblocking = sys(::open(path.c_str(), O_RDWR | O_NONBLOCK));
                 *blocking = sys(::open(path.c_str(), O_RDWR));
               }),
               ExitedWith(0));
  REQUIRE_THAT(*nonblocking, Succeeds());
  REQUIRE_THAT(*blocking, Succeeds());
}

BEHAVIOUR("fifo.open.rdwr-end-counts-as-reader-and-writer", "[linux-specific]",
          "an O_RDWR descriptor is a reader for a later O_WRONLY | O_NONBLOCK open and a "
          "writer for a later O_RDONLY read, and its own writes can be read back",
          "fifo(7) DESCRIPTION (O_RDWR can be used to open for writing while there are no readers)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  Fd rw = open_fd(path, O_RDWR | O_NONBLOCK);
  WHEN("only the O_RDWR descriptor is open") {
    THEN("O_WRONLY | O_NONBLOCK finds a reader, and an empty read sees a writer") {
      auto wres = sys(::open(path.c_str(), O_WRONLY | O_NONBLOCK));
      Fd w(static_cast<int>(wres.value));
      REQUIRE_THAT(wres, Succeeds());
      w.reset();
      Fd r = open_fd(path, O_RDONLY | O_NONBLOCK);
      char b[4];
      // EAGAIN, not 0: a writer (the O_RDWR end) exists.
      REQUIRE_THAT(sys(::read(r.get(), b, sizeof b)), FailsWith(EAGAIN));
      REQUIRE_THAT(sys(::write(rw.get(), "hey", 3)), Returns(3));
      REQUIRE_THAT(sys(::read(rw.get(), b, sizeof b)), Returns(3));
      REQUIRE(std::memcmp(b, "hey", 3) == 0);
    }
  }
}

BEHAVIOUR("fifo.open.o-trunc-is-ignored", "[posix]",
          "O_TRUNC on an open for writing of a FIFO is no error and leaves queued data in place",
          "open(2) O_TRUNC (ignored for a FIFO); POSIX.1-2017 open() O_TRUNC (no effect on FIFO "
          "special files)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  write_all(w.get(), "abc", 3);
  WHEN("the FIFO is opened again with O_WRONLY | O_NONBLOCK | O_TRUNC") {
    auto t = sys(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_TRUNC));
    Fd tfd(static_cast<int>(t.value));
    THEN("the open succeeds and the 3 bytes are still there") {
      REQUIRE_THAT(t, Succeeds());
      int n = -1;
      REQUIRE(::ioctl(r.get(), FIONREAD, &n) == 0);
      REQUIRE(n == 3);
      char b[8];
      REQUIRE_THAT(sys(::read(r.get(), b, sizeof b)), Returns(3));
      REQUIRE(std::memcmp(b, "abc", 3) == 0);
    }
  }
}
