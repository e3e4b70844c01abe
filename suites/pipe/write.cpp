// pipe.write.*: writing to a pipe: SIGPIPE/EPIPE without readers, blocking on a full pipe,
// atomicity of PIPE_BUF writes, and writes interrupted by signal handlers.
// Sources: pipe(7) "I/O on pipes and FIFOs" and "PIPE_BUF"; write(2); signal(7);
// POSIX.1-2017 write().
//
// Every test that touches a signal disposition runs the writer in a forked child that starts
// from fx::reset_signals(), so the test process's own dispositions stay untouched.
#include "fx/fx.hpp"
#include "fx/pipe_extra.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

using namespace fx;

namespace {

// A child's handler counts its runs in memory shared with the parent.
int* g_ran = nullptr;
void count_run(int) {
  if (g_ran) std::atomic_ref<int>(*g_ran).fetch_add(1);
}
int load(Shared<int> const& v) { return std::atomic_ref<int>(*v).load(); }
bool wait_count(Shared<int> const& v, int n, Deadline d = deadline()) {
  return wait_until([&] { return load(v) >= n; }, d);
}

// Byte i of a pattern with a long period, so that a lost or repeated chunk shows.
char pattern(size_t i) { return static_cast<char>((i * 7 + i / 4093) & 0xff); }

}  // namespace

BEHAVIOUR("pipe.write.no-reader-default-sigpipe-kills-writer", "[posix][signal]",
          "a write to a pipe whose read end is closed everywhere raises SIGPIPE, which by default "
          "terminates the writer",
          "pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 write() ERRORS [EPIPE]; signal(7) Standard signals") {
  auto [r, w] = make_pipe();
  r.reset();
  auto c = call_in_child([wfd = w.get()] { return ::write(wfd, "x", 1); });
  REQUIRE_THAT(c.status, KilledBy(SIGPIPE));
}

