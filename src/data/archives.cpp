#include "data/archives.h"

#include <zip.h>

#include <hdf5.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "data/tensor_io.h"
#include "util/error.h"
#include "util/input_file.h"
#include "util/isolated.h"
#include "util/npy.h"

namespace preimage::data {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kMaxArrayBytes = uint64_t{1} << 34;  // 16 GiB: a larger member is refused

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ---- HDF5 ----

// A dataset as the child process reads it: no LibTorch there, plain values.
struct Hdf5Array {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct Hdf5Visit {
  hid_t file;
  uint64_t file_bytes;  // the file's length: no dataset stores more
  std::vector<Hdf5Array> arrays;
  std::string error;  // the first failure, reported after the walk
};

// Why a dataset's bytes cannot be trusted to be in this file at their declared size, or "":
// storage in other files (external, virtual) is refused, and the declared size must be what the
// file stores (or, deflated, what its stored bytes can expand to), so that a few bytes cannot
// make the reader allocate gigabytes.
std::string storage_problem(hid_t dataset, uint64_t declared_bytes, uint64_t file_bytes) {
  const hid_t dcpl = H5Dget_create_plist(dataset);
  if (dcpl < 0) return "its storage cannot be read";
  const H5D_layout_t layout = H5Pget_layout(dcpl);
  const int external = H5Pget_external_count(dcpl);
  const int filters = H5Pget_nfilters(dcpl);
  bool bounded_filters = true;  // deflate, shuffle and checksums only: expansion bounded
  for (int k = 0; k < filters; ++k) {
    unsigned flags = 0, config = 0;
    size_t elements = 0;
    const H5Z_filter_t id = H5Pget_filter2(dcpl, static_cast<unsigned>(k), &flags, &elements,
                                           nullptr, 0, nullptr, &config);
    if (id != H5Z_FILTER_DEFLATE && id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32)
      bounded_filters = false;
  }
  H5Pclose(dcpl);
  if (layout != H5D_COMPACT && layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED)
    return "its data lives in other files (a virtual dataset)";
  if (external != 0) return "its data lives in an external file";
  if (filters < 0 || !bounded_filters) return "it is compressed by a filter other than deflate";
  const uint64_t stored = H5Dget_storage_size(dataset);
  if (stored > file_bytes)
    return fmt::format("it claims {} stored bytes, more than the file's {}", stored, file_bytes);
  const uint64_t expandable = filters > 0 ? stored * 1032 : stored;  // deflate: at most 1032:1
  if (declared_bytes > expandable)
    return fmt::format("it declares {} bytes but the file stores {} for it (never written, or "
                       "truncated)", declared_bytes, stored);
  return "";
}

herr_t visit_dataset(hid_t root, const char* name, const H5O_info_t* info, Hdf5Visit* visit) {
  if (info->type != H5O_TYPE_DATASET || std::string(name) == ".") return 0;
  const hid_t dataset = H5Dopen2(root, name, H5P_DEFAULT);
  if (dataset < 0) {
    visit->error = fmt::format("cannot open dataset '{}'", name);
    return -1;
  }
  std::unique_ptr<hid_t, void (*)(hid_t*)> close(new hid_t(dataset), [](hid_t* d) {
    H5Dclose(*d);
    delete d;
  });
  const hid_t type = H5Dget_type(dataset);
  const H5T_class_t cls = H5Tget_class(type);
  const size_t type_bytes = H5Tget_size(type);
  H5Tclose(type);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) return 0;  // strings and the like: not weights
  const hid_t space = H5Dget_space(dataset);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Sclose(space);
  if (rank < 0 || type_bytes == 0) {
    visit->error = fmt::format("dataset '{}' has no readable shape", name);
    return -1;
  }
  std::vector<int64_t> shape;
  uint64_t bytes = 4, declared = type_bytes;
  for (hsize_t d : dims) {
    shape.push_back(static_cast<int64_t>(d));
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) ||
        __builtin_mul_overflow(declared, static_cast<uint64_t>(d), &declared) ||
        bytes > kMaxArrayBytes || bytes > util::physical_memory_bytes()) {
      visit->error = fmt::format("dataset '{}' is too large", name);
      return -1;
    }
  }
  if (const auto problem = storage_problem(dataset, declared, visit->file_bytes); !problem.empty()) {
    visit->error = fmt::format("dataset '{}' cannot be read: {}", name, problem);
    return -1;
  }
  Hdf5Array array{name, shape, std::vector<float>(static_cast<size_t>(bytes / 4))};
  const herr_t read = H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                              array.values.data());
  if (read < 0) {
    visit->error = fmt::format("cannot read dataset '{}' as numbers", name);
    return -1;
  }
  visit->arrays.push_back(std::move(array));
  return 0;
}

