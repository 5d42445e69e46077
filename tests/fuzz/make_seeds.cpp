// Writes the seed corpus of every fuzz target: make_seeds <shared dir> <source dir> <out dir>
// fills <out dir>/<target>/ with files made here by msinet's own writers (weights, images,
// checkpoint containers), by matio and libonnx, from the repository's configs/, and from the
// TensorFlow-written fixtures under <shared dir>/fixtures/tf (read in place, never copied into
// the repository).
#include <matio.h>
#include <onnx/onnx_pb.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "fuzz_support.h"
#include "msinet/checkpoint/container.h"
#include "msinet/data/image.h"
#include "msinet/util/fs.h"
#include "msinet/weights/table.h"
#include "msinet/weights/writers.h"

namespace {

using namespace msinet;
using fuzz::fs::path;
namespace fs = std::filesystem;

// Seeds larger than this are left out: every execution would pay for them.
constexpr uintmax_t kMaxSeedBytes = 256 * 1024;

path g_out;

void seed(const std::string& target, const std::string& name, const std::string& bytes) {
  if (bytes.size() > kMaxSeedBytes) return;
  fuzz::write_bytes(g_out / target / name, bytes);
}

std::string read(const path& p) { return util::read_file(p); }

const weights::NamedTensors& sample_tensors() {
  static const weights::NamedTensors tensors = {
      {"conv1/kernel", {{2, 2, 1, 3}, {0.5f, -1, 2, 0, 3.25f, -0.125f, 7, 8, -9, 1e-3f, 4, 5}}},
      {"conv1/bias", {{3}, {0.1f, -0.2f, 0.3f}}},
      {"scale", {{}, {2.5f}}},
  };
  return tensors;
}

// A TF.js manifest (model.json or bare) with its shards renamed shard1..shard3, as the tfjs
// target writes them.
void tfjs_seed(const path& json_file, const std::string& name) {
  nlohmann::json doc = nlohmann::json::parse(read(json_file));
  nlohmann::json& manifest = doc.is_object() ? doc["weightsManifest"] : doc;
  std::vector<std::string> parts = {""};
  for (auto& group : manifest) {
    nlohmann::json renamed = nlohmann::json::array();
    for (const auto& p : group["paths"]) {
      parts.push_back(read(json_file.parent_path() / p.get<std::string>()));
      renamed.push_back("shard" + std::to_string(parts.size() - 1));
    }
    group["paths"] = renamed;
  }
  if (parts.size() > 4) return;
  parts[0] = doc.dump();
  seed("tfjs", name, fuzz::join_parts(parts));
}

void tfjs_seeds(const path& tf, const path& tmp) {
  using weights::TfjsQuantization;
  const std::pair<const char*, TfjsQuantization> kinds[] = {
      {"float32", TfjsQuantization::kNone},
      {"uint8", TfjsQuantization::kUint8},
      {"uint16", TfjsQuantization::kUint16},
      {"float16", TfjsQuantization::kFloat16}};
  for (const auto& [name, q] : kinds) {
    weights::TfjsWriteOptions options;
    options.quantization = q;
    options.shard_bytes = 32;
    options.int32_tensors["axes"] = {{2}, {1, -3}};
    const path json = tmp / "tfjs" / name / "model.json";
    weights::write_tfjs(json, sample_tensors(), options);
    tfjs_seed(json, std::string("written-") + name);
  }
  if (!fs::is_directory(tf / "face-api.js")) return;
  for (const auto& entry : fs::directory_iterator(tf / "face-api.js")) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() == ".json") tfjs_seed(entry.path(), "face-api-" + file);
  }
}

// The SavedModel folders and frozen graphs under the fixtures.
void tensorflow_seeds(const path& tf, const path& tmp) {
  std::error_code ec;  // no fixtures: the written seeds only
  const path frozen = tmp / "frozen.pb";
  weights::write_frozen_graph(frozen, sample_tensors());
  seed("graphdef", "written", read(frozen));
  for (const auto& entry : fs::recursive_directory_iterator(tf, fs::directory_options::none, ec)) {
    const path& p = entry.path();
    const std::string name = fs::relative(p, tf).parent_path().string();
    std::string flat = name;
    for (char& c : flat) c = c == '/' ? '-' : c;
    if (p.extension() == ".pb") seed("graphdef", flat, read(p));
    if (p.filename() == "saved_model.pb") {
      std::vector<std::string> parts = {read(p)};
      const path vars = p.parent_path() / "variables";
      if (fs::exists(vars / "variables.index")) {
        parts.push_back(read(vars / "variables.index"));
        parts.push_back(read(vars / "variables.data-00000-of-00001"));
      }
      seed("saved_model", flat, fuzz::join_parts(parts));
    }
    if (p.extension() == ".index") {
      const std::string prefix = p.stem().string();
      const path data = p.parent_path() / (prefix + ".data-00000-of-00001");
      seed("table", flat + "-" + prefix, read(p));
      seed("tf_checkpoint", flat + "-" + prefix, fuzz::join_parts({read(p), read(data)}));
    }
  }
  for (bool snappy : {false, true}) {
    const std::string kind = snappy ? "snappy" : "raw";
    weights::TableOptions options;
    options.snappy = snappy;
    options.block_size = 64;
    options.restart_interval = 2;
    const path prefix = tmp / ("ckpt-" + kind) / "model";
    weights::write_checkpoint(prefix, sample_tensors(), options);
    const std::string index = read(prefix.string() + ".index");
    seed("table", "written-" + kind, index);
    seed("tf_checkpoint", "written-" + kind,
         fuzz::join_parts({index, read(prefix.string() + ".data-00000-of-00001")}));
    std::vector<weights::TableEntry> entries;
    for (const char* key : {"", "a", "ab", "abc", "b", "bcd", "bce", "z"}) {
      entries.push_back({key, std::string(key) + "-value"});
    }
    seed("table", "keys-" + kind, weights::build_table(entries, options));
  }
}

