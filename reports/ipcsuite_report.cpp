// ipcsuite-report: turns ctest's JUnit output and the behaviour metadata that every test
// binary dumps (<build>/**/*.behaviours.json) into a conformance report for one run.
//
//   ipcsuite-report --junit results.xml --behaviours <build dir> [--out <dir>] [--target NAME]
//                   [--expect reports/expectations/<target>.json]
//
// Prints a summary per mechanism and every behaviour that did not hold; with --out, also
// writes report.md and report.json there. With --expect it is also the CI gate: a failure
// listed there counts as an expected failure (xfail); the exit status is 1 on any failure
// not listed, on any listed expectation that did not happen (a stale entry: the behaviour
// now passes, or fails where a skip was expected), and on any test that did not run at all.
// The gate's verdict is written to gate.md (for a CI job page) and is the last line printed.
#include <pugixml.hpp>

#include <nlohmann/json.hpp>

#include <sys/utsname.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct Behaviour {
  std::string id, mechanism, statement, source, file, scope;
  int line = 0;
};

struct Result {
  std::string id, outcome, reason, output;
  double seconds = 0;
};

struct Expectation {
  std::string outcome, reason, evidence;  // outcome: fail | unsupported | skip
};

std::map<std::string, Expectation> load_expectations(fs::path const& file) {
  std::map<std::string, Expectation> out;
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open " + file.string());
  json doc = json::parse(in);
  for (auto const& e : doc.at("expectations")) {
    Expectation x{e.at("outcome"), e.at("reason"), e.value("evidence", "")};
    if (x.outcome != "fail" && x.outcome != "unsupported" && x.outcome != "skip")
      throw std::runtime_error(file.string() + ": outcome of " + std::string(e.at("id")) +
                               " must be fail, unsupported or skip");
    if (x.reason.empty() || x.evidence.empty())
      throw std::runtime_error(file.string() + ": " + std::string(e.at("id")) + " needs a reason and evidence");
    out[e.at("id")] = x;
  }
  return out;
}

// The outcome a test had, in the words of the expectation files.
std::string as_expected_word(std::string const& outcome) {
  if (outcome == "failed") return "fail";
  if (outcome == "skipped") return "skip";
  return outcome;
}

std::string marker_reason(std::string const& out, std::string const& marker) {
  auto p = out.find(marker);
  if (p == std::string::npos) return {};
  auto e = out.find('\n', p);
  return out.substr(p + marker.size(), e == std::string::npos ? std::string::npos : e - p - marker.size());
}

// The first failure Catch2 printed: from the "FAILED:" line to the next blank line.
std::string first_failure(std::string const& out) {
  auto p = out.find("FAILED:");
  if (p == std::string::npos) p = out.find("Timeout");
  if (p == std::string::npos) return {};
  auto s = out.rfind('\n', p);
  s = s == std::string::npos ? 0 : s + 1;
  auto e = out.find("\n\n", p);
  std::string f = out.substr(s, e == std::string::npos ? std::string::npos : e - s);
  return f.size() > 2000 ? f.substr(0, 2000) + "..." : f;
}

std::map<std::string, Behaviour> load_behaviours(fs::path const& dir) {
  std::map<std::string, Behaviour> out;
  for (auto const& e : fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied)) {
    auto name = e.path().filename().string();
    if (!e.is_regular_file() || name.size() < 16 || name.substr(name.size() - 16) != ".behaviours.json") continue;
    std::ifstream in(e.path());
    json doc = json::parse(in);
    for (auto const& b : doc) {
      Behaviour x;
      x.id = b.at("id");
      x.mechanism = b.at("mechanism");
      x.statement = b.at("statement");
      x.source = b.at("source");
      x.file = b.at("file");
      x.line = b.at("line");
      for (auto const& t : b.at("tags"))
        if (t == "posix" || t == "linux-specific") x.scope = t;
      out[x.id] = x;
    }
  }
  return out;
}

std::vector<Result> load_junit(fs::path const& file) {
  pugi::xml_document doc;
  auto ok = doc.load_file(file.c_str());
  if (!ok) throw std::runtime_error("cannot parse " + file.string() + ": " + ok.description());
  std::vector<Result> out;
  for (auto tc : doc.select_nodes("//testcase")) {
    auto n = tc.node();
    Result r;
    r.id = n.attribute("name").value();
    r.seconds = n.attribute("time").as_double();
    r.output = n.child("system-out").text().get();
    std::string status = n.attribute("status").value();
    if (status == "run") {
      r.outcome = "passed";
    } else if (status == "fail") {
      r.outcome = "failed";
      r.reason = first_failure(r.output);
      if (r.reason.empty()) r.reason = n.child("failure").attribute("message").value();
    } else {
      std::string why = n.child("skipped").attribute("message").value();
      if (auto s = marker_reason(r.output, "IPCSUITE-UNSUPPORTED: "); !s.empty()) {
        r.outcome = "unsupported";
        r.reason = s;
      } else if (auto s2 = marker_reason(r.output, "IPCSUITE-SKIP: "); !s2.empty()) {
        r.outcome = "skipped";
        r.reason = s2;
      } else {
        // Not run for another reason (missing binary, disabled): never counted as passed.
        r.outcome = "not-run";
        r.reason = why.empty() ? status : why;
      }
    }
    out.push_back(r);
  }
  return out;
}

