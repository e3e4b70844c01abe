// signal.restart.*: what a handled signal does to a blocked system call, with and without
// SA_RESTART. Source: signal(7) "Interruption of system calls and library functions by
// signal handlers"; sigaction(2) SA_RESTART; POSIX.1-2017 sigaction() SA_RESTART.
// A forked child installs the handler and blocks in the call; the test proves it is asleep
// in that call (fx::wait_blocked), signals it, and reads the call's result from fx::Shared.
#include "fx/fx.hpp"
#include "fx/sysv.hpp"

#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include <functional>

using namespace fx;

namespace {
struct CallReport {
  int handled = 0;  // written from the handler in the child (shared memory)
  long rv = -2;
  int err = 0;
};
CallReport* g_report = nullptr;  // the child's pointer to the shared report

void counting_handler(int) { __atomic_add_fetch(&g_report->handled, 1, __ATOMIC_SEQ_CST); }

int handled(CallReport const& r) { return __atomic_load_n(&r.handled, __ATOMIC_SEQ_CST); }

bool wait_handled(CallReport const& r, Deadline d = deadline()) {
  return wait_until([&] { return handled(r) >= 1; }, d);
}

// Forks a child that sets SIGUSR1's handler with `flags` and makes `call` (which blocks).
Child start_blocking_call(Shared<CallReport>& rep, int flags, std::function<long()> call) {
  return Child::fork([&rep, flags, call] {
    reset_signals();
    g_report = rep.get();
    struct sigaction sa {};
    sa.sa_handler = counting_handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGUSR1, &sa, nullptr) != 0) return 1;
    auto r = sys(call());
    rep->rv = r.value;
    rep->err = r.err;
    return 0;
  });
}

// The never-restarted System V calls: interrupted with SA_RESTART set, they fail EINTR.
void expect_eintr_despite_sa_restart(long syscall_nr, std::function<long()> call) {
  Shared<CallReport> rep;
  auto child = start_blocking_call(rep, SA_RESTART, std::move(call));
  REQUIRE(wait_blocked(child.pid(), syscall_nr));
  child.signal(SIGUSR1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(handled(*rep) == 1);
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), FailsWith(EINTR));
}

struct Msg {
  long mtype;
  char mtext[8];
};
}  // namespace

BEHAVIOUR("signal.restart.sa-restart-restarts-pipe-read", "[posix]",
          "a read blocked on an empty pipe, interrupted by a handler installed with SA_RESTART, resumes "
          "after the handler and completes with the data",
          "signal(7) Interruption of system calls and library functions by signal handlers; sigaction(2) "
          "SA_RESTART; POSIX.1-2017 sigaction() SA_RESTART") {
  auto [r, w] = make_pipe();
  Shared<CallReport> rep;
  int const rfd = r.get();
  auto child = start_blocking_call(rep, SA_RESTART, [rfd] {
    char b;
    return static_cast<long>(::read(rfd, &b, 1));
  });
  REQUIRE(wait_blocked(child.pid(), SYS_read));
  child.signal(SIGUSR1);
  REQUIRE(wait_handled(*rep));
  // Back asleep in read after the handler: the call was restarted, not failed.
  REQUIRE(wait_blocked(child.pid(), SYS_read));
  write_all(w.get(), "x", 1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(handled(*rep) == 1);
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), Returns(1));
}

BEHAVIOUR("signal.restart.pipe-read-without-sa-restart-fails-eintr", "[posix]",
          "a read blocked on an empty pipe, interrupted by a handler installed without SA_RESTART, fails "
          "with EINTR",
          "signal(7) Interruption of system calls and library functions by signal handlers; read(2) ERRORS; "
          "POSIX.1-2017 read() ERRORS") {
  auto [r, w] = make_pipe();
  Shared<CallReport> rep;
  int const rfd = r.get();
  auto child = start_blocking_call(rep, 0, [rfd] {
    char b;
    return static_cast<long>(::read(rfd, &b, 1));
  });
  REQUIRE(wait_blocked(child.pid(), SYS_read));
  child.signal(SIGUSR1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(handled(*rep) == 1);
  REQUIRE_THAT((SysResult{rep->rv, rep->err}), FailsWith(EINTR));
}

BEHAVIOUR("signal.restart.msgrcv-fails-eintr-despite-sa-restart", "[linux-specific]",
          "a msgrcv blocked on an empty queue fails with EINTR when interrupted, even with SA_RESTART",
          "signal(7) Interruption of system calls and library functions by signal handlers (never restarted: "
          "msgrcv); msgrcv(2) ERRORS") {
  auto q = make_msg_queue();
  int const id = q.get();
  expect_eintr_despite_sa_restart(SYS_msgrcv, [id] {
    Msg m{};
    return static_cast<long>(::msgrcv(id, &m, sizeof m.mtext, 0, 0));
  });
}

BEHAVIOUR("signal.restart.msgsnd-fails-eintr-despite-sa-restart", "[linux-specific]",
          "a msgsnd blocked on a full queue fails with EINTR when interrupted, even with SA_RESTART",
          "signal(7) Interruption of system calls and library functions by signal handlers (never restarted: "
          "msgsnd); msgsnd(2) ERRORS") {
  auto q = make_msg_queue();
  // A queue of 8 bytes, full after one 8-byte message (lowering msg_qbytes needs no privilege).
  msqid_ds ds{};
  REQUIRE(::msgctl(q.get(), IPC_STAT, &ds) == 0);
  ds.msg_qbytes = sizeof(Msg::mtext);
  REQUIRE(::msgctl(q.get(), IPC_SET, &ds) == 0);
  Msg m{1, {'f', 'u', 'l', 'l', '.', '.', '.', '.'}};
  REQUIRE(::msgsnd(q.get(), &m, sizeof m.mtext, IPC_NOWAIT) == 0);
  int const id = q.get();
  expect_eintr_despite_sa_restart(SYS_msgsnd, [id] {
    Msg more{1, {}};
    return static_cast<long>(::msgsnd(id, &more, sizeof more.mtext, 0));
  });
}

BEHAVIOUR("signal.restart.semop-fails-eintr-despite-sa-restart", "[linux-specific]",
          "a semop blocked waiting to decrement a zero semaphore fails with EINTR when interrupted, even "
          "with SA_RESTART",
          "signal(7) Interruption of system calls and library functions by signal handlers (never restarted: "
          "semop); semop(2) ERRORS") {
  auto s = make_sem_set(1);
  int const id = s.get();
  // glibc implements semop as the semtimedop system call with no timeout (seen in
  // /proc/<pid>/syscall of a blocked semop on x86_64: 220, not 65).
  expect_eintr_despite_sa_restart(SYS_semtimedop, [id] {
    sembuf op{0, -1, 0};
    return static_cast<long>(::semop(id, &op, 1));
  });
}

BEHAVIOUR("signal.restart.semtimedop-fails-eintr-despite-sa-restart", "[linux-specific]",
          "a semtimedop blocked waiting to decrement a zero semaphore fails with EINTR when interrupted, even "
          "with SA_RESTART",
          "signal(7) Interruption of system calls and library functions by signal handlers (never restarted: "
          "semtimedop); semop(2) ERRORS") {
  auto s = make_sem_set(1);
  int const id = s.get();
  expect_eintr_despite_sa_restart(SYS_semtimedop, [id] {
    sembuf op{0, -1, 0};
    // Far beyond the test's deadline: only the signal can end the wait.
    timespec ts{60, 0};
    return static_cast<long>(::semtimedop(id, &op, 1, &ts));
  });
}
