// The evaluation job on folders made at test time: matching, mixed formats, skipped files and
// their reasons, baselines, seeds, and the table / CSV / JSON reports.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "msinet/eval/baselines.h"
#include "msinet/eval/evaluate.h"
#include "msinet/eval/map_io.h"
#include "msinet/eval/report.h"
#include "msinet/util/error.h"
#include "test_support.h"

namespace me = msinet::eval;
namespace fs = std::filesystem;

namespace {

const char* const kPython = "/usr/bin/python3";
constexpr int kRows = 20;
constexpr int kCols = 30;

bool have_numpy(const fs::path& dir) {
  if (!fs::exists(kPython)) return false;
  msinet::testing::Process p({kPython, "-c", "import numpy"}, dir);
  return p.wait() == 0;
}

cv::Mat random_u8(int rows, int cols, uint64_t seed) {
  me::Rng rng(seed);
  cv::Mat m(rows, cols, CV_8UC1);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) m.at<uint8_t>(y, x) = static_cast<uint8_t>(rng.below(256));
  }
  return m;
}

cv::Mat fixations_u8(const std::vector<cv::Point>& points) {
  cv::Mat m = cv::Mat::zeros(kRows, kCols, CV_8UC1);
  for (const auto& p : points) m.at<uint8_t>(p) = 255;
  return m;
}

cv::Mat as_double(const cv::Mat& m) {
  cv::Mat d;
  m.convertTo(d, CV_64F);
  return d;
}

/// A small dataset: fixations a..e (c empty, d without prediction), maps a..e, predictions
/// a (smaller JPEG), b (.npy), c (PNG), e (corrupt), z (no ground truth).
struct JobFolder {
  msinet::testing::TempDir dir{"eval-job"};
  fs::path fix = dir.path() / "fixations";
  fs::path maps = dir.path() / "saliency";
  fs::path pred = dir.path() / "pred";
  std::map<std::string, cv::Mat> f8, g8;
  cv::Mat b_pred;

  JobFolder() {
    fs::create_directories(fix);
    fs::create_directories(maps);
    fs::create_directories(pred);
    f8["a"] = fixations_u8({{3, 2}, {15, 10}, {25, 15}, {20, 5}});
    f8["b"] = fixations_u8({{4, 3}, {12, 12}, {28, 18}});
    f8["c"] = fixations_u8({});
    f8["d"] = fixations_u8({{1, 1}, {29, 19}});
    f8["e"] = fixations_u8({{10, 10}, {11, 11}});
    uint64_t seed = 1;
    for (const auto& [k, f] : f8) {
      EXPECT_TRUE(cv::imwrite((fix / (k + "_fixPts.png")).string(), f));
      g8[k] = random_u8(kRows, kCols, seed++);
      EXPECT_TRUE(cv::imwrite((maps / (k + "_fixMap.png")).string(), g8[k]));
    }
    EXPECT_TRUE(cv::imwrite((pred / "a.jpeg").string(), random_u8(10, 15, 50)));
    b_pred = cv::Mat(kRows, kCols, CV_32FC1);
    me::Rng rng(51);
    for (int y = 0; y < kRows; ++y) {
      for (int x = 0; x < kCols; ++x) b_pred.at<float>(y, x) = static_cast<float>(rng.uniform());
    }
    me::write_npy(pred / "b.npy", b_pred);
    EXPECT_TRUE(cv::imwrite((pred / "c.png").string(), random_u8(kRows, kCols, 52)));
    std::ofstream(pred / "e.png", std::ios::binary) << "this is not a PNG file";
    EXPECT_TRUE(cv::imwrite((pred / "z.png").string(), random_u8(kRows, kCols, 53)));
  }

  me::EvalOptions options() const {
    me::EvalOptions o;
    o.pred_dir = pred;
    o.fixations_dir = fix;
    o.maps_dir = maps;
    o.seed = 7;
    return o;
  }
};

const me::Skipped* find_skipped(const me::EvalResult& r, const std::string& image,
                                const std::string& reason) {
  for (const auto& s : r.skipped) {
    if (s.image == image && s.reason == reason) return &s;
  }
  return nullptr;
}

double value(const me::EvalResult& r, const std::string& image, const std::string& metric) {
  const auto m = std::find(r.metrics.begin(), r.metrics.end(), metric);
  EXPECT_NE(m, r.metrics.end()) << metric;
  for (const auto& row : r.images) {
    if (row.image == image) return row.values[static_cast<size_t>(m - r.metrics.begin())];
  }
  ADD_FAILURE() << "no row for " << image;
  return NAN;
}

