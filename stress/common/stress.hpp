// What every stress program shares: self-verifying records, the command line, and one JSON
// line of metrics per configuration.
//
// A record is a header (writer id, sequence number, length, checksum) followed by a payload
// that is a function of (writer, sequence, offset). The checker can therefore tell a whole
// record from a torn one, a record from another writer spliced into it, and a lost,
// duplicated or reordered record of one writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stress {

struct RecordHeader {
  uint32_t magic;   // kMagic
  uint32_t writer;  // writer id
  uint64_t seq;     // per-writer sequence number, from 0
  uint32_t len;     // whole record length in bytes, header included
  uint32_t sum;     // checksum of the payload
};
inline constexpr uint32_t kMagic = 0x1BC5A7E5;
inline constexpr size_t kHeader = sizeof(RecordHeader);

// Fills buf[0, len) with the record (writer, seq). len >= kHeader.
void make_record(unsigned char* buf, size_t len, uint32_t writer, uint64_t seq);
// Checks that buf[0, len) is exactly the record make_record would have made for the writer
// and sequence in its own header, and that its length is `len`. On failure, says why
// (offset of the first bad byte, what was expected and seen).
bool check_record(unsigned char const* buf, size_t len, std::string* why);
// For records shorter than a header (1-byte records): one byte per record, a function of
// (writer, seq); writer and seq cannot be carried, so such runs verify per-writer byte
// counts and per-position values through the stream of each writer (see pipe stress).
unsigned char small_byte(uint32_t writer, uint64_t seq);

// Per-writer order and completeness: record (writer, seq) must arrive with seq equal to the
// next expected one for that writer; at the end every writer must have sent `expected`.
class OrderChecker {
 public:
  // Returns false (with why) on a duplicate, a gap or a reordering.
  bool accept(uint32_t writer, uint64_t seq, std::string* why);
  // Returns false (with why) when a writer's count is not `expected` (loss).
  bool complete(uint32_t writers, uint64_t expected, std::string* why) const;
  uint64_t total() const { return total_; }
  // The next sequence number expected from writer (= records accepted in order so far).
  uint64_t next(uint32_t writer) const;

 private:
  // Writer ids are small in practice: a vector indexed by id, with a map for the rest,
  // so that accept() costs no tree walk per record.
  static constexpr uint32_t kDense = 4096;
  uint64_t& slot(uint32_t writer);
  std::vector<uint64_t> dense_;
  std::map<uint32_t, uint64_t> next_;
  uint64_t total_ = 0;
};

struct Metrics {
  std::string mechanism, variant;
  unsigned processes = 0;
  size_t record_size = 0;
  uint64_t records = 0, bytes = 0;
  double seconds = 0;
  uint64_t violations = 0;
  uint64_t interleavings = 0;  // positive controls: interleaved records seen (allowed there)
  bool verified = true;        // false in raw (benchmark) mode
  std::string warning;         // e.g. a positive control that saw nothing; printed when set
};
// One JSON line on stdout: mechanism, variant, processes, record_size, records, bytes,
// seconds, records_per_s, mb_per_s, violations, interleavings, verified, and warning when
// Metrics::warning is set.
void print_json(Metrics const& m);

// Command line: --seconds S --records N --writers N --size N --variant NAME --raw, and the
// environment variable IPCSUITE_STRESS_SECONDS (a soak: it overrides the default duration).
struct Options {
  double seconds = 0;        // 0: run by record count
  uint64_t records = 0;      // per writer
  unsigned writers = 0, readers = 1;
  size_t size = 0;
  std::string variant;
  bool raw = false;          // verification off: the benchmark's baseline
  std::map<std::string, std::string> extra;  // --key value pairs a program defines
};
Options parse(int argc, char** argv, Options defaults);

// Reports a violation on stderr with the offending record, counts it.
void violation(Metrics& m, std::string const& what);

}  // namespace stress
