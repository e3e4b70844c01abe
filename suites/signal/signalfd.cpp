// signal.signalfd.*: receiving signals through a signalfd descriptor (Linux only).
// Source: signalfd(2). Each scenario runs in a forked child (which blocks the signal, as
// signalfd(2) requires) and reports through fx::Shared memory.
#include "fx/fx.hpp"

#include <signal.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

using namespace fx;

namespace {
struct FdReport {
  long rv = -2;
  int err = 0;
  signalfd_siginfo info{};
  bool pending_after = true;
};

sigset_t usr1_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  return s;
}
}  // namespace

BEHAVIOUR("signal.signalfd.read-returns-siginfo", "[linux-specific]",
          "a read on a signalfd sleeps until a blocked signal arrives and returns its signalfd_siginfo "
          "(ssi_signo, ssi_code SI_QUEUE, ssi_pid, ssi_uid, ssi_int), consuming the signal",
          "signalfd(2) DESCRIPTION (read(2), The signalfd_siginfo structure)") {
  Shared<FdReport> rep;
  auto child = Child::fork([&] {
    reset_signals();
    sigset_t s = usr1_set();
    ::sigprocmask(SIG_BLOCK, &s, nullptr);
    Fd fd(::signalfd(-1, &s, SFD_CLOEXEC));
    if (!fd) return 1;
    auto r = sys(::read(fd.get(), &rep->info, sizeof rep->info));
    rep->rv = r.value;
    rep->err = r.err;
    rep->pending_after = is_pending(SIGUSR1);
    return 0;
  });
  REQUIRE(wait_blocked(child.pid(), SYS_read));
  REQUIRE_THAT(sys(::sigqueue(child.pid(), SIGUSR1, sigval{.sival_int = 4242})), Returns(0));
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(sizeof(signalfd_siginfo)));
  REQUIRE(rep->info.ssi_signo == static_cast<uint32_t>(SIGUSR1));
  REQUIRE(rep->info.ssi_code == SI_QUEUE);
  REQUIRE(rep->info.ssi_pid == static_cast<uint32_t>(::getpid()));
  REQUIRE(rep->info.ssi_uid == static_cast<uint32_t>(::getuid()));
  REQUIRE(rep->info.ssi_int == 4242);
  REQUIRE_FALSE(rep->pending_after);
}

BEHAVIOUR("signal.signalfd.nonblocking-read-without-signal-fails-eagain", "[linux-specific]",
          "a read on an SFD_NONBLOCK signalfd with none of its signals pending fails with EAGAIN",
          "signalfd(2) DESCRIPTION (read(2); SFD_NONBLOCK)") {
  Shared<FdReport> rep;
  auto st = run_in_child([&] {
    reset_signals();
    sigset_t s = usr1_set();
    ::sigprocmask(SIG_BLOCK, &s, nullptr);
    Fd fd(::signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fd) return 1;
    auto r = sys(::read(fd.get(), &rep->info, sizeof rep->info));
    rep->rv = r.value;
    rep->err = r.err;
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), FailsWith(EAGAIN));
}

BEHAVIOUR("signal.signalfd.poll-readable-while-signal-pending", "[linux-specific]",
          "a signalfd polls POLLIN exactly while one of its signals is pending",
          "signalfd(2) DESCRIPTION (poll(2), select(2): readable if a signal in mask is pending)") {
  struct R { int before = -2, pending = -2, after_read = -2; };
  Shared<R> rep;
  auto st = run_in_child([&] {
    reset_signals();
    sigset_t s = usr1_set();
    ::sigprocmask(SIG_BLOCK, &s, nullptr);
    Fd fd(::signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fd) return 1;
    auto revents = [&] {
      pollfd p{fd.get(), POLLIN, 0};
      return ::poll(&p, 1, 0) < 0 ? -1 : p.revents;
    };
    rep->before = revents();
    ::raise(SIGUSR1);
    rep->pending = revents();
    signalfd_siginfo info;
    if (::read(fd.get(), &info, sizeof info) != sizeof info) return 2;
    rep->after_read = revents();
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->before == 0);
  REQUIRE(rep->pending == POLLIN);
  REQUIRE(rep->after_read == 0);
}
