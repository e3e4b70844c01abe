// posix-mq.model.*: random sequences of mq_send / mq_receive on a small queue checked
// against a model: a priority queue, FIFO among equal priorities. Sources: mq_send(3),
// mq_receive(3), mq_getattr(3), mq_overview(7); POSIX.1-2017 mq_send(), mq_receive().
//
// The documented semantics are deterministic (mq_receive "removes the oldest message with
// the highest priority"), so this is an rc::state machine: each command's effect on the
// model is known before it runs on the kernel.
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"
#include "rc_support.hpp"

#include <rapidcheck/state.h>

#include <fcntl.h>
#include <mqueue.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <system_error>
#include <vector>

using namespace fx;

namespace {

struct Msg {
  unsigned prio;
  uint64_t seq;  // arrival order
  size_t size;
};

struct MqModel {
  bool ignore_priority = false;  // the deliberately wrong model of the can-fail twin: FIFO
  long maxmsg = 0, msgsize = 0;
  std::vector<Msg> queue;  // in arrival order
  uint64_t sent = 0;

  bool full() const { return long(queue.size()) >= maxmsg; }
  // mq_receive(3): "the oldest message with the highest priority".
  size_t next() const {
    if (ignore_priority) return 0;
    size_t best = 0;
    for (size_t i = 1; i < queue.size(); ++i)
      if (queue[i].prio > queue[best].prio) best = i;  // strict: the older one wins ties
    return best;
  }
};

// The queue under test, opened twice: a blocking and an O_NONBLOCK description. Owned by
// the property's frame: closed and unlinked after every run, shrinking runs included.
struct MqSut {
  PosixMq q;
  MqDesc nonblock;
};

using Command = rc::state::Command<MqModel, MqSut>;

long prio_max() {
  static long v = ::sysconf(_SC_MQ_PRIO_MAX);
  return v;
}

// Message bytes derived from the arrival number: every message's content is its own.
std::vector<char> content(uint64_t seq, size_t size) {
  std::vector<char> b(size);
  for (size_t i = 0; i < size; ++i) b[i] = char((seq * 37 + i) % 251);
  return b;
}

// mq_send and mq_receive are mq_timedsend and mq_timedreceive with no timeout (glibc issues
// SYS_mq_timedsend / SYS_mq_timedreceive either way, and the man pages say the timed calls
// "behave just like" them). The commands use the timed forms with the suite's deadline: a
// blocking call is only issued when the model says it completes at once, and should the
// kernel block anyway, ETIMEDOUT fails the property instead of hanging the test.
timespec watchdog() { return realtime_in(kWait); }

std::string shown(Command const& c) {
  std::ostringstream os;
  c.show(os);
  return os.str();
}

char const* mode(bool nonblock) { return nonblock ? ", O_NONBLOCK" : ""; }

// After every command: mq_getattr agrees with the model (mq_getattr(3): mq_curmsgs, the
// attributes given at creation, mq_flags of the description).
void check_attributes(MqModel const& m, MqSut const& sut) {
  mq_attr a = mq_attributes(sut.q.get());
  RC_ASSERT(a.mq_curmsgs == long(m.queue.size()));
  RC_ASSERT(a.mq_maxmsg == m.maxmsg);
  RC_ASSERT(a.mq_msgsize == m.msgsize);
  RC_ASSERT((a.mq_flags & O_NONBLOCK) == 0L);
  mq_attr b = mq_attributes(sut.nonblock.get());
  RC_ASSERT(b.mq_curmsgs == long(m.queue.size()));
  RC_ASSERT((b.mq_flags & O_NONBLOCK) == long(O_NONBLOCK));
}

struct Send : Command {
  unsigned prio;
  size_t size;
  bool nonblock;
  explicit Send(MqModel const& m)
      // Mostly a few low priorities, so that equal priorities meet (FIFO among them), and
      // now and then any valid one up to MQ_PRIO_MAX - 1 (mq_overview(7)).
      : prio(*rc::gen::weightedOneOf<unsigned>(
            {{6, rc::gen::inRange<unsigned>(0, 4)},
             {1, rc::gen::inRange<unsigned>(0, unsigned(prio_max()))}})),
        size(*rc::gen::inRange<size_t>(0, size_t(m.msgsize) + 1)),
        nonblock(*rc::gen::arbitrary<bool>()) {}