const me::MetricSummary& summary(const me::EvalResult& r, const std::string& metric) {
  for (const auto& s : r.summary) {
    if (s.metric == metric) return s;
  }
  throw std::runtime_error("no summary for " + metric);
}

std::string usage_error(const me::EvalOptions& o) {
  try {
    me::run_eval(o);
  } catch (const msinet::Error& e) {
    return std::to_string(static_cast<int>(e.code())) + ": " + e.what();
  }
  return "no error";
}

}  // namespace

TEST(EvalJob, ScoresMixedFormatsAndReportsWhatItSkipped) {
  JobFolder jf;
  const me::EvalResult r = me::run_eval(jf.options());
  EXPECT_EQ(r.seed, 7u);
  EXPECT_EQ(r.metrics, (std::vector<std::string>{"auc_judd", "auc_borji", "sauc", "nss", "cc",
                                                 "kld", "sim", "ig"}));  // all but emd
  ASSERT_EQ(r.images.size(), 3u);
  EXPECT_EQ(r.images[0].image, "a");
  EXPECT_EQ(r.images[1].image, "b");
  EXPECT_EQ(r.images[2].image, "c");
  EXPECT_EQ(r.images[1].prediction, jf.pred / "b.npy");

  const auto* z = find_skipped(r, "z", "no ground truth");
  ASSERT_NE(z, nullptr);
  EXPECT_NE(z->detail.find("z.png"), std::string::npos);
  EXPECT_TRUE(z->metrics.empty());
  const auto* e = find_skipped(r, "e", "unreadable prediction");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->detail.find("e.png': not a valid JPEG or PNG image"), std::string::npos)
      << e->detail;
  const auto* d = find_skipped(r, "d", "no prediction");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->detail.find("d_fixPts.png"), std::string::npos);
  const auto* c = find_skipped(r, "c", "empty fixation map");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->metrics, "auc_judd,auc_borji,sauc,nss,ig");
  EXPECT_EQ(r.skipped.size(), 4u);

  // c has no fixations: excluded from the fixation metrics, kept for the map metrics.
  EXPECT_TRUE(std::isnan(value(r, "c", "nss")));
  EXPECT_FALSE(std::isnan(value(r, "c", "cc")));
  EXPECT_EQ(summary(r, "auc_judd").n, 2u);
  EXPECT_EQ(summary(r, "sauc").n, 2u);
  EXPECT_EQ(summary(r, "cc").n, 3u);
  const double a = value(r, "a", "nss");
  const double b = value(r, "b", "nss");
  EXPECT_NEAR(summary(r, "nss").mean, (a + b) / 2, 1e-15);
  EXPECT_NEAR(summary(r, "nss").std, std::abs(a - b) / std::sqrt(2.0), 1e-12);

  // a.jpeg is 10x15: it is resized to the fixation map's 20x30 before scoring.
  const cv::Mat a_pred = me::resize_prediction(me::read_map(jf.pred / "a.jpeg"), {kCols, kRows});
  EXPECT_EQ(value(r, "a", "nss"), me::nss(a_pred, as_double(jf.f8["a"])).value);
  EXPECT_EQ(value(r, "a", "kld"), me::kld(a_pred, as_double(jf.g8["a"])).value);
  for (const auto& row : r.images) {
    for (size_t k = 0; k < 3; ++k) {
      if (!std::isnan(row.values[k])) {
        EXPECT_GE(row.values[k], 0.0);
        EXPECT_LE(row.values[k], 1.0);
      }
    }
  }

  const std::string table = me::format_table(r);
  EXPECT_NE(table.find("images scored: 3, seed: 7"), std::string::npos) << table;
  EXPECT_NE(table.find("no ground truth: 1 image"), std::string::npos) << table;
  EXPECT_NE(table.find("unreadable prediction: 1 image"), std::string::npos) << table;
  EXPECT_NE(table.find("no prediction: 1 image"), std::string::npos) << table;
  EXPECT_NE(table.find("empty fixation map: 1 image (auc_borji, auc_judd, ig, nss, sauc)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("skipped (3 whole images)"), std::string::npos) << table;
  EXPECT_NE(table.find("auc_judd"), std::string::npos);
}

// Every metric treats a constant prediction alike: all-zero and constant maps are skipped
// whole (MATLAB's KLD scores both, its SIM an all-zero one, the others give NaN).
TEST(EvalJob, ConstantPredictionsAreSkippedByEveryMetric) {
  JobFolder jf;
  EXPECT_TRUE(cv::imwrite((jf.pred / "a.jpeg").string(), cv::Mat::zeros(kRows, kCols, CV_8UC1)));
  me::write_npy(jf.pred / "b.npy", cv::Mat(kRows, kCols, CV_32FC1, cv::Scalar(0.5)));
  const me::EvalResult r = me::run_eval(jf.options());
  ASSERT_EQ(r.images.size(), 1u);
  EXPECT_EQ(r.images[0].image, "c");
  for (const char* image : {"a", "b"}) {
    const auto* s = find_skipped(r, image, "constant prediction");
    ASSERT_NE(s, nullptr) << image;
    EXPECT_TRUE(s->metrics.empty()) << "skipped by every metric, not some";
  }
  EXPECT_NE(find_skipped(r, "b", "constant prediction")->detail.find("b.npy' has the value 0.5"),
            std::string::npos);
  for (const auto& m : r.summary) EXPECT_LE(m.n, 1u) << m.metric;
}

TEST(EvalJob, MatchesNumpyOnTheNpyPrediction) {
  JobFolder jf;
  if (!have_numpy(jf.dir.path())) GTEST_SKIP() << "needs /usr/bin/python3 with numpy";
  me::EvalOptions o = jf.options();
  o.jitter = false;
  const me::EvalResult r = me::run_eval(o);
  const fs::path ref = jf.dir.path() / "ref";
  fs::create_directories(ref);
  me::write_npy(ref / "s.npy", as_double(jf.b_pred));
  me::write_npy(ref / "f.npy", as_double(jf.f8["b"]));
  me::write_npy(ref / "g.npy", as_double(jf.g8["b"]));
  const std::string script = std::string(MSINET_SOURCE_DIR) + "/tests/tools/eval_reference.py";
  msinet::testing::Process p({kPython, script, ref.string()}, jf.dir.path());
  ASSERT_EQ(p.wait(), 0) << p.output();
  std::map<std::string, double> expected;
  std::istringstream in(p.output());
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string key;
    double v = NAN;
    ls >> key >> v;
    expected[key] = v;
  }
  // ig: the reference uses its own centre map (sigma = min(h, w) / 4) as the baseline.
  for (const char* m : {"auc_judd", "nss", "cc", "kld", "sim", "ig"}) {
    ASSERT_EQ(expected.count(m), 1u) << m;
    EXPECT_NEAR(value(r, "b", m), expected[m], 1e-9) << m;
  }
}

