#include "ctl/junit_report.h"

#include <cstdio>
#include <vector>

#include "ctl/verdict.h"

namespace loadd {
namespace {

struct TestCase {
  std::string classname;
  std::string name;
  bool failed = false;
  std::string message;  // the failure's, or the passed case's output
};

TestCase ThresholdCase(const ThresholdView& t) {
  TestCase c{"loadd.thresholds", t.key + " " + t.condition, !t.passed, t.message};
  if (c.message.empty()) {
    c.message = "actual " + FormatThresholdActual(t) +
                (t.passed ? " meets " : " misses ") + t.condition;
  }
  return c;
}

TestCase CheckCase(const CheckView& check) {
  std::string ran = std::to_string(check.passed + check.failed);
  if (check.failed == 0)
    return {"loadd.checks", check.name, false, "all " + ran + " passed"};
  return {"loadd.checks", check.name, true,
          std::to_string(check.failed) + " of " + ran + " failed"};
}

TestCase RunCase(const RunView& run) {
  if (run.state == "finished") return {"loadd.run", "run finished", false, ""};
  std::string message = run.message.empty() ? "the run ended " + run.state : run.message;
  return {"loadd.run", "run " + run.state, true, message};
}

std::vector<TestCase> Cases(const RunView& run) {
  std::vector<TestCase> cases;
  for (const ThresholdView& t : run.thresholds) cases.push_back(ThresholdCase(t));
  for (const CheckView& c : run.checks) cases.push_back(CheckCase(c));
  if (cases.empty() || run.state != "finished") cases.push_back(RunCase(run));
  return cases;
}

std::string FormatCase(const TestCase& c) {
  std::string out = "  <testcase classname=\"" + XmlEscape(c.classname) + "\" name=\"" +
                    XmlEscape(c.name) + "\"";
  if (c.failed) {
    return out + ">\n    <failure message=\"" + XmlEscape(c.message) +
           "\"/>\n  </testcase>\n";
  }
  if (c.message.empty()) return out + "/>\n";
  return out + ">\n    <system-out>" + XmlEscape(c.message) +
         "</system-out>\n  </testcase>\n";
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

std::string FormatJunit(const RunView& run) {
  std::vector<TestCase> cases = Cases(run);
  int failures = 0;
  for (const TestCase& c : cases) failures += c.failed ? 1 : 0;
  char time[32];
  std::snprintf(time, sizeof time, "%.3f", run.elapsed_s > 0 ? run.elapsed_s : 0.0);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuite name=\"loadd " + XmlEscape(run.id) + "\" tests=\"" +
         std::to_string(cases.size()) + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"0\" skipped=\"0\" time=\"" + time + "\">\n";
  for (const TestCase& c : cases) out += FormatCase(c);
  return out + "</testsuite>\n";
}

}  // namespace loadd
