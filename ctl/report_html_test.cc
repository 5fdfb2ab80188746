#include "ctl/report_html.h"

#include <gtest/gtest.h>

#include <string>

#include "ctl/test_runs.h"

namespace loadd {
namespace {

size_t Count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(HtmlEscapeTest, EscapesMarkupCharacters) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"", ""},
      {"GET /a", "GET /a"},
      {"<script>", "&lt;script&gt;"},
      {"a & \"b\" 'c'", "a &amp; &quot;b&quot; &#39;c&#39;"},
  };
  for (const Case& c : cases) EXPECT_EQ(HtmlEscape(c.in), c.want) << c.in;
}

TEST(JsonForScriptTest, NoLessThanSignSurvives) {
  EXPECT_EQ(JsonForScript(R"({"name":"</script><b>"})"),
            R"({"name":"\u003c/script>\u003cb>"})");
  EXPECT_EQ(JsonForScript("{}"), "{}");
}

TEST(HtmlReportTest, IsSelfContained) {
  RunView run = ParseTestRun(kCiRunJson);
  std::string html = FormatHtmlReport(run, kCiRunJson);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'"),
            std::string::npos);
  // uPlot, the chart code and the run's data are all inline; nothing is loaded.
  EXPECT_NE(html.find("uPlot"), std::string::npos);
  EXPECT_NE(html.find("LoaddCharts"), std::string::npos);
  EXPECT_NE(html.find(R"(<script type="application/json" id="run-data">{)"),
            std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(Count(html, "<script"), 4u);
  EXPECT_EQ(Count(html, "</script>"), 4u);
}

TEST(HtmlReportTest, HasTheTables) {
  RunView run = ParseTestRun(kCiRunJson);
  std::string html = FormatHtmlReport(run, kCiRunJson);
  for (const char* want : {
           "<td>GET /a</td><td class=\"num\">2000</td><td class=\"num\">20</td>",
           "<td>login, &quot;quoted&quot;</td>",
           "<td>Aggregated</td>",
           "<td class=\"num\">15.00</td>",  // GET /a max, ms
           "<td class=\"fail\">FAIL</td><td>http.error_rate</td>",
           "<td>login: status is 200 &lt;&amp;&quot;&gt;</td>",
           "<th>Thresholds</th><td>failed</td>",
           "<div id=\"chart-rps\" class=\"chart\"></div>",
       }) {
    EXPECT_NE(html.find(want), std::string::npos) << want;
  }
}

// A run's name is the user's text: it must not become markup, nor end the
// embedded JSON's element.
TEST(HtmlReportTest, RunTextCannotInjectMarkup) {
  std::string json = kCiRunJson;
  json.replace(json.find("\"name\": \"ci\""), 12,
               R"("name": "</script><script>alert(1)</script>")");
  RunView run = ParseTestRun(json.c_str());
  std::string html = FormatHtmlReport(run, json);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;/script&gt;&lt;script&gt;alert(1)"), std::string::npos);
  EXPECT_NE(html.find(R"(\u003c/script>\u003cscript>alert(1))"), std::string::npos);
  EXPECT_EQ(Count(html, "<script"), 4u);
}

}  // namespace
}  // namespace loadd