BEHAVIOUR("pipe.write.no-reader-handled-sigpipe-runs-once-and-fails-epipe", "[posix][signal]",
          "with a SIGPIPE handler, a write to a pipe without readers runs the handler once and "
          "fails with EPIPE",
          "write(2) ERRORS EPIPE; pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 write() ERRORS [EPIPE]") {
  auto [r, w] = make_pipe();
  r.reset();
  struct Report {
    SysResult res;
    int count;
  };
  Shared<Report> rep(Report{{0, 0}, -1});
  auto st = run_in_child([&, wfd = w.get()]() -> int {
    reset_signals();
    SignalCounter c(SIGPIPE);
    rep->res = sys(::write(wfd, "x", 1));
    if (!c.wait(1)) return 1;
    rep->count = c.count();
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(rep->res, FailsWith(EPIPE));
  REQUIRE(rep->count == 1);
}

BEHAVIOUR("pipe.write.no-reader-ignored-sigpipe-fails-epipe", "[posix][signal]",
          "with SIGPIPE ignored, a write to a pipe without readers fails with EPIPE",
          "pipe(7) I/O on pipes and FIFOs (if the calling process is ignoring this signal); "
          "POSIX.1-2017 write() ERRORS [EPIPE]") {
  auto [r, w] = make_pipe();
  r.reset();
  Shared<SysResult> res(SysResult{0, 0});
  auto st = run_in_child([&, wfd = w.get()] {
    reset_signals();
    ScopedHandler ign(SIGPIPE, SIG_IGN);
    *res = sys(::write(wfd, "x", 1));
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*res, FailsWith(EPIPE));
}

BEHAVIOUR("pipe.write.no-reader-blocked-sigpipe-fails-epipe-and-stays-pending", "[posix][signal]",
          "with SIGPIPE blocked, a write to a pipe without readers fails with EPIPE and SIGPIPE is "
          "left pending",
          "write(2) ERRORS EPIPE (the program catches, blocks or ignores this signal); "
          "POSIX.1-2017 write() ERRORS [EPIPE]; signal(7) Signal mask and pending signals") {
  auto [r, w] = make_pipe();
  r.reset();
  struct Report {
    SysResult res;
    bool pending;
  };
  Shared<Report> rep(Report{{0, 0}, false});
  auto st = run_in_child([&, wfd = w.get()] {
    reset_signals();
    ScopedMask m({SIGPIPE});
    rep->res = sys(::write(wfd, "x", 1));
    rep->pending = is_pending(SIGPIPE);
    // Discard the pending SIGPIPE before the mask is restored, or it would kill us now.
    ::signal(SIGPIPE, SIG_IGN);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(rep->res, FailsWith(EPIPE));
  REQUIRE(rep->pending);
}

BEHAVIOUR("pipe.write.sigpipe-handler-runs-in-writing-thread", "[posix][signal]",
          "in a multi-threaded process the SIGPIPE handler for a write without readers runs in "
          "the thread that wrote",
          "POSIX.1-2017 write() ERRORS [EPIPE] (a SIGPIPE signal shall also be sent to the thread); "
          "signal(7) Signal mask and pending signals (thread-directed signals)") {
  auto [r, w] = make_pipe();
  r.reset();
  struct Report {
    SysResult res;
    int count;
    pid_t handler_tid, writer_tid, main_tid;
  };
  Shared<Report> rep(Report{{0, 0}, -1, 0, 0, 0});
  auto st = run_in_child([&, wfd = w.get()]() -> int {
    reset_signals();
    SignalCounter c(SIGPIPE);
    rep->main_tid = ::gettid();
    // The main thread keeps SIGPIPE unblocked too, so it could take a process-directed one.
    std::thread t([&] {
      rep->writer_tid = ::gettid();
      rep->res = sys(::write(wfd, "x", 1));
    });
    t.join();
    if (!c.wait(1)) return 1;
    rep->count = c.count();
    rep->handler_tid = c.last_tid();
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(rep->res, FailsWith(EPIPE));
  REQUIRE(rep->count == 1);
  REQUIRE(rep->writer_tid != rep->main_tid);
  REQUIRE(rep->handler_tid == rep->writer_tid);
}

BEHAVIOUR("pipe.write.sigpipe-pending-for-writing-thread-only", "[posix][signal]",
          "with SIGPIPE blocked in every thread, the SIGPIPE of a write without readers is pending "
          "for the writing thread and not for the process",
          "POSIX.1-2017 write() ERRORS [EPIPE] (sent to the thread); signal(7) Signal mask and "
          "pending signals (sigpending: process-directed plus the calling thread's own)") {
  auto [r, w] = make_pipe();
  r.reset();
  struct Report {
    SysResult res;
    bool writer_sees, main_sees;
  };
  Shared<Report> rep(Report{{0, 0}, false, true});
  auto st = run_in_child([&, wfd = w.get()]() -> int {
    reset_signals();
    ScopedMask m({SIGPIPE});  // inherited by the thread below
    Checkpoints cp;
    std::thread t([&] {
      rep->res = sys(::write(wfd, "x", 1));
      rep->writer_sees = is_pending(SIGPIPE);
      cp.wake(0);
      // Stay alive (and keep its own pending set) while the main thread looks.
      (void)cp.wait(1);
    });
    bool ok = cp.wait(0);
    rep->main_sees = is_pending(SIGPIPE);
    cp.wake(1);
    t.join();
    return ok ? 0 : 1;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(rep->res, FailsWith(EPIPE));
  REQUIRE(rep->writer_sees);
  REQUIRE_FALSE(rep->main_sees);
}

BEHAVIOUR("pipe.write.blocked-writer-fails-epipe-when-last-reader-closes", "[posix][signal]",
          "a write blocked on a full pipe fails with EPIPE (SIGPIPE ignored) when the last read "
          "end is closed",
          "pipe(7) I/O on pipes and FIFOs; POSIX.1-2017 write() ERRORS [EPIPE]") {
  auto [r, w] = make_pipe();
  fill_pipe(w.get());
  Shared<SysResult> res(SysResult{0, 0});
  auto writer = Child::fork([&, wfd = w.get()] {
    reset_signals();
    ScopedHandler ign(SIGPIPE, SIG_IGN);
    r.reset();
    *res = sys(::write(wfd, "x", 1));
  });
  REQUIRE(wait_blocked(writer.pid(), SYS_write));
  r.reset();
  REQUIRE_THAT(writer.wait(), ExitedWith(0));
  REQUIRE_THAT(*res, FailsWith(EPIPE));
}

BEHAVIOUR("pipe.write.full-pipe-blocks-until-reader-drains", "[posix]",
          "a blocking write to a full pipe sleeps in write and completes once the reader frees room",
          "pipe(7) I/O on pipes and FIFOs and Pipe capacity") {
  auto [r, w] = make_pipe();
  size_t queued = fill_pipe(w.get());
  Shared<SysResult> res(SysResult{0, 0});
  auto writer = Child::fork([&, wfd = w.get()] { *res = sys(::write(wfd, "x", 1)); });
  REQUIRE(wait_blocked(writer.pid(), SYS_write));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == queued);  // nothing got in
  (void)read_exactly(r.get(), PIPE_BUF);
  REQUIRE_THAT(writer.wait(), ExitedWith(0));
  REQUIRE_THAT(*res, Returns(1));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == queued - PIPE_BUF + 1);
}

BEHAVIOUR("pipe.write.small-blocking-write-waits-for-room-for-all", "[posix]",
          "a blocking write of at most PIPE_BUF bytes into a pipe with less free room writes "
          "nothing until it can write all bytes at once",
          "pipe(7) PIPE_BUF (O_NONBLOCK disabled, n <= PIPE_BUF); POSIX.1-2017 write() DESCRIPTION") {
  auto [r, w] = make_pipe();
  size_t cap = static_cast<size_t>(pipe_capacity(w.get()));
  if (cap < 2 * PIPE_BUF) skip("pipe capacity is " + std::to_string(cap) + " (user pipe page limit?)");
  // Ten bytes of room left, then a 100-byte write.
  std::string fill(cap - 10, 'f');
  write_all(w.get(), fill.data(), fill.size());
  Shared<SysResult> res(SysResult{0, 0});
  auto writer = Child::fork([&, wfd = w.get()] {
    std::string msg(100, 'm');
    *res = sys(::write(wfd, msg.data(), msg.size()));
  });
  REQUIRE(wait_blocked(writer.pid(), SYS_write));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == cap - 10);
  (void)read_exactly(r.get(), PIPE_BUF);
  REQUIRE_THAT(writer.wait(), ExitedWith(0));
  REQUIRE_THAT(*res, Returns(100));
  // The 100 bytes are contiguous at the end of the stream.
  std::string rest = read_exactly(r.get(), cap - 10 - PIPE_BUF + 100);
  REQUIRE(rest.substr(rest.size() - 100) == std::string(100, 'm'));
  REQUIRE(rest.substr(0, rest.size() - 100) == std::string(cap - 10 - PIPE_BUF, 'f'));
}

BEHAVIOUR("pipe.write.larger-than-capacity-completes-intact", "[posix]",
          "one blocking write larger than the pipe capacity returns the full count and a reader in "
          "another process receives every byte in order",
          "pipe(7) PIPE_BUF (O_NONBLOCK disabled, n > PIPE_BUF: blocks until n bytes have been written)") {
  auto [r, w] = make_pipe();
  size_t n = 4 * static_cast<size_t>(pipe_capacity(w.get())) + 123;
  Shared<long> wrote(-2);
  auto writer = Child::fork([&, wfd = w.get()] {
    r.reset();
    std::vector<char> buf(n);
    for (size_t i = 0; i < n; ++i) buf[i] = pattern(i);
    *wrote = ::write(wfd, buf.data(), n);
  });
  auto reader = Child::fork([&, rfd = r.get()]() -> int {
    w.reset();
    std::vector<char> buf(8192);
    size_t at = 0;
    for (;;) {
      ssize_t k = ::read(rfd, buf.data(), buf.size());
      if (k < 0) return 1;
      if (k == 0) break;
      for (ssize_t j = 0; j < k; ++j, ++at)
        if (buf[j] != pattern(at)) return 2;
    }
    return at == n ? 0 : 3;
  });
  r.reset();
  w.reset();
  REQUIRE_THAT(writer.wait(), ExitedWith(0));
  REQUIRE(*wrote == static_cast<long>(n));
  // 0: every byte in order; 2: a wrong byte; 3: bytes missing at end-of-file.
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
}

BEHAVIOUR("pipe.write.pipe-buf-writes-are-not-interleaved", "[posix]",
          "writes of PIPE_BUF bytes from concurrent writers each land contiguously in the pipe",
          "pipe(7) PIPE_BUF (O_NONBLOCK disabled, n <= PIPE_BUF: written atomically); "
          "POSIX.1-2017 write() DESCRIPTION (Write requests of {PIPE_BUF} bytes or less shall not "
          "be interleaved)") {
  auto [r, w] = make_pipe();
  constexpr int kWrites = 64;
  auto writer = [&](char c) {
    return Child::fork([&, c, wfd = w.get()]() -> int {
      r.reset();
      std::string block(PIPE_BUF, c);
      for (int i = 0; i < kWrites; ++i)
        if (::write(wfd, block.data(), block.size()) != PIPE_BUF) return 1;
      return 0;
    });
  };
  auto a = writer('A');
  auto b = writer('B');
  auto reader = Child::fork([&, rfd = r.get()]() -> int {
    w.reset();
    int blocks = 0;
    for (;;) {
      std::string blk(PIPE_BUF, '\0');
      size_t got = 0;
      while (got < blk.size()) {
        ssize_t k = ::read(rfd, blk.data() + got, blk.size() - got);
        if (k < 0) return 1;
        if (k == 0) return got == 0 && blocks == 2 * kWrites ? 0 : 2;
        got += static_cast<size_t>(k);
      }
      // Every PIPE_BUF-aligned block must come from one write: all one letter.
      if (blk != std::string(PIPE_BUF, blk[0])) return 3;
      ++blocks;
    }
  });
  r.reset();
  w.reset();
  REQUIRE_THAT(a.wait(), ExitedWith(0));
  REQUIRE_THAT(b.wait(), ExitedWith(0));
  // 3: a block mixing both writers' bytes.
  REQUIRE_THAT(reader.wait(), ExitedWith(0));
}

BEHAVIOUR("pipe.write.interrupted-blocked-write-restarts-with-sa-restart", "[posix][signal]",
          "a write blocked on a full pipe, interrupted by a handler installed with SA_RESTART "
          "before writing anything, is restarted and completes once there is room",
          "signal(7) Interruption of system calls and library functions by signal handlers; "
          "POSIX.1-2017 sigaction() SA_RESTART") {
  auto [r, w] = make_pipe();
  fill_pipe(w.get());
  Shared<SysResult> res(SysResult{0, 0});
  Shared<int> ran(0);
  auto writer = Child::fork([&, wfd = w.get()] {
    reset_signals();
    g_ran = ran.get();
    ScopedHandler h(SIGUSR1, count_run, SA_RESTART);
    *res = sys(::write(wfd, "x", 1));
  });
  REQUIRE(wait_blocked(writer.pid(), SYS_write));
  writer.signal(SIGUSR1);
  REQUIRE(wait_count(ran, 1));
  // After its handler the child is asleep in write again: the call was restarted.
  REQUIRE(wait_blocked(writer.pid(), SYS_write));
  (void)read_exactly(r.get(), PIPE_BUF);
  REQUIRE_THAT(writer.wait(), ExitedWith(0));
  REQUIRE(load(ran) == 1);
  REQUIRE_THAT(*res, Returns(1));
}

BEHAVIOUR("pipe.write.interrupted-blocked-write-without-restart-fails-eintr", "[posix][signal]",
          "a write blocked on a full pipe, interrupted by a handler installed without SA_RESTART "
          "before writing anything, fails with EINTR",
          "signal(7) Interruption of system calls and library functions by signal handlers; "
          "write(2) ERRORS EINTR; POSIX.1-2017 write() ERRORS [EINTR]") {
  auto [r, w] = make_pipe();
  size_t queued = fill_pipe(w.get());
  Shared<SysResult> res(SysResult{0, 0});
  Shared<int> ran(0);
  auto writer = Child::fork([&, wfd = w.get()] {
    reset_signals();
    g_ran = ran.get();
    ScopedHandler h(SIGUSR1, count_run, 0);
    *res = sys(::write(wfd, "x", 1));
  });
  REQUIRE(wait_blocked(writer.pid(), SYS_write));
  writer.signal(SIGUSR1);
  REQUIRE_THAT(writer.wait(), ExitedWith(0));
  REQUIRE(load(ran) == 1);
  REQUIRE_THAT(*res, FailsWith(EINTR));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == queued);
}

namespace {
// A child writes twice the capacity into an empty pipe: the first capacity's worth goes in,
// then it blocks; a handled signal ends the call with the partial count.
void check_partial_write_interrupted(int sa_flags) {
  auto [r, w] = make_pipe();
  size_t cap = static_cast<size_t>(pipe_capacity(w.get()));
  Shared<SysResult> res(SysResult{0, 0});
  Shared<int> ran(0);
  auto writer = Child::fork([&, wfd = w.get(), sa_flags] {
    reset_signals();
    g_ran = ran.get();
    ScopedHandler h(SIGUSR1, count_run, sa_flags);
    std::string big(2 * cap, 'p');
    *res = sys(::write(wfd, big.data(), big.size()));
  });
  REQUIRE(wait_blocked(writer.pid(), SYS_write));
  size_t queued = static_cast<size_t>(fionread(r.get()));
  REQUIRE(queued > 0);  // some data was transferred before the call blocked
  writer.signal(SIGUSR1);
  REQUIRE_THAT(writer.wait(), ExitedWith(0));
  REQUIRE(load(ran) == 1);
  REQUIRE_THAT(*res, Returns(static_cast<long>(queued)));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == queued);
}
}  // namespace

BEHAVIOUR("pipe.write.interrupted-partial-write-returns-count", "[posix][signal]",
          "a blocking write interrupted by a handler (no SA_RESTART) after transferring some "
          "bytes returns the number of bytes written",
          "signal(7) Interruption of system calls and library functions by signal handlers "
          "(already transferred some data); POSIX.1-2017 write() RETURN VALUE") {
  check_partial_write_interrupted(0);
}

BEHAVIOUR("pipe.write.interrupted-partial-write-returns-count-with-sa-restart", "[posix][signal]",
          "a blocking write interrupted by a handler installed with SA_RESTART after transferring "
          "some bytes is not restarted: it returns the number of bytes written",
          "signal(7) Interruption of system calls and library functions by signal handlers "
          "(the call will return a success status); POSIX.1-2017 write() RETURN VALUE") {
  check_partial_write_interrupted(SA_RESTART);
}
