// Armadillo peer for the headline benchmark: gmm_diag / gmm_full EM on the headline fixture
// (100000 x 15 float64, 30 components, 10 EM iterations from headline_init_{diag,full}.json).
//
// Build:  bench/peers/armadillo/build.sh        (makes bench/peers/armadillo/headline)
// Usage:  OMP_NUM_THREADS=2 bench/peers/armadillo/headline FIXTURE_DIR [REPEATS] [diag|full|both] [FIRST_RUN]
//         defaults: REPEATS 5, case both, FIRST_RUN 0 (the "run" number of the first line;
//         compare_headline.sh passes its round number)
//
// Prints one JSON line per run on stdout:
//   {"impl":"armadillo","case":"diag","run":0,"seconds":t,"per_iter_ms":t*100,
//    "final_ll":x,"n_iter":10,"threads":2}
// and versions / thread count on stderr.
//
// Threads: Armadillo parallelises the EM accumulation over samples with OpenMP (the data are
// split into omp_get_max_threads() contiguous chunks). Set OMP_NUM_THREADS=2 to match
// `gmm fit --threads 2`; the count used is printed as "threads". Because the per-chunk sums
// are added in chunk order, the final LL can differ in the last digits between thread counts.
//
// What is timed: only the call
//   model.learn(X, 30, maha_dist, keep_existing, 0 /*km_iter*/, 10 /*em_iter*/,
//               1e-10 /*var_floor*/, false)
// with std::chrono::steady_clock, the model having been reset by set_params() from the JSON
// start before each run (outside the timer). With keep_existing and km_iter = 0, learn() still
// does some setup inside the timed call besides the 10 EM iterations: it checks X.is_finite(),
// computes the per-dimension variance of X (mah_aux, used only by k-means here, one pass over
// the data), copies the current model (to restore on failure), allocates per-thread
// accumulators, and after the loop checks the parameters and recomputes the model constants.
// These are small next to one EM iteration. Loading the .npy/JSON and the final avg_log_p(X)
// are not timed. per_iter_ms = seconds * 1000 / 10: Armadillo's EM stops early only when the
// mean log-likelihood changes by <= machine epsilon between iterations, which does not happen
// on this fixture, and learn() does not report how many iterations it ran.
//
// Regularisation: Armadillo floors each variance (diag) / each diagonal entry of the
// covariance matrices (full) at var_floor = 1e-10 instead of adding reg_covar = 1e-6 like
// scikit-learn and gmm, so its final LL is expected to be -26.464156994 (diag) and
// -25.519549625 (full), not the scikit-learn reference (-26.46415699223154 /
// -25.519549602854326); scikit-learn with reg_covar=0 agrees with Armadillo.
//
// Data layout: the .npy is C order n x d; read as-is into a column-major arma::mat of size
// d x n it is already the samples-as-columns matrix Armadillo wants (no transpose needed).

#include <armadillo>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