TEST(EvalJob, WritesParseableCsvAndJson) {
  JobFolder jf;
  if (!have_numpy(jf.dir.path())) GTEST_SKIP() << "needs /usr/bin/python3";
  me::EvalOptions o = jf.options();
  o.csv = jf.dir.path() / "out" / "scores.csv";
  o.json = jf.dir.path() / "out" / "summary.json";
  const me::EvalResult r = me::run_eval(o);
  const std::string code =
      "import csv, json, math, sys\n"
      "rows = list(csv.DictReader(open(sys.argv[1])))\n"
      "assert [r['image'] for r in rows] == ['a', 'b', 'c'], rows\n"
      "assert list(rows[0].keys()) == ['image', 'auc_judd', 'auc_borji', 'sauc', 'nss', 'cc',"
      " 'kld', 'sim', 'ig'], rows[0].keys()\n"
      "assert rows[2]['nss'] == '' and rows[2]['cc'] != '', rows[2]\n"
      "j = json.load(open(sys.argv[2]))\n"
      "assert j['seed'] == 7 and j['images'] == 3, j\n"
      "assert j['metrics']['auc_judd']['n'] == 2 and j['metrics']['cc']['n'] == 3, j\n"
      "m = (float(rows[0]['nss']) + float(rows[1]['nss'])) / 2\n"
      "assert abs(j['metrics']['nss']['mean'] - m) < 1e-12, (j['metrics']['nss'], m)\n"
      "assert j['skipped']['by_reason'] == {'no ground truth': 1, 'unreadable prediction': 1,"
      " 'empty fixation map': 1, 'no prediction': 1}, j['skipped']['by_reason']\n"
      "assert j['skipped']['images'] == 3, j['skipped']\n"
      "assert j['center_sigma_fraction'] == 0.25\n"
      "print('ok')\n";
  msinet::testing::Process p({kPython, "-c", code, o.csv.string(), o.json.string()}, jf.dir.path());
  EXPECT_EQ(p.wait(), 0) << p.output();
  // Written atomically: nothing but the two files in the folder.
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(jf.dir.path() / "out")) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 2u);
  EXPECT_EQ(me::to_csv(r).substr(0, 14), "image,auc_judd");
}

