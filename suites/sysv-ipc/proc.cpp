// sysv-ipc.proc.*: /proc/sysvipc/{msg,sem,shm} list every object with its key, identifier,
// permissions and owner. Source: proc(5) /proc/sysvipc; sysvipc(7).
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>

using namespace fx;

namespace {
// The row of object `id` as column name -> value, columns named by the file's header.
std::map<std::string, std::string> row_of(IpcKind k, int id) {
  auto header = sysvipc_header(kind_name(k));
  auto row = sysvipc_row(kind_name(k), id);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < std::min(header.size(), row.size()); ++i) out[header[i]] = row[i];
  return out;
}

void row_shows_object(IpcKind k, char const* id_column) {
  key_t key = fresh_key();
  auto obj = make_ipc_object(k, key, 0640);
  auto r = row_of(k, obj.get());
  REQUIRE_FALSE(r.empty());
  REQUIRE(r["key"] == std::to_string(key));
  REQUIRE(r[id_column] == std::to_string(obj.get()));
  // perms is printed in octal.
  REQUIRE((std::stoul(r["perms"], nullptr, 8) & 0777) == 0640);
  REQUIRE(r["uid"] == std::to_string(::geteuid()));
  REQUIRE(r["gid"] == std::to_string(::getegid()));
  REQUIRE(r["cuid"] == std::to_string(::geteuid()));
  REQUIRE(r["cgid"] == std::to_string(::getegid()));
}
}  // namespace

BEHAVIOUR("sysv-ipc.proc.msg-row-shows-key-id-perms-owner", "[linux-specific]",
          "/proc/sysvipc/msg has a row for a queue with its key, msqid, octal perms, uid, gid, cuid and cgid",
          "proc(5) /proc/sysvipc") {
  row_shows_object(IpcKind::Msg, "msqid");
}
BEHAVIOUR("sysv-ipc.proc.sem-row-shows-key-id-perms-owner", "[linux-specific]",
          "/proc/sysvipc/sem has a row for a set with its key, semid, octal perms, uid, gid, cuid and cgid",
          "proc(5) /proc/sysvipc") {
  row_shows_object(IpcKind::Sem, "semid");
}
BEHAVIOUR("sysv-ipc.proc.shm-row-shows-key-id-perms-owner", "[linux-specific]",
          "/proc/sysvipc/shm has a row for a segment with its key, shmid, octal perms, uid, gid, cuid and cgid",
          "proc(5) /proc/sysvipc") {
  row_shows_object(IpcKind::Shm, "shmid");
}

BEHAVIOUR("sysv-ipc.proc.msg-row-shows-queue-state", "[linux-specific]",
          "the /proc/sysvipc/msg row of a queue shows its message count (qnum), bytes (cbytes) "
          "and last sender (lspid)",
          "proc(5) /proc/sysvipc; msgctl(2) msqid_ds") {
  auto q = make_msg_queue();
  send_msg(q.get(), 1, "abcd");
  send_msg(q.get(), 2, "ef");
  auto r = row_of(IpcKind::Msg, q.get());
  REQUIRE(r["qnum"] == "2");
  REQUIRE(r["cbytes"] == "6");
  REQUIRE(r["lspid"] == std::to_string(::getpid()));
  REQUIRE(r["lrpid"] == "0");
}

BEHAVIOUR("sysv-ipc.proc.sem-and-shm-rows-show-size", "[linux-specific]",
          "the /proc/sysvipc rows show a set's nsems and a segment's size in bytes",
          "proc(5) /proc/sysvipc; semctl(2) semid_ds; shmctl(2) shmid_ds") {
  auto s = make_sem_set(3);
  auto m = make_shm(8192);
  REQUIRE(row_of(IpcKind::Sem, s.get())["nsems"] == "3");
  REQUIRE(row_of(IpcKind::Shm, m.get())["size"] == "8192");
}

BEHAVIOUR("sysv-ipc.proc.row-gone-after-rmid", "[linux-specific]",
          "after IPC_RMID a queue no longer has a row in /proc/sysvipc/msg",
          "proc(5) /proc/sysvipc (objects that currently exist); msgctl(2) IPC_RMID") {
  auto q = make_msg_queue();
  int id = q.get();
  REQUIRE_FALSE(sysvipc_row("msg", id).empty());
  q.reset();
  REQUIRE(sysvipc_row("msg", id).empty());
}
