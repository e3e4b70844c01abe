// fifo.io.*: I/O on an open FIFO, which pipe(7) says has exactly the semantics of a pipe,
// and the operations that a FIFO refuses. Sources: pipe(7) "I/O on pipes and FIFOs";
// fifo(7); POSIX.1-2017 read(), write(), lseek(); fcntl(2) for the Linux-only operations.
#include "fx/fifo_extra.hpp"
#include "fx/fx.hpp"
#include "fx/spawn.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace fx;

BEHAVIOUR("fifo.io.unrelated-processes-exchange-data-by-path", "[posix]",
          "two unrelated programs that only share the FIFO's path pass data through it",
          "fifo(7) DESCRIPTION; pipe(7) DESCRIPTION (any process may open a FIFO)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  // Exec'd programs, not forks of the test: they inherit no descriptor of the FIFO.
  auto reader = Program::helper({"read-fifo", path});
  REQUIRE(wait_blocked(reader.pid(), SYS_openat));
  auto writer = Program::helper({"write-fifo", path, "through the name"});
  auto w = writer.wait();
  auto r = reader.wait();
  REQUIRE_THAT(w.status, ExitedWith(0));
  REQUIRE_THAT(r.status, ExitedWith(0));
  REQUIRE(r.out == "through the name");
}

BEHAVIOUR("fifo.io.read-without-writer-returns-zero", "[posix]",
          "a read from a FIFO opened O_RDONLY | O_NONBLOCK that no process has open for "
          "writing returns 0 (end of file)",
          "POSIX.1-2017 read() DESCRIPTION (empty pipe or FIFO, no writer); pipe(7) I/O on pipes and FIFOs") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  Fd r = open_fd(path, O_RDONLY | O_NONBLOCK);
  char b[4];
  REQUIRE_THAT(sys(::read(r.get(), b, sizeof b)), Returns(0));
}

BEHAVIOUR("fifo.io.nonblock-read-empty-with-writer-fails-eagain", "[posix]",
          "a non-blocking read from an empty FIFO that a process has open for writing fails "
          "with EAGAIN",
          "POSIX.1-2017 read() DESCRIPTION (empty pipe or FIFO, O_NONBLOCK set); read(2) ERRORS") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  char b[4];
  REQUIRE_THAT(sys(::read(r.get(), b, sizeof b)), FailsWith(EAGAIN));
}

BEHAVIOUR("fifo.io.read-returns-zero-after-last-writer-closes-and-drained", "[posix]",
          "after the last writer closes, queued bytes are still read, then read returns 0",
          "pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 read() DESCRIPTION") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  write_all(w.get(), "abc", 3);
  w.reset();
  char b[8];
  REQUIRE_THAT(sys(::read(r.get(), b, sizeof b)), Returns(3));
  REQUIRE(std::memcmp(b, "abc", 3) == 0);
  REQUIRE_THAT(sys(::read(r.get(), b, sizeof b)), Returns(0));
}

BEHAVIOUR("fifo.io.write-without-reader-raises-sigpipe", "[posix][signal]",
          "a write to a FIFO that no process has open for reading sends SIGPIPE, whose default "
          "action kills the writer",
          "fifo(7) NOTES; pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 write() ERRORS (EPIPE)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  set_nonblock(w.get(), false);
  r.reset();  // no process has the FIFO open for reading any more
  auto c = call_in_child([fd = w.get()] { return ::write(fd, "x", 1); });
  REQUIRE_THAT(c.status, KilledBy(SIGPIPE));
}

BEHAVIOUR("fifo.io.write-without-reader-sigpipe-ignored-fails-epipe", "[posix][signal]",
          "with SIGPIPE ignored, a write to a FIFO that no process has open for reading fails "
          "with EPIPE",
          "pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 write() ERRORS (EPIPE)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  set_nonblock(w.get(), false);
  r.reset();
  ScopedHandler ignore(SIGPIPE, SIG_IGN);
  REQUIRE_THAT(sys(::write(w.get(), "x", 1)), FailsWith(EPIPE));
}

