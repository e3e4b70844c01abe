// sysv-shm.attach.*: attaching segments with shmat. Source: shmop(2) shmat() and NOTES.
#include "fx/fx.hpp"
#include "fx/spawn.hpp"
#include "fx/sysv_shm.hpp"

#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <system_error>

using namespace fx;

namespace {
size_t page_size() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }
size_t shmlba() { return static_cast<size_t>(SHMLBA); }

// An anonymous private mapping, unmapped on scope exit.
struct Mapping {
  explicit Mapping(size_t len) : n(len) {
    void* m = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    p = static_cast<char*>(m);
  }
  Mapping(Mapping const&) = delete;
  Mapping& operator=(Mapping const&) = delete;
  ~Mapping() { ::munmap(p, n); }
  char* p;
  size_t n;
};
}  // namespace

BEHAVIOUR("sysv-shm.attach.null-address-attaches-page-aligned", "[posix]",
          "shmat with a null address attaches the segment at a page-aligned address the "
          "system chooses, readable and writable",
          "shmop(2) shmat() (shmaddr NULL: the system chooses a page-aligned address)") {
  auto seg = make_shm(4096);
  auto a = try_shmat(seg.get(), nullptr, 0);
  REQUIRE_THAT(a.result, Succeeds());
  REQUIRE(reinterpret_cast<uintptr_t>(a.addr) % page_size() == 0);
  a.bytes()[0] = 'x';
  REQUIRE(a.bytes()[0] == 'x');
}

BEHAVIOUR("sysv-shm.attach.forked-child-and-parent-share-writes", "[posix]",
          "a forked child that inherited the attachment and its parent see each other's writes",
          "shmop(2) NOTES (after fork the child inherits the attached segments); sysvipc(7)") {
  auto seg = make_shm(4096);
  ShmAttach at(seg.get());
  auto* mem = static_cast<char volatile*>(at.get());
  Checkpoints cp;
  Shared<char> seen(0);
  auto child = Child::fork([&] {
    if (!cp.wait(0)) return 1;
    *seen = mem[0];
    mem[1] = 'c';
    return 0;
  });
  mem[0] = 'p';
  cp.wake(0);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(*seen == 'p');
  REQUIRE(mem[1] == 'c');
}

BEHAVIOUR("sysv-shm.attach.exec-process-shares-writes", "[posix]",
          "an unrelated exec'd process that attaches the segment by identifier sees the "
          "test's writes, and the test sees its writes",
          "shmop(2) shmat(); sysvipc(7) Shared memory segments") {
  auto seg = make_shm(4096);
  ShmAttach at(seg.get());
  auto* mem = static_cast<char*>(at.get());
  std::strcpy(mem, "from-test");
  auto r = Program::start(helper_path("ipcsuite-shm-helper"), {"read", std::to_string(seg.get())}).wait();
  REQUIRE_THAT(r.status, ExitedWith(0));
  REQUIRE(r.out == "from-test");
  auto w = Program::start(helper_path("ipcsuite-shm-helper"), {"write", std::to_string(seg.get()), "from-helper"}).wait();
  REQUIRE_THAT(w.status, ExitedWith(0));
  REQUIRE(std::string(mem) == "from-helper");
}

BEHAVIOUR("sysv-shm.attach.unaligned-address-without-rnd-fails-einval", "[posix]",
          "shmat at an address that is not page-aligned, without SHM_RND, fails with EINVAL",
          "shmop(2) shmat() and ERRORS (EINVAL: unaligned and SHM_RND was not specified)") {
  auto seg = make_shm(4096);
  char* free = free_address_range(2 * shmlba(), shmlba());
  auto a = try_shmat(seg.get(), free + 1, 0);
  REQUIRE_THAT(a.result, FailsWith(EINVAL));
  // The same free range, aligned, is accepted: the misalignment alone was refused.
  auto b = try_shmat(seg.get(), free, 0);
  REQUIRE_THAT(b.result, Returns(reinterpret_cast<long>(free)));
}

BEHAVIOUR("sysv-shm.attach.rnd-rounds-address-down-to-shmlba", "[posix]",
          "with SHM_RND, shmat attaches at the given address rounded down to a multiple of SHMLBA",
          "shmop(2) shmat() (SHM_RND) and NOTES (SHMLBA)") {
  auto seg = make_shm(4096);
  char* free = free_address_range(3 * shmlba(), shmlba());
  char* target = free + shmlba();
  auto a = try_shmat(seg.get(), target + shmlba() / 2 + 1, SHM_RND);
  REQUIRE_THAT(a.result, Returns(reinterpret_cast<long>(target)));
}

