#include "common/run_filter.h"

#include <gtest/gtest.h>

#include <string>

namespace loadd {
namespace {

bool IsState(std::string_view s) { return s == "finished" || s == "running"; }

TEST(RunFilter, ParsesLabelsAndStatesAndRefusesWithTheParameter) {
  struct Case {
    const char* labels;  // one value of `label`, or null
    const char* states;  // one value of `state`, or null
    const char* error;   // a piece of the error, or null for OK
  };
  const Case cases[] = {
      {"branch=main", nullptr, nullptr},
      {"branch=main,commit=abc", "finished,running", nullptr},
      {nullptr, "finished", nullptr},
      {"branch", nullptr, "label \"branch\": must be key=value"},
      {"=main", nullptr, "label \"=main\""},
      {"branch=", nullptr, "label value must be 1 to 128 bytes"},
      {"branch=a b", nullptr, "not ' '"},
      {"a=1,a=2", nullptr, "is given twice"},
      {"a=1,", nullptr, "must be key=value"},
      {nullptr, "done", "state: \"done\" is not a run state (one of finished, running)"},
      {nullptr, "finished,", "\"\" is not a run state"},
  };
  for (const Case& c : cases) {
    RunFilter filter;
    Status st;
    if (c.labels != nullptr) st = AddFilterLabels(c.labels, "label", &filter);
    if (st.ok() && c.states != nullptr) {
      st = AddFilterStates(c.states, "state", IsState, "finished, running", &filter);
    }
    if (c.error == nullptr) {
      EXPECT_TRUE(st.ok()) << st.ToString();
    } else {
      EXPECT_FALSE(st.ok()) << c.error;
      EXPECT_NE(st.ToString().find(c.error), std::string::npos) << st.ToString();
      EXPECT_TRUE(filter.empty()) << "a refused value changes nothing";
    }
  }
}

TEST(RunFilter, AllLabelsAndAnyStateMustMatch) {
  RunFilter filter;
  ASSERT_TRUE(AddFilterLabels("branch=main", "label", &filter).ok());
  ASSERT_TRUE(AddFilterLabels("commit=abc", "label", &filter).ok());
  ASSERT_TRUE(AddFilterStates("finished", "state", IsState, "", &filter).ok());
  ASSERT_TRUE(AddFilterStates("running,finished", "state", IsState, "", &filter).ok());
  EXPECT_EQ(filter.states, (std::vector<std::string>{"finished", "running"}));
  Labels both = {{"branch", "main"}, {"commit", "abc"}, {"extra", "x"}};
  EXPECT_TRUE(RunFilterMatches(filter, "finished", both));
  EXPECT_TRUE(RunFilterMatches(filter, "running", both));
  EXPECT_FALSE(RunFilterMatches(filter, "stopped", both));
  EXPECT_FALSE(RunFilterMatches(filter, "finished", {{"branch", "main"}}));
  EXPECT_FALSE(
      RunFilterMatches(filter, "finished", {{"branch", "dev"}, {"commit", "abc"}}));
  EXPECT_TRUE(RunFilterMatches(RunFilter(), "anything", {}));
}

TEST(RunFilter, LoadctlAcceptsAnyLowercaseStateAndBuildsTheQuery) {
  RunFilter filter;
  ASSERT_TRUE(AddFilterStates("queued", "--state", nullptr, "", &filter).ok());
  EXPECT_FALSE(AddFilterStates("Queued&x=1", "--state", nullptr, "", &filter).ok());
  ASSERT_TRUE(AddFilterLabels("git.branch=feature/x", "--label", &filter).ok());
  EXPECT_EQ(RunFilterQuery(filter), "label=git.branch%3Dfeature/x&state=queued");
  EXPECT_EQ(RunFilterQuery(RunFilter()), "");
}

}  // namespace
}  // namespace loadd
