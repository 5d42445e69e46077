#pragma once
// MATLAB MAT files through matio: v5 (OSIE, DUT-OMRON) and v7.3 / HDF5 (PASCAL-S).

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace msinet::data {

/// A real numeric MATLAB array converted to double, in MATLAB's column-major order.
struct MatArray {
  std::vector<size_t> dims;    ///< MATLAB dimensions (at least 2)
  std::vector<double> values;  ///< prod(dims) values, column-major
  /// dims[0] (0 for an array without dimensions).
  size_t rows() const { return dims.empty() ? 0 : dims[0]; }
  /// The product of the dimensions after the first.
  size_t cols() const;
  /// Element (r, c) of a 2-D array.
  double at(size_t r, size_t c) const { return values[r + c * rows()]; }
};

/// One viewer's fixations on one image: x (column) and y (row) coordinates, as stored.
struct SubjectFixations {
  std::vector<double> x;  ///< fix_x
  std::vector<double> y;  ///< fix_y
};

/// An open MAT file (read only). Every error is Error(kData) naming the file and the variable.
class MatFile {
 public:
  /// Opens `path`; Error(kData) when it is missing or not a MAT file.
  explicit MatFile(const std::filesystem::path& path);
  ~MatFile();
  MatFile(const MatFile&) = delete;
  MatFile& operator=(const MatFile&) = delete;

  /// True for a v7.3 (HDF5) file.
  bool is_v73() const;
  /// The file's path.
  const std::filesystem::path& path() const { return path_; }
  /// A real numeric (or logical) variable.
  MatArray numeric(const std::string& name) const;
  /// A cell variable whose cells are real numeric arrays (v7.3 object references resolved), in
  /// linear (column-major) order.
  std::vector<MatArray> numeric_cells(const std::string& name) const;

 private:
  friend std::vector<std::vector<SubjectFixations>> read_osie_fixations(
      const std::filesystem::path& file);
  void* read_variable(const std::string& name) const;  // matvar_t*, owned by the caller
  std::filesystem::path path_;
  void* mat_ = nullptr;
};

/// OSIE's fixations.mat: variable `fixations`, a cell with one struct per image whose field
/// `subjects` is a cell (or struct array) of structs with fields fix_x and fix_y. Returns one
/// list of subjects per image, in the file's order.
std::vector<std::vector<SubjectFixations>> read_osie_fixations(const std::filesystem::path& file);

}  // namespace msinet::data
