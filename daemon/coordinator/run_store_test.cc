// FileRunStore on a temporary directory, and MemoryRunStore: the record
// format, crash leftovers, damage and bounds.
#include "daemon/coordinator/run_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "daemon/coordinator/file_run_store.h"

namespace loadd {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "loadd-store-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class FileRunStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<FileRunStore>> store =
        FileRunStore::Open(dir_.path() + "/state");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  std::string RunFile(const std::string& id, const std::string& name) {
    return dir_.path() + "/state/runs/" + id + "/" + name;
  }
  // Reopens the directory as a restarted coordinator would.
  void Reopen() {
    store_.reset();
    SetUp();
  }

  TempDir dir_;
  std::unique_ptr<FileRunStore> store_;
};

TEST_F(FileRunStoreTest, PutsAddSecondsAndReplaceTheState) {
  ASSERT_TRUE(store_->Put("r1-1", "state one", 0, {"s0", "s1"}).ok());
  ASSERT_TRUE(store_->Put("r1-1", "state two", 2, {"s2"}).ok());
  ASSERT_TRUE(store_->Put("r1-1", "state three", 3, {}).ok());
  Reopen();
  Result<StoredRun> run = store_->Get("r1-1");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->state, "state three");
  EXPECT_EQ(run->seconds, (std::vector<std::string>{"s0", "s1", "s2"}));
  // A restarted coordinator carries on where the stored state ends.
  ASSERT_TRUE(store_->Put("r1-1", "state four", 3, {"s3"}).ok());
  EXPECT_EQ(store_->Get("r1-1")->seconds.size(), 4u);
  EXPECT_EQ(*store_->List(), std::vector<std::string>{"r1-1"});
}

TEST_F(FileRunStoreTest, PutOutOfStepChangesNothing) {
  ASSERT_TRUE(store_->Put("r1-1", "a", 0, {"s0"}).ok());
  Status st = store_->Put("r1-1", "b", 3, {"s3"});
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(store_->Get("r1-1")->state, "a");
  Reopen();
  EXPECT_EQ(store_->Put("r1-1", "b", 0, {"x"}).code(), StatusCode::kFailedPrecondition);
}

TEST_F(FileRunStoreTest, TornLastRecordIsDroppedAndCutOffByTheNextPut) {
  ASSERT_TRUE(store_->Put("r1-1", "state", 0, {"s0", "s1"}).ok());
  std::string seconds = RunFile("r1-1", "seconds");
  std::string intact = ReadAll(seconds);
  // A crash mid-append: half a record past what the state covers.
  WriteAll(seconds, intact + std::string("\x20\x00\x00\x00\x01\x02", 6));
  Reopen();
  Result<StoredRun> run = store_->Get("r1-1");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->seconds, (std::vector<std::string>{"s0", "s1"}));
  ASSERT_TRUE(store_->Put("r1-1", "state", 2, {"s2"}).ok());
  EXPECT_EQ(store_->Get("r1-1")->seconds, (std::vector<std::string>{"s0", "s1", "s2"}));
}

TEST_F(FileRunStoreTest, RecordsWhoseStateNeverLandedAreIgnored) {
  ASSERT_TRUE(store_->Put("r1-1", "old", 0, {"s0"}).ok());
  std::string state = ReadAll(RunFile("r1-1", "state"));
  ASSERT_TRUE(store_->Put("r1-1", "new", 1, {"s1", "s2"}).ok());
  // As if the crash came after the append but before the rename.
  WriteAll(RunFile("r1-1", "state"), state);
  Reopen();
  Result<StoredRun> run = store_->Get("r1-1");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->state, "old");
  EXPECT_EQ(run->seconds, std::vector<std::string>{"s0"});
  ASSERT_TRUE(store_->Put("r1-1", "newer", 1, {"t1"}).ok());
  EXPECT_EQ(store_->Get("r1-1")->seconds, (std::vector<std::string>{"s0", "t1"}));
}

TEST_F(FileRunStoreTest, DamageIsReportedNamingTheFile) {
  ASSERT_TRUE(store_->Put("r1-1", "state", 0, {"second zero", "second one"}).ok());
  std::string seconds = RunFile("r1-1", "seconds");
  std::string bytes = ReadAll(seconds);
  bytes[10] ^= 0x40;  // inside the first payload
  WriteAll(seconds, bytes);
  Result<StoredRun> run = store_->Get("r1-1");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().path(), seconds);
  EXPECT_NE(run.status().message().find("checksum"), std::string::npos)
      << run.status().message();

  ASSERT_TRUE(store_->Put("r2-1", "state", 0, {}).ok());
  std::string state = RunFile("r2-1", "state");
  WriteAll(state, ReadAll(state).substr(0, 12));  // truncated
  run = store_->Get("r2-1");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().path(), state);

  ASSERT_TRUE(store_->Put("r3-1", "state", 0, {"s0", "s1"}).ok());
  seconds = RunFile("r3-1", "seconds");
  WriteAll(seconds, ReadAll(seconds).substr(0, 5));  // shorter than the state says
  run = store_->Get("r3-1");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().path(), seconds);
  EXPECT_NE(run.status().message().find("shorter"), std::string::npos);
}