  void checkPreconditions(MqModel const& m) const override {
    RC_PRE(nonblock || !m.full());  // a blocking send to a full queue would block
  }
  void apply(MqModel& m) const override {
    if (m.full()) return;
    m.queue.push_back(Msg{prio, m.sent, size});
    ++m.sent;
  }
  void run(MqModel const& s0, MqSut& sut) const override {
    auto bytes = content(s0.sent, size);
    timespec t = watchdog();
    auto r = sys(::mq_timedsend(nonblock ? sut.nonblock.get() : sut.q.get(), bytes.data(), size,
                                prio, &t));
    RC_LOG() << shown(*this) << " -> " << describe(r) << "\n";
    if (s0.full()) {
      // mq_send(3): full queue, O_NONBLOCK: EAGAIN.
      RC_ASSERT(r.value == -1L);
      RC_ASSERT(errno_name(r.err) == errno_name(EAGAIN));
    } else {
      RC_ASSERT(r.value == 0L);
    }
    check_attributes(nextState(s0), sut);
  }
  void show(std::ostream& os) const override {
    os << "send(prio " << prio << ", " << size << " bytes" << mode(nonblock) << ")";
  }
};

// mq_send(3) EMSGSIZE: longer than mq_msgsize; nothing is queued. Only on a queue with
// room: with a full queue the order of the EAGAIN and EMSGSIZE checks is not documented.
struct SendTooLong : Command {
  size_t extra = *rc::gen::inRange<size_t>(1, 17);
  bool nonblock = *rc::gen::arbitrary<bool>();
  void checkPreconditions(MqModel const& m) const override { RC_PRE(!m.full()); }
  void run(MqModel const& s0, MqSut& sut) const override {
    size_t n = size_t(s0.msgsize) + extra;
    std::vector<char> bytes(n, 'x');
    timespec t = watchdog();
    auto r = sys(::mq_timedsend(nonblock ? sut.nonblock.get() : sut.q.get(), bytes.data(), n, 0, &t));
    RC_LOG() << shown(*this) << " -> " << describe(r) << "\n";
    RC_ASSERT(r.value == -1L);
    RC_ASSERT(errno_name(r.err) == errno_name(EMSGSIZE));
    check_attributes(s0, sut);
  }
  void show(std::ostream& os) const override {
    os << "send(mq_msgsize + " << extra << " bytes" << mode(nonblock) << ")";
  }
};

struct Receive : Command {
  bool nonblock = *rc::gen::arbitrary<bool>();
  void checkPreconditions(MqModel const& m) const override {
    RC_PRE(nonblock || !m.queue.empty());  // a blocking receive from an empty queue blocks
  }
  void apply(MqModel& m) const override {
    if (!m.queue.empty()) m.queue.erase(m.queue.begin() + long(m.next()));
  }
  void run(MqModel const& s0, MqSut& sut) const override {
    std::vector<char> buf(size_t(s0.msgsize));
    unsigned prio = ~0u;
    timespec t = watchdog();
    auto r = sys(::mq_timedreceive(nonblock ? sut.nonblock.get() : sut.q.get(), buf.data(),
                                   buf.size(), &prio, &t));
    RC_LOG() << shown(*this) << " -> " << describe(r) << (r.value >= 0 ? ", prio " + std::to_string(prio) : "")
             << "\n";
    if (s0.queue.empty()) {
      // mq_receive(3): empty queue, O_NONBLOCK: EAGAIN.
      RC_ASSERT(r.value == -1L);
      RC_ASSERT(errno_name(r.err) == errno_name(EAGAIN));
    } else {
      Msg const& want = s0.queue[s0.next()];
      RC_ASSERT(r.value == long(want.size));
      RC_ASSERT(prio == want.prio);
      buf.resize(want.size);
      // The content names the message: a right size and priority from the wrong message
      // of the same priority still fails here.
      RC_ASSERT(buf == content(want.seq, want.size));
    }
    check_attributes(nextState(s0), sut);
  }
  void show(std::ostream& os) const override { os << "receive(" << (nonblock ? "O_NONBLOCK" : "") << ")"; }
};

// mq_receive(3) EMSGSIZE: a buffer shorter than mq_msgsize, even when the next message
// would fit; nothing is removed. Only on a non-empty queue (the order of the EAGAIN and
// EMSGSIZE checks is not documented).
struct ReceiveShortBuffer : Command {
  bool nonblock = *rc::gen::arbitrary<bool>();
  void checkPreconditions(MqModel const& m) const override { RC_PRE(!m.queue.empty()); }
  void run(MqModel const& s0, MqSut& sut) const override {
    std::vector<char> buf(size_t(s0.msgsize));
    timespec t = watchdog();
    auto r = sys(::mq_timedreceive(nonblock ? sut.nonblock.get() : sut.q.get(), buf.data(),
                                   buf.size() - 1, nullptr, &t));
    RC_LOG() << shown(*this) << " -> " << describe(r) << "\n";
    RC_ASSERT(r.value == -1L);
    RC_ASSERT(errno_name(r.err) == errno_name(EMSGSIZE));
    check_attributes(s0, sut);
  }
  void show(std::ostream& os) const override {
    os << "receive(buffer mq_msgsize - 1" << mode(nonblock) << ")";
  }
};

struct Coverage {
  long runs = 0, full_eagain = 0, empty_eagain = 0, ties = 0;
};

bool priority_queue_property(std::string const& description, bool ignore_priority,
                             bool must_fail) {
  Coverage cov;
  auto property = [&] {
    MqModel m;
    m.ignore_priority = ignore_priority;
    // A small mq_maxmsg, so that full queues happen; both within the unprivileged limits
    // (mq_overview(7): msg_max 10, msgsize_max 8192 by default).
    m.maxmsg = *rc::gen::inRange<long>(4, 9);
    m.msgsize = *rc::gen::inRange<long>(1, 129);
    MqSut sut{make_posix_mq(O_RDWR, m.maxmsg, m.msgsize), {}};
    sut.nonblock = open_posix_mq(sut.q.name.str(), O_RDWR | O_NONBLOCK);
    RC_LOG() << "queue mq_maxmsg " << m.maxmsg << ", mq_msgsize " << m.msgsize << "\n";
    ++cov.runs;
    auto commands =
        *rc::state::gen::commands(m, rc::state::gen::execOneOfWithArgs<
                                         Send, Send, Send, Receive, Receive, SendTooLong,
                                         ReceiveShortBuffer>());
    // Tally what the sequence reaches before running it (the model alone decides it).
    MqModel s = m;
    for (auto const& c : commands) {
      if (dynamic_cast<Send const*>(c.get()) && s.full()) ++cov.full_eagain;
      if (dynamic_cast<Receive const*>(c.get()) && s.queue.empty()) ++cov.empty_eagain;
      if (dynamic_cast<Receive const*>(c.get()) && s.queue.size() > 1) {
        auto n = s.next();
        for (size_t i = 0; i < s.queue.size(); ++i)
          if (i != n && s.queue[i].prio == s.queue[n].prio) { ++cov.ties; break; }
      }
      c->apply(s);
    }
    rc::state::runAll(commands, m, sut);
  };
  bool ok = must_fail ? prop::falsified(description, property) : prop::check(description, property);
  std::cout << "outcomes seen (all runs, shrinking included): runs " << cov.runs
            << ", send to a full queue " << cov.full_eagain << ", receive from an empty queue "
            << cov.empty_eagain << ", receives choosing among equal priorities " << cov.ties
            << std::endl;
  return ok;
}

// ENOSYS from mq_open (a kernel without CONFIG_POSIX_MQUEUE): unsupported, not failed.
void require_posix_mq() {
  try {
    make_posix_mq(O_RDWR, 4, 16);
  } catch (std::system_error const& e) {
    if (e.code().value() == ENOSYS) unsupported("mq_open: ENOSYS");
    throw;
  }
}

}  // namespace

BEHAVIOUR("posix-mq.model.priority-queue-matches-model", "[posix]",
          "random sequences of blocking and non-blocking mq_send and mq_receive on a small "
          "queue behave as a priority queue, FIFO among equal priorities: each receive returns "
          "the oldest message of the highest priority with its bytes and priority, O_NONBLOCK "
          "gives EAGAIN on a full queue (send) and an empty one (receive), EMSGSIZE leaves the "
          "queue unchanged, and mq_getattr's mq_curmsgs counts the queued messages",
          "mq_send(3), mq_receive(3) DESCRIPTION and ERRORS; mq_getattr(3); "
          "POSIX.1-2017 mq_send(), mq_receive()") {
  require_posix_mq();
  REQUIRE(priority_queue_property("POSIX message queue matches the priority-queue model", false,
                                  false));
}

BEHAVIOUR("posix-mq.model.priority-queue-matches-model-can-fail", "[posix]",
          "the priority-queue property falsifies a wrong model that delivers messages in "
          "arrival order, ignoring priority: the property can fail",
          "mq_receive(3) DESCRIPTION (the oldest message with the highest priority)") {
  require_posix_mq();
  REQUIRE(priority_queue_property("POSIX message queue against a FIFO model ignoring priority",
                                  true, true));
}