void onnx_seeds() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("g");
  onnx::TensorProto* raw = graph->add_initializer();
  raw->set_name("encoder.conv1_1.weight");
  raw->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {2, 1, 1, 2}) raw->add_dims(d);
  const float values[] = {1.5f, -2, 0.25f, 8};
  raw->set_raw_data(std::string(reinterpret_cast<const char*>(values), sizeof values));
  onnx::TensorProto* typed = graph->add_initializer();
  typed->set_name("encoder.conv1_1.bias");
  typed->set_data_type(onnx::TensorProto::FLOAT);
  typed->add_dims(2);
  typed->add_float_data(0.5f);
  typed->add_float_data(-0.5f);
  onnx::TensorProto* shape = graph->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(3);
  for (int64_t v : {1, -1, 240}) shape->add_int64_data(v);
  onnx::TensorProto* half = graph->add_initializer();
  half->set_name("half");
  half->set_data_type(onnx::TensorProto::FLOAT16);
  half->add_dims(2);
  half->set_raw_data(std::string("\x00\x3c\x00\xc0", 4));  // 1.0, -2.0
  seed("onnx", "written", model.SerializeAsString());
}

void container_seeds() {
  checkpoint::Checkpoint best;
  best.model = std::string("model-bytes\n\0\x01", 14);
  best.meta.dataset = "salicon";
  best.meta.height = 240;
  best.meta.width = 320;
  best.meta.epochs_done = 3;
  best.meta.best_valid = 0.25;
  best.meta.train_history = {1.5, 1.25, 1.0};
  best.meta.valid_history = {0.5, 0.3, 0.25};
  seed("container", "best", checkpoint::encode_checkpoint(best));
  checkpoint::Checkpoint latest = best;
  latest.optimizer = "optimizer-bytes";
  latest.meta.step_in_epoch = 7;
  latest.meta.partial_train_sum = 3.5;
  seed("container", "latest", checkpoint::encode_checkpoint(latest));
  seed("container", "empty", checkpoint::encode_checkpoint({}));
}

void image_seeds() {
  cv::Mat rgb(5, 7, CV_8UC3), gray(6, 4, CV_8UC1), deep(3, 3, CV_16UC1);
  cv::randu(rgb, 0, 255);
  cv::randu(gray, 0, 255);
  cv::randu(deep, 0, 65535);
  seed("image", "rgb.png", data::encode_png(rgb));
  seed("image", "gray.png", data::encode_png(gray));
  seed("image", "gray16.png", data::encode_png(deep));
  seed("image", "rgb.jpg", data::encode_jpeg(rgb, 90));
  seed("image", "gray.jpg", data::encode_jpeg(gray, 50));
}

using MatVar = matvar_t*;

MatVar mat_doubles(const char* name, std::vector<size_t> dims, const std::vector<double>& v) {
  return Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, static_cast<int>(dims.size()), dims.data(),
                       const_cast<double*>(v.data()), 0);
}

