// pipe.model.*: random sequences of pipe operations checked against a small model of the
// documented byte-stream semantics. Sources: pipe(7) "I/O on pipes and FIFOs", "Pipe
// capacity", "PIPE_BUF"; fcntl(2) F_SETPIPE_SZ; POSIX.1-2017 read() and write().
//
// Why an operation-sequence interpreter and not rc::state: the documented semantics leave
// the kernel a choice. fcntl(2) warns that "the number of bytes that can be written may be
// less than the nominal size, depending on the size of the writes" (Linux stores data in
// page-sized buffers, so a pipe with free bytes can be full), and a non-blocking write of
// more than PIPE_BUF bytes may write "from 1 to n bytes". The model therefore states which
// outcomes are allowed, checks the kernel's outcome against them, and then follows the
// outcome the kernel chose. rc::state applies a command to the model without seeing the
// system's result, so it cannot express that.
//
// What the model decides exactly: the bytes every read returns (a FIFO of everything
// written), read counts, EOF, EAGAIN on an empty pipe, EPIPE, FIONREAD, the capacity. What it
// bounds: a write of n <= PIPE_BUF bytes is all-or-nothing, succeeds on an empty pipe and
// fails with EAGAIN when n bytes cannot fit into the capacity; a larger non-blocking write
// writes 1..n bytes that fit, or fails with EAGAIN, and never EAGAIN on an empty pipe.
#include "fx/fx.hpp"
#include "fx/pipe_extra.hpp"
#include "rc_support.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <ostream>
#include <vector>

using namespace fx;

namespace {

struct Op {
  enum Kind { Write, Read, CloseRead, CloseWrite, SetSize } kind = Write;
  size_t n = 0;  // bytes to write or read; the capacity asked for by SetSize
  bool nonblock = false;
};

std::ostream& operator<<(std::ostream& os, Op const& op) {
  switch (op.kind) {
    case Op::Write: return os << "write(" << op.n << (op.nonblock ? ", O_NONBLOCK)" : ")");
    case Op::Read: return os << "read(" << op.n << (op.nonblock ? ", O_NONBLOCK)" : ")");
    case Op::CloseRead: return os << "close(read end)";
    case Op::CloseWrite: return os << "close(write end)";
    case Op::SetSize: return os << "F_SETPIPE_SZ(" << op.n << ")";
  }
  return os;
}

size_t page() { return size_t(::sysconf(_SC_PAGESIZE)); }

size_t default_capacity() {
  static size_t cap = [] {
    auto p = make_pipe();
    return size_t(pipe_capacity(p.w.get()));
  }();
  return cap;
}

size_t pipe_max_size() {
  static size_t max = [] {
    std::ifstream f("/proc/sys/fs/pipe-max-size");
    size_t v = 0;
    return (f >> v) ? v : size_t(1) << 20;
  }();
  return max;
}

// fcntl(2) F_SETPIPE_SZ: "the allocation is the next higher power-of-two page-size multiple
// of the requested size", and below a page it is rounded up to a page.
size_t rounded_capacity(size_t req) {
  size_t pages = std::max<size_t>(1, (req + page() - 1) / page());
  size_t p2 = 1;
  while (p2 < pages) p2 <<= 1;
  return p2 * page();
}

// Sizes around the boundaries the documentation names (0, PIPE_BUF, the capacity) plus
// anything up to twice the default capacity.
rc::Gen<size_t> gen_count() {
  size_t cap = default_capacity();
  return rc::gen::weightedOneOf<size_t>({
      {3, rc::gen::elementOf(std::vector<size_t>{1, 0, PIPE_BUF - 1, PIPE_BUF, PIPE_BUF + 1,
                                                 2 * PIPE_BUF, cap - 1, cap, cap + 1, 2 * cap})},
      {3, rc::gen::inRange<size_t>(1, 200)},
      {3, rc::gen::inRange<size_t>(0, 2 * cap + 1)},
  });
}

rc::Gen<Op> gen_op() {
  size_t pg = page();
  auto io = [](Op::Kind k) {
    return rc::gen::apply([k](size_t n, bool nb) { return Op{k, n, nb}; }, gen_count(),
                          rc::gen::arbitrary<bool>());
  };
  auto set_size = rc::gen::map(
      rc::gen::elementOf(std::vector<size_t>{pg, 1, pg + 1, 2 * pg, 3 * pg, 8 * pg, 16 * pg,
                                             16 * pg + 1, 64 * pg}),
      [](size_t n) { return Op{Op::SetSize, n, false}; });
  return rc::gen::weightedOneOf<Op>({
      {20, io(Op::Write)},
      {20, io(Op::Read)},
      {3, set_size},
      {1, rc::gen::just(Op{Op::CloseRead, 0, false})},
      {1, rc::gen::just(Op{Op::CloseWrite, 0, false})},
  });
}

// The byte at position p of everything ever written: consecutive bytes differ, so a lost,
// duplicated or reordered byte shows.
unsigned char stream_byte(uint64_t p) { return static_cast<unsigned char>(p % 251); }

// What the documentation lets us predict about one pipe.
struct Model {
  bool lifo = false;  // the deliberately wrong model of the can-fail twin: reads return the
                      // newest bytes first
  std::deque<unsigned char> bytes;  // unread bytes, oldest first
  size_t capacity = 0;
  bool reader = true, writer = true;
  uint64_t written = 0;  // stream position of the next byte written