BEHAVIOUR("sysv-shm.attach.rdonly-reads-see-writes", "[posix]",
          "an SHM_RDONLY attachment reads what a read-write attachment of the segment wrote",
          "shmop(2) shmat() (SHM_RDONLY: attach for read-only access)") {
  auto seg = make_shm(4096);
  ShmAttach rw(seg.get());
  auto ro = try_shmat(seg.get(), nullptr, SHM_RDONLY);
  REQUIRE_THAT(ro.result, Succeeds());
  std::strcpy(static_cast<char*>(rw.get()), "visible");
  REQUIRE(std::string(ro.bytes()) == "visible");
  REQUIRE(mapping_perms(ro.addr).substr(0, 2) == "r-");
}

BEHAVIOUR("sysv-shm.attach.rdonly-write-kills-with-sigsegv", "[posix][signal]",
          "a store through an SHM_RDONLY attachment kills the process with SIGSEGV",
          "shmop(2) shmat() (SHM_RDONLY: attach for read-only access)") {
  auto seg = make_shm(4096);
  auto st = run_in_child([id = seg.get()] {
    reset_signals();
    void* p = ::shmat(id, nullptr, SHM_RDONLY);
    if (p == reinterpret_cast<void*>(-1)) return 3;
    *static_cast<char volatile*>(p) = 'x';
    return 0;
  });
  REQUIRE_THAT(st, KilledBy(SIGSEGV));
  // The store never reached the segment.
  ShmAttach at(seg.get(), nullptr, SHM_RDONLY);
  REQUIRE(static_cast<char*>(at.get())[0] == 0);
}

