#include "msinet/data/matfile.h"

#include <matio.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>

#include "msinet/util/error.h"

namespace msinet::data {

namespace {

void matio_log(int level, char* message) {
  spdlog::debug("matio ({}): {}", level, message ? message : "");
}

void init_matio_logging() {
  static std::once_flag once;
  std::call_once(once, [] { Mat_LogInitFunc("msinet", &matio_log); });
}

struct VarDeleter {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using VarPtr = std::unique_ptr<matvar_t, VarDeleter>;

[[noreturn]] void data_error(const std::filesystem::path& file, const std::string& var,
                             const std::string& what) {
  throw Error(ErrorCode::kData, "MAT file '" + file.string() + "': variable '" + var + "' " + what);
}

size_t element_count(const matvar_t* v) {
  if (v->rank <= 0 || v->dims == nullptr) return 0;
  size_t n = 1;
  for (int i = 0; i < v->rank; ++i) {
    if (v->dims[i] != 0 && n > SIZE_MAX / v->dims[i]) return SIZE_MAX;  // saturates
    n *= v->dims[i];
  }
  return n;
}

std::string dims_text(const matvar_t* v) {
  std::string s;
  for (int i = 0; i < v->rank; ++i) s += (i ? "x" : "") + std::to_string(v->dims[i]);
  return s.empty() ? "0x0" : s;
}

template <typename T>
void copy_as_double(const void* data, size_t n, std::vector<double>& out) {
  const T* p = static_cast<const T*>(data);
  out.resize(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(p[i]);
}

// 64 Mi elements (512 MiB as doubles): 32 times the largest variable of any dataset (CAT2000's
// 1080x1920 fixation maps). More is a damaged or hostile file, refused before it is converted.
constexpr size_t kMaxMatElements = size_t{1} << 26;

MatArray to_array(const matvar_t* v, const std::filesystem::path& file, const std::string& var) {
  if (v == nullptr) data_error(file, var, "is missing");
  switch (v->class_type) {
    case MAT_C_DOUBLE:
    case MAT_C_SINGLE:
    case MAT_C_INT8:
    case MAT_C_UINT8:
    case MAT_C_INT16:
    case MAT_C_UINT16:
    case MAT_C_INT32:
    case MAT_C_UINT32:
    case MAT_C_INT64:
    case MAT_C_UINT64:
    case MAT_C_EMPTY:
      break;
    default:
      data_error(file, var,
                 "is not a numeric array (MATLAB class " +
                     std::to_string(static_cast<int>(v->class_type)) + ")");
  }
  if (v->isComplex) data_error(file, var, "is complex; expected real numbers");
  MatArray a;
  for (int i = 0; i < v->rank; ++i) a.dims.push_back(v->dims[i]);
  while (a.dims.size() < 2) a.dims.push_back(a.dims.empty() ? 0 : 1);
  const size_t n = element_count(v);
  if (n > kMaxMatElements) {
    data_error(file, var,
               "declares " + dims_text(v) + " = " + std::to_string(n) +
                   " elements, more than the " + std::to_string(kMaxMatElements) +
                   " any dataset file holds; the file is damaged");
  }
  if (n == 0 || v->class_type == MAT_C_EMPTY) {
    a.values.clear();
    if (n != 0) a.dims = {0, 0};
    return a;
  }
  if (v->data == nullptr) data_error(file, var, "has no data");
  switch (v->data_type) {
    case MAT_T_DOUBLE:
      copy_as_double<double>(v->data, n, a.values);
      break;
    case MAT_T_SINGLE:
      copy_as_double<float>(v->data, n, a.values);
      break;
    case MAT_T_INT8:
      copy_as_double<int8_t>(v->data, n, a.values);
      break;
    case MAT_T_UINT8:
      copy_as_double<uint8_t>(v->data, n, a.values);
      break;
    case MAT_T_INT16:
      copy_as_double<int16_t>(v->data, n, a.values);
      break;
    case MAT_T_UINT16:
      copy_as_double<uint16_t>(v->data, n, a.values);
      break;
    case MAT_T_INT32:
      copy_as_double<int32_t>(v->data, n, a.values);
      break;
    case MAT_T_UINT32:
      copy_as_double<uint32_t>(v->data, n, a.values);
      break;
    case MAT_T_INT64:
      copy_as_double<int64_t>(v->data, n, a.values);
      break;
    case MAT_T_UINT64:
      copy_as_double<uint64_t>(v->data, n, a.values);
      break;
    default:
      data_error(
          file, var,
          "has an unsupported storage type " + std::to_string(static_cast<int>(v->data_type)));
  }
  return a;
}

std::vector<double> vector_values(const matvar_t* v, const std::filesystem::path& file,
                                  const std::string& var) {
  MatArray a = to_array(v, file, var);
  size_t non_singleton = 0;
  for (size_t d : a.dims) non_singleton += d > 1 ? 1 : 0;
  if (non_singleton > 1) {
    data_error(file, var, "has shape " + dims_text(v) + "; expected a vector");
  }
  return std::move(a.values);
}

// The element pointers a cell or struct array really holds. matio indexes them by the declared
// dimensions without checking that they were read, and a damaged file can declare more.
size_t pointers_held(const matvar_t* v) {
  if (v->data == nullptr || v->data_size != static_cast<int>(sizeof(matvar_t*))) return 0;
  return v->nbytes / sizeof(matvar_t*);
}

// Cell i of `v`, or nullptr when the file does not hold it.
matvar_t* cell_at(matvar_t* v, size_t i) {
  if (i >= pointers_held(v) || i > static_cast<size_t>(INT_MAX)) return nullptr;
  return Mat_VarGetCell(v, static_cast<int>(i));
}

// True when struct array `s` holds element `index` with all its field names (matio leaves them
// out when it cannot allocate what a damaged file declares, and would read through them).
bool fields_held(const matvar_t* s, size_t index) {
  auto* v = const_cast<matvar_t*>(s);
  const size_t fields = Mat_VarGetNumberOfFields(v);
  char* const* names = Mat_VarGetStructFieldnames(v);
  if (fields == 0 || names == nullptr || index >= pointers_held(s) / fields) return false;
  for (size_t i = 0; i < fields; ++i) {
    if (names[i] == nullptr) return false;
  }
  return true;
}

// The structs held by a cell or struct array element (a cell of 1x1 structs or a struct array).
std::vector<const matvar_t*> struct_elements(matvar_t* v, const std::filesystem::path& file,
                                             const std::string& var) {
  std::vector<const matvar_t*> out;
  if (v == nullptr) data_error(file, var, "is missing");
  if (v->class_type == MAT_C_STRUCT) {
    out.push_back(v);
    return out;
  }
  if (v->class_type != MAT_C_CELL) data_error(file, var, "is neither a cell nor a struct");
  const size_t n = element_count(v);
  for (size_t i = 0; i < n; ++i) {
    matvar_t* c = cell_at(v, i);
    if (c == nullptr || c->class_type != MAT_C_STRUCT) {
      data_error(file, var + "{" + std::to_string(i + 1) + "}", "is not a struct");
    }
    out.push_back(c);
  }
  return out;
}

matvar_t* field(const matvar_t* s, const char* name, size_t index,
                const std::filesystem::path& file, const std::string& where) {
  if (!fields_held(s, index)) data_error(file, where, "is missing");
  matvar_t* f = Mat_VarGetStructFieldByName(const_cast<matvar_t*>(s), name, index);
  if (f == nullptr) data_error(file, where + "." + name, "is missing");
  return f;
}

}  // namespace

size_t MatArray::cols() const {
  if (dims.size() < 2) return dims.empty() ? 0 : 1;
  size_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

MatFile::MatFile(const std::filesystem::path& path) : path_(path) {
  init_matio_logging();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(ErrorCode::kData, "MAT file '" + path.string() + "' does not exist");
  }
  mat_ = Mat_Open(path.c_str(), MAT_ACC_RDONLY);
  if (mat_ == nullptr) {
    throw Error(ErrorCode::kData, "'" + path.string() +
                                      "' is not a readable MATLAB MAT file (v5 or v7.3); the "
                                      "download may be damaged: remove it and run again");
  }
}

MatFile::~MatFile() {
  if (mat_ != nullptr) Mat_Close(static_cast<mat_t*>(mat_));
}

bool MatFile::is_v73() const { return Mat_GetVersion(static_cast<mat_t*>(mat_)) == MAT_FT_MAT73; }

void* MatFile::read_variable(const std::string& name) const {
  return Mat_VarRead(static_cast<mat_t*>(mat_), name.c_str());
}

MatArray MatFile::numeric(const std::string& name) const {
  VarPtr v(static_cast<matvar_t*>(read_variable(name)));
  return to_array(v.get(), path_, name);
}

std::vector<MatArray> MatFile::numeric_cells(const std::string& name) const {
  VarPtr v(static_cast<matvar_t*>(read_variable(name)));
  if (!v) data_error(path_, name, "is missing");
  if (v->class_type != MAT_C_CELL) data_error(path_, name, "is not a cell array");
  const size_t n = element_count(v.get());
  std::vector<MatArray> out;  // grows with the cells read, not with what the file declares
  for (size_t i = 0; i < n; ++i) {
    const std::string where = name + "{" + std::to_string(i + 1) + "}";
    matvar_t* c = cell_at(v.get(), i);
    if (c == nullptr) data_error(path_, where, "is missing");
    out.push_back(to_array(c, path_, where));
  }
  return out;
}

// ref: saliency/download.py download_osie (loadmat(...)["fixations"], subjects, fix_x, fix_y)
std::vector<std::vector<SubjectFixations>> read_osie_fixations(const std::filesystem::path& file) {
  MatFile mat(file);
  const std::string name = "fixations";
  VarPtr root(static_cast<matvar_t*>(mat.read_variable(name)));
  if (!root) data_error(file, name, "is missing");
  const auto images = struct_elements(root.get(), file, name);
  std::vector<std::vector<SubjectFixations>> out;
  out.reserve(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = name + "{" + std::to_string(i + 1) + "}";
    matvar_t* subjects = field(images[i], "subjects", 0, file, where);
    std::vector<SubjectFixations> list;
    const std::string swhere = where + ".subjects";
    // Each subject is read as it is reached, so that a struct array declaring more elements
    // than the file holds fails at its first missing one, not after listing them all.
    const auto add_subject = [&](const matvar_t* elem, size_t index) {
      const std::string fwhere = swhere + "{" + std::to_string(list.size() + 1) + "}";
      SubjectFixations s;
      s.x = vector_values(field(elem, "fix_x", index, file, fwhere), file, fwhere + ".fix_x");
      s.y = vector_values(field(elem, "fix_y", index, file, fwhere), file, fwhere + ".fix_y");
      if (s.x.size() != s.y.size()) {
        data_error(file, fwhere,
                   "has " + std::to_string(s.x.size()) + " fix_x but " +
                       std::to_string(s.y.size()) + " fix_y values");
      }
      list.push_back(std::move(s));
    };
    if (subjects->class_type == MAT_C_STRUCT) {
      for (size_t k = 0; k < element_count(subjects); ++k) add_subject(subjects, k);
    } else {
      for (const matvar_t* s : struct_elements(subjects, file, swhere)) {
        for (size_t k = 0; k < element_count(s); ++k) add_subject(s, k);
      }
    }
    out.push_back(std::move(list));
  }
  return out;
}

}  // namespace msinet::data