// HDF5's callback: nothing may be thrown through the C library (the file would stay open and
// HDF5's state be left half-changed), so any failure becomes the walk's error.
herr_t visit_object(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  auto* visit = static_cast<Hdf5Visit*>(data);
  try {
    return visit_dataset(root, name, info, visit);
  } catch (const std::bad_alloc&) {
    visit->error = fmt::format("dataset '{}' does not fit in memory", name);
  } catch (const std::exception& e) {
    visit->error = fmt::format("dataset '{}' cannot be read: {}", name, e.what());
  }
  return -1;
}

unsigned hdf5_time_limit_seconds = 0;  // 0: by the file's size (read_hdf5_datasets)

// The pipe's messages: 'A' an array (name, shape, values), 'E' an error, 'D' the end.
void send_bytes(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(3);  // the parent is gone
    p += n;
    size -= static_cast<size_t>(n);
  }
}
void send_u64(int fd, uint64_t v) { send_bytes(fd, &v, sizeof v); }
void send_text(int fd, char kind, const std::string& text) {
  send_bytes(fd, &kind, 1);
  send_u64(fd, text.size());
  send_bytes(fd, text.data(), text.size());
}

// In the child process: walks the file and sends what it found.
void hdf5_child(const fs::path& path, uint64_t file_bytes, int fd) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are ours to report, not HDF5's to print
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    send_text(fd, 'E', fmt::format("'{}' is not an HDF5 file", path.string()));
    send_bytes(fd, "D", 1);
    return;
  }
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    send_text(fd, 'E', fmt::format("'{}' cannot be opened as HDF5 (corrupt?)", path.string()));
    send_bytes(fd, "D", 1);
    return;
  }
  Hdf5Visit visit{file, file_bytes, {}, ""};
  const herr_t walked = H5Ovisit(file, H5_INDEX_CRT_ORDER, H5_ITER_INC, visit_object, &visit);
  if (walked < 0 && visit.error.empty()) {  // no creation order recorded: by name instead
    visit.arrays.clear();
    H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, visit_object, &visit);
  }
  H5Fclose(file);
  if (!visit.error.empty()) {
    send_text(fd, 'E', fmt::format("'{}': {}", path.string(), visit.error));
  } else {
    for (const auto& a : visit.arrays) {
      send_text(fd, 'A', a.name);
      send_u64(fd, a.shape.size());
      for (int64_t d : a.shape) send_u64(fd, static_cast<uint64_t>(d));
      send_bytes(fd, a.values.data(), a.values.size() * sizeof(float));
    }
  }
  send_bytes(fd, "D", 1);
}

// Reads exactly `size` bytes; false at the end of the pipe (the child died).
bool receive_bytes(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// In the parent: the child's messages, into tensors. False when they stop before 'D'.
bool receive_hdf5(int fd, std::vector<NamedArray>& arrays, std::string& error) {
  for (;;) {
    char kind = 0;
    if (!receive_bytes(fd, &kind, 1)) return false;
    if (kind == 'D') return true;
    uint64_t length = 0;
    if ((kind != 'A' && kind != 'E') || !receive_bytes(fd, &length, sizeof length) ||
        length > (uint64_t{1} << 20))
      return false;
    std::string text(length, '\0');
    if (!receive_bytes(fd, text.data(), length)) return false;
    if (kind == 'E') {
      error = text;
      continue;
    }
    uint64_t rank = 0;
    if (!receive_bytes(fd, &rank, sizeof rank) || rank > 32) return false;
    std::vector<int64_t> shape(rank);
    for (auto& d : shape)
      if (!receive_bytes(fd, &d, sizeof d)) return false;
    auto tensor = torch::empty(shape, torch::kFloat32);  // the child checked the sizes
    if (!receive_bytes(fd, tensor.data_ptr<float>(), static_cast<size_t>(tensor.numel()) * sizeof(float)))
      return false;
    arrays.emplace_back(text, tensor);
  }
}

}  // namespace