BEHAVIOUR("sysv-shm.attach.rdonly-without-read-permission-fails-eacces", "[posix][unprivileged]",
          "an unprivileged SHM_RDONLY attach of a segment whose mode denies the caller read "
          "permission fails with EACCES",
          "shmop(2) shmat() (SHM_RDONLY: must have read permission) and ERRORS (EACCES)") {
  auto seg = make_shm(4096);
  // The unprivileged caller owns the segment: the owner bits alone decide.
  shm_give_to_unprivileged(seg.get(), 0200);
  Shared<SysResult> denied, granted;
  auto st = run_unprivileged([&, id = seg.get()] {
    void* p = ::shmat(id, nullptr, SHM_RDONLY);
    *denied = sys(reinterpret_cast<long>(p));
    shmid_ds ds{};
    ds.shm_perm.uid = ::geteuid();
    ds.shm_perm.gid = ::getegid();
    ds.shm_perm.mode = 0400;
    if (::shmctl(id, IPC_SET, &ds) != 0) return 3;
    p = ::shmat(id, nullptr, SHM_RDONLY);
    *granted = sys(reinterpret_cast<long>(p));
    return 0;  // exit detaches whatever was attached
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*denied, FailsWith(EACCES));
  REQUIRE_THAT(*granted, Succeeds());
}

BEHAVIOUR("sysv-shm.attach.read-write-with-read-permission-only-fails-eacces", "[posix][unprivileged]",
          "an unprivileged read-write attach (no SHM_RDONLY) of a segment the caller may only "
          "read fails with EACCES, while an SHM_RDONLY attach succeeds",
          "shmop(2) shmat() (without SHM_RDONLY the process must have read and write permission)") {
  auto seg = make_shm(4096);
  shm_give_to_unprivileged(seg.get(), 0400);
  Shared<SysResult> rw, ro;
  auto st = run_unprivileged([&, id = seg.get()] {
    *rw = sys(reinterpret_cast<long>(::shmat(id, nullptr, 0)));
    *ro = sys(reinterpret_cast<long>(::shmat(id, nullptr, SHM_RDONLY)));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*rw, FailsWith(EACCES));
  REQUIRE_THAT(*ro, Succeeds());
}

BEHAVIOUR("sysv-shm.attach.same-segment-twice-aliases", "[posix]",
          "one process may attach the same segment twice, at two addresses that alias the "
          "same memory, and shm_nattch counts both",
          "shmop(2) shmat() (the same segment may be attached more than once)") {
  auto seg = make_shm(4096);
  ShmAttach a(seg.get()), b(seg.get());
  REQUIRE(a.get() != b.get());
  static_cast<char volatile*>(a.get())[10] = 'q';
  REQUIRE(static_cast<char volatile*>(b.get())[10] == 'q');
  REQUIRE(shm_stat(seg.get()).shm_nattch == 2);
}

BEHAVIOUR("sysv-shm.attach.sets-atime-lpid-and-increments-nattch", "[posix]",
          "a successful shmat sets shm_atime to the current time and shm_lpid to the caller's "
          "pid, and increments shm_nattch",
          "shmop(2) shmat() (a successful shmat() call updates the members of shmid_ds)") {
  auto seg = make_shm(4096);
  REQUIRE(shm_stat(seg.get()).shm_atime == 0);
  Checkpoints cp;
  time_t t0 = ::time(nullptr);
  auto child = Child::fork([&, id = seg.get()] {
    if (::shmat(id, nullptr, 0) == reinterpret_cast<void*>(-1)) return 3;
    cp.wake(0);
    (void)cp.wait(1);
    return 0;
  });
  REQUIRE(cp.wait(0));
  time_t t1 = ::time(nullptr);
  shmid_ds ds = shm_stat(seg.get());
  cp.wake(1);
  pid_t attacher = child.pid();
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  CHECK(ds.shm_lpid == attacher);
  CHECK(ds.shm_nattch == 1);
  CHECK(ds.shm_atime >= t0);
  CHECK(ds.shm_atime <= t1);
}

BEHAVIOUR("sysv-shm.attach.fork-inherits-attachment", "[posix]",
          "a forked child inherits its parent's attachment: shm_nattch goes up by one in the child",
          "shmop(2) NOTES (after a fork(2) the child inherits the attached segments)") {
  auto seg = make_shm(4096);
  ShmAttach at(seg.get());
  REQUIRE(shm_stat(seg.get()).shm_nattch == 1);
  Shared<long> in_child(-1);
  auto st = run_in_child([&, id = seg.get()] {
    shmid_ds ds{};
    if (::shmctl(id, IPC_STAT, &ds) != 0) return 3;
    *in_child = static_cast<long>(ds.shm_nattch);
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(*in_child == 2);
}

BEHAVIOUR("sysv-shm.attach.exec-detaches", "[posix]",
          "execve detaches every attached segment: the exec'd program sees shm_nattch one lower "
          "than the process did before exec",
          "shmop(2) NOTES (after an execve(2), all attached segments are detached)") {
  auto seg = make_shm(4096);
  ShmAttach at(seg.get());
  Shared<long> before_exec(-1);
  auto st = run_in_child([&, id = seg.get()] {
    shmid_ds ds{};
    if (::shmctl(id, IPC_STAT, &ds) != 0) return 3;
    *before_exec = static_cast<long>(ds.shm_nattch);
    exec_helper("ipcsuite-shm-helper", {"nattch", std::to_string(id)});  // exits with shm_nattch
  });
  REQUIRE(*before_exec == 2);  // the test's attachment and the child's inherited one
  REQUIRE_THAT(st, ExitedWith(1));
}

BEHAVIOUR("sysv-shm.attach.exit-detaches", "[posix]",
          "a process that exits without shmdt is detached: shm_nattch drops back",
          "shmop(2) NOTES (upon _exit(2), all attached segments are detached)") {
  auto seg = make_shm(4096);
  Checkpoints cp;
  auto child = Child::fork([&, id = seg.get()] {
    if (::shmat(id, nullptr, 0) == reinterpret_cast<void*>(-1)) return 3;
    cp.wake(0);
    return cp.wait(1) ? 0 : 4;
  });
  REQUIRE(cp.wait(0));
  REQUIRE(shm_stat(seg.get()).shm_nattch == 1);
  cp.wake(1);
  REQUIRE_THAT(child.wait(), ExitedWith(0));
  REQUIRE(shm_stat(seg.get()).shm_nattch == 0);
}

BEHAVIOUR("sysv-shm.attach.killed-process-detaches", "[posix][signal]",
          "a process killed by a signal while attached is detached: shm_nattch drops back",
          "shmop(2) NOTES (upon _exit(2), all attached segments are detached)") {
  auto seg = make_shm(4096);
  Checkpoints cp;
  auto child = Child::fork([&, id = seg.get()] {
    if (::shmat(id, nullptr, 0) == reinterpret_cast<void*>(-1)) return 3;
    cp.wake(0);
    for (;;) ::pause();
  });
  REQUIRE(cp.wait(0));
  REQUIRE(shm_stat(seg.get()).shm_nattch == 1);
  child.signal(SIGKILL);
  REQUIRE_THAT(child.wait(), KilledBy(SIGKILL));
  REQUIRE(shm_stat(seg.get()).shm_nattch == 0);
}

BEHAVIOUR("sysv-shm.attach.invalid-id-fails-einval", "[posix]",
          "shmat of an identifier that names no segment fails with EINVAL",
          "shmop(2) ERRORS (EINVAL: invalid shmid value)") {
  auto a = try_shmat(-1, nullptr, 0);
  REQUIRE_THAT(a.result, FailsWith(EINVAL));
}

BEHAVIOUR("sysv-shm.attach.exec-flag-maps-executable", "[linux-specific]",
          "SHM_EXEC attaches the segment with execute permission (the mapping is executable; "
          "on x86-64 code stored in it runs), without it the mapping is not executable",
          "shmop(2) shmat() (SHM_EXEC: allow the contents of the segment to be executed)") {
  auto seg = make_shm(4096, IPC_PRIVATE, 0700);
  auto plain = try_shmat(seg.get(), nullptr, 0);
  REQUIRE_THAT(plain.result, Succeeds());
  REQUIRE(mapping_perms(plain.addr) == "rw-s");
  auto x = try_shmat(seg.get(), nullptr, SHM_EXEC);
  REQUIRE_THAT(x.result, Succeeds());
  REQUIRE(mapping_perms(x.addr) == "rwxs");
#if defined(__x86_64__)
  x.bytes()[0] = static_cast<char>(0xc3);  // ret
  auto st = run_in_child([p = x.addr] {
    reset_signals();
    reinterpret_cast<void (*)()>(p)();
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
#endif
}

BEHAVIOUR("sysv-shm.attach.exec-flag-without-execute-permission-fails-eacces",
          "[linux-specific][unprivileged]",
          "an unprivileged SHM_EXEC attach of a segment whose mode grants the caller no execute "
          "permission fails with EACCES; with the execute bit it succeeds",
          "shmop(2) shmat() (SHM_EXEC: the caller must have execute permission on the segment)") {
  auto seg = make_shm(4096);
  shm_give_to_unprivileged(seg.get(), 0600);
  Shared<SysResult> denied, granted;
  auto st = run_unprivileged([&, id = seg.get()] {
    *denied = sys(reinterpret_cast<long>(::shmat(id, nullptr, SHM_EXEC)));
    shmid_ds ds{};
    ds.shm_perm.uid = ::geteuid();
    ds.shm_perm.gid = ::getegid();
    ds.shm_perm.mode = 0700;
    if (::shmctl(id, IPC_SET, &ds) != 0) return 3;
    *granted = sys(reinterpret_cast<long>(::shmat(id, nullptr, SHM_EXEC)));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*denied, FailsWith(EACCES));
  REQUIRE_THAT(*granted, Succeeds());
}

BEHAVIOUR("sysv-shm.attach.over-existing-mapping-fails-einval", "[linux-specific]",
          "shmat at an address range that already holds a mapping, without SHM_REMAP, fails "
          "with EINVAL and leaves the mapping as it was",
          "shmop(2) shmat() (SHM_REMAP: normally an EINVAL error would result if a mapping "
          "already exists in this address range)") {
  auto seg = make_shm(4096);
  Mapping m(page_size());
  m.p[0] = 'm';
  auto a = try_shmat(seg.get(), m.p, 0);
  REQUIRE_THAT(a.result, FailsWith(EINVAL));
  REQUIRE(m.p[0] == 'm');
  REQUIRE(mapping_perms(m.p) == "rw-p");
}

BEHAVIOUR("sysv-shm.attach.remap-replaces-existing-mapping", "[linux-specific]",
          "with SHM_REMAP, shmat at an address range that holds a mapping replaces it: the "
          "range then shows the segment",
          "shmop(2) shmat() (SHM_REMAP)") {
  auto seg = make_shm(4096);
  ShmAttach writer(seg.get());
  std::strcpy(static_cast<char*>(writer.get()), "segment");
  Mapping m(page_size());  // declared before the attachment: unmapped after the shmdt
  std::strcpy(m.p, "private");
  auto a = try_shmat(seg.get(), m.p, SHM_REMAP);
  REQUIRE_THAT(a.result, Returns(reinterpret_cast<long>(m.p)));
  REQUIRE(std::string(m.p) == "segment");
  REQUIRE(mapping_perms(m.p) == "rw-s");
}

BEHAVIOUR("sysv-shm.attach.remap-null-address-fails-einval", "[linux-specific]",
          "shmat with SHM_REMAP and a null address fails with EINVAL",
          "shmop(2) shmat() (SHM_REMAP: shmaddr must not be NULL) and ERRORS (EINVAL)") {
  auto seg = make_shm(4096);
  auto a = try_shmat(seg.get(), nullptr, SHM_REMAP);
  REQUIRE_THAT(a.result, FailsWith(EINVAL));
}
