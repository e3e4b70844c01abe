// posix-mq.notify.*: asynchronous notification of message arrival. Sources: mq_notify(3);
// POSIX.1-2017 mq_notify(); sigevent(7).
//
// A SIGEV_SIGNAL notification is queued to the registered process by the mq_send that
// makes the queue non-empty, so once that call has returned the signal is pending (it is
// blocked here): its absence right after the send is proof, no waiting needed.
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

using namespace fx;

namespace {
constexpr int kSig = SIGUSR1;

sigevent signal_event(int value) {
  sigevent ev{};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = kSig;
  ev.sigev_value.sival_int = value;
  return ev;
}

// Takes the pending notification signal, waiting up to the deadline; si_signo 0 if none came.
siginfo_t take_signal(Deadline d = deadline()) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kSig);
  auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(d.remaining());
  timespec ts{static_cast<time_t>(left.count() / 1'000'000'000), static_cast<long>(left.count() % 1'000'000'000)};
  siginfo_t si{};
  while (::sigtimedwait(&set, &si, &ts) < 0) {
    if (errno != EINTR) return siginfo_t{};
  }
  return si;
}

void send(mqd_t q, char const* s = "m") {
  if (::mq_send(q, s, 1, 0) != 0) throw std::runtime_error("mq_send");
}
void drain(mqd_t q) {
  char buf[64];
  if (::mq_receive(q, buf, sizeof buf, nullptr) < 0) throw std::runtime_error("mq_receive");
}
}  // namespace

BEHAVIOUR("posix-mq.notify.signal-on-arrival-in-empty-queue", "[posix][signal]",
          "a SIGEV_SIGNAL registration sends sigev_signo with si_code SI_MESGQ and the registered "
          "sigev_value when a message arrives in the empty queue",
          "mq_notify(3) DESCRIPTION (SIGEV_SIGNAL); POSIX.1-2017 mq_notify(); sigevent(7)") {
  ScopedMask mask({kSig});
  auto m = make_posix_mq(O_RDWR, 2, 64);
  auto ev = signal_event(4242);
  REQUIRE_THAT(supported(sys(::mq_notify(m.get(), &ev)), "mq_notify"), Returns(0));
  REQUIRE_FALSE(is_pending(kSig));
  send(m.get());
  REQUIRE(is_pending(kSig));
  siginfo_t si = take_signal();
  CHECK(si.si_signo == kSig);
  CHECK(si.si_code == SI_MESGQ);
  CHECK(si.si_value.sival_int == 4242);
}