// The variables the dataset recipes read, in each MAT file version matio writes here.
void mat_seeds(const path& tmp) {
  const std::pair<const char*, mat_ft> versions[] = {{"v5", MAT_FT_MAT5}, {"v73", MAT_FT_MAT73}};
  for (const auto& [tag, version] : versions) {
    for (bool compressed : {false, true}) {
      if (compressed && version == MAT_FT_MAT5) continue;  // not fuzzed (tests/fuzz/matfile.cpp)
      const path file = tmp / (std::string(tag) + (compressed ? "z" : "") + ".mat");
      mat_t* mat = Mat_CreateVer(file.c_str(), nullptr, version);
      if (mat == nullptr) continue;  // matio built without HDF5: no v7.3
      const matio_compression z = compressed ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE;
      MatVar s = mat_doubles("s", {2, 3}, {1, 2, 3, 4, 5, 6});
      Mat_VarWrite(mat, s, z);
      Mat_VarFree(s);
      const uint16_t sizes[] = {480, 640, 300, 400};
      size_t size_dims[] = {2, 2};
      MatVar size_data = Mat_VarCreate("sizeData", MAT_C_UINT16, MAT_T_UINT16, 2, size_dims,
                                       const_cast<uint16_t*>(sizes), 0);
      Mat_VarWrite(mat, size_data, z);
      Mat_VarFree(size_data);
      size_t cell_dims[] = {1, 2};
      MatVar cells = Mat_VarCreate("fixCell", MAT_C_CELL, MAT_T_CELL, 2, cell_dims, nullptr, 0);
      Mat_VarSetCell(cells, 0, mat_doubles(nullptr, {2, 2}, {10, 20, 30, 40}));
      Mat_VarSetCell(cells, 1, mat_doubles(nullptr, {1, 2}, {5, 6}));
      Mat_VarWrite(mat, cells, z);
      Mat_VarFree(cells);
      // OSIE: fixations{i}.subjects{k}.fix_x / fix_y
      const char* image_fields[] = {"subjects", nullptr};
      const char* subject_fields[] = {"fix_x", "fix_y", nullptr};
      size_t one[] = {1, 1};
      MatVar fixations =
          Mat_VarCreate("fixations", MAT_C_CELL, MAT_T_CELL, 2, cell_dims, nullptr, 0);
      for (int i = 0; i < 2; ++i) {
        MatVar image = Mat_VarCreateStruct2(nullptr, 2, one, image_fields);
        MatVar subjects = Mat_VarCreate(nullptr, MAT_C_CELL, MAT_T_CELL, 2, cell_dims, nullptr, 0);
        for (int k = 0; k < 2; ++k) {
          MatVar subject = Mat_VarCreateStruct2(nullptr, 2, one, subject_fields);
          Mat_VarSetStructFieldByName(subject, "fix_x", 0, mat_doubles(nullptr, {1, 3}, {1, 2, 3}));
          Mat_VarSetStructFieldByName(subject, "fix_y", 0, mat_doubles(nullptr, {1, 3}, {4, 5, 6}));
          Mat_VarSetCell(subjects, k, subject);
        }
        Mat_VarSetStructFieldByName(image, "subjects", 0, subjects);
        Mat_VarSetCell(fixations, i, image);
      }
      Mat_VarWrite(mat, fixations, z);
      Mat_VarFree(fixations);
      Mat_Close(mat);
      seed("matfile", file.filename().string(), read(file));
    }
  }
}

void yaml_seeds(const path& source) {
  seed("config_yaml", "default.yaml", read(source / "configs" / "default.yaml"));
  seed("config_yaml", "nested.yaml",
       "train:\n  batch_size: 2\n  epochs: 3\nmirror: https://example.org/m\n"
       "urls:\n  osie.archive: https://example.org/osie.zip\n");
  seed("dataset_yaml", "fraction.yaml",
       "name: mydata\nstimuli: images\nsaliency: maps\nfixations: maps\nsize: 240x320\n"
       "valid_fraction: 0.2\nseed: 42\n");
  seed("dataset_yaml", "lists.yaml",
       "stimuli: images\nsaliency: maps\nsize: [240, 320]\nvalid: [a.jpg, b.jpg]\n"
       "train: train.txt\n");
}

void drive_seeds() {
  seed("drive_page", "form.html",
       "<html><body><form id=\"download-form\" action=\"https://drive.usercontent.google.com/"
       "download\" method=\"get\"><input type=\"submit\" value=\"Download anyway\"/>"
       "<input type=\"hidden\" name=\"id\" value=\"0B2hsWbciDVedS1BtVDBtM0l1ZXc\">"
       "<input type=\"hidden\" name=\"confirm\" value=\"t\"><input type=\"hidden\" "
       "name=\"uuid\" value=\"a&amp;b&#x41;&#66;\"></form></body></html>");
  seed("drive_page", "link.html",
       "<!-- old --><a id=\"uc-download-link\" href=\"/uc?export=download&amp;confirm=Ab_9"
       "&amp;id=0B2h\">Download anyway</a>");
  seed("drive_page", "token.html", "<script>var u = '/uc?export=download&confirm=xY-1';</script>");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: make_seeds <shared dir> <source dir> <out dir>\n";
    return 2;
  }
  const path shared = argv[1], source = argv[2];
  g_out = argv[3];
  const path tmp = g_out / ".tmp";
  fs::remove_all(tmp);
  try {
    const path tf = shared / "fixtures" / "tf";
    if (!fs::is_directory(tf)) std::cerr << "make_seeds: no " << tf << "; written seeds only\n";
    tfjs_seeds(tf, tmp);
    tensorflow_seeds(tf, tmp);
    onnx_seeds();
    container_seeds();
    image_seeds();
    mat_seeds(tmp);
    yaml_seeds(source);
    drive_seeds();
  } catch (const std::exception& e) {
    std::cerr << "make_seeds: " << e.what() << "\n";
    return 1;
  }
  fs::remove_all(tmp);
  return 0;
}