TEST(EvalJob, SeededAndIndependentOfOrderAndSubset) {
  JobFolder jf;
  const me::EvalResult r1 = me::run_eval(jf.options());
  const me::EvalResult r2 = me::run_eval(jf.options());
  EXPECT_EQ(me::to_csv(r1), me::to_csv(r2));
  me::EvalOptions other = jf.options();
  other.seed = 8;
  const me::EvalResult r3 = me::run_eval(other);
  EXPECT_NE(value(r1, "a", "auc_borji"), value(r3, "a", "auc_borji"));
  EXPECT_EQ(value(r1, "a", "nss"), value(r3, "a", "nss"));

  // Scoring b alone, in memory: the same per-image random streams.
  me::EvalItem item;
  item.image = "b";
  item.prediction = as_double(jf.b_pred);
  item.fixations = jf.fix / "b_fixPts.png";
  item.map = jf.maps / "b_fixMap.png";
  me::EvalOptions mem;
  mem.seed = 7;
  const me::EvalResult single = me::evaluate({item}, mem);
  ASSERT_EQ(single.images.size(), 1u);
  EXPECT_EQ(value(single, "b", "auc_judd"), value(r1, "b", "auc_judd"));
  EXPECT_EQ(value(single, "b", "auc_borji"), value(r1, "b", "auc_borji"));
  EXPECT_EQ(value(single, "b", "kld"), value(r1, "b", "kld"));
  // One image has no other images for sAUC.
  EXPECT_NE(find_skipped(single, "b", "no fixations on other images"), nullptr);
}

TEST(EvalJob, CenterBaseline) {
  JobFolder jf;
  me::EvalOptions o = jf.options();
  o.pred_dir.clear();
  o.baseline = "center";
  const me::EvalResult r = me::run_eval(o);
  EXPECT_EQ(r.predictor, "center baseline");
  EXPECT_EQ(r.images.size(), 5u);  // every ground truth, no prediction needed
  EXPECT_EQ(find_skipped(r, "d", "no prediction"), nullptr);
  // IG of the centre map against the centre baseline is exactly 0.
  EXPECT_EQ(summary(r, "ig").n, 4u);
  EXPECT_EQ(summary(r, "ig").mean, 0.0);
  const cv::Mat center = me::center_map({kCols, kRows});
  EXPECT_EQ(value(r, "d", "nss"), me::nss(center, as_double(jf.f8["d"])).value);
  // d's two fixations are corners, the least central pixels: NSS < 0.
  EXPECT_LT(value(r, "d", "nss"), 0.0);
  EXPECT_GT(value(r, "e", "nss"), 0.0);
}

TEST(EvalJob, ChanceBaseline) {
  JobFolder jf;
  me::EvalOptions o = jf.options();
  o.pred_dir.clear();
  o.baseline = "chance";
  const me::EvalResult r = me::run_eval(o);
  EXPECT_EQ(r.images.size(), 5u);
  for (const auto& [k, g8] : jf.g8) {
    SCOPED_TRACE(k);
    // Uniform distribution u = 1/N. KLD = sum q log(eps + q / (u + eps)) with q = G / sum(G);
    // SIM = sum min(u, G') with G' = min-max normalised G scaled to sum 1.
    const cv::Mat g = as_double(g8);
    const double n = g.total();
    const double total = cv::sum(g)[0];
    double lo = 0, hi = 0;
    cv::minMaxLoc(g, &lo, &hi);
    const double norm_total = (total - n * lo) / (hi - lo);
    double kld = 0.0;
    double sim = 0.0;
    for (int y = 0; y < g.rows; ++y) {
      for (int x = 0; x < g.cols; ++x) {
        const double q = g.at<double>(y, x) / total;
        kld += q * std::log(me::kEps + q / (1.0 / n + me::kEps));
        sim += std::min(1.0 / n, (g.at<double>(y, x) - lo) / (hi - lo) / norm_total);
      }
    }
    EXPECT_NEAR(value(r, k, "kld"), kld, 1e-12);
    EXPECT_NEAR(value(r, k, "sim"), sim, 1e-12);
  }
  // Ranking metrics see the uniform map with seeded jitter: defined, and in range.
  for (const char* m : {"auc_judd", "auc_borji", "sauc", "nss", "cc"}) {
    EXPECT_GE(summary(r, m).n, 4u) << m;
  }
  EXPECT_GE(summary(r, "auc_judd").mean, 0.0);
  EXPECT_LE(summary(r, "auc_judd").mean, 1.0);
  // IG of the uniform map against the centre baseline at e's fixations (1/N vs the centre map
  // normalised to sum 1).
  const cv::Mat c = me::center_map({kCols, kRows});
  const double csum = [&] {
    double lo = 0, hi = 0;
    cv::minMaxLoc(c, &lo, &hi);
    return (cv::sum(c)[0] - c.total() * lo) / (hi - lo);
  }();
  double lo = 0, hi = 0;
  cv::minMaxLoc(c, &lo, &hi);
  const auto b_at = [&](int x, int y) { return (c.at<double>(y, x) - lo) / (hi - lo) / csum; };
  const double u = 1.0 / (kRows * kCols);
  const double expected = (std::log2(me::kEps + u) - std::log2(me::kEps + b_at(10, 10)) +
                           std::log2(me::kEps + u) - std::log2(me::kEps + b_at(11, 11))) /
                          2.0;
  EXPECT_NEAR(value(r, "e", "ig"), expected, 1e-12);
}