std::string md_escape(std::string s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += " ";
    else o += c;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::string junit, bdir, outdir, expect, target = "native";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--junit") junit = argv[i + 1];
    else if (a == "--behaviours") bdir = argv[i + 1];
    else if (a == "--out") outdir = argv[i + 1];
    else if (a == "--target") target = argv[i + 1];
    else if (a == "--expect") expect = argv[i + 1];
    else { std::cerr << "unknown option " << a << "\n"; return 2; }
  }
  if (junit.empty() || bdir.empty()) {
    std::cerr << "usage: ipcsuite-report --junit FILE --behaviours BUILD_DIR [--out DIR] [--target NAME]\n";
    return 2;
  }
  std::map<std::string, Behaviour> behaviours;
  std::vector<Result> results;
  std::map<std::string, Expectation> expectations;
  try {
    behaviours = load_behaviours(bdir);
    results = load_junit(junit);
    if (!expect.empty()) expectations = load_expectations(expect);
  } catch (std::exception const& e) {
    std::cerr << "ipcsuite-report: " << e.what() << "\n";
    return 2;
  }
  // Apply the expectations: a failure that is expected becomes "xfail"; an expectation that
  // did not come true is stale.
  std::vector<std::string> stale;
  // An entry that names no behaviour of this build is a typo or a removed test.
  for (auto const& [id, e] : expectations)
    if (!behaviours.count(id)) stale.push_back(id + ": names no behaviour of this build");
  for (auto& r : results) {
    auto it = expectations.find(r.id);
    if (it == expectations.end()) continue;
    if (as_expected_word(r.outcome) == it->second.outcome) {
      if (r.outcome == "failed") r.outcome = "xfail";
      r.reason = "expected: " + it->second.reason + "\n" + r.reason;
    } else {
      stale.push_back(r.id + ": expected " + it->second.outcome + ", got " + r.outcome);
    }
  }

  utsname u{};
  ::uname(&u);
  std::string kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;

  static const std::vector<std::string> kOutcomes = {"passed", "failed", "xfail", "skipped", "unsupported", "not-run"};
  std::map<std::string, std::map<std::string, int>> counts;  // mechanism -> outcome -> n
  std::map<std::string, int> totals;
  std::vector<Result const*> deviations, notrun;
  std::set<std::string> seen;
  json jresults = json::array();
  for (auto const& r : results) {
    auto it = behaviours.find(r.id);
    std::string mech = it != behaviours.end() ? it->second.mechanism : r.id.substr(0, r.id.find('.'));
    if (it == behaviours.end() && mech == "fixtures") mech = "selftest";
    counts[mech][r.outcome]++;
    totals[r.outcome]++;
    seen.insert(r.id);
    if (r.outcome == "failed" || r.outcome == "xfail") deviations.push_back(&r);
    else if (r.outcome != "passed") notrun.push_back(&r);
    json j = {{"id", r.id}, {"mechanism", mech}, {"outcome", r.outcome}, {"seconds", r.seconds}};
    if (it != behaviours.end()) {
      j["statement"] = it->second.statement;
      j["source"] = it->second.source;
      j["scope"] = it->second.scope;
      j["file"] = it->second.file + ":" + std::to_string(it->second.line);
    }
    if (!r.reason.empty()) j["reason"] = r.reason;
    jresults.push_back(j);
  }

  auto stmt = [&](std::string const& id) -> Behaviour const* {
    auto it = behaviours.find(id);
    return it == behaviours.end() ? nullptr : &it->second;
  };

  // Console summary.
  std::ostringstream con;
  con << "IPC conformance: target " << target << ", kernel " << kernel << ", " << results.size() << " tests\n\n";
  con << std::left << std::setw(14) << "mechanism";
  for (auto const& o : kOutcomes) con << std::right << std::setw(12) << o;
  con << "\n";
  for (auto const& [m, c] : counts) {
    con << std::left << std::setw(14) << m;
    for (auto const& o : kOutcomes) con << std::right << std::setw(12) << (c.count(o) ? c.at(o) : 0);
    con << "\n";
  }
  con << std::left << std::setw(14) << "all";
  for (auto const& o : kOutcomes) con << std::right << std::setw(12) << totals[o];
  con << "\n";
  if (!deviations.empty()) {
    con << "\nDid not hold (" << deviations.size() << "):\n";
    for (auto r : deviations) {
      auto b = stmt(r->id);
      con << "  " << r->id << (r->outcome == "xfail" ? "  (expected on this target)" : "") << "\n";
      if (b) con << "      " << b->statement << "  [" << b->source << "; " << b->scope << "]\n";
      std::istringstream lines(r->reason);
      for (std::string l; std::getline(lines, l);) con << "      | " << l << "\n";
    }
  }
  if (!notrun.empty()) {
    con << "\nNot run here (" << notrun.size() << "):\n";
    for (auto r : notrun) con << "  " << std::left << std::setw(12) << r->outcome << r->id << ": " << r->reason << "\n";
  }
  std::cout << con.str();

  if (!outdir.empty()) {
    fs::create_directories(outdir);
    json report = {{"target", target}, {"kernel", kernel}, {"totals", totals}, {"by_mechanism", counts},
                   {"results", jresults}};
    json missing = json::array();
    for (auto const& [id, b] : behaviours)
      if (!seen.count(id)) missing.push_back(id);
    report["behaviours_not_in_this_run"] = missing;
    std::ofstream(fs::path(outdir) / "report.json") << report.dump(2) << "\n";

    std::ofstream md(fs::path(outdir) / "report.md");
    md << "# IPC conformance report: " << target << "\n\nKernel: `" << kernel << "`. Tests: " << results.size()
       << ".\n\n| mechanism |";
    for (auto const& o : kOutcomes) md << " " << o << " |";
    md << "\n|---|";
    for (size_t i = 0; i < kOutcomes.size(); ++i) md << "---:|";
    md << "\n";
    for (auto const& [m, c] : counts) {
      md << "| " << m << " |";
      for (auto const& o : kOutcomes) md << " " << (c.count(o) ? c.at(o) : 0) << " |";
      md << "\n";
    }
    md << "\n## Did not hold\n\n";
    if (deviations.empty()) md << "Every behaviour that ran held.\n";
    for (auto r : deviations) {
      auto b = stmt(r->id);
      md << "### `" << r->id << "`" << (r->outcome == "xfail" ? " (expected on this target)" : "") << "\n\n";
      if (b) md << b->statement << " (" << b->source << "; " << b->scope << "; `" << b->file << ":" << b->line << "`)\n\n";
      md << "```\n" << r->reason << "\n```\n\n";
    }
    md << "\n## Not run here\n\n";
    if (notrun.empty()) md << "None.\n";
    else md << "| behaviour | outcome | reason |\n|---|---|---|\n";
    for (auto r : notrun) md << "| `" << r->id << "` | " << r->outcome << " | " << md_escape(r->reason) << " |\n";
  }
  if (expect.empty()) return 0;

  // The gate.
  std::vector<std::string> unexpected, missing_run;
  for (auto const& r : results) {
    if (r.outcome == "failed" && !expectations.count(r.id)) unexpected.push_back(r.id);
    if (r.outcome == "not-run") missing_run.push_back(r.id + ": " + r.reason);
  }
  bool ok = unexpected.empty() && stale.empty() && missing_run.empty();
  std::ostringstream g;
  g << "## IPC conformance gate: " << target << ": " << (ok ? "PASS" : "FAIL") << "\n\n";
  g << totals["passed"] << " held, " << totals["xfail"] << " expected failures, " << unexpected.size()
    << " unexpected failures, " << stale.size() << " stale expectations, " << totals["skipped"] << " skipped, "
    << totals["unsupported"] << " unsupported, " << missing_run.size() << " not run (expectations: " << expect << ")\n";
  auto list = [&](char const* title, std::vector<std::string> const& v) {
    if (v.empty()) return;
    g << "\n" << title << ":\n";
    for (auto const& x : v) g << "- `" << x << "`\n";
  };
  list("Unexpected failures", unexpected);
  list("Stale expectations (update reports/expectations)", stale);
  list("Did not run", missing_run);
  std::cout << "\n" << g.str();
  if (!outdir.empty()) std::ofstream(fs::path(outdir) / "gate.md") << g.str();
  // One closing line in the form CI log readers know: expected failures, skips and
  // unsupported behaviours are not counted as passed.
  std::cout << "gate: " << totals["passed"] << " passed, " << unexpected.size() + stale.size() + missing_run.size()
            << " failed, " << totals["xfail"] + totals["skipped"] + totals["unsupported"] << " skipped\n";
  return ok ? 0 : 1;
}