BEHAVIOUR("posix-mq.notify.siginfo-names-sending-process", "[linux-specific][signal]",
          "the notification's si_pid is the PID of the process that sent the message and si_uid "
          "its real user ID",
          "mq_notify(3) DESCRIPTION (SIGEV_SIGNAL: si_pid, si_uid)") {
  ScopedMask mask({kSig});
  auto m = make_posix_mq(O_RDWR, 2, 64);
  auto ev = signal_event(1);
  REQUIRE_THAT(supported(sys(::mq_notify(m.get(), &ev)), "mq_notify"), Returns(0));
  Shared<pid_t> sender_pid(0);
  auto st = run_in_child([&, q = m.get()] {
    *sender_pid = ::getpid();
    return ::mq_send(q, "c", 1, 0) == 0 ? 0 : 1;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  siginfo_t si = take_signal();
  REQUIRE(si.si_signo == kSig);
  CHECK(si.si_pid == *sender_pid);
  CHECK(si.si_uid == ::getuid());
}

BEHAVIOUR("posix-mq.notify.not-sent-when-queue-was-not-empty", "[posix][signal]",
          "a message arriving in a queue that already holds one sends no notification",
          "mq_notify(3) DESCRIPTION (Message notification occurs only when a new message arrives "
          "and the queue was previously empty)") {
  ScopedMask mask({kSig});
  auto m = make_posix_mq(O_RDWR, 4, 64);
  send(m.get());
  auto ev = signal_event(1);
  REQUIRE_THAT(supported(sys(::mq_notify(m.get(), &ev)), "mq_notify"), Returns(0));
  send(m.get());
  REQUIRE_FALSE(is_pending(kSig));
  // Still registered: once emptied, the next arrival notifies.
  drain(m.get());
  drain(m.get());
  send(m.get());
  REQUIRE(is_pending(kSig));
  REQUIRE(take_signal().si_signo == kSig);
}

BEHAVIOUR("posix-mq.notify.fires-once-then-registration-removed", "[posix][signal]",
          "after one notification the registration is gone: the next arrival in the emptied queue "
          "sends nothing, and another process can register",
          "mq_notify(3) DESCRIPTION (Notification occurs once)") {
  ScopedMask mask({kSig});
  auto m = make_posix_mq(O_RDWR, 4, 64);
  auto ev = signal_event(1);
  REQUIRE_THAT(supported(sys(::mq_notify(m.get(), &ev)), "mq_notify"), Returns(0));
  send(m.get());
  REQUIRE(take_signal().si_signo == kSig);
  drain(m.get());
  send(m.get());
  REQUIRE_FALSE(is_pending(kSig));
  Shared<SysResult> other(SysResult{-2, 0});
  auto st = run_in_child([&, q = m.get()] {
    sigevent none{};
    none.sigev_notify = SIGEV_NONE;
    *other = sys(::mq_notify(q, &none));
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*other, Returns(0));
}

BEHAVIOUR("posix-mq.notify.blocked-receiver-takes-message-registration-stays", "[posix][signal]",
          "while a process is blocked in mq_receive, an arrival goes to it without notification, "
          "and the registration remains in effect",
          "mq_notify(3) DESCRIPTION (If another process or thread is waiting to read ...)") {
  ScopedMask mask({kSig});
  auto m = make_posix_mq(O_RDWR, 4, 64);
  auto ev = signal_event(1);
  REQUIRE_THAT(supported(sys(::mq_notify(m.get(), &ev)), "mq_notify"), Returns(0));
  Shared<long> got(-2);
  auto receiver = Child::fork([&, q = m.get()] {
    char buf[64];
    *got = ::mq_receive(q, buf, sizeof buf, nullptr);
  });
  REQUIRE(wait_blocked(receiver.pid(), SYS_mq_timedreceive));
  send(m.get());
  REQUIRE_THAT(receiver.wait(), ExitedWith(0));
  REQUIRE(*got == 1);
  REQUIRE_FALSE(is_pending(kSig));
  send(m.get());
  REQUIRE(is_pending(kSig));
  REQUIRE(take_signal().si_signo == kSig);
}

BEHAVIOUR("posix-mq.notify.second-process-fails-ebusy", "[posix]",
          "mq_notify from a second process while another is registered fails with EBUSY",
          "mq_notify(3) ERRORS (EBUSY); POSIX.1-2017 mq_notify() ERRORS") {
  auto m = make_posix_mq(O_RDWR, 2, 64);
  sigevent none{};
  none.sigev_notify = SIGEV_NONE;
  REQUIRE_THAT(supported(sys(::mq_notify(m.get(), &none)), "mq_notify"), Returns(0));
  Shared<SysResult> other(SysResult{-2, 0});
  auto st = run_in_child([&, q = m.get()] {
    sigevent ev{};
    ev.sigev_notify = SIGEV_NONE;
    *other = sys(::mq_notify(q, &ev));
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*other, FailsWith(EBUSY));
}

BEHAVIOUR("posix-mq.notify.null-deregisters", "[posix][signal]",
          "mq_notify(NULL) by the registered process removes its registration: no notification "
          "follows and another process can register",
          "mq_notify(3) DESCRIPTION (If sevp is NULL ... the registration is removed)") {
  ScopedMask mask({kSig});
  auto m = make_posix_mq(O_RDWR, 2, 64);
  auto ev = signal_event(1);
  REQUIRE_THAT(supported(sys(::mq_notify(m.get(), &ev)), "mq_notify"), Returns(0));
  REQUIRE_THAT(sys(::mq_notify(m.get(), nullptr)), Returns(0));
  send(m.get());
  REQUIRE_FALSE(is_pending(kSig));
  drain(m.get());
  Shared<SysResult> other(SysResult{-2, 0});
  auto st = run_in_child([&, q = m.get()] {
    sigevent none{};
    none.sigev_notify = SIGEV_NONE;
    *other = sys(::mq_notify(q, &none));
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*other, Returns(0));
}

BEHAVIOUR("posix-mq.notify.sigev-thread-runs-function-with-value", "[posix]",
          "a SIGEV_THREAD registration runs sigev_notify_function, with sigev_value as its "
          "argument, when a message arrives in the empty queue",
          "mq_notify(3) DESCRIPTION (SIGEV_THREAD); sigevent(7)") {
  // Static: glibc's notification thread may still be returning from the function when the
  // test ends, and must never touch unmapped counters.
  static Checkpoints cp;
  uint32_t before = cp.passed(0);
  auto m = make_posix_mq(O_RDWR, 2, 64);
  sigevent ev{};
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = [](sigval v) { static_cast<Checkpoints*>(v.sival_ptr)->wake(0); };
  ev.sigev_value.sival_ptr = &cp;
  REQUIRE_THAT(supported(sys(::mq_notify(m.get(), &ev)), "mq_notify"), Returns(0));
  send(m.get());
  REQUIRE(cp.wait(0, deadline(), before + 1));
}
