#include "ctl/live_view.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "common/plan.h"

namespace loadd {
namespace {

// A screen of rows x columns cells that understands what the live view
// sends: printable bytes (a UTF-8 sequence fills one cell), \r, \n, CSI n A
// (up), CSI K (erase to end of line), CSI J (erase to end of screen), and
// ignores SGR and cursor visibility. Lines never wrap (the view must keep
// them short; a write past the edge is an error).
class FakeTerminal {
 public:
  explicit FakeTerminal(int columns, int rows = 40)
      : columns_(columns), screen_(rows, std::vector<std::string>(columns, " ")) {}

  void Write(const std::string& bytes) {
    for (size_t i = 0; i < bytes.size();) {
      char c = bytes[i];
      if (c == '\r') {
        col_ = 0;
        ++i;
      } else if (c == '\n') {
        ++row_;
        col_ = 0;
        ++i;
      } else if (c == '\x1b') {
        i = Escape(bytes, i);
      } else {
        size_t n = 1;
        unsigned char lead = static_cast<unsigned char>(c);
        if (lead >= 0xf0) {
          n = 4;
        } else if (lead >= 0xe0) {
          n = 3;
        } else if (lead >= 0xc0) {
          n = 2;
        }
        ASSERT_LT(col_, columns_) << "line wrapped at row " << row_;
        screen_.at(row_).at(col_++) = bytes.substr(i, n);
        i += n;
      }
    }
  }

  // Rows with the trailing blanks cut, up to the last non-empty one.
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    for (const auto& cells : screen_) {
      std::string line;
      for (const std::string& cell : cells) line += cell;
      line.erase(line.find_last_not_of(' ') + 1);
      lines.push_back(line);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
  }
  int row() const { return row_; }

 private:
  size_t Escape(const std::string& bytes, size_t i) {
    size_t j = i + 2;  // after ESC [
    std::string params;
    while (j < bytes.size() && !(bytes[j] >= 0x40 && bytes[j] <= 0x7e))
      params += bytes[j++];
    char final_byte = bytes[j];
    if (final_byte == 'A')
      row_ = std::max(0, row_ - std::stoi(params.empty() ? "1" : params));
    if (final_byte == 'K' || final_byte == 'J') {
      for (int c = col_; c < columns_; ++c) screen_[row_][c] = " ";
    }
    if (final_byte == 'J') {
      for (size_t r = row_ + 1; r < screen_.size(); ++r) {
        for (std::string& cell : screen_[r]) cell = " ";
      }
    }
    return j + 1;
  }