// Regression: a FIFO at runs/<id>/state blocked the coordinator's start in
// open() for good. Nothing but a regular file is opened: FIFOs, devices and
// symbolic links are damage, named, and Get returns at once.
TEST_F(FileRunStoreTest, OnlyRegularFilesAreOpened) {
  ASSERT_TRUE(store_->Put("r1-1", "state", 0, {"s0"}).ok());
  ASSERT_TRUE(store_->Put("r1-2", "state", 0, {"s0"}).ok());
  ASSERT_TRUE(store_->Put("r1-3", "state", 0, {"s0"}).ok());
  ASSERT_TRUE(store_->Put("r1-4", "state", 0, {"s0"}).ok());
  std::string fifo = RunFile("r1-1", "state");
  ASSERT_EQ(unlink(fifo.c_str()), 0);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string link = RunFile("r1-2", "state");
  std::string target = dir_.path() + "/elsewhere";
  fs::rename(link, target);
  fs::create_symlink(target, link);
  std::string fifo_seconds = RunFile("r1-3", "seconds");
  ASSERT_EQ(unlink(fifo_seconds.c_str()), 0);
  ASSERT_EQ(mkfifo(fifo_seconds.c_str(), 0600), 0);
  struct Case {
    std::string id, path, kind;
  } cases[] = {{"r1-1", fifo, "a FIFO"},
               {"r1-2", link, "a symbolic link"},
               {"r1-3", fifo_seconds, "a FIFO"}};
  std::string device = RunFile("r1-4", "state");
  ASSERT_EQ(unlink(device.c_str()), 0);
  bool have_device = mknod(device.c_str(), S_IFCHR | 0600, makedev(1, 5)) == 0;
  Reopen();  // as a restarted coordinator finds them
  for (const Case& c : cases) {
    Result<StoredRun> run = store_->Get(c.id);
    ASSERT_FALSE(run.ok()) << c.id;
    EXPECT_EQ(run.status().path(), c.path);
    EXPECT_NE(run.status().message().find("is " + c.kind + ", not a regular file"),
              std::string::npos)
        << run.status().message();
    // Writing does not open it either: the Put fails, naming it, or replaces
    // the state by rename.
    Status put = store_->Put(c.id, "new", 1, {"s1"});
    if (!put.ok()) {
      EXPECT_EQ(put.path(), c.path) << put.ToString();
    }
  }
  if (have_device) {  // root, or CAP_MKNOD (/dev/zero's numbers)
    Result<StoredRun> run = store_->Get("r1-4");
    ASSERT_FALSE(run.ok());
    EXPECT_EQ(run.status().path(), device);
    EXPECT_NE(run.status().message().find("is a character device"), std::string::npos)
        << run.status().message();
  } else {
    GTEST_LOG_(INFO) << "mknod is not permitted here: the device case is not run";
  }
  // A run directory that is a symbolic link is not listed.
  fs::create_symlink(dir_.path() + "/state/runs/r1-4", dir_.path() + "/state/runs/r1-9");
  std::vector<std::string> ids = *store_->List();
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "r1-9"), 0);
  EXPECT_EQ(ids.size(), 4u);
}

TEST_F(FileRunStoreTest, OversizedRunIsRefusedAtLoad) {
  ASSERT_TRUE(store_->Put("r1-1", "state", 0, {}).ok());
  // A sparse state file past the cap: refused before anything is read.
  std::string state = RunFile("r1-1", "state");
  ASSERT_EQ(truncate(state.c_str(), RunStore::kMaxStateBytes + 4096), 0);
  Result<StoredRun> run = store_->Get("r1-1");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(run.status().path(), state);
  EXPECT_NE(run.status().message().find("MiB cap"), std::string::npos);
  // And a state too big is never written.
  std::string huge(RunStore::kMaxStateBytes + 1, 'x');
  EXPECT_EQ(store_->Put("r2-1", huge, 0, {}).code(), StatusCode::kResourceExhausted);
}

TEST_F(FileRunStoreTest, IdsThatAreNotRunIdsNeverReachTheFileSystem) {
  for (const std::string& id : std::vector<std::string>{"../x", "a/b", "", ".", "..",
                                                        std::string(65, 'r'), "r1 2"}) {
    EXPECT_EQ(store_->Get(id).status().code(), StatusCode::kNotFound) << id;
    EXPECT_FALSE(store_->Put(id, "state", 0, {}).ok()) << id;
    EXPECT_FALSE(store_->Remove(id).ok()) << id;
  }
  EXPECT_TRUE(store_->List()->empty());
  EXPECT_FALSE(fs::exists(dir_.path() + "/x"));
}