TEST(EvalJob, ChanceAucIsNearOneHalfOnALargerImage) {
  msinet::testing::TempDir dir("eval-chance");
  fs::create_directories(dir.path() / "fix");
  const cv::Mat f = random_u8(60, 80, 9) > 240;  // ~6% fixated
  ASSERT_TRUE(cv::imwrite((dir.path() / "fix" / "x.png").string(), f));
  me::EvalOptions o;
  o.fixations_dir = dir.path() / "fix";
  o.baseline = "chance";
  o.metrics = {"auc_judd", "auc_borji", "nss"};
  const me::EvalResult r = me::run_eval(o);
  EXPECT_EQ(r.metrics, (std::vector<std::string>{"auc_judd", "auc_borji", "nss"}));
  // ~290 fixations on 4800 pixels: AUC standard deviation ~0.017; NSS ~ N(0, 1/sqrt(290)).
  EXPECT_NEAR(value(r, "x", "auc_judd"), 0.5, 0.08);
  EXPECT_NEAR(value(r, "x", "auc_borji"), 0.5, 0.08);
  EXPECT_NEAR(value(r, "x", "nss"), 0.0, 0.3);
}

TEST(EvalJob, BaselineMapsForIg) {
  JobFolder jf;
  const fs::path base = jf.dir.path() / "base";
  fs::create_directories(base);
  const cv::Mat b = random_u8(kRows, kCols, 77);
  ASSERT_TRUE(cv::imwrite((base / "a.png").string(), b));
  me::EvalOptions o = jf.options();
  o.baseline_maps_dir = base;
  o.metrics = {"ig"};
  const me::EvalResult r = me::run_eval(o);
  EXPECT_EQ(r.metrics, std::vector<std::string>{"ig"});
  EXPECT_EQ(r.ig_baseline, base.string());
  const cv::Mat a_pred = me::resize_prediction(me::read_map(jf.pred / "a.jpeg"), {kCols, kRows});
  EXPECT_EQ(value(r, "a", "ig"), me::ig(a_pred, as_double(b), as_double(jf.f8["a"])).value);
  const auto* nb = find_skipped(r, "b", "no baseline map");
  ASSERT_NE(nb, nullptr);
  EXPECT_EQ(nb->metrics, "ig");
}