  int columns_;
  int row_ = 0;
  int col_ = 0;
  std::vector<std::vector<std::string>> screen_;
};

RunView SampleRun(int endpoints) {
  RunView run;
  run.id = "r1";
  run.state = "running";
  run.elapsed_s = 12;
  run.duration_s = 30;
  run.users = 150;
  run.target_users = 200;
  run.workers = 2;
  run.requests = 2000;
  run.failures = 3;
  for (int i = 0; i < endpoints; ++i) {
    EndpointView e;
    e.name = "GET /delay/" + std::to_string(i) + "ms";
    e.requests = 1000 + i;
    e.failures = i == 1 ? 3 : 0;
    e.rps = 100.5;
    e.latency.p50_us = 20400;
    e.latency.p95_us = 20800;
    e.latency.p99_us = 21100;
    run.endpoints.push_back(e);
  }
  return run;
}

LiveSnapshot Snapshot(const RunView& run) {
  LiveSnapshot s;
  s.run = &run;
  s.rps = 1902.4;
  s.phases = {{5, true}, {30, false}};
  return s;
}

bool IsValidUtf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || i + n > text.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

TEST(ProgressBarTest, FillsWithTheRunAndShowsItsPhases) {
  const std::vector<LivePhase> ramp_then_steady = {{5, true}, {10, false}};
  struct Case {
    double fraction;
    std::vector<LivePhase> phases;
    std::string want;
  };
  const Case cases[] = {
      {0.0, {}, "[..........]"},
      {0.5, {}, "[#####.....]"},
      {1.0, {}, "[##########]"},
      {0.0, ramp_then_steady, "[-----.....]"},
      {0.3, ramp_then_steady, "[===--.....]"},
      {0.5, ramp_then_steady, "[=====.....]"},
      {0.7, ramp_then_steady, "[=====##...]"},
      {1.0, ramp_then_steady, "[=====#####]"},
      {1.7, {}, "[##########]"},   // clamped
      {-0.2, {}, "[..........]"},  // clamped
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ProgressBar(c.fraction, 10, c.phases, 10, /*color=*/false), c.want)
        << c.fraction;
  }
}

TEST(ProgressBarTest, ColoursRunsOfCellsOnce) {
  EXPECT_EQ(ProgressBar(0.5, 10, {}, 4, /*color=*/true),
            "[\x1b[32m##\x1b[0m\x1b[2m..\x1b[0m]");
}

TEST(FitColumnsTest, CutsToTheWidthWithoutBreakingCharacters) {
  struct Case {
    std::string text;
    int columns;
    std::string want;
  };
  const Case cases[] = {
      {"GET /delay/20ms", 20, "GET /delay/20ms"},
      {"GET /delay/20ms", 15, "GET /delay/20ms"},
      {"GET /delay/20ms", 8, "GET /de~"},
      {"GET /delay/20ms", 1, "~"},
      {"GET /delay/20ms", 0, ""},
      {"caf\xc3\xa9/\xc3\xbc", 6, "caf\xc3\xa9/\xc3\xbc"},  // 6 code points fit
      {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, "\xc3\xa9\xc3\xa9~"},  // é x5
      {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 2, "\xe6\x97\xa5~"},          // 日本語
      {"\xf0\x9f\x9a\x80\xf0\x9f\x9a\x80", 1, "~"},                          // emoji
      {"\x1b[31mFAILED\x1b[0m", 4, "\x1b[31mFAI~\x1b[0m"},
      {"\x1b[31mFAIL\x1b[0m", 4, "\x1b[31mFAIL\x1b[0m"},  // escapes take no columns
  };
  for (const Case& c : cases) {
    std::string got = FitColumns(c.text, c.columns);
    EXPECT_EQ(got, c.want) << c.text << " in " << c.columns;
    EXPECT_TRUE(IsValidUtf8(got)) << got;
    EXPECT_LE(DisplayWidth(got), std::max(0, c.columns)) << got;
  }
}

TEST(RenderLiveFrameTest, PlainFrameAtEightyColumns) {
  RunView run = SampleRun(2);
  run.thresholds = {{"http.p95", "<250ms", true, 20800, true, "", {}},
                    {"http.error_rate", "<0.1%", true, 0.0015, false, "", {}}};
  LiveViewOptions options;
  options.color = false;
  std::vector<std::string> want = {
      "[=======#########.........................]  40%  12.0s/30.0s  steady",
      "r1  running  users 150/200  rps 1902.4  errors 3 (0.15%)  workers 2",
      "Name            Requests  Fails      RPS     p50     p95     p99",
      "GET /delay/0ms      1000      0    100.5  20.4ms  20.8ms  21.1ms",
      "GET /delay/1ms      1001      3    100.5  20.4ms  20.8ms  21.1ms",
      "Thresholds  PASS http.p95 <250ms  FAIL http.error_rate <0.1%",
  };
  EXPECT_EQ(RenderLiveFrame(Snapshot(run), options), want);
}

TEST(RenderLiveFrameTest, RampPhaseIsNamed) {
  RunView run = SampleRun(0);
  run.elapsed_s = 2;
  LiveViewOptions options;
  options.color = false;
  std::vector<std::string> lines = RenderLiveFrame(Snapshot(run), options);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("   6%  2.0s/30.0s  ramp"), std::string::npos) << lines[0];
  EXPECT_EQ(lines.size(), 2u);  // no endpoints yet: no table
}