const arma::uword kComponents = 30;
const arma::uword kEmIter = 10;
const double kVarFloor = 1e-10;

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "headline: " << msg << "\n";
  std::exit(1);
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot open " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Minimal .npy reader: version 1.x/2.x header, descr '<f8', fortran_order False, 2-D shape.
// Returns a d x n column-major matrix holding the n x d C-order array (samples as columns).
arma::mat load_npy_as_columns(const std::string& path) {
  const std::string buf = read_all(path);
  if (buf.size() < 10 || std::memcmp(buf.data(), "\x93NUMPY", 6) != 0) die(path + ": not a .npy file");
  const unsigned major = static_cast<unsigned char>(buf[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(buf[8]) | (static_cast<unsigned char>(buf[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (buf.size() < 12) die(path + ": truncated header");
    header_len = 0;
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(buf[8 + i]);
    header_start = 12;
  } else {
    die(path + ": unsupported .npy version");
  }
  if (buf.size() < header_start + header_len) die(path + ": truncated header");
  const std::string header = buf.substr(header_start, header_len);
  if (header.find("'descr': '<f8'") == std::string::npos) die(path + ": dtype is not '<f8': " + header);
  if (header.find("'fortran_order': False") == std::string::npos) die(path + ": not C order: " + header);
  const size_t sp = header.find("'shape': (");
  if (sp == std::string::npos) die(path + ": no shape: " + header);
  const char* p = header.c_str() + sp + std::strlen("'shape': (");
  char* end = nullptr;
  const unsigned long long n = std::strtoull(p, &end, 10);
  if (end == p || *end != ',') die(path + ": shape is not 2-D: " + header);
  p = end + 1;
  while (*p == ' ') ++p;
  const unsigned long long d = std::strtoull(p, &end, 10);
  if (end == p || *end != ')') die(path + ": shape is not 2-D: " + header);
  const size_t data_start = header_start + header_len;
  const size_t bytes = static_cast<size_t>(n) * static_cast<size_t>(d) * sizeof(double);
  if (buf.size() - data_start != bytes) die(path + ": data size does not match the shape");
  arma::mat X(static_cast<arma::uword>(d), static_cast<arma::uword>(n));
  std::memcpy(X.memptr(), buf.data() + data_start, bytes);  // little-endian host assumed
  return X;
}

// Tiny JSON reader for the start-model files: finds "key" and flattens the (nested) array of
// numbers that follows it, also reporting the nesting shape (sizes per level).
struct NumArray {
  std::vector<double> values;
  std::vector<size_t> shape;
};

NumArray json_numbers(const std::string& text, const std::string& key) {
  const size_t k = text.find("\"" + key + "\"");
  if (k == std::string::npos) die("JSON has no \"" + key + "\"");
  size_t i = text.find(':', k);
  if (i == std::string::npos) die("JSON: no ':' after \"" + key + "\"");
  ++i;
  NumArray out;
  std::vector<size_t> counts;  // elements seen at each open level
  int depth = 0;
  const char* s = text.c_str();
  for (; i < text.size(); ++i) {
    const char c = s[i];
    if (c == '[') {
      if (depth > 0) counts[depth - 1]++;
      ++depth;
      if (counts.size() < static_cast<size_t>(depth)) counts.push_back(0);
      counts[depth - 1] = 0;
      if (out.shape.size() < static_cast<size_t>(depth)) out.shape.push_back(0);
    } else if (c == ']') {
      if (depth == 0) die("JSON: unbalanced ']' in \"" + key + "\"");
      out.shape[depth - 1] = counts[depth - 1];
      --depth;
      if (depth == 0) break;
    } else if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) {
      char* end = nullptr;
      const double v = std::strtod(s + i, &end);
      if (end == s + i) die("JSON: bad number in \"" + key + "\"");
      out.values.push_back(v);
      if (depth > 0) counts[depth - 1]++;
      i = static_cast<size_t>(end - s) - 1;
      if (depth == 0) break;  // a bare number
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',') {
      continue;
    } else {
      die(std::string("JSON: unexpected '") + c + "' in \"" + key + "\"");
    }
  }
  return out;
}

struct Start {
  arma::mat means;    // d x k
  arma::mat dcovs;    // d x k (diag)
  arma::cube fcovs;   // d x d x k (full)
  arma::rowvec hefts; // 1 x k
};

Start load_start(const std::string& path, bool full, arma::uword d) {
  const std::string text = read_all(path);
  const NumArray w = json_numbers(text, "weights");
  const NumArray m = json_numbers(text, "means");
  const NumArray c = json_numbers(text, "covariances");
  const arma::uword k = w.values.size();
  if (m.values.size() != k * d) die(path + ": means are not k x d");
  Start st;
  st.hefts = arma::rowvec(w.values);
  // JSON means: k rows of d (row-major) -> column-major d x k is the same memory order.
  st.means = arma::mat(m.values.data(), d, k);
  if (!full) {
    if (c.values.size() != k * d) die(path + ": diag covariances are not k x d");
    st.dcovs = arma::mat(c.values.data(), d, k);
  } else {
    if (c.values.size() != k * d * d) die(path + ": full covariances are not k x d x d");
    // Each d x d matrix is row-major in JSON; read column-major it is the transpose, so
    // transpose back (the matrices are symmetric, but be exact anyway).
    st.fcovs.set_size(d, d, k);
    for (arma::uword j = 0; j < k; ++j) {
      const arma::mat cm(c.values.data() + j * d * d, d, d);
      st.fcovs.slice(j) = cm.t();
    }
  }
  return st;
}

void set_start(arma::gmm_diag& model, const Start& st) { model.set_params(st.means, st.dcovs, st.hefts); }
void set_start(arma::gmm_full& model, const Start& st) { model.set_params(st.means, st.fcovs, st.hefts); }

template <typename Model>
void run_case(const char* name, const arma::mat& X, const Start& st, int repeats, int first_run, int threads) {
  for (int r = first_run; r < first_run + repeats; ++r) {
    Model model;
    set_start(model, st);
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = model.learn(X, kComponents, arma::maha_dist, arma::keep_existing, 0, kEmIter, kVarFloor, false);
    const auto t1 = std::chrono::steady_clock::now();
    if (!ok) die(std::string("learn() failed for case ") + name);
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    const double ll = model.avg_log_p(X);
    std::printf(
        "{\"impl\":\"armadillo\",\"case\":\"%s\",\"run\":%d,\"seconds\":%.6f,\"per_iter_ms\":%.4f,"
        "\"final_ll\":%.17g,\"n_iter\":%u,\"threads\":%d}\n",
        name, r, secs, secs * 1000.0 / static_cast<double>(kEmIter), ll, static_cast<unsigned>(kEmIter), threads);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 5) {
    std::cerr << "usage: " << argv[0] << " FIXTURE_DIR [REPEATS] [diag|full|both] [FIRST_RUN]\n";
    return 2;
  }
  const std::string dir = argv[1];
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string which = argc > 3 ? argv[3] : "both";
  const int first_run = argc > 4 ? std::atoi(argv[4]) : 0;
  if (repeats < 1) die("REPEATS must be >= 1");
  if (which != "diag" && which != "full" && which != "both") die("case must be diag, full or both");

  int threads = 1;
#if defined(_OPENMP) && defined(ARMA_USE_OPENMP)
  threads = omp_get_max_threads();
#endif
  std::cerr << "armadillo " << arma::arma_version::as_string() << ", OpenMP threads " << threads
#if defined(ARMA_USE_OPENMP)
            << " (ARMA_USE_OPENMP on)"
#else
            << " (ARMA_USE_OPENMP off: single-threaded)"
#endif
            << ", OMP_NUM_THREADS=" << (std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "(unset)")
            << "\n";

  const arma::mat X = load_npy_as_columns(dir + "/headline.npy");
  const arma::uword d = X.n_rows;

  if (which == "diag" || which == "both") {
    const Start st = load_start(dir + "/headline_init_diag.json", false, d);
    run_case<arma::gmm_diag>("diag", X, st, repeats, first_run, threads);
  }
  if (which == "full" || which == "both") {
    const Start st = load_start(dir + "/headline_init_full.json", true, d);
    run_case<arma::gmm_full>("full", X, st, repeats, first_run, threads);
  }
  return 0;
}
