#pragma once
// Prompt-injection intent model: decides whether the text around a cue hit (a broad Hyperscan
// match such as "instructions" or "pretend") is an attack of one reason code.
//
// Who calls: validate() (validators.hpp) for the injection_* validators, after a scan, on a
// candidate span; tests call intent_score() directly.
//
// Why a model and not phrase lists: attacks are paraphrased without end ("treat every earlier
// rule as cancelled"), and their benign look-alikes share the words ("ignore my previous
// email"). The window is tokenised into words and punctuation, words map to hand-written classes
// (IGNORE, RULES, PRIOR, REVEAL, YOU, ...), and a logistic model per code sums the weights of
// hashed word, class, bigram and class-pair features. The weights are trained offline by
// bench/detection/injection_train.py (its injection_features.py is the reference this mirrors
// byte for byte) and committed as generated code (injection_weights.cpp).
//
// Rules:
//  - The model reads text[start - kWindow, end + kWindow) clipped to the text and nothing else,
//    so a rule using it must have context.within >= kWindow (the pack loader checks): then the
//    stream scanner keeps those bytes and waits for them, and block and stream mode agree.
//  - Pure, thread-safe, no allocation, O(window): a fixed ring of the last few token classes.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edgeward::rules::injection {

enum class Code : std::uint8_t {
  prompt_override = 0,
  role_hijack = 1,
  system_prompt_extraction = 2,
  jailbreak_template = 3,
};
inline constexpr std::size_t kCodeCount = 4;
inline constexpr std::size_t kBuckets = std::size_t{1} << 14;
inline constexpr std::size_t kWindow = 160;  // bytes each side of the cue hit
inline constexpr std::size_t kPairSpan = 6;  // class pairs at most this many tokens apart

struct LexiconEntry {
  std::uint32_t hash;  // FNV-1a of the lowercase word
  std::uint8_t cls;    // 1-based class id (injection_features.LEXICON order)
};
struct CodeModel {
  const float* weights;  // kBuckets
  float bias;            // threshold folded in: flagged when the score is > 0
};

// A window and the score the trainer computed for it (tests check the C++ agrees).
struct ParityCase {
  int code;
  const char* text;
  std::size_t start, end;
  float score;
};

// Generated (injection_weights.cpp).
extern const ParityCase kParity[];
extern const std::size_t kParitySize;
extern const LexiconEntry kLexicon[];
extern const std::size_t kLexiconSize;
extern const CodeModel kModels[kCodeCount];

// The model's score for `code` on the window around text[start, end); > 0 means an attack.
float intent_score(Code code, std::string_view text, std::size_t start, std::size_t end);

inline bool intent_flagged(Code code, std::string_view text, std::size_t start, std::size_t end) {
  return intent_score(code, text, start, end) > 0.0f;
}

}  // namespace edgeward::rules::injection