TEST(EvalJob, DuplicatesUnreadableGroundTruthAndNestedFolders) {
  JobFolder jf;
  // A second prediction for a; a corrupt fixation map for e.
  me::write_npy(jf.pred / "a.npy", cv::Mat(kRows, kCols, CV_64FC1, cv::Scalar(0.5)));
  std::ofstream(jf.fix / "e_fixPts.png", std::ios::binary | std::ios::trunc) << "broken";
  const me::EvalResult r = me::run_eval(jf.options());
  ASSERT_NE(find_skipped(r, "a", "duplicate prediction"), nullptr);
  const auto* e = find_skipped(r, "e", "unreadable ground truth");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->detail.find("e_fixPts.png"), std::string::npos);

  // Ground truth in sub-folders, predictions flat: matched by unique name.
  msinet::testing::TempDir dir("eval-nested");
  fs::create_directories(dir.path() / "fix" / "cat1");
  fs::create_directories(dir.path() / "fix" / "cat2");
  fs::create_directories(dir.path() / "pred");
  ASSERT_TRUE(cv::imwrite((dir.path() / "fix" / "cat1" / "p.png").string(), jf.f8["a"]));
  ASSERT_TRUE(cv::imwrite((dir.path() / "fix" / "cat2" / "q.png").string(), jf.f8["b"]));
  ASSERT_TRUE(cv::imwrite((dir.path() / "pred" / "q.png").string(), random_u8(kRows, kCols, 3)));
  me::EvalOptions o;
  o.pred_dir = dir.path() / "pred";
  o.fixations_dir = dir.path() / "fix";
  const me::EvalResult n = me::run_eval(o);
  EXPECT_EQ(n.metrics, (std::vector<std::string>{"auc_judd", "auc_borji", "sauc", "nss", "ig"}));
  ASSERT_EQ(n.images.size(), 1u);
  EXPECT_EQ(n.images[0].image, "cat2/q");
  EXPECT_NE(find_skipped(n, "cat1/p", "no prediction"), nullptr);
}

TEST(EvalJob, KeysAndMatching) {
  EXPECT_EQ(me::strip_map_suffix("img_fixPts"), "img");
  EXPECT_EQ(me::strip_map_suffix("img_fixMap"), "img");
  EXPECT_EQ(me::strip_map_suffix("_fixMap"), "_fixMap");
  EXPECT_EQ(me::strip_map_suffix("img_fixMaps"), "img_fixMaps");
  EXPECT_EQ(me::map_key("/d/sub/x_fixPts.jpg", "/d"), "sub/x");
  EXPECT_EQ(me::map_key("/d/x.jpeg", "/d"), "x");
  // Exact keys first; then a unique last component; ambiguous names stay unmatched.
  EXPECT_EQ(me::match_keys({"a/x", "b/x", "a/y"}, {"a/x", "x", "y", "z"}),
            (std::vector<int>{0, -1, 2, -1}));
}

TEST(EvalJob, BadOptionsHaveClearErrors) {
  JobFolder jf;
  me::EvalOptions o = jf.options();
  o.metrics = {"nss", "emd2"};
  EXPECT_EQ(usage_error(o),
            "2: unknown metric 'emd2'; choose from auc_judd, auc_borji, sauc, nss, cc, kld, sim, "
            "emd, ig");
  o = jf.options();
  o.maps_dir.clear();
  o.metrics = {"emd"};
  EXPECT_NE(usage_error(o).find("2: metric 'emd' needs continuous ground-truth maps"),
            std::string::npos);
  o = jf.options();
  o.maps_dir.clear();
  o.metrics = {"cc"};
  EXPECT_NE(usage_error(o).find("2: metric 'cc' needs continuous ground-truth maps"),
            std::string::npos);
  o = jf.options();
  o.pred_dir.clear();
  EXPECT_NE(usage_error(o).find("2: nothing to score"), std::string::npos);
  o = jf.options();
  o.baseline = "centre";
  o.pred_dir.clear();
  EXPECT_EQ(usage_error(o), "2: unknown baseline 'centre'; use 'center' or 'chance'");
  o = jf.options();
  o.pred_dir = jf.dir.path() / "nope";
  EXPECT_NE(usage_error(o).find("4: predictions folder '"), std::string::npos);
  o = jf.options();
  o.fixations_dir = jf.dir.path() / "missing";
  EXPECT_NE(usage_error(o).find("does not exist"), std::string::npos);
  // Two fixation maps for one image.
  ASSERT_TRUE(cv::imwrite((jf.fix / "a.png").string(), jf.f8["a"]));
  EXPECT_NE(usage_error(jf.options()).find("4: two fixation maps for image 'a'"),
            std::string::npos);
}

// EMD is left out unless asked for by name; then it is a column like the others.
TEST(EvalJob, EmdOnlyWhenAsked) {
  JobFolder jf;
  const me::EvalResult all = me::run_eval(jf.options());
  EXPECT_EQ(std::count(all.metrics.begin(), all.metrics.end(), "emd"), 0);
  me::EvalOptions o = jf.options();
  o.metrics = {"EMD", "cc"};
  const me::EvalResult r = me::run_eval(o);
  EXPECT_EQ(r.metrics, (std::vector<std::string>{"cc", "emd"}));
  EXPECT_EQ(summary(r, "emd").n, summary(r, "cc").n);
  EXPECT_GT(summary(r, "emd").n, 0u);
}
