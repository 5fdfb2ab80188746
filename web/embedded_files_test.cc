#include "web/embedded_files.h"

#include <gtest/gtest.h>

#include <string>

namespace loadd {
namespace {

TEST(EmbeddedFilesTest, HoldsTheDashboardAndUplot) {
  for (const char* name : {"index.html", "app.js", "charts.js", "report.js", "style.css",
                           "uPlot.iife.min.js", "uPlot.min.css"}) {
    const EmbeddedFile* f = FindEmbeddedFile(name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_GT(f->bytes.size(), 100u) << name;
    EXPECT_EQ(std::string(f->etag).size(), 16u) << name;
  }
  EXPECT_NE(FindEmbeddedFile("uPlot.iife.min.js")->bytes.find("uPlot"),
            std::string::npos);
  EXPECT_EQ(FindEmbeddedFile("nope.js"), nullptr);
  EXPECT_EQ(FindEmbeddedFile(""), nullptr);
}

TEST(EmbeddedFilesTest, BytesAreTheFileNotTheTerminator) {
  const EmbeddedFile* html = FindEmbeddedFile("index.html");
  ASSERT_NE(html, nullptr);
  EXPECT_EQ(html->bytes.substr(0, 15), "<!DOCTYPE html>");
  EXPECT_NE(html->bytes.back(), '\0');
}

TEST(EmbeddedFilesTest, ContentTypes) {
  struct Case {
    const char* name;
    const char* type;
  } cases[] = {
      {"index.html", "text/html; charset=utf-8"},
      {"app.js", "text/javascript; charset=utf-8"},
      {"uPlot.min.css", "text/css; charset=utf-8"},
      {"x.bin", "application/octet-stream"},
      {"js", "application/octet-stream"},
  };
  for (const Case& c : cases) EXPECT_EQ(ContentTypeOf(c.name), c.type) << c.name;
}

}  // namespace
}  // namespace loadd