TEST(RenderLiveFrameTest, FinishedRunIsFullAndPhaseless) {
  RunView run = SampleRun(1);
  run.state = "finished";
  run.elapsed_s = 29.9;
  LiveViewOptions options;
  options.color = false;
  std::vector<std::string> lines = RenderLiveFrame(Snapshot(run), options);
  EXPECT_NE(lines[0].find("#] 100%  29.9s/30.0s"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("steady"), std::string::npos) << lines[0];
}

TEST(RenderLiveFrameTest, EveryLineFitsNarrowAndWideTerminals) {
  RunView run = SampleRun(3);
  run.endpoints[2].name =
      "POST /api/v1/some/really/long/endpoint/name/\xc3\xa9t\xc3\xa9/"
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/that/goes/on";
  for (bool color : {false, true}) {
    for (int width : {10, 20, 40, 60, 79, 80, 120, 200}) {
      LiveViewOptions options;
      options.width = width;
      options.color = color;
      for (const std::string& line : RenderLiveFrame(Snapshot(run), options)) {
        EXPECT_LE(DisplayWidth(line), width - 1) << width << ": " << line;
        EXPECT_TRUE(IsValidUtf8(line)) << line;
      }
    }
  }
}

TEST(RenderLiveFrameTest, LongNamesAreTruncatedToKeepTheNumbers) {
  RunView run = SampleRun(1);
  run.endpoints[0].name = "GET /\xc3\xa9" + std::string(80, 'x');
  LiveViewOptions options;
  options.width = 60;
  options.color = false;
  std::vector<std::string> lines = RenderLiveFrame(Snapshot(run), options);
  ASSERT_EQ(lines.size(), 4u);
  const std::string& row = lines[3];
  EXPECT_EQ(row.rfind("GET /\xc3\xa9xxx", 0), 0u) << row;
  EXPECT_NE(row.find("~ "), std::string::npos) << row;
  // The numbers survive the cut.
  EXPECT_EQ(row.substr(row.size() - 8), "  21.1ms") << row;
  EXPECT_EQ(DisplayWidth(row), 59) << row;
}

TEST(RenderLiveFrameTest, CapsTheRowsShown) {
  struct Case {
    int endpoints;
    int max_rows;
    size_t want_rows;
    std::string want_last;
  };
  const Case cases[] = {
      {3, 15, 3, "GET /delay/2ms"},
      {15, 15, 15, "GET /delay/14ms"},
      {20, 15, 15, "... 5 more"},
      {20, 1, 1, "... 19 more"},
  };
  for (const Case& c : cases) {
    RunView run = SampleRun(c.endpoints);
    LiveViewOptions options;
    options.color = false;
    options.max_rows = c.max_rows;
    std::vector<std::string> lines = RenderLiveFrame(Snapshot(run), options);
    // bar, status, header, rows, and "... N more" when cut
    size_t more = c.endpoints > c.max_rows ? 1 : 0;
    ASSERT_EQ(lines.size(), 3 + c.want_rows + more) << c.endpoints;
    EXPECT_EQ(lines.back().rfind(c.want_last, 0), 0u) << lines.back();
  }
}

TEST(RenderLiveFrameTest, PlainModeHasNoEscapeByte) {
  RunView run = SampleRun(20);
  run.dropped = 7;
  run.thresholds = {{"http.p95", "<1ms", true, 20800, false, "", {}}};
  LiveViewOptions options;
  options.color = false;
  for (const std::string& line : RenderLiveFrame(Snapshot(run), options)) {
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  }
}

TEST(RenderLiveFrameTest, ColoursFailuresAndThresholds) {
  RunView run = SampleRun(2);
  run.thresholds = {{"http.p95", "<250ms", true, 20800, true, "", {}},
                    {"http.p99", "<1ms", true, 21100, false, "", {}}};
  LiveViewOptions options;
  options.width = 200;
  std::vector<std::string> lines = RenderLiveFrame(Snapshot(run), options);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_NE(lines[1].find("errors \x1b[31m3 (0.15%)\x1b[0m"), std::string::npos)
      << lines[1];
  EXPECT_EQ(lines[3].find("\x1b[31m"), std::string::npos) << lines[3];  // 0 fails: plain
  EXPECT_NE(lines[4].find("\x1b[31m      3\x1b[0m"), std::string::npos) << lines[4];
  EXPECT_NE(lines[5].find("\x1b[32mPASS\x1b[0m http.p95"), std::string::npos) << lines[5];
  EXPECT_NE(lines[5].find("\x1b[31mFAIL\x1b[0m http.p99"), std::string::npos) << lines[5];
}

TEST(RenderLiveFrameTest, WaitingRunIsOneLine) {
  RunView run;
  run.id = "r1";
  run.state = "waiting";
  run.expect_workers = 3;
  LiveSnapshot s;
  s.run = &run;
  s.live_workers = 1;
  EXPECT_EQ(RenderLiveFrame(s, LiveViewOptions{}),
            std::vector<std::string>{"r1  waiting for workers (have 1, want 3)"});
  s.live_workers = -1;
  EXPECT_EQ(RenderLiveFrame(s, LiveViewOptions{}),
            std::vector<std::string>{"r1  waiting for workers (have ?, want 3)"});
}

TEST(RedrawFrameTest, MovesUpOverThePreviousFrame) {
  EXPECT_EQ(RedrawFrame(0, {"a", "b"}), "\ra\x1b[K\nb\x1b[K\n\x1b[J");
  EXPECT_EQ(RedrawFrame(2, {"c"}), "\x1b[2A\rc\x1b[K\n\x1b[J");
}

TEST(RedrawFrameTest, ShrinkingFrameLeavesNothingBehind) {
  LiveViewOptions options;
  options.width = 80;
  options.color = true;
  FakeTerminal terminal(80);
  terminal.Write("$ loadctl start\n");
  RunView big = SampleRun(6);
  std::vector<std::string> first = RenderLiveFrame(Snapshot(big), options);
  terminal.Write(RedrawFrame(0, first));
  RunView small = SampleRun(1);
  small.elapsed_s = 13;
  std::vector<std::string> second = RenderLiveFrame(Snapshot(small), options);
  ASSERT_LT(second.size(), first.size());
  terminal.Write(RedrawFrame(static_cast<int>(first.size()), second));

  options.color = false;
  std::vector<std::string> want = {"$ loadctl start"};
  for (const std::string& line : RenderLiveFrame(Snapshot(small), options)) {
    want.push_back(line);
  }
  EXPECT_EQ(terminal.Lines(), want);
  EXPECT_EQ(terminal.row(), static_cast<int>(want.size()));  // cursor below the frame

  // Growing again draws over the same place.
  terminal.Write(RedrawFrame(static_cast<int>(second.size()), first));
  EXPECT_EQ(terminal.Lines().size(), 1 + first.size());
}

TEST(UseLiveViewTest, OnlyOnACapableTerminal) {
  struct Case {
    bool tty;
    const char* term;
    const char* no_color;
    bool flag;
    bool want;
  };
  const Case cases[] = {
      {true, "xterm-256color", nullptr, false, true},
      {true, "xterm", "", false, true},  // empty NO_COLOR is unset (no-color.org)
      {false, "xterm", nullptr, false, false},
      {true, "dumb", nullptr, false, false},
      {true, nullptr, nullptr, false, false},
      {true, "", nullptr, false, false},
      {true, "xterm", "1", false, false},
      {true, "xterm", nullptr, true, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(UseLiveView(c.tty, c.term, c.no_color, c.flag), c.want)
        << c.tty << " " << (c.term ? c.term : "(null)") << " "
        << (c.no_color ? c.no_color : "(null)") << " " << c.flag;
  }
}

TEST(MaxTableRowsTest, FitsTheTerminal) {
  EXPECT_EQ(MaxTableRows(24), 15);
  EXPECT_EQ(MaxTableRows(12), 6);
  EXPECT_EQ(MaxTableRows(3), 1);
}

TEST(PhasesOfPlanTest, ReadsTheLoadProfile) {
  struct Case {
    const char* json;
    std::vector<std::pair<double, bool>> want;  // end_s, ramp
  };
  const Case cases[] = {
      {R"({"plan": {"users": 100, "spawn_rate": 10, "duration": "30s"}})",
       {{10, true}, {30, false}}},
      {R"({"plan": {"users": 100, "spawn_rate": 100, "duration": "30s"}})",
       {{30, false}}},
      {R"({"plan": {"users": 4, "spawn_rate": "2", "duration": "4s"}})",  // quoted rate
       {{2, true}, {4, false}}},
      {R"({"plan": {"users": 4, "spawn_rate": "x", "duration": "4s"}})", {{4, false}}},
      {R"({"plan": {"users": 100, "spawn_rate": 1, "duration": "30s"}})", {{30, true}}},
      {R"({"plan": {"arrival_rate": 50, "duration": "1m"}})", {{60, false}}},
      {R"({"plan": {"stages": [{"duration": "10s", "users": 50},
                               {"duration": "20s", "users": 50},
                               {"duration": "5s", "users": 0}]}})",
       {{10, true}, {30, false}, {35, true}}},
      {R"({"plan": {"start_rate": 10, "stages": [{"duration": "10s", "rate": 10},
                                                 {"duration": "10s", "rate": 20}]}})",
       {{10, false}, {20, true}}},
      {R"({"plan": {"stages": [{"duration": "10s", "users": 50},
                               {"duration": "0s", "users": 100},
                               {"duration": "10s", "users": 100}]}})",  // a step
       {{10, true}, {20, false}}},
      {R"({"plan": {}})", {}},
      {R"({"id": "r1"})", {}},
      {R"({"plan": {"users": 1, "duration": "later"}})", {}},
  };
  for (const Case& c : cases) {
    rapidjson::Document doc;
    doc.Parse(c.json);
    ASSERT_FALSE(doc.HasParseError()) << c.json;
    std::vector<std::pair<double, bool>> got;
    for (const LivePhase& p : PhasesOfPlan(doc)) got.emplace_back(p.end_s, p.ramp);
    EXPECT_EQ(got, c.want) << c.json;
  }
}

