#include "ctl/data_inline.h"

#include <gtest/gtest.h>

#include "common/json.h"
#include "ctl/test_fakes.h"

namespace loadd {
namespace {

TEST(DataFilePathTest, RelativeToThePlansDirectory) {
  struct Case {
    const char* plan;
    const char* file;
    const char* want;
  };
  const Case kCases[] = {
      {"plan.json", "users.csv", "users.csv"},
      {"load/plan.json", "users.csv", "load/users.csv"},
      {"load/plan.json", "data/users.csv", "load/data/users.csv"},
      {"load/plan.json", "../users.csv", "load/../users.csv"},
      {"/srv/load/plan.json", "users.csv", "/srv/load/users.csv"},
      {"load/plan.json", "/data/users.csv", "/data/users.csv"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(DataFilePath(c.plan, c.file), c.want) << c.plan << " + " << c.file;
  }
}

class InlineDataFileTest : public ::testing::Test {
 protected:
  // The plan document after inlining, compact; *status gets the result.
  std::string Inline(const char* plan_path, const char* plan, Status* status) {
    rapidjson::Document doc;
    EXPECT_TRUE(ParseJson(plan, &doc).ok()) << plan;
    *status = InlineDataFile(plan_path, &files_, &doc);
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    doc.Accept(w);
    return buf.GetString();
  }
  FakeFiles files_;
};

TEST_F(InlineDataFileTest, ReplacesFileByNameAndContent) {
  files_.files["load/data/users.csv"] = "id,name\n1,\"Ann, \"\"A\"\"\"\n";
  Status status;
  std::string plan = Inline(
      "load/plan.json",
      R"({"data":{"file":"data/users.csv","mode":"shared","on_exhausted":"recycle"}})",
      &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(plan,
            R"({"data":{"mode":"shared","on_exhausted":"recycle","name":"users.csv",)"
            R"("content":"id,name\n1,\"Ann, \"\"A\"\"\"\n"}})");
}

TEST_F(InlineDataFileTest, InlinesTlsPemFiles) {
  files_.files["load/certs/ca.pem"] = "CA";
  files_.files["/etc/c.pem"] = "CERT";
  files_.files["load/c.key"] = "KEY";
  Status status;
  std::string plan = Inline(
      "load/plan.json",
      R"({"tls":{"ca":{"file":"certs/ca.pem"},"cert":{"file":"/etc/c.pem"},"key":{"file":"c.key"},)"
      R"("insecure":false}})",
      &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(
      plan,
      R"({"tls":{"ca":{"name":"ca.pem","content":"CA"},)"
      R"("cert":{"name":"c.pem","content":"CERT"},"key":{"name":"c.key","content":"KEY"},)"
      R"("insecure":false}})");
  files_.files["big.pem"] = std::string(kMaxPemFileBytes + 1, 'x');
  Inline("plan.json", R"({"tls":{"key":{"file":"big.pem"}}})", &status);
  EXPECT_EQ(status.ToString(), "$.tls.key.file: big.pem: is larger than 65536 bytes");
  Inline("plan.json", R"({"tls":{"cert":{"file":"nope.pem"}}})", &status);
  EXPECT_EQ(status.ToString(),
            "$.tls.cert.file: nope.pem: cannot read: No such file or directory");
  Inline("plan.json", R"({"tls":{"ca":{"file":3}}})", &status);
  EXPECT_EQ(status.ToString(), "$.tls.ca.file: must be the path of a PEM file");
}

TEST_F(InlineDataFileTest, PlansWithoutADataFileAreUnchanged) {
  const char* kPlans[] = {
      R"({"users":1})",
      R"({"data":{"name":"u.csv","content":"id\n1\n"}})",
      R"({"data":"not an object: ParsePlan says so"})",
      R"([1])",
  };
  for (const char* plan : kPlans) {
    Status status;
    EXPECT_EQ(Inline("plan.json", plan, &status), plan);
    EXPECT_TRUE(status.ok()) << plan << ": " << status.ToString();
  }
}

TEST_F(InlineDataFileTest, ErrorsNameTheField) {
  files_.files["big.csv"] = std::string(kMaxDataFileBytes + 1, 'x');
  files_.files["exact.csv"] = std::string(kMaxDataFileBytes, 'x');
  files_.files["u.csv"] = "id\n1\n";
  struct Case {
    const char* plan;
    const char* error;  // empty: accepted
  };
  const Case kCases[] = {
      {R"({"data":{"file":"missing.csv"}})",
       "$.data.file: missing.csv: cannot read: No such file or directory"},
      {R"({"data":{"file":"big.csv"}})", "$.data.file: big.csv: is larger than 8 MiB"},
      {R"({"data":{"file":"exact.csv"}})", ""},
      {R"({"data":{"file":7}})", "$.data.file: must be the path of a CSV file"},
      {R"({"data":{"file":""}})", "$.data.file: must be the path of a CSV file"},
      {R"({"data":{"file":"u.csv","content":"id\n2\n"}})",
       "$.data.file: cannot be combined with content"},
  };
  for (const Case& c : kCases) {
    Status status;
    Inline("plan.json", c.plan, &status);
    if (*c.error == '\0') {
      EXPECT_TRUE(status.ok()) << c.plan << ": " << status.ToString();
      continue;
    }
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.plan;
    EXPECT_EQ(status.ToString(), c.error) << c.plan;
  }
}

}  // namespace
}  // namespace loadd
