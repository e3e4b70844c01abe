// System V semaphore stress: N processes increment a counter in a System V shared memory
// segment, each increment inside a critical section guarded by one semaphore taken and
// released with SEM_UNDO. In the "kill" variant some holders are killed with SIGKILL
// inside the critical section; semop(2) SEM_UNDO ("the operation will be automatically
// undone when the process terminates") must then release the semaphore for the others.
//
// What is checked:
//  - mutual exclusion: the counter is read and written with plain loads and stores, so two
//    holders at once lose updates; every holder checks on entry that nobody else is inside
//    (an owner word) and that the counter equals the sum of the increments credited so far;
//  - exact final count, computed independently of the counter: every survivor does
//    `iterations` increments, a victim the increments before its fatal iteration, plus
//    that one if it was killed after its store to the counter. Each increment is
//    bracketed by an intent record (the counter value before it, and a pending bit set in
//    the same word as the credited count), so a killed holder's half-done increment is
//    resolved exactly by the next holder;
//  - no deadlock: every semop is a semtimedop with a timeout (--wait-ms); a timeout is
//    reported as a violation. After the run the semaphore is 1 again and nobody waits.
//  - while a victim holds the semaphore, GETVAL is 0 and GETPID is the victim's pid.
#include "common/mech_support.hpp"

#include "fx/sysv.hpp"
#include "fx/sysv_sem.hpp"

#include <sys/sem.h>

#include <cerrno>
#include <thread>

using namespace stress;
using namespace stress::mech;