  // The first k unread bytes in the order a read must return them.
  std::vector<unsigned char> take(size_t k) {
    std::vector<unsigned char> out;
    for (size_t i = 0; i < k; ++i) {
      if (lifo) {
        out.push_back(bytes.back());
        bytes.pop_back();
      } else {
        out.push_back(bytes.front());
        bytes.pop_front();
      }
    }
    return out;
  }
};

// Outcome counts over a whole run, printed after it: evidence that the search reached the
// interesting states (a full pipe, partial writes, EOF, EPIPE, EBUSY).
struct Coverage {
  long eagain_full_small = 0, eagain_small_other = 0, eagain_large = 0, partial = 0;
  long eagain_empty_read = 0, eof = 0, epipe = 0, resized = 0, ebusy = 0, skipped = 0;
};

void on_alarm(int) {}

// A blocking operation is only issued when the model says it completes at once; should the
// kernel block anyway, this SIGALRM (installed without SA_RESTART) interrupts it at the
// deadline, and the interrupted call fails the property instead of hanging the test.
class Watchdog {
 public:
  Watchdog() { arm(std::chrono::duration_cast<std::chrono::seconds>(kWait).count()); }
  ~Watchdog() { arm(0); }

 private:
  static void arm(long s) {
    itimerval t{};
    t.it_value.tv_sec = s;
    ::setitimer(ITIMER_REAL, &t, nullptr);
  }
};

std::string result_text(long rv, int err) {
  return rv == -1 ? "-1 (" + errno_name(err) + ")" : std::to_string(rv);
}

bool is_error(long rv, int err, int want) { return rv == -1 && err == want; }

// Runs one generated sequence on a fresh pipe. The pipe (both ends) is owned by this frame,
// so it is closed after every run, shrinking runs included.
void run_sequence(std::vector<Op> const& ops, bool lifo, Coverage& cov) {
  auto p = make_pipe();
  Model m;
  m.lifo = lifo;
  m.capacity = size_t(pipe_capacity(p.w.get()));
  RC_LOG() << "pipe capacity " << m.capacity << ", PIPE_BUF " << PIPE_BUF << "\n";
  std::vector<unsigned char> buf;

  for (Op const& op : ops) {
    size_t content = m.bytes.size();
    std::ostringstream trace;
    trace << op << " with " << content << " bytes queued, capacity " << m.capacity << ": ";

    switch (op.kind) {
      case Op::Write: {
        if (!m.writer) { ++cov.skipped; continue; }
        size_t n = op.n;
        // A blocking write is issued only when it cannot block: it fits into an empty pipe
        // (n <= capacity), writes nothing (n == 0) or has no reader (EPIPE at once).
        if (!op.nonblock && !(n == 0 || !m.reader || (content == 0 && n <= m.capacity))) {
          ++cov.skipped;
          continue;
        }
        buf.resize(n);
        for (size_t i = 0; i < n; ++i) buf[i] = stream_byte(m.written + i);
        set_nonblock(p.w.get(), op.nonblock);
        long rv;
        int err;
        {
          Watchdog dog;
          rv = ::write(p.w.get(), buf.data(), n);
          err = errno;
        }
        trace << "write returned " << result_text(rv, err);
        RC_LOG() << trace.str() << "\n";
        if (n == 0) {
          // Linux returns 0 for an empty write before it looks for readers (POSIX leaves a
          // zero-length write to a pipe unspecified).
          RC_ASSERT(rv == 0L);
        } else if (!m.reader) {
          // pipe(7): no read end open, SIGPIPE ignored: EPIPE.
          RC_ASSERT(is_error(rv, err, EPIPE));
          ++cov.epipe;
        } else if (!op.nonblock) {
          // Fits into the empty pipe: all n bytes at once.
          RC_ASSERT(rv == long(n));
        } else if (n <= PIPE_BUF) {
          // pipe(7) "O_NONBLOCK enabled, n <= PIPE_BUF": all n bytes or EAGAIN, never part.
          if (content == 0) {
            RC_ASSERT(rv == long(n));
          } else if (content + n > m.capacity) {
            RC_ASSERT(is_error(rv, err, EAGAIN));
            ++cov.eagain_full_small;
          } else {
            RC_ASSERT(rv == long(n) || is_error(rv, err, EAGAIN));
            if (rv == -1) ++cov.eagain_small_other;
          }
        } else {
          // pipe(7) "O_NONBLOCK enabled, n > PIPE_BUF": EAGAIN if full, else 1..n bytes;
          // never more than the capacity leaves room for.
          size_t room = m.capacity - content;
          if (content == 0) {
            RC_ASSERT(rv >= 1L && rv <= long(std::min(n, room)));
          } else if (room == 0) {
            RC_ASSERT(is_error(rv, err, EAGAIN));
          } else {
            RC_ASSERT(is_error(rv, err, EAGAIN) || (rv >= 1L && rv <= long(std::min(n, room))));
          }
          if (rv == -1) ++cov.eagain_large;
          if (rv > 0 && size_t(rv) < n) ++cov.partial;
        }
        for (long i = 0; i < rv; ++i) m.bytes.push_back(buf[size_t(i)]);
        if (rv > 0) m.written += uint64_t(rv);
        break;
      }

      case Op::Read: {
        if (!m.reader) { ++cov.skipped; continue; }
        size_t n = op.n;
        // A blocking read is issued only when it cannot block: data is queued, no writer is
        // left (EOF), or it asks for nothing.
        if (!op.nonblock && n > 0 && content == 0 && m.writer) {
          ++cov.skipped;
          continue;
        }
        buf.assign(n, 0);
        set_nonblock(p.r.get(), op.nonblock);
        long rv;
        int err;
        {
          Watchdog dog;
          rv = ::read(p.r.get(), buf.data(), n);
          err = errno;
        }
        trace << "read returned " << result_text(rv, err);
        RC_LOG() << trace.str() << "\n";
        if (n == 0) {
          // POSIX read(): nbyte zero returns 0 and has no other results.
          RC_ASSERT(rv == 0L);
        } else if (content > 0) {
          // All queued bytes up to n, at once and in the order written.
          size_t k = std::min(n, content);
          RC_ASSERT(rv == long(k));
          auto want = m.take(k);
          auto diff = std::mismatch(want.begin(), want.end(), buf.begin());
          if (diff.first != want.end()) {
            RC_FAIL("read returned other bytes than were written: at offset " +
                    std::to_string(diff.first - want.begin()) + " got " +
                    std::to_string(int(*diff.second)) + ", the model expects " +
                    std::to_string(int(*diff.first)));
          }
        } else if (!m.writer) {
          // pipe(7): all write ends closed and the pipe drained: end-of-file.
          RC_ASSERT(rv == 0L);
          ++cov.eof;
        } else {
          // Empty with a writer, O_NONBLOCK: EAGAIN (POSIX read() ERRORS).
          RC_ASSERT(is_error(rv, err, EAGAIN));
          ++cov.eagain_empty_read;
        }
        break;
      }

      case Op::CloseRead:
        if (!m.reader) { ++cov.skipped; continue; }
        p.r.reset();
        // The queued bytes stay in the pipe (unreadable now): they still occupy buffer
        // space, which F_SETPIPE_SZ sees.
        m.reader = false;
        RC_LOG() << trace.str() << "closed\n";
        break;

      case Op::CloseWrite:
        if (!m.writer) { ++cov.skipped; continue; }
        p.w.reset();
        m.writer = false;
        RC_LOG() << trace.str() << "closed\n";
        break;

      case Op::SetSize: {
        int fd = m.writer ? p.w.get() : m.reader ? p.r.get() : -1;
        size_t want = rounded_capacity(op.n);
        // Above pipe-max-size an unprivileged caller gets EPERM; not this model's business.
        if (fd < 0 || want > pipe_max_size()) { ++cov.skipped; continue; }
        long rv = ::fcntl(fd, F_SETPIPE_SZ, int(op.n));
        int err = errno;
        trace << "fcntl returned " << result_text(rv, err);
        RC_LOG() << trace.str() << "\n";
        // fcntl(2) F_SETPIPE_SZ: the capacity set is returned; smaller than the buffer
        // space holding data: EBUSY. That space is at least the queued bytes, and at most
        // the capacity, so growing the pipe or resizing an empty one cannot be refused.
        if (want < content) {
          RC_ASSERT(is_error(rv, err, EBUSY));
        } else if (content == 0 || want >= m.capacity) {
          RC_ASSERT(rv == long(want));
        } else {
          RC_ASSERT(rv == long(want) || is_error(rv, err, EBUSY));
        }
        if (rv == -1) ++cov.ebusy;
        if (rv > 0) {
          m.capacity = size_t(rv);
          ++cov.resized;
        }
        break;
      }
    }

    // Invariants after every operation: FIONREAD (pipe(7) "Pipe capacity") counts the
    // unread bytes; F_GETPIPE_SZ reports the capacity last set.
    if (m.reader) RC_ASSERT(size_t(fionread(p.r.get())) == m.bytes.size());
    int any = m.writer ? p.w.get() : m.reader ? p.r.get() : -1;
    if (any >= 0) RC_ASSERT(size_t(pipe_capacity(any)) == m.capacity);
  }
}

bool byte_stream_property(std::string const& description, bool lifo, bool must_fail) {
  // pipe(7): with SIGPIPE ignored a write without reader fails with EPIPE instead of
  // killing the process. SIGALRM is the watchdog of blocking calls (no SA_RESTART).
  ScopedHandler pipe_ignored(SIGPIPE, SIG_IGN);
  ScopedHandler alarm(SIGALRM, on_alarm, 0);
  Coverage cov;
  auto property = [&] {
    auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
    run_sequence(ops, lifo, cov);
  };
  bool ok = must_fail ? prop::falsified(description, property) : prop::check(description, property);
  std::cout << "outcomes seen (all runs, shrinking included): EAGAIN small write beyond capacity "
            << cov.eagain_full_small << ", EAGAIN small write otherwise " << cov.eagain_small_other
            << ", EAGAIN large write " << cov.eagain_large << ", partial writes " << cov.partial
            << ", EAGAIN empty read " << cov.eagain_empty_read << ", EOF " << cov.eof
            << ", EPIPE " << cov.epipe << ", resized " << cov.resized << ", EBUSY " << cov.ebusy
            << ", operations skipped as they could block or had no descriptor " << cov.skipped
            << std::endl;
  return ok;
}

}  // namespace

BEHAVIOUR("pipe.model.byte-stream-matches-model", "[linux-specific]",
          "random sequences of blocking and non-blocking reads and writes, closes of either end "
          "and F_SETPIPE_SZ behave as the documented byte stream: reads return exactly the "
          "bytes written in order, writes of up to PIPE_BUF bytes are all-or-nothing, larger "
          "non-blocking writes write 1..n bytes or fail with EAGAIN, EOF after the last writer, "
          "EPIPE after the last reader, FIONREAD and F_GETPIPE_SZ agree with the model",
          "pipe(7) I/O on pipes and FIFOs, Pipe capacity, PIPE_BUF; fcntl(2) F_SETPIPE_SZ; "
          "POSIX.1-2017 read(), write()") {
  REQUIRE(byte_stream_property("pipe byte stream matches the model", false, false));
}

BEHAVIOUR("pipe.model.byte-stream-matches-model-can-fail", "[linux-specific]",
          "the byte-stream property falsifies a wrong model whose reads return the newest bytes "
          "first (LIFO): the property can fail",
          "pipe(7) I/O on pipes and FIFOs (a byte stream, read in the order written)") {
  REQUIRE(byte_stream_property("pipe byte stream against a LIFO model", true, true));
}
