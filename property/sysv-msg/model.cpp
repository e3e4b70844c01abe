// sysv-msg.model.*: a System V message queue against an executable model of msgop(2).
//
// The model is the ordered list of queued messages plus msg_qbytes. Random sequences of
// msgsnd / msgrcv (always IPC_NOWAIT, so nothing blocks) and IPC_SET of msg_qbytes run on a
// fresh queue; after every call the kernel's result (value, errno, message type and text) and
// its IPC_STAT counters (msg_qnum, msg_cbytes, msg_qbytes, msg_lspid, msg_lrpid) must equal
// the model's prediction. rapidcheck shrinks a failure to a minimal sequence; every run owns
// its queue (fx::MsgQueue), so shrinking leaves nothing behind.
#include "fx/fx.hpp"
#include "fx/sysv_msg.hpp"
#include "rc_support.hpp"

#include <rapidcheck/state.h>

#include <sys/msg.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <ostream>
#include <string>
#include <vector>

namespace {

// Largest message and receive buffer generated: above the largest msg_qbytes generated, so
// that some messages can never fit, and far below the default MSGMAX (8192).
constexpr int kMaxText = 320;
constexpr long kMaxQbytes = 256;

struct Msg {
  long type;
  int serial;  // which send made it: its text is text_of(serial, size)
  int size;
};

// The text of the serial-th send: distinct per send, so a wrong pick shows in the bytes.
std::string text_of(int serial, int size) {
  std::string s(static_cast<size_t>(size), '\0');
  for (int j = 0; j < size; ++j) s[j] = static_cast<char>((serial * 131 + j * 7 + 1) & 0xff);
  return s;
}

struct MsgModel {
  // Deliberately wrong variant for the can-fail test: msgrcv with a negative msgtyp takes
  // the first message, as if msgtyp were 0.
  bool negative_as_zero = false;
  long qbytes = 0;
  std::vector<Msg> queue;
  int next_serial = 1;
  bool sent_any = false;      // msg_lspid is 0 until a send succeeds, then our pid
  bool received_any = false;  // msg_lrpid likewise

  long cbytes() const {
    return std::accumulate(queue.begin(), queue.end(), 0L, [](long a, Msg const& m) { return a + m.size; });
  }

  // msgop(2) msgsnd(): the queue is full if the new message would make msg_cbytes exceed
  // msg_qbytes, or msg_qnum exceed msg_qbytes (the bound on zero-length messages).
  bool fits(int size) const {
    return cbytes() + size <= qbytes && static_cast<long>(queue.size()) + 1 <= qbytes;
  }

  // msgop(2) msgrcv(): the index of the message msgtyp selects, or -1.
  int select(long msgtyp, bool except) const {
    if (msgtyp == 0 || (msgtyp < 0 && negative_as_zero)) return queue.empty() ? -1 : 0;
    if (msgtyp > 0) {
      for (size_t i = 0; i < queue.size(); ++i)
        if ((queue[i].type == msgtyp) != except) return static_cast<int>(i);
      return -1;
    }
    // The first message of the lowest type <= |msgtyp|.
    int best = -1;
    for (size_t i = 0; i < queue.size(); ++i)
      if (queue[i].type <= -msgtyp && (best < 0 || queue[i].type < queue[best].type)) best = static_cast<int>(i);
    return best;
  }
};

struct MsgSut {
  fx::MsgQueue q;
  pid_t self = ::getpid();
};

// A system call's result as the model predicts it: the value, and errno when it is -1.
struct Outcome {
  long value;
  int err;
  bool operator==(Outcome const& o) const { return value == o.value && err == o.err; }
};
std::ostream& operator<<(std::ostream& os, Outcome const& o) {
  if (o.value == -1) return os << "-1 (" << fx::errno_name(o.err) << ")";
  return os << o.value;
}
Outcome outcome(long rv) { return {rv, rv == -1 ? errno : 0}; }
Outcome failure(int err) { return {-1, err}; }

// After every command: IPC_STAT agrees with the model's state after the command.
void check_stat(MsgModel const& m, MsgSut const& sut) {
  msqid_ds ds = fx::msg_stat(sut.q.get());
  RC_ASSERT(static_cast<long>(ds.msg_qnum) == static_cast<long>(m.queue.size()));
  RC_ASSERT(static_cast<long>(ds.msg_cbytes) == m.cbytes());
  RC_ASSERT(static_cast<long>(ds.msg_qbytes) == m.qbytes);
  RC_ASSERT(ds.msg_lspid == (m.sent_any ? sut.self : 0));
  RC_ASSERT(ds.msg_lrpid == (m.received_any ? sut.self : 0));
}

using Cmd = rc::state::Command<MsgModel, MsgSut>;

// msgsnd(IPC_NOWAIT) of a message of type 1..5 and 0..kMaxText bytes.
struct Send : Cmd {
  long type = *rc::gen::inRange(1L, 6L);
  // Zero-length messages often: they reach the msg_qnum bound of a small queue.
  int size = *rc::gen::weightedOneOf<int>(
      {{2, rc::gen::just(0)}, {2, rc::gen::inRange(1, 5)}, {3, rc::gen::inRange(0, kMaxText + 1)}});