namespace {

constexpr unsigned kMaxWorkers = 64;

struct Slot {
  std::atomic<uint64_t> state;   // credited increments << 1 | pending
  std::atomic<uint64_t> before;  // the counter value an increment started from
  std::atomic<int32_t> ready;    // a victim waiting to be killed
  std::atomic<int32_t> killed;   // set by the parent before it sends SIGKILL
};

struct Area {
  std::atomic<uint64_t> counter;  // plain load + store only: a lost update must show
  std::atomic<uint32_t> owner;    // slot index + 1 of the holder, 0 when free
  Slot slots[kMaxWorkers];
};

struct Victim {
  bool is = false;
  uint64_t iteration = 0;
  int stage = 0;  // 0: before the intent, 1: before the store, 2: before the credit, 3: before release
};

struct Params {
  unsigned workers;
  uint64_t iterations;
  unsigned kills;
};

int sem_timed(int semid, short op, short flg, std::chrono::milliseconds wait) {
  sembuf sb{0, op, flg};
  timespec ts = rel_timespec(wait);
  for (;;) {
    if (::semtimedop(semid, &sb, 1, &ts) == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

// Resolves the half-done increment of a holder that died inside the critical section.
void resolve(Area& a, unsigned j, Tally& t, Metrics const& m, std::string const& who) {
  Slot& s = a.slots[j];
  uint64_t st = s.state.load();
  if (!(st & 1)) return;
  uint64_t c = a.counter.load(), b = s.before.load();
  if (c == b + 1)
    s.state.store(((st >> 1) + 1) << 1);  // the store happened: credit it
  else if (c == b)
    s.state.store(st & ~uint64_t(1));  // it did not
  else
    report(t, m, who + ": killed holder " + std::to_string(j) + " started from " + std::to_string(b) +
                     " but the counter is " + std::to_string(c));
}

int worker(Run const& run, Params const& p, int semid, Area& a, unsigned me, Victim v, Tally& t, Metrics const& m) {
  std::string who = "worker " + std::to_string(me) + " (pid " + std::to_string(::getpid()) + ")";
  Slot& mine = a.slots[me];
  bool bad = false;
  auto die_here = [&](uint64_t it, int stage) {
    if (!v.is || it != v.iteration || stage != v.stage) return;
    mine.ready.store(1);
    // Inside the critical section, waiting for the parent's SIGKILL.
    auto d = fx::deadline(run.wait);
    while (!d.expired()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    report(t, m, who + ": victim was not killed within the wait");
    ::_exit(kWorkerViolation);
  };
  for (uint64_t it = 0; it < p.iterations; ++it) {
    bool victim_now = v.is && it == v.iteration;
    short flg = (victim_now && run.fault == Fault::NoUndo) ? 0 : SEM_UNDO;
    if (sem_timed(semid, -1, flg, run.wait) != 0) {
      report(t, m, who + ": iteration " + std::to_string(it) + ": semtimedop(-1) " +
                       (errno == EAGAIN ? "timed out after " + std::to_string(run.wait.count()) +
                                              " ms: deadlock (a dead holder's SEM_UNDO not applied?)"
                                        : std::string("failed: ") + std::strerror(errno)));
      return kWorkerViolation;
    }
    // ---- critical section ----
    uint32_t o = a.owner.load();
    if (o != 0) {
      if (!a.slots[o - 1].killed.load()) {
        report(t, m, who + ": entered while worker " + std::to_string(o - 1) +
                         " (alive) holds the semaphore: mutual exclusion broken");
        bad = true;
      } else {
        resolve(a, o - 1, t, m, who);
      }
    }
    uint64_t credited = 0;
    for (unsigned j = 0; j < p.workers; ++j) credited += a.slots[j].state.load() >> 1;
    uint64_t c = a.counter.load();
    if (c != credited) {
      report(t, m, who + ": iteration " + std::to_string(it) + ": counter is " + std::to_string(c) + " but " +
                       std::to_string(credited) + " increments were made (lost or extra update)");
      bad = true;
      // Resynchronise, so one fault is reported once.
      a.counter.store(credited);
      c = credited;
    }
    a.owner.store(me + 1);
    die_here(it, 0);
    uint64_t st = mine.state.load();
    mine.before.store(c);
    mine.state.store(st | 1);  // intent
    die_here(it, 1);
    uint64_t add = (run.fault == Fault::DoubleIncrement && me == 0 && it == kFaultSeq) ? 2 : 1;
    a.counter.store(c + add);
    die_here(it, 2);
    mine.state.store(((st >> 1) + 1) << 1);  // credit and clear the intent in one store
    die_here(it, 3);
    a.owner.store(0);
    // ---- end of critical section ----
    if (sem_timed(semid, +1, SEM_UNDO, run.wait) != 0) {
      report(t, m, who + ": semtimedop(+1) failed: " + std::strerror(errno));
      return kWorkerViolation;
    }
    t.progress.fetch_add(1);
  }
  return bad ? kWorkerViolation : kWorkerOk;
}

void round(Run& run, Params const& p, Metrics& m, uint64_t round_no) {
  SharedArray<Tally> tally(1);
  Tally& t = tally[0];
  fx::ShmSegment seg = fx::make_shm(sizeof(Area));
  fx::ShmAttach at(seg.get());  // inherited by the workers across fork
  Area& a = *static_cast<Area*>(at.get());
  fx::SemSet sem = fx::make_sem_set(1);
  fx::sem_setval(sem.get(), 0, 1);

  std::vector<Victim> victims(p.workers);
  for (unsigned k = 0; k < p.kills && k < p.workers; ++k) {
    // Distinct workers die, each at a pseudo-random iteration and stage of the section.
    unsigned j = unsigned((k * 7 + round_no) % p.workers);
    while (victims[j].is) j = (j + 1) % p.workers;
    victims[j] = {true, mix(round_no, k) % p.iterations, int(mix(k, round_no + 1) % 4)};
  }

  Workers w;
  for (unsigned i = 0; i < p.workers; ++i)
    w.spawn("worker " + std::to_string(i), [&, i] {
      return worker_main([&] { return worker(run, p, sem.get(), a, i, victims[i], t, m); });
    });

  // Kill each victim once it waits inside the critical section.
  unsigned pending = 0;
  for (auto const& v : victims) pending += v.is;
  std::vector<bool> done(p.workers);
  auto d = fx::deadline(run.wait);
  fx::Backoff b;
  while (pending > 0 && run.completed) {
    bool moved = false;
    for (unsigned i = 0; i < p.workers; ++i) {
      if (!victims[i].is || done[i] || !a.slots[i].ready.load()) continue;
      int val = ::semctl(sem.get(), 0, GETVAL), holder = ::semctl(sem.get(), 0, GETPID);
      if (val != 0 || holder != w.pid(i))
        report(t, m, "victim worker " + std::to_string(i) + " (pid " + std::to_string(w.pid(i)) +
                         ") inside the critical section, but GETVAL is " + std::to_string(val) + " and GETPID " +
                         std::to_string(holder));
      a.slots[i].killed.store(1);
      w.kill(i);
      done[i] = true;
      --pending;
      moved = true;
    }
    if (moved) {
      d = fx::deadline(run.wait);
      b = fx::Backoff();
    } else if (d.expired()) {
      run.incomplete(m, t, std::to_string(pending) + " victims never reached their kill point");
      break;
    } else {
      b.pause();
    }
  }
  w.wait_all(run, m, t, run.wait + std::chrono::seconds(2));

  if (run.completed) {
    // A victim killed last may have left an intent nobody resolved.
    if (uint32_t o = a.owner.load(); o != 0) {
      if (a.slots[o - 1].killed.load())
        resolve(a, o - 1, t, m, "final check");
      else
        report(t, m, "worker " + std::to_string(o - 1) + " still owns the section after everybody exited");
    }
    uint64_t expected = 0, credited = 0;
    for (unsigned i = 0; i < p.workers; ++i) {
      Victim const& v = victims[i];
      uint64_t want = v.is ? v.iteration + (v.stage >= 2 ? 1 : 0) : p.iterations;
      uint64_t got = a.slots[i].state.load() >> 1;
      expected += want;
      credited += got;
      if (got != want)
        report(t, m, "worker " + std::to_string(i) + (v.is ? " (killed at stage " + std::to_string(v.stage) + ")" : "") +
                         " made " + std::to_string(got) + " increments, expected " + std::to_string(want));
    }
    uint64_t c = a.counter.load();
    if (c != expected)
      report(t, m, "final count " + std::to_string(c) + ", expected exactly " + std::to_string(expected) + " (" +
                       std::to_string(credited) + " credited)");
    int val = ::semctl(sem.get(), 0, GETVAL), ncnt = ::semctl(sem.get(), 0, GETNCNT);
    if (val != 1 || ncnt != 0)
      report(t, m, "after the run the semaphore is " + std::to_string(val) + " with " + std::to_string(ncnt) +
                       " waiters; expected 1 and 0 (SEM_UNDO of killed holders)");
    m.records += c;
    m.bytes += c * sizeof(uint64_t);
  }
  m.violations += t.violations.load();
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main([&] {
    Options d;
    d.writers = 6;
    d.records = 15000;
    Run run(argc, argv, d);
    Params p{run.opt.writers, run.opt.records, unsigned(std::stoul(run.extra("kills", "4")))};
    run.no_more_options();
    if (p.workers == 0 || p.workers > kMaxWorkers || p.iterations == 0)
      throw SetupError("need 1.." + std::to_string(kMaxWorkers) + " workers and iterations > 0");
    if (run.fault != Fault::None && run.fault != Fault::NoUndo && run.fault != Fault::DoubleIncrement)
      throw SetupError("sysv-sem injects no-undo or double-increment");
    if (run.fault == Fault::NoUndo && p.kills == 0) throw SetupError("no-undo needs --kills > 0");

    struct Cfg {
      std::string variant;
      unsigned kills;
    };
    std::vector<Cfg> cfgs = {{"counter-sem-undo", 0}, {"counter-sem-undo-kill-holders", p.kills}};
    if (run.fault == Fault::NoUndo) cfgs.erase(cfgs.begin());  // the fault needs victims
    for (auto const& c : cfgs) {
      if (!run.selected(c.variant)) continue;
      Metrics base;
      base.mechanism = "sysv-sem";
      base.variant = c.variant;
      base.processes = p.workers;
      base.record_size = sizeof(uint64_t);
      Params pc = p;
      pc.kills = c.kills;
      uint64_t round_no = 0;
      run.configuration(base, [&](Metrics& m) { round(run, pc, m, round_no++); });
    }
    return run.verdict();
  });
}