TEST_F(FileRunStoreTest, RemoveDeletesTheRun) {
  ASSERT_TRUE(store_->Put("r1-1", "a", 0, {"s0"}).ok());
  ASSERT_TRUE(store_->Put("r1-2", "b", 0, {}).ok());
  ASSERT_TRUE(store_->Remove("r1-1").ok());
  EXPECT_EQ(*store_->List(), std::vector<std::string>{"r1-2"});
  EXPECT_EQ(store_->Get("r1-1").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir_.path() + "/state/runs/r1-1"));
  // The id can be stored anew from scratch.
  EXPECT_TRUE(store_->Put("r1-1", "c", 0, {}).ok());
}

// kill -9 inside a run's first Put (between its mkdir and the rename of its
// state) leaves a directory without state: nothing of that run was stored,
// so a restarted coordinator neither lists it (a warning at every start, a
// directory no retention removes) nor keeps its uncovered seconds.
TEST_F(FileRunStoreTest, AFirstPutCutShortIsRemovedNotListed) {
  ASSERT_TRUE(store_->Put("r1-1", "a", 0, {"s0"}).ok());
  ASSERT_TRUE(store_->Put("r1-2", "b", 0, {"s0"}).ok());
  fs::remove(RunFile("r1-2", "state"));
  WriteAll(RunFile("r1-2", "state.tmp"), "half a state");
  fs::create_directory(dir_.path() + "/state/runs/r1-3");  // cut right after mkdir
  Reopen();
  EXPECT_EQ(*store_->List(), std::vector<std::string>{"r1-1"});
  EXPECT_FALSE(fs::exists(dir_.path() + "/state/runs/r1-2"));
  EXPECT_FALSE(fs::exists(dir_.path() + "/state/runs/r1-3"));
  EXPECT_EQ(store_->Get("r1-1")->seconds, std::vector<std::string>{"s0"});
  // The id is stored anew from scratch.
  ASSERT_TRUE(store_->Put("r1-2", "c", 0, {"t0"}).ok());
  EXPECT_EQ(store_->Get("r1-2")->seconds, std::vector<std::string>{"t0"});
}

TEST_F(FileRunStoreTest, DirectoryIsPrivateAndHeldByOneCoordinator) {
  struct stat st;
  ASSERT_EQ(stat((dir_.path() + "/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  Result<std::unique_ptr<FileRunStore>> second =
      FileRunStore::Open(dir_.path() + "/state");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().path(), "--state-dir");
  EXPECT_NE(second.status().message().find("another coordinator"), std::string::npos);
}

TEST(FileRunStoreOpenTest, UnusableDirectoryIsAClearError) {
  TempDir dir;
  std::string file = dir.path() + "/file";
  WriteAll(file, "x");
  for (const std::string& path : {file, file + "/below", std::string()}) {
    Result<std::unique_ptr<FileRunStore>> store = FileRunStore::Open(path);
    ASSERT_FALSE(store.ok()) << path;
    EXPECT_EQ(store.status().path(), "--state-dir") << path;
    if (!path.empty()) {
      EXPECT_NE(store.status().message().find(path), std::string::npos)
          << store.status().message();
    }
  }
  // Missing parents are created.
  EXPECT_TRUE(FileRunStore::Open(dir.path() + "/a/b/c").ok());
}

TEST(MemoryRunStoreTest, BehavesLikeTheFileStore) {
  MemoryRunStore store;
  ASSERT_TRUE(store.Put("r1-1", "a", 0, {"s0"}).ok());
  EXPECT_EQ(store.Put("r1-1", "b", 0, {"s0"}).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store.Put("r1-1", "b", 1, {"s1"}).ok());
  EXPECT_EQ(store.Get("r1-1")->seconds, (std::vector<std::string>{"s0", "s1"}));
  store.set_fail_puts(true);
  EXPECT_FALSE(store.Put("r1-1", "c", 2, {}).ok());
  EXPECT_EQ(store.Get("r1-1")->state, "b");
  EXPECT_EQ(store.Get("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store.Remove("r1-1").ok());
  EXPECT_TRUE(store.List()->empty());
}

TEST(ValidRunIdTest, Table) {
  struct Case {
    std::string id;
    bool valid;
  };
  for (const Case& c : std::vector<Case>{{"r1700000000-12", true},
                                         {"abc_DEF-09", true},
                                         {std::string(64, 'a'), true},
                                         {std::string(65, 'a'), false},
                                         {"", false},
                                         {"..", false},
                                         {"a/b", false},
                                         {"a.b", false},
                                         {"a\nb", false}}) {
    EXPECT_EQ(ValidRunId(c.id), c.valid) << c.id;
  }
}

}  // namespace
}  // namespace loadd
