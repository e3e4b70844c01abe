// posix-sem.open.*: named semaphores. Sources: sem_open(3), sem_overview(7);
// POSIX.1-2017 sem_open().
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"
#include "fx/spawn.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <string>

using namespace fx;

namespace {
// sem_open's result as a SysResult: SEM_FAILED reads as -1 with its errno. A semaphore that
// gets opened anyway is closed (its name belongs to the caller).
SysResult open_sem(std::string const& name, int oflag, unsigned value = 0) {
  sem_t* s = ::sem_open(name.c_str(), oflag, 0600, value);
  int e = errno;
  if (s != SEM_FAILED) {
    ::sem_close(s);
    return {0, 0};
  }
  return {-1, e};
}

Program helper(std::vector<std::string> const& args) {
  return Program::start(helper_path("ipcsuite-posix-helper"), args);
}
}  // namespace

BEHAVIOUR("posix-sem.open.create-excl-on-existing-name-fails-eexist", "[posix]",
          "sem_open with O_CREAT|O_EXCL of a name that already names a semaphore fails with EEXIST",
          "sem_open(3) ERRORS; POSIX.1-2017 sem_open() ERRORS") {
  auto s = make_named_sem(0);
  REQUIRE_THAT(open_sem(s.name.str(), O_CREAT | O_EXCL, 1), FailsWith(EEXIST));
}

BEHAVIOUR("posix-sem.open.missing-name-without-creat-fails-enoent", "[posix]",
          "sem_open without O_CREAT of a name that names no semaphore fails with ENOENT",
          "sem_open(3) ERRORS; POSIX.1-2017 sem_open() ERRORS") {
  auto name = fresh_sem_name();
  REQUIRE_THAT(open_sem(name.str(), 0), FailsWith(ENOENT));
}

BEHAVIOUR("posix-sem.open.value-above-sem-value-max-fails-einval", "[posix]",
          "sem_open with O_CREAT and a value above SEM_VALUE_MAX fails with EINVAL and creates nothing",
          "sem_open(3) ERRORS; POSIX.1-2017 sem_open() ERRORS") {
  auto name = fresh_sem_name();
  REQUIRE_THAT(open_sem(name.str(), O_CREAT | O_EXCL, static_cast<unsigned>(SEM_VALUE_MAX) + 1u),
               FailsWith(EINVAL));
  REQUIRE_THAT(open_sem(name.str(), 0), FailsWith(ENOENT));
}

BEHAVIOUR("posix-sem.open.slash-alone-fails-einval", "[linux-specific]",
          "the name \"/\" with nothing after the slash fails with EINVAL",
          "sem_open(3) ERRORS (EINVAL name consists of just \"/\")") {
  REQUIRE_THAT(open_sem("/", O_CREAT, 1), FailsWith(EINVAL));
}

BEHAVIOUR("posix-sem.open.name-longer-than-251-fails-enametoolong", "[linux-specific]",
          "a name of more than NAME_MAX-4 (251) characters after the slash fails with ENAMETOOLONG",
          "sem_overview(7) Named semaphores (up to NAME_MAX-4 characters); sem_open(3) ERRORS") {
  std::string name = posix_name("sem");
  name += std::string(252 - (name.size() - 1), 'n');
  SemName owner(name);
  REQUIRE_THAT(open_sem(name, O_CREAT | O_EXCL, 1), FailsWith(ENAMETOOLONG));
}

BEHAVIOUR("posix-sem.open.name-of-251-characters-is-accepted", "[linux-specific]",
          "a name of exactly NAME_MAX-4 (251) characters after the slash names a semaphore",
          "sem_overview(7) Named semaphores; Accessing named semaphores via the filesystem") {
  std::string name = posix_name("sem");
  name += std::string(251 - (name.size() - 1), 'n');
  SemName owner(name);
  REQUIRE_THAT(open_sem(name, O_CREAT | O_EXCL, 1), Returns(0));
}

BEHAVIOUR("posix-sem.open.initial-value-is-set", "[posix]",
          "a semaphore created by sem_open starts with the value given",
          "sem_open(3) DESCRIPTION; POSIX.1-2017 sem_open() DESCRIPTION") {
  auto s = make_named_sem(5);
  REQUIRE(sem_value(s.get()) == 5);
}

BEHAVIOUR("posix-sem.open.creat-on-existing-ignores-value", "[posix]",
          "sem_open with O_CREAT of an existing semaphore opens it and ignores mode and value",
          "sem_open(3) DESCRIPTION (If O_CREAT is specified, and a semaphore with the given name "
          "already exists, then mode and value are ignored)") {
  auto s = make_named_sem(2);
  sem_t* again = ::sem_open(s.name.c_str(), O_CREAT, 0644, 9u);
  REQUIRE(again != SEM_FAILED);
  SemHandle h(again);
  REQUIRE(sem_value(h.get()) == 2);
  REQUIRE(::sem_post(h.get()) == 0);
  REQUIRE(sem_value(s.get()) == 3);
}

BEHAVIOUR("posix-sem.open.appears-in-dev-shm-as-sem-dot-name", "[linux-specific]",
          "a named semaphore /x appears as the file /dev/shm/sem.x, owned by the creator, with the "
          "mode masked by the umask",
          "sem_overview(7) Accessing named semaphores via the filesystem; sem_open(3) DESCRIPTION") {
  mode_t old = ::umask(022);
  auto s = make_named_sem(1, 0666);
  ::umask(old);
  struct stat st{};
  std::string path = "/dev/shm/sem." + s.name.str().substr(1);
  REQUIRE_THAT(sys(::stat(path.c_str(), &st)), Returns(0));
  CHECK((st.st_mode & 07777) == 0644);
  CHECK(st.st_uid == ::geteuid());
  REQUIRE_THAT(sys(::sem_unlink(s.name.c_str())), Returns(0));
  REQUIRE_THAT(sys(::stat(path.c_str(), &st)), FailsWith(ENOENT));
}

BEHAVIOUR("posix-sem.open.shared-by-unrelated-processes", "[posix]",
          "an unrelated (exec'd) process that opens the same name posts and waits on the same "
          "semaphore",
          "sem_overview(7) Named semaphores (Two processes can operate on the same named semaphore)") {
  auto s = make_named_sem(0);
  REQUIRE_THAT(helper({"sem-post", s.name.str()}).wait().status, ExitedWith(0));
  REQUIRE(sem_value(s.get()) == 1);
  REQUIRE(::sem_wait(s.get()) == 0);
  auto waiter = helper({"sem-wait", s.name.str()});
  REQUIRE(wait_blocked(waiter.pid(), SYS_futex));
  REQUIRE_THAT(sys(::sem_post(s.get())), Returns(0));
  REQUIRE_THAT(waiter.wait().status, ExitedWith(0));
  REQUIRE(sem_value(s.get()) == 0);
}

BEHAVIOUR("posix-sem.open.mode-denying-caller-fails-eacces", "[posix][unprivileged]",
          "sem_open of an existing semaphore whose permission bits deny the caller read and write "
          "fails with EACCES",
          "sem_open(3) ERRORS (EACCES); POSIX.1-2017 sem_open() ERRORS") {
  // 0400: an unprivileged caller (nobody as "other" under root; the owner itself otherwise)
  // lacks write permission, and sem_open needs both.
  auto s = make_named_sem(1, 0400);
  Shared<SysResult> res(SysResult{-2, 0});
  auto st = run_unprivileged([&, name = s.name.str()] {
    *res = open_sem(name, 0);
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*res, FailsWith(EACCES));
}