std::vector<NamedArray> read_npz(const fs::path& path) {
  require(fs::is_regular_file(path), fmt::format("'{}' does not exist or is not a file", path.string()),
          "give the .npz written by numpy.savez (or a folder of .npy files)");
  int error = 0;
  std::unique_ptr<zip_t, decltype(&zip_close)> archive(zip_open(path.c_str(), ZIP_RDONLY, &error),
                                                       &zip_close);
  require(archive != nullptr,
          fmt::format("'{}' is not an .npz archive (not a zip file)", path.string()),
          "write it with numpy.savez or numpy.savez_compressed");
  const uint64_t file_bytes = fs::file_size(path);
  std::vector<NamedArray> arrays;
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    require(zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &stat) == 0 &&
                (stat.valid & ZIP_STAT_SIZE) && (stat.valid & ZIP_STAT_NAME),
            fmt::format("'{}': member {} of the archive is unreadable", path.string(), i));
    const std::string name = stat.name;
    require(ends_with(name, ".npy"),
            fmt::format("'{}' holds '{}', not a .npy member: not an .npz of arrays", path.string(),
                        name));
    require(stat.size <= kMaxArrayBytes && stat.size <= util::physical_memory_bytes(),
            fmt::format("'{}': member '{}' is too large ({} bytes)", path.string(), name,
                        stat.size));
    // The size a member claims is checked against what its compressed bytes can hold before
    // it is allocated (deflate expands at most 1032:1; numpy stores or deflates), and those
    // compressed bytes against the file's length (a directory may claim anything).
    require(!(stat.valid & ZIP_STAT_COMP_SIZE) || stat.comp_size <= file_bytes,
            fmt::format("'{}': member '{}' claims {} compressed bytes, more than the file's {}: "
                        "the archive is corrupt or truncated", path.string(), name,
                        stat.comp_size, file_bytes),
            "write it again with numpy.savez");
    const bool bounded_method = (stat.valid & ZIP_STAT_COMP_METHOD) &&
                                (stat.comp_method == ZIP_CM_STORE || stat.comp_method == ZIP_CM_DEFLATE);
    require(!bounded_method || !(stat.valid & ZIP_STAT_COMP_SIZE) ||
                stat.size <= stat.comp_size * (stat.comp_method == ZIP_CM_STORE ? 1 : 1032),
            fmt::format("'{}': member '{}' claims {} bytes, more than its {} compressed bytes can "
                        "hold: the archive is corrupt", path.string(), name, stat.size,
                        stat.comp_size),
            "write it again with numpy.savez");
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> member(
        zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0), &zip_fclose);
    require(member != nullptr,
            fmt::format("'{}': member '{}' cannot be opened", path.string(), name));
    std::string bytes(static_cast<size_t>(stat.size), '\0');
    const zip_int64_t read = zip_fread(member.get(), bytes.data(), stat.size);
    require(read == static_cast<zip_int64_t>(stat.size),
            fmt::format("'{}': member '{}' is truncated or corrupt", path.string(), name));
    arrays.emplace_back(name.substr(0, name.size() - 4),
                        tensor_of(util::parse_npy(bytes, path.string() + ":" + name)));
  }
  require(!arrays.empty(), fmt::format("'{}' holds no array", path.string()));
  return arrays;
}

std::vector<NamedArray> read_npy_folder(const fs::path& folder) {
  require(fs::is_directory(folder), fmt::format("'{}' is not a folder", folder.string()));
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_regular_file() && entry.path().extension() == ".npy") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  require(!files.empty(), fmt::format("folder '{}' holds no .npy file", folder.string()),
          "save each weight matrix and bias vector with numpy.save");
  std::vector<NamedArray> arrays;
  for (const auto& f : files) arrays.emplace_back(f.stem().string(), read_npy_tensor(f));
  return arrays;
}

std::vector<NamedArray> read_hdf5_datasets(const fs::path& path) {
  require(fs::is_regular_file(path), fmt::format("'{}' does not exist or is not a file", path.string()));
  const uint64_t file_bytes = fs::file_size(path);
  // The HDF5 C library is not robust against mangled files: some make it loop for ever (a group
  // that holds itself), recurse until the stack ends, or crash. So the file is read in a child
  // process with a time limit, and its datasets come back through a pipe: whatever HDF5 does
  // with a bad file ends as this UserError, never as a crash or a hang of preimage.
  const unsigned limit = hdf5_time_limit_seconds != 0
                             ? hdf5_time_limit_seconds
                             : util::isolated_seconds_for(file_bytes);
  int fds[2];
  require(::pipe(fds) == 0, fmt::format("'{}': cannot make a pipe to read it", path.string()));
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw UserError(fmt::format("'{}': cannot start a process to read it", path.string()));
  }
  if (child == 0) {  // the child: read, send, _exit (no destructors, no buffered output)
    ::close(fds[0]);
    util::become_isolated_child(limit);
    hdf5_child(path, file_bytes, fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<NamedArray> arrays;
  std::string error;
  bool complete = false;
  try {
    complete = receive_hdf5(fds[0], arrays, error);
  } catch (...) {
    ::close(fds[0]);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    throw;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!complete) {
    const std::string how =
        WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM
            ? fmt::format("the HDF5 library was still reading it after {} s", limit)
        : WIFSIGNALED(status)
            ? fmt::format("the HDF5 library crashed on it (signal {})", WTERMSIG(status))
            : "the HDF5 library failed on it";
    throw UserError(fmt::format("'{}' cannot be read as HDF5: {}; the file is corrupt",
                                path.string(), how),
                    "give the file Keras's save_weights wrote");
  }
  require(error.empty(), error, error.rfind("is not an HDF5 file") != std::string::npos
                                    ? "give the .h5 or .weights.h5 that Keras's save_weights wrote"
                                    : "");
  require(!arrays.empty(), fmt::format("'{}' holds no numeric dataset", path.string()),
          "give the file Keras's save_weights wrote");
  return arrays;
}

void set_hdf5_time_limit(unsigned seconds) { hdf5_time_limit_seconds = seconds; }

}  // namespace preimage::data
