// sysv-shm.get.*: creating and looking up segments with shmget. Source: shmget(2).
#include "fx/fx.hpp"
#include "fx/sysv_shm.hpp"

#include <sys/shm.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <grp.h>

using namespace fx;

namespace {
// shmget that may create a segment although the test expects it to fail: a segment it
// makes is owned at once, so that nothing leaks when the expectation fails.
SysResult shmget_owned(key_t key, size_t size, int flags, ShmSegment& owner) {
  SysResult r = sys(::shmget(key, size, flags));
  if (r.value >= 0) owner = ShmSegment(static_cast<int>(r.value));
  return r;
}
}  // namespace

BEHAVIOUR("sysv-shm.get.segsz-is-requested-size-not-rounded", "[posix]",
          "a new segment's shm_segsz is the size given to shmget, not rounded up to a page",
          "shmget(2) DESCRIPTION (shm_segsz is set to the value of size)") {
  auto seg = make_shm(100);
  REQUIRE(shm_stat(seg.get()).shm_segsz == 100);
}

BEHAVIOUR("sysv-shm.get.size-zero-on-create-fails-einval", "[posix]",
          "creating a segment of size 0 (below SHMMIN, 1 byte) fails with EINVAL",
          "shmget(2) ERRORS (EINVAL: size is less than SHMMIN); shmget(2) NOTES SHMMIN") {
  ShmSegment owner;
  REQUIRE_THAT(shmget_owned(IPC_PRIVATE, 0, IPC_CREAT | 0600, owner), FailsWith(EINVAL));
  REQUIRE_THAT(shmget_owned(fresh_key(), 0, IPC_CREAT | IPC_EXCL | 0600, owner), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-shm.get.size-above-shmmax-fails-einval", "[posix]",
          "creating a segment larger than SHMMAX (/proc/sys/kernel/shmmax) fails with EINVAL",
          "shmget(2) ERRORS (EINVAL: size is greater than SHMMAX); shmget(2) NOTES SHMMAX") {
  unsigned long long shmmax = std::strtoull(read_file("/proc/sys/kernel/shmmax").c_str(), nullptr, 10);
  if (shmmax >= static_cast<unsigned long long>(SIZE_MAX)) skip("SHMMAX is SIZE_MAX: no size is above it");
  ShmSegment owner;
  REQUIRE_THAT(shmget_owned(IPC_PRIVATE, static_cast<size_t>(shmmax) + 1, IPC_CREAT | 0600, owner),
               FailsWith(EINVAL));
}

BEHAVIOUR("sysv-shm.get.existing-key-larger-size-fails-einval", "[posix]",
          "shmget of an existing key with a size greater than the segment's size fails with "
          "EINVAL, even within the segment's last page",
          "shmget(2) ERRORS (EINVAL: a segment for the given key exists, but size is greater)") {
  key_t key = fresh_key();
  auto seg = make_shm(100, key);
  REQUIRE_THAT(sys(::shmget(key, 100, 0600)), Returns(seg.get()));
  // 101 still fits the page the segment occupies: the comparison is with shm_segsz.
  REQUIRE_THAT(sys(::shmget(key, 101, 0600)), FailsWith(EINVAL));
}

BEHAVIOUR("sysv-shm.get.existing-key-size-zero-finds-segment", "[linux-specific]",
          "shmget of an existing key with size 0 returns its identifier: the SHMMIN check "
          "applies only when a segment is created",
          "shmget(2) ERRORS (EINVAL: a new segment was to be created and size is less than SHMMIN)") {
  key_t key = fresh_key();
  auto seg = make_shm(4096, key);
  REQUIRE_THAT(sys(::shmget(key, 0, 0)), Returns(seg.get()));
}

BEHAVIOUR("sysv-shm.get.new-segment-reads-as-zeros", "[posix]",
          "the contents of a new segment are initialised to zero",
          "shmget(2) DESCRIPTION (its contents are initialized to zero values)") {
  constexpr size_t kSize = 3 * 4096 + 17;
  auto seg = make_shm(kSize);
  ShmAttach at(seg.get());
  auto const* p = static_cast<unsigned char const*>(at.get());
  size_t nonzero = 0;
  for (size_t i = 0; i < kSize; ++i) nonzero += p[i] != 0;
  REQUIRE(nonzero == 0);
}

BEHAVIOUR("sysv-shm.get.creat-excl-on-existing-key-fails-eexist", "[posix]",
          "IPC_CREAT|IPC_EXCL on a key that already has a segment fails with EEXIST",
          "shmget(2) DESCRIPTION and ERRORS (EEXIST)") {
  key_t key = fresh_key();
  auto seg = make_shm(4096, key);
  ShmSegment owner;
  REQUIRE_THAT(shmget_owned(key, 4096, IPC_CREAT | IPC_EXCL | 0600, owner), FailsWith(EEXIST));
}

BEHAVIOUR("sysv-shm.get.missing-key-without-creat-fails-enoent", "[posix]",
          "shmget of a key with no segment and without IPC_CREAT fails with ENOENT",
          "shmget(2) ERRORS (ENOENT)") {
  ShmSegment owner;
  REQUIRE_THAT(shmget_owned(fresh_key(), 4096, 0600, owner), FailsWith(ENOENT));
}

BEHAVIOUR("sysv-shm.get.existing-key-returns-same-id", "[posix]",
          "shmget of an existing key, with or without IPC_CREAT, returns the identifier of "
          "the segment made for that key",
          "shmget(2) DESCRIPTION (IPC_CREAT: if not used, finds the segment associated with key)") {
  key_t key = fresh_key();
  auto seg = make_shm(4096, key);
  REQUIRE_THAT(sys(::shmget(key, 4096, 0600)), Returns(seg.get()));
  REQUIRE_THAT(sys(::shmget(key, 4096, IPC_CREAT | 0600)), Returns(seg.get()));
}

BEHAVIOUR("sysv-shm.get.ipc-private-creates-distinct-segments", "[posix]",
          "every shmget(IPC_PRIVATE, ...) creates a new segment, with or without IPC_CREAT",
          "shmget(2) DESCRIPTION and NOTES (IPC_PRIVATE)") {
  auto a = make_shm(4096);
  ShmSegment b;
  REQUIRE_THAT(shmget_owned(IPC_PRIVATE, 4096, 0600, b), Succeeds());
  REQUIRE(b.get() != a.get());
  ShmAttach pa(a.get()), pb(b.get());
  static_cast<char*>(pa.get())[0] = 'a';
  REQUIRE(static_cast<char*>(pb.get())[0] == 0);
}

BEHAVIOUR("sysv-shm.get.new-segment-stat-is-initialised", "[posix]",
          "a new segment has owner and creator ids of the caller's effective ids, the low 9 "
          "bits of shmflg as mode, shm_lpid, shm_nattch, shm_atime and shm_dtime 0, and "
          "shm_ctime the current time",
          "shmget(2) DESCRIPTION (shmid_ds is initialized as follows)") {
  time_t t0 = ::time(nullptr);
  auto seg = make_shm(4096, IPC_PRIVATE, 0640);
  time_t t1 = ::time(nullptr);
  shmid_ds ds = shm_stat(seg.get());
  CHECK(ds.shm_perm.uid == ::geteuid());
  CHECK(ds.shm_perm.cuid == ::geteuid());
  CHECK(ds.shm_perm.gid == ::getegid());
  CHECK(ds.shm_perm.cgid == ::getegid());
  CHECK((ds.shm_perm.mode & 0777) == 0640);
  CHECK(ds.shm_lpid == 0);
  CHECK(ds.shm_nattch == 0);
  CHECK(ds.shm_atime == 0);
  CHECK(ds.shm_dtime == 0);
  CHECK(ds.shm_ctime >= t0);
  CHECK(ds.shm_ctime <= t1);
}

BEHAVIOUR("sysv-shm.get.cpid-is-creating-process", "[posix]",
          "shm_cpid is the process ID of the process that created the segment, also after "
          "that process exits",
          "shmctl(2) DESCRIPTION (shm_cpid: ID of the process that created the segment)") {
  Shared<int> id(-1);
  auto child = Child::fork([&] { *id = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600); });
  pid_t creator = child.pid();
  auto st = child.wait();
  ShmSegment seg(*id);  // owned before any assertion
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(seg.get() >= 0);
  shmid_ds ds = shm_stat(seg.get());
  REQUIRE(ds.shm_cpid == creator);
  REQUIRE(ds.shm_cpid != ::getpid());
}