// The phases drawn follow the load the plan's profile describes: a ramp
// holds a change of load inside it, a steady phase holds none, and the last
// phase ends where the profile does. Plans go through the parser and back
// to JSON, as GET /v1/runs/{id} serves them.
TEST(PhasesOfPlanTest, AgreeWithThePlansProfile) {
  const char* plans[] = {
      R"({"target": "http://h", "stages": [{"duration": "10s", "users": 50},
          {"duration": "0s", "users": 100}, {"duration": "10s", "users": 100},
          {"duration": "5s", "users": 20}, {"duration": "5s", "users": 80}]})",
      R"({"target": "http://h", "start_rate": 5, "stages": [
          {"duration": "3s", "rate": 5}, {"duration": "0s", "rate": 50},
          {"duration": "7s", "rate": 50}, {"duration": "10s", "rate": 0}]})",
      R"({"target": "http://h", "users": 30, "spawn_rate": 4, "duration": "20s"})",
      R"({"target": "http://h", "users": 30, "spawn_rate": 1, "duration": "20s"})",
      R"({"target": "http://h", "arrival_rate": 40, "duration": "1m"})",
  };
  for (const char* text : plans) {
    Result<Plan> plan = ParsePlan(text);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    LoadProfile profile = plan->Profile();
    rapidjson::Document doc;
    doc.Parse(("{\"plan\": " + PlanToJson(*plan) + "}").c_str());
    ASSERT_FALSE(doc.HasParseError()) << text;
    std::vector<LivePhase> phases = PhasesOfPlan(doc);
    ASSERT_FALSE(phases.empty()) << text;
    EXPECT_EQ(phases.back().end_s * 1e9, static_cast<double>(profile.duration_ns()))
        << text;
    double begin_s = 0;
    for (const LivePhase& phase : phases) {
      // The load at 17 instants strictly inside the phase.
      bool changes = false;
      double first = profile.ValueAt(static_cast<int64_t>((begin_s + 1e-6) * 1e9));
      for (int k = 0; k <= 16; ++k) {
        double t_s = begin_s + 1e-6 + (phase.end_s - begin_s - 2e-6) * k / 16;
        changes |= profile.ValueAt(static_cast<int64_t>(t_s * 1e9)) != first;
      }
      EXPECT_EQ(phase.ramp, changes) << text << " phase ending at " << phase.end_s;
      begin_s = phase.end_s;
    }
  }
}

}  // namespace
}  // namespace loadd