  void apply(MsgModel& m) const override {
    if (m.fits(size)) {
      m.queue.push_back({type, m.next_serial, size});
      m.sent_any = true;
    }
    ++m.next_serial;
  }
  void run(MsgModel const& m, MsgSut& sut) const override {
    Outcome expected = m.fits(size) ? Outcome{0, 0} : failure(EAGAIN);
    fx::BigMsgBuf buf(static_cast<size_t>(size));
    buf.mtype() = type;
    std::string text = text_of(m.next_serial, size);
    if (size > 0) std::memcpy(buf.mtext(), text.data(), text.size());
    Outcome got = outcome(::msgsnd(sut.q.get(), buf.get(), static_cast<size_t>(size), IPC_NOWAIT));
    RC_ASSERT(got == expected);
    check_stat(nextState(m), sut);
  }
  void show(std::ostream& os) const override {
    os << "msgsnd(type=" << type << ", " << size << " bytes, IPC_NOWAIT)";
  }
};

// msgrcv(IPC_NOWAIT [| MSG_NOERROR] [| MSG_EXCEPT]) with msgtyp -6..6 into a buffer of
// 0..kMaxText bytes.
struct Recv : Cmd {
  long msgtyp = *rc::gen::inRange(-6L, 7L);
  bool noerror = *rc::gen::weightedOneOf<bool>({{2, rc::gen::just(false)}, {1, rc::gen::just(true)}});
  // MSG_EXCEPT only where msgop(2) defines it: with msgtyp > 0.
  bool except = msgtyp > 0 && *rc::gen::weightedOneOf<bool>({{2, rc::gen::just(false)}, {1, rc::gen::just(true)}});
  int bufsz = *rc::gen::weightedOneOf<int>({{1, rc::gen::inRange(0, 8)}, {3, rc::gen::inRange(0, kMaxText + 1)}});