BEHAVIOUR("fifo.io.lseek-fails-espipe", "[posix]",
          "lseek on either end of a FIFO fails with ESPIPE",
          "lseek(2) ERRORS; pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 lseek() ERRORS") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  write_all(w.get(), "abc", 3);
  REQUIRE_THAT(sys(::lseek(r.get(), 0, SEEK_SET)), FailsWith(ESPIPE));
  REQUIRE_THAT(sys(::lseek(r.get(), 0, SEEK_CUR)), FailsWith(ESPIPE));
  REQUIRE_THAT(sys(::lseek(w.get(), 0, SEEK_END)), FailsWith(ESPIPE));
}

BEHAVIOUR("fifo.io.ftruncate-fails-einval", "[linux-specific]",
          "ftruncate on a FIFO's write end fails with EINVAL and leaves queued data alone",
          "ftruncate(2) ERRORS (EINVAL: not a regular file or POSIX shared memory object); "
          "POSIX.1-2017 ftruncate() leaves other file types unspecified") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  write_all(w.get(), "abc", 3);
  REQUIRE_THAT(sys(::ftruncate(w.get(), 0)), FailsWith(EINVAL));
  REQUIRE(fionread(r.get()) == 3);
}

BEHAVIOUR("fifo.io.fionread-reports-queued-bytes", "[linux-specific]",
          "ioctl(FIONREAD) on either end of a FIFO reports the number of unread bytes",
          "pipe(7) Pipe capacity (FIONREAD, in no standard)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  int n = -1;
  REQUIRE_THAT(sys(::ioctl(r.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 0);
  write_all(w.get(), "hello", 5);
  REQUIRE_THAT(sys(::ioctl(r.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 5);
  REQUIRE_THAT(sys(::ioctl(w.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 5);
  char b[2];
  REQUIRE_THAT(sys(::read(r.get(), b, 2)), Returns(2));
  REQUIRE_THAT(sys(::ioctl(r.get(), FIONREAD, &n)), Returns(0));
  REQUIRE(n == 3);
}

BEHAVIOUR("fifo.io.writes-of-pipe-buf-bytes-are-atomic", "[posix]",
          "fpathconf(_PC_PIPE_BUF) on a FIFO is at least 512, and writes of that many bytes "
          "by concurrent writers are never interleaved",
          "pipe(7) PIPE_BUF; fpathconf(3) _PC_PIPE_BUF; POSIX.1-2017 write() DESCRIPTION (pipe "
          "or FIFO, PIPE_BUF)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  // The test keeps a write end too, so an empty FIFO reads EAGAIN (never EOF) until the
  // writers have opened.
  auto [r, w] = open_fifo_ends(path);
  long pipe_buf = ::fpathconf(r.get(), _PC_PIPE_BUF);
  REQUIRE(pipe_buf >= _POSIX_PIPE_BUF);
  REQUIRE(::pathconf(path.c_str(), _PC_PIPE_BUF) == pipe_buf);

  // Far more than the FIFO holds, so that both writers block and wake many times.
  constexpr int kChunks = 64;
  size_t const total = 2 * kChunks * static_cast<size_t>(pipe_buf);
  auto writer = [&](char fill) {
    return Child::fork([&path, fill, pipe_buf]() -> int {
      int fd = ::open(path.c_str(), O_WRONLY);
      if (fd < 0) return 1;
      std::vector<char> chunk(pipe_buf, fill);
      for (int i = 0; i < kChunks; ++i)
        if (::write(fd, chunk.data(), chunk.size()) != pipe_buf) return 2;  // all or nothing
      return 0;
    });
  };
  auto a = writer('a');
  auto b = writer('b');

  std::string got;
  std::vector<char> buf(65536);
  auto d = deadline();
  while (got.size() < total && !d.expired()) {
    pollfd p{r.get(), POLLIN, 0};
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d.remaining()).count();
    ::poll(&p, 1, static_cast<int>(ms) + 1);
    ssize_t n = ::read(r.get(), buf.data(), buf.size());
    if (n > 0) got.append(buf.data(), n);
    else if (n < 0 && errno != EAGAIN && errno != EINTR) break;
  }
  REQUIRE_THAT(a.wait(), ExitedWith(0));
  REQUIRE_THAT(b.wait(), ExitedWith(0));
  REQUIRE(got.size() == total);
  THEN("the stream is whole chunks of one writer each, kChunks from each writer") {
    int from_a = 0, from_b = 0;
    for (size_t off = 0; off < total; off += pipe_buf) {
      std::string_view chunk(got.data() + off, pipe_buf);
      char c = chunk[0];
      INFO("chunk at offset " << off);
      REQUIRE(chunk.find_first_not_of(c) == std::string_view::npos);
      (c == 'a' ? from_a : from_b)++;
    }
    REQUIRE(from_a == kChunks);
    REQUIRE(from_b == kChunks);
  }
}

BEHAVIOUR("fifo.io.f-getpipe-sz-reports-capacity", "[linux-specific]",
          "fcntl(F_GETPIPE_SZ) on a FIFO descriptor returns its capacity: the bytes a "
          "non-blocking writer can queue before write fails with EAGAIN",
          "fcntl(2) Changing the capacity of a pipe (F_GETPIPE_SZ); pipe(7) Pipe capacity") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  auto cap = sys(::fcntl(w.get(), F_GETPIPE_SZ));
  if (cap.value == -1 && cap.err == EINVAL) unsupported("F_GETPIPE_SZ rejected (EINVAL)");
  REQUIRE_THAT(cap, Succeeds());
  REQUIRE(cap.value >= PIPE_BUF);
  REQUIRE_THAT(sys(::fcntl(r.get(), F_GETPIPE_SZ)), Returns(cap.value));
  // Writes of PIPE_BUF bytes are all-or-nothing on a non-blocking FIFO (pipe(7) PIPE_BUF),
  // so filling it this way leaves no room unused.
  std::vector<char> chunk(PIPE_BUF, 'z');
  long queued = 0;
  SysResult last{};
  for (;;) {
    last = sys(::write(w.get(), chunk.data(), chunk.size()));
    if (last.value < 0) break;
    queued += last.value;
    REQUIRE(queued <= cap.value);
  }
  REQUIRE_THAT(last, FailsWith(EAGAIN));
  REQUIRE(queued == cap.value);
}

BEHAVIOUR("fifo.io.f-setpipe-sz-applies-to-every-opener", "[linux-specific]",
          "fcntl(F_SETPIPE_SZ) through one descriptor of a FIFO changes the capacity seen by "
          "every descriptor open on it (one pipe object per FIFO)",
          "fcntl(2) Changing the capacity of a pipe (F_SETPIPE_SZ); fifo(7) DESCRIPTION (exactly "
          "one pipe object for each opened FIFO)") {
  TempDir dir;
  std::string path = dir / "f";
  make_fifo(path);
  auto [r, w] = open_fifo_ends(path);
  long page = ::sysconf(_SC_PAGESIZE);
  // Shrinking needs no privilege and no spare pipe-user-pages (fcntl(2) EPERM/EBUSY are for
  // growing beyond limits and for shrinking below the data held).
  auto set = sys(::fcntl(w.get(), F_SETPIPE_SZ, static_cast<int>(page)));
  if (set.value == -1 && set.err == EINVAL) unsupported("F_SETPIPE_SZ rejected (EINVAL)");
  REQUIRE_THAT(set, Succeeds());
  REQUIRE(set.value >= page);  // "the kernel may use a capacity larger than arg"
  REQUIRE_THAT(sys(::fcntl(w.get(), F_GETPIPE_SZ)), Returns(set.value));
  REQUIRE_THAT(sys(::fcntl(r.get(), F_GETPIPE_SZ)), Returns(set.value));
  Fd r2 = open_fd(path, O_RDONLY | O_NONBLOCK);
  REQUIRE_THAT(sys(::fcntl(r2.get(), F_GETPIPE_SZ)), Returns(set.value));
}
