#include "common/data_file.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "common/json_reader.h"

// Every operator new of this test binary is counted, so the tests below
// measure what the parse really allocates, whatever the representation.
namespace {
constexpr size_t kHeaderBytes = 16;  // keeps malloc's alignment
std::atomic<int64_t> g_live_bytes{0};
std::atomic<int64_t> g_peak_bytes{0};
}  // namespace

void* operator new(size_t n) {
  void* p = std::malloc(n + kHeaderBytes);
  if (p == nullptr) throw std::bad_alloc();
  *static_cast<size_t*>(p) = n;
  int64_t live = g_live_bytes += static_cast<int64_t>(n);
  int64_t peak = g_peak_bytes.load();
  while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
  }
  return static_cast<char*>(p) + kHeaderBytes;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  char* block = static_cast<char*>(p) - kHeaderBytes;
  g_live_bytes -= static_cast<int64_t>(*reinterpret_cast<size_t*>(block));
  std::free(block);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace loadd {
namespace {

// The most heap bytes live at once while fn runs, above those live before.
size_t PeakHeapBytes(const std::function<void()>& fn) {
  int64_t base = g_live_bytes.load();
  g_peak_bytes = base;
  fn();
  return static_cast<size_t>(g_peak_bytes.load() - base);
}

std::string Repeat(const std::string& row, size_t bytes) {
  std::string out;
  while (out.size() + row.size() <= bytes) out += row;
  return out;
}

// CSV texts of about `bytes` bytes, each shaped to cost the most per byte
// in some representation.
std::vector<std::pair<std::string, std::string>> HostileTexts(size_t bytes) {
  std::string header64;
  for (int i = 0; i < 64; ++i) header64 += (i ? ",c" : "c") + std::to_string(i);
  std::string empty64(63, ',');
  return {
      {"64 empty columns", header64 + "\n" + Repeat(empty64 + "\n", bytes)},
      {"64 one-byte columns", header64 + "\n" +
                                  Repeat("1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,"
                                         "3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,"
                                         "5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4\n",
                                         bytes)},
      {"1 column, 1 byte rows", "id\n" + Repeat("x\n", bytes)},
      {"2 empty columns, CRLF", "a,b\r\n" + Repeat(",\r\n", bytes)},
      {"quoted escapes", "a,b\n" + Repeat("\"\"\"\",\"x,\"\"y\"\n", bytes)},
      {"one long field", "a\n" + std::string(bytes, 'z') + "\n"},
      {"blank lines", "a\n1\n" + std::string(bytes, '\n')},
  };
}

TEST(DataFileTest, ParsesFieldsQuotesAndLineEnds) {
  std::vector<std::string> columns;
  DataRows rows;
  ASSERT_TRUE(
      ParseCsv("id,name\r\n1,\"a, \"\"b\"\"\"\n\n2,\n3,\"x\ny\"", &columns, &rows).ok());
  EXPECT_EQ(columns, (std::vector<std::string>{"id", "name"}));
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(rows.columns(), 2u);
  EXPECT_EQ(rows.Field(0, 0), "1");
  EXPECT_EQ(rows.Field(0, 1), "a, \"b\"");
  EXPECT_EQ(rows.Field(1, 0), "2");
  EXPECT_EQ(rows.Field(1, 1), "");
  EXPECT_EQ(rows.Field(2, 1), "x\ny");
}

TEST(DataFileTest, ErrorsNameTheLine) {
  struct Case {
    std::string text, path, message;
  } cases[] = {
      {"", "line 1", "the first line must name the columns"},
      {"a,,b\n1,2,3\n", "line 1", "a column has no name"},
      {"a\n", "line 2", "the file has no rows"},
      {"a,b\n1,2\n3\n", "line 3", "has 1 fields, the header 2"},
      {"a\n\"open\n", "line 2", "unclosed quote"},
      {std::string(64, ',') + "\n", "line 1", "at most 64 columns"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> columns;
    DataRows rows;
    Status st = ParseCsv(c.text, &columns, &rows);
    EXPECT_EQ(st.path(), c.path) << c.text;
    EXPECT_EQ(st.message(), c.message) << c.text;
  }
}

// The bound DataRows states: at most 5 bytes per byte of text, plus 8.
TEST(DataFileTest, RowsHoldAtMostFiveBytesPerTextByte) {
  for (const auto& [what, text] : HostileTexts(size_t{1} << 20)) {
    std::vector<std::string> columns;
    DataRows rows;
    ASSERT_TRUE(ParseCsv(text, &columns, &rows).ok()) << what;
    EXPECT_GT(rows.size(), 0u) << what;
    EXPECT_LE(rows.MemoryBytes(),
              DataRows::kBytesPerTextByte * text.size() + DataRows::kFixedBytes)
        << what;
  }
}

// Regression: an 8 MiB file of 64 empty columns a row took 300 MB on the
// coordinator (a std::string and more per empty field). The coordinator
// (ReadDataFile) allocates no more than the content's own copy; a worker
// (LoadRows too) at most 6 bytes per byte of content at its peak, plus the
// columns.
TEST(DataFileTest, ReadingAFullDataFileAllocatesAtMostSixBytesPerByte) {
  constexpr size_t kColumnsBytes = 64 * 1024;  // 64 short names and their vector
  for (const auto& [what, text] : HostileTexts(DataFile::kMaxBytes - 1024)) {
    rapidjson::Document doc;
    doc.SetObject();
    doc.AddMember("name", "hostile.csv", doc.GetAllocator());
    doc.AddMember("content", rapidjson::StringRef(text.data(), text.size()),
                  doc.GetAllocator());
    DataFile data;
    Status st;
    size_t read_peak = PeakHeapBytes([&] { st = ReadDataFile(doc, &data); });
    ASSERT_TRUE(st.ok()) << what << ": " << st.ToString();
    EXPECT_LE(read_peak, text.size() + kColumnsBytes)
        << what << ": " << text.size() << " bytes of CSV";
    size_t load_peak = PeakHeapBytes([&] { st = data.LoadRows(); });
    ASSERT_TRUE(st.ok()) << what << ": " << st.ToString();
    EXPECT_EQ(data.rows.size(), data.row_count) << what;
    EXPECT_LE(read_peak + load_peak, 6 * text.size() + kColumnsBytes)
        << what << ": " << text.size() << " bytes of CSV";
  }
}

}  // namespace
}  // namespace loadd