  // The model's answer: the index of the message returned (or -1) and the call's outcome.
  std::pair<int, Outcome> predict(MsgModel const& m) const {
    int i = m.select(msgtyp, except);
    if (i < 0) return {-1, failure(ENOMSG)};
    if (m.queue[i].size > bufsz && !noerror) return {-1, failure(E2BIG)};  // the message stays
    return {i, Outcome{std::min(m.queue[i].size, bufsz), 0}};
  }
  void apply(MsgModel& m) const override {
    int i = predict(m).first;
    if (i >= 0) {
      m.queue.erase(m.queue.begin() + i);
      m.received_any = true;
    }
  }
  void run(MsgModel const& m, MsgSut& sut) const override {
    auto [i, expected] = predict(m);
    fx::BigMsgBuf buf(kMaxText);
    buf.mtype() = -1;
    int flags = IPC_NOWAIT | (noerror ? MSG_NOERROR : 0) | (except ? MSG_EXCEPT : 0);
    Outcome got = outcome(::msgrcv(sut.q.get(), buf.get(), static_cast<size_t>(bufsz), msgtyp, flags));
    RC_ASSERT(got == expected);
    if (i >= 0) {
      RC_ASSERT(buf.mtype() == m.queue[i].type);
      // MSG_NOERROR truncates: the first bufsz bytes of the text arrive.
      std::string want = text_of(m.queue[i].serial, m.queue[i].size).substr(0, static_cast<size_t>(got.value));
      RC_ASSERT(std::string(buf.mtext(), static_cast<size_t>(got.value)) == want);
    }
    check_stat(nextState(m), sut);
  }
  void show(std::ostream& os) const override {
    os << "msgrcv(msgtyp=" << msgtyp << ", bufsz=" << bufsz << ", IPC_NOWAIT" << (noerror ? "|MSG_NOERROR" : "")
       << (except ? "|MSG_EXCEPT" : "") << ")";
  }
};

// IPC_SET of msg_qbytes, also below what the queue already holds (the messages stay;
// further sends fail until it drains).
struct SetQbytes : Cmd {
  long qbytes = *rc::gen::inRange(1L, kMaxQbytes + 1);
  void apply(MsgModel& m) const override { m.qbytes = qbytes; }
  void run(MsgModel const& m, MsgSut& sut) const override {
    msqid_ds ds = fx::msg_stat(sut.q.get());
    ds.msg_qbytes = static_cast<msglen_t>(qbytes);
    RC_ASSERT(outcome(::msgctl(sut.q.get(), IPC_SET, &ds)) == (Outcome{0, 0}));
    check_stat(nextState(m), sut);
  }
  void show(std::ostream& os) const override { os << "msgctl(IPC_SET msg_qbytes=" << qbytes << ")"; }
};

// One run: a fresh queue with msg_qbytes lowered to a small value, then a random sequence.
void queue_matches_model(bool negative_as_zero) {
  MsgModel m0;
  m0.negative_as_zero = negative_as_zero;
  // Small values make the msg_qnum bound (one message per byte of msg_qbytes) reachable.
  m0.qbytes = *rc::gen::weightedOneOf<long>({{2, rc::gen::inRange(1L, 9L)}, {3, rc::gen::inRange(64L, kMaxQbytes + 1)}});

  MsgSut sut{fx::make_msg_queue()};
  msqid_ds ds = fx::msg_stat(sut.q.get());
  ds.msg_qbytes = static_cast<msglen_t>(m0.qbytes);
  fx::msg_set(sut.q.get(), ds);

  rc::state::check(m0, sut, rc::state::gen::execOneOfWithArgs<Send, Send, Send, Recv, Recv, Recv, SetQbytes>());
}

// Lowering msg_qbytes to kMaxQbytes needs no privilege only while MSGMNB is at least that.
void require_limits() {
  if (fx::msgmnb() < kMaxQbytes) fx::skip("kernel.msgmnb is below " + std::to_string(kMaxQbytes));
  if (fx::msgmax() < kMaxText) fx::skip("kernel.msgmax is below " + std::to_string(kMaxText));
}

}  // namespace

BEHAVIOUR("sysv-msg.model.queue-matches-model", "[linux-specific]",
          "any sequence of msgsnd/msgrcv with IPC_NOWAIT (msgtyp zero, positive, negative; "
          "MSG_EXCEPT, MSG_NOERROR; small buffers) and IPC_SET of a small msg_qbytes behaves as "
          "an ordered list of messages: the message each msgrcv returns, E2BIG leaving the "
          "message queued, ENOMSG, EAGAIN when msg_cbytes + size or msg_qnum + 1 would exceed "
          "msg_qbytes, and msg_qnum, msg_cbytes, msg_lspid, msg_lrpid after every call",
          "msgop(2) msgsnd() (queue full conditions), msgrcv() (msgtyp, MSG_EXCEPT, MSG_NOERROR), "
          "ERRORS; msgctl(2) IPC_STAT, IPC_SET") {
  require_limits();
  REQUIRE(prop::check("System V message queue against the msgop(2) model", [] { queue_matches_model(false); }));
}

BEHAVIOUR("sysv-msg.model.queue-matches-model-can-fail", "[linux-specific]",
          "the queue model property detects a wrong model (negative msgtyp treated as zero): "
          "rapidcheck finds a counterexample on this kernel",
          "msgop(2) msgrcv() (msgtyp less than 0)") {
  require_limits();
  // A property that cannot fail proves nothing: against a model that ignores the
  // "lowest type <= |msgtyp|" rule the same property must find a failing sequence.
  REQUIRE(prop::falsified("message queue against a WRONG model (negative msgtyp as 0): a counterexample is expected",
                          [] { queue_matches_model(true); }));
}
