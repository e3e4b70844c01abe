// sysv-ipc.limits.*: the System V limits in /proc/sys/kernel agree with what the kernel
// reports through IPC_INFO, MSG_INFO, SEM_INFO and SHM_INFO (all Linux-specific).
// Source: proc(5) /proc/sys/kernel/{msgmax,msgmnb,msgmni,sem,shmall,shmmax,shmmni};
// msgctl(2), semctl(2), shmctl(2) IPC_INFO and *_INFO.
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <sstream>
#include <string>
#include <vector>

using namespace fx;

namespace {
std::vector<unsigned long long> proc_numbers(std::string const& name) {
  std::istringstream in(read_file("/proc/sys/kernel/" + name));
  std::vector<unsigned long long> out;
  for (unsigned long long v; in >> v;) out.push_back(v);
  if (out.empty()) throw std::runtime_error("no number in /proc/sys/kernel/" + name);
  return out;
}
unsigned long long proc_number(std::string const& name) { return proc_numbers(name).at(0); }

msginfo msg_info(int cmd) {
  msginfo info{};
  if (::msgctl(0, cmd, reinterpret_cast<msqid_ds*>(&info)) < 0) throw std::runtime_error("msgctl *_INFO failed");
  return info;
}

seminfo sem_info(int cmd) {
  seminfo info{};
  semun arg;
  arg.__buf = &info;
  if (::semctl(0, 0, cmd, arg) < 0) throw std::runtime_error("semctl *_INFO failed");
  return info;
}
}  // namespace

BEHAVIOUR("sysv-ipc.limits.msg-ipc-info-matches-proc", "[linux-specific]",
          "msgctl IPC_INFO reports msgmax, msgmnb and msgmni equal to /proc/sys/kernel/msgmax, msgmnb, msgmni",
          "msgctl(2) IPC_INFO; proc(5) /proc/sys/kernel/msgmax, msgmnb, msgmni") {
  auto info = msg_info(IPC_INFO);
  REQUIRE(static_cast<unsigned long long>(info.msgmax) == proc_number("msgmax"));
  REQUIRE(static_cast<unsigned long long>(info.msgmnb) == proc_number("msgmnb"));
  REQUIRE(static_cast<unsigned long long>(info.msgmni) == proc_number("msgmni"));
}

BEHAVIOUR("sysv-ipc.limits.msg-info-matches-proc-and-counts-use", "[linux-specific]",
          "msgctl MSG_INFO reports the same msgmax, msgmnb and msgmni, and counts existing queues "
          "(msgpool), queued messages (msgmap) and their bytes (msgtql), ours included",
          "msgctl(2) MSG_INFO") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "12345");
  auto info = msg_info(MSG_INFO);
  REQUIRE(static_cast<unsigned long long>(info.msgmax) == proc_number("msgmax"));
  REQUIRE(static_cast<unsigned long long>(info.msgmnb) == proc_number("msgmnb"));
  REQUIRE(static_cast<unsigned long long>(info.msgmni) == proc_number("msgmni"));
  // Other tests may own queues too: ours is a lower bound.
  REQUIRE(info.msgpool >= 1);
  REQUIRE(info.msgmap >= 1);
  REQUIRE(info.msgtql >= 5);
}

BEHAVIOUR("sysv-ipc.limits.sem-ipc-info-matches-proc", "[linux-specific]",
          "semctl IPC_INFO reports semmsl, semmns, semopm and semmni equal to the four fields of "
          "/proc/sys/kernel/sem",
          "semctl(2) IPC_INFO; proc(5) /proc/sys/kernel/sem") {
  auto proc = proc_numbers("sem");
  REQUIRE(proc.size() == 4);
  auto info = sem_info(IPC_INFO);
  REQUIRE(static_cast<unsigned long long>(info.semmsl) == proc[0]);
  REQUIRE(static_cast<unsigned long long>(info.semmns) == proc[1]);
  REQUIRE(static_cast<unsigned long long>(info.semopm) == proc[2]);
  REQUIRE(static_cast<unsigned long long>(info.semmni) == proc[3]);
}

BEHAVIOUR("sysv-ipc.limits.sem-info-matches-proc-and-counts-use", "[linux-specific]",
          "semctl SEM_INFO reports the same limits as /proc/sys/kernel/sem, and counts existing "
          "sets (semusz) and semaphores (semaem), ours included",
          "semctl(2) SEM_INFO; proc(5) /proc/sys/kernel/sem") {
  auto s = make_sem_set(3);
  auto proc = proc_numbers("sem");
  REQUIRE(proc.size() == 4);
  auto info = sem_info(SEM_INFO);
  REQUIRE(static_cast<unsigned long long>(info.semmsl) == proc[0]);
  REQUIRE(static_cast<unsigned long long>(info.semmns) == proc[1]);
  REQUIRE(static_cast<unsigned long long>(info.semopm) == proc[2]);
  REQUIRE(static_cast<unsigned long long>(info.semmni) == proc[3]);
  REQUIRE(info.semusz >= 1);
  REQUIRE(info.semaem >= 3);
}

BEHAVIOUR("sysv-ipc.limits.shm-ipc-info-matches-proc", "[linux-specific]",
          "shmctl IPC_INFO reports shmmax, shmall and shmmni equal to /proc/sys/kernel/shmmax, "
          "shmall, shmmni, and shmmin 1",
          "shmctl(2) IPC_INFO; proc(5) /proc/sys/kernel/shmmax, shmall, shmmni") {
  shminfo info{};
  REQUIRE_THAT(sys(::shmctl(0, IPC_INFO, reinterpret_cast<shmid_ds*>(&info))), Succeeds());
  REQUIRE(info.shmmax == proc_number("shmmax"));
  REQUIRE(info.shmall == proc_number("shmall"));
  REQUIRE(info.shmmni == proc_number("shmmni"));
  REQUIRE(info.shmmin == 1);
}

BEHAVIOUR("sysv-ipc.limits.shm-info-counts-segments", "[linux-specific]",
          "shmctl SHM_INFO counts existing segments (used_ids) and their pages (shm_tot), ours included",
          "shmctl(2) SHM_INFO") {
  long const page = ::sysconf(_SC_PAGESIZE);
  auto m = make_shm(static_cast<size_t>(3 * page));
  shm_info info{};
  REQUIRE_THAT(sys(::shmctl(0, SHM_INFO, reinterpret_cast<shmid_ds*>(&info))), Succeeds());
  REQUIRE(info.used_ids >= 1);
  REQUIRE(info.shm_tot >= 3);
}