BEHAVIOUR("sysv-shm.get.existing-key-without-permission-fails-eacces", "[posix][unprivileged]",
          "shmget of an existing key fails with EACCES when the permission asked for in the "
          "low 9 bits of shmflg is not granted to an unprivileged caller",
          "shmget(2) ERRORS (EACCES)") {
  key_t key = fresh_key();
  auto seg = make_shm(4096, key);
  // The unprivileged caller owns the segment; only the mode bits stand in its way.
  shm_give_to_unprivileged(seg.get(), 0200);
  Shared<SysResult> ask_read, ask_write;
  auto st = run_unprivileged([&] {
    *ask_read = sys(::shmget(key, 0, 0400));
    *ask_write = sys(::shmget(key, 0, 0200));
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE_THAT(*ask_read, FailsWith(EACCES));
  REQUIRE_THAT(*ask_write, Returns(seg.get()));
}

BEHAVIOUR("sysv-shm.get.hugetlb-segment-uses-huge-pages", "[linux-specific]",
          "a segment created with SHM_HUGETLB is backed by huge pages: attached at a huge-page "
          "aligned address with a KernelPageSize of the huge page size",
          "shmget(2) DESCRIPTION (SHM_HUGETLB)") {
  long huge_kb = 0;
  {
    std::string mi = read_file("/proc/meminfo");
    auto pos = mi.find("Hugepagesize:");
    if (pos == std::string::npos) unsupported("no Hugepagesize in /proc/meminfo: no hugetlb support");
    huge_kb = std::strtol(mi.c_str() + pos + 13, nullptr, 10);
  }
  size_t huge = static_cast<size_t>(huge_kb) * 1024;
  ShmSegment seg;
  SysResult r = shmget_owned(IPC_PRIVATE, huge, IPC_CREAT | SHM_HUGETLB | 0600, seg);
  if (r.err == EPERM) skip("SHM_HUGETLB needs CAP_IPC_LOCK or the hugetlb_shm_group group");
  if (r.err == ENOMEM || r.err == ENOSYS)
    unsupported("the kernel refused SHM_HUGETLB (" + describe(r) + "): no huge pages configured here");
  REQUIRE_THAT(r, Succeeds());
  ShmAttach at(seg.get());
  REQUIRE(reinterpret_cast<uintptr_t>(at.get()) % huge == 0);
  static_cast<char*>(at.get())[0] = 1;
  REQUIRE(mapping_kernel_page_kb(at.get()) == huge_kb);
}

BEHAVIOUR("sysv-shm.get.hugetlb-unprivileged-fails-eperm", "[linux-specific][unprivileged]",
          "SHM_HUGETLB by a caller without CAP_IPC_LOCK outside the sysctl_hugetlb_shm_group "
          "group fails with EPERM",
          "shmget(2) ERRORS (EPERM); proc(5) /proc/sys/vm/sysctl_hugetlb_shm_group") {
  gid_t group = static_cast<gid_t>(read_long("/proc/sys/vm/hugetlb_shm_group"));
  Shared<SysResult> r;
  Shared<int> segid(-1);
  Shared<bool> in_group(false);
  auto st = run_unprivileged([&] {
    gid_t groups[256];
    int n = ::getgroups(256, groups);
    bool member = ::getegid() == group || ::getgid() == group;
    for (int i = 0; i < n; ++i) member = member || groups[i] == group;
    *in_group = member;
    *r = sys(::shmget(IPC_PRIVATE, 2 << 20, IPC_CREAT | SHM_HUGETLB | 0600));
    if (r->value >= 0) *segid = static_cast<int>(r->value);
    return 0;
  });
  ShmSegment seg(*segid);
  REQUIRE_THAT(st, ExitedWith(0));
  if (r->err == ENOSYS) unsupported("shmget(SHM_HUGETLB) says ENOSYS: no hugetlb support");
  if (*in_group) skip("the unprivileged identity is in hugetlb_shm_group " + std::to_string(group));
  REQUIRE_THAT(*r, FailsWith(EPERM));
}
