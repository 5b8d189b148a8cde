#include "rules/injection_intent.hpp"

#include <algorithm>
#include <array>

namespace edgeward::rules::injection {

namespace {

constexpr std::uint32_t kFnvOffset = 0x811C9DC5u;
constexpr std::uint32_t kFnvPrime = 0x01000193u;
constexpr std::uint32_t kClassBase = 0x1000u;  // a class's bigram "rep"; see injection_features
// Punctuation classes: the first four of the lexicon's class list.
constexpr std::uint8_t kEos = 1, kColon = 2, kQuote = 3, kNewline = 4;

bool is_word_byte(unsigned char b) {
  return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
}

std::uint32_t mix(std::uint32_t t, std::uint32_t a, std::uint32_t b) {
  std::uint32_t x = (t * 0x9E3779B1u) ^ a;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x ^= b;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x;
}

std::uint8_t word_class(std::uint32_t hash) {
  const LexiconEntry* end = kLexicon + kLexiconSize;
  const LexiconEntry* it = std::lower_bound(
      kLexicon, end, hash, [](const LexiconEntry& e, std::uint32_t h) { return e.hash < h; });
  return it != end && it->hash == hash ? it->cls : 0;
}

// Sums the weights of one window's features as injection_features.features() lists them.
class WindowScorer {
 public:
  explicit WindowScorer(const float* w) : w_(w) {}

  void token(std::uint32_t hash, std::uint8_t cls, bool caps) {
    const std::uint32_t rep = cls ? kClassBase + cls : hash;
    if (hash) add(mix(1, hash, 0));
    if (cls) {
      add(mix(2, cls, 0));
      for (std::uint8_t pc : recent_) {
        if (pc) add(mix(4, pc, cls));
      }
    }
    add(mix(3, prev_rep_, rep));
    if (caps) add(mix(5, hash, 0));
    prev_rep_ = rep;
    recent_[next_] = cls;
    next_ = (next_ + 1) % kPairSpan;
  }

  float sum() const { return sum_; }

 private:
  void add(std::uint32_t x) { sum_ += w_[x & (kBuckets - 1)]; }

  const float* w_;
  float sum_ = 0.0f;
  std::uint32_t prev_rep_ = 0;
  std::array<std::uint8_t, kPairSpan> recent_{};
  std::size_t next_ = 0;
};

}  // namespace

float intent_score(Code code, std::string_view text, std::size_t start, std::size_t end) {
  const CodeModel& model = kModels[static_cast<std::size_t>(code)];
  const std::size_t lo = start > kWindow ? start - kWindow : 0;
  const std::size_t hi = std::min(text.size(), end + kWindow);
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  WindowScorer scorer(model.weights);
  std::size_t i = lo;
  while (i < hi) {
    unsigned char b = at(i);
    if (is_word_byte(b)) {
      std::uint32_t h = kFnvOffset;
      std::size_t upper = 0, letters = 0;
      while (i < hi) {
        b = at(i);
        if (is_word_byte(b)) {
          if (b >= 'A' && b <= 'Z') {
            ++upper;
            b = static_cast<unsigned char>(b + 32);
          }
          if (b >= 'a' && b <= 'z') ++letters;
          h = (h ^ b) * kFnvPrime;
          ++i;
          continue;
        }
        // An apostrophe, a hyphen or U+2019 between word bytes joins the word ("don't").
        if ((b == '\'' || b == '-') && i + 1 < hi && is_word_byte(at(i + 1))) {
          ++i;
          continue;
        }
        if (b == 0xE2 && i + 3 < hi && at(i + 1) == 0x80 && at(i + 2) == 0x99 &&
            is_word_byte(at(i + 3))) {
          i += 3;
          continue;
        }
        break;
      }
      scorer.token(h, word_class(h), letters >= 2 && upper == letters);
      continue;
    }
    std::uint8_t cls = 0;
    if (b == '.' || b == '!' || b == '?') {
      cls = kEos;
    } else if (b == ':') {
      cls = kColon;
    } else if (b == '"' || b == '`' || b == '\'') {
      cls = kQuote;
    } else if (b == '\n') {
      cls = kNewline;
    } else if (b == 0xE2 && i + 2 < hi && at(i + 1) == 0x80 &&
               (at(i + 2) == 0x9C || at(i + 2) == 0x9D)) {
      cls = kQuote;  // curly double quotes
      i += 2;
    }
    ++i;
    if (cls) scorer.token(0, cls, false);
  }
  return model.bias + scorer.sum();
}

}  // namespace edgeward::rules::injection
