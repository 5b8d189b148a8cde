#include "rules/json_escapes.hpp"

#include <cstring>

namespace edgeward::rules {

namespace {

// A run of backslashes longer than this keeps its first ones as written: nesting that deep is
// no serializer's (eight levels take 128), and a stream waiting for the letter after a run
// re-reads at most this much (a run of a million backslashes cost quadratic time; a review's
// finding, 2026-11-25).
constexpr std::size_t kMaxRun = 256;

// Passes over a text whose decoded form still holds an escape (`\u005cn` is `\n` after one):
// the first, then up to this many more.
constexpr int kMaxPasses = 4;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of the `digits` hex digits at in[at], or -1 (not hex, or the text ends first).
long hex_at(std::string_view in, std::size_t at, std::size_t digits) {
  if (at + digits > in.size()) return -1;
  long v = 0;
  for (std::size_t k = at; k < at + digits; ++k) {
    const int d = hex_value(in[k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The length of the UTF-8 character at in[at] when it renders as nothing (text_fold.hpp), else 0.
std::size_t invisible_at(std::string_view in, std::size_t at) {
  if (at >= in.size()) return 0;
  const auto b = static_cast<unsigned char>(in[at]);
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
    cp = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    cp = b & 0x0F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (at + len > in.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(in[at + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  return renders_as_nothing(cp) ? len : 0;
}

// The end of the ANSI control sequence (`[`, parameters, a final byte: a colour, a cursor move)
// that an ESC before in[at] begins; 0 when there is none, npos when the text ends inside one.
std::size_t csi_end(std::string_view in, std::size_t at) {
  if (at >= in.size()) return std::string_view::npos;
  if (in[at] != '[') return 0;
  std::size_t k = at + 1;
  while (k < in.size() && k < at + 32 &&
         ((in[k] >= '0' && in[k] <= '9') || in[k] == ';' || in[k] == '?')) {
    ++k;
  }
  if (k == in.size()) return std::string_view::npos;
  return in[k] >= '@' && in[k] <= '~' ? k + 1 : 0;
}

// When the backslash at in[i] follows a drive letter (`C:\Users\alice`, `D:\\2024\\repo` in
// an environment dump), the end of that path: it is read as written, its `\n`, `\r`, `\t` and
// `\u` being the first letters of folder names. Else 0.
std::size_t drive_path_end(std::string_view in, std::size_t i) {
  const auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  const auto alnum = [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); };
  if (i < 2 || in[i - 1] != ':' || !alpha(in[i - 2]) || (i >= 3 && alnum(in[i - 3]))) return 0;
  std::size_t e = i;
  while (e < in.size() &&
         std::string_view(" \t\r\n\"'<>|,;`").find(in[e]) == std::string_view::npos) {
    ++e;
  }
  return e;
}

// Where the next byte the free-text reading may change stands: a backslash, or (`deep`) an ESC.
std::size_t next_special(std::string_view in, std::size_t from, bool deep) {
  const void* slash = std::memchr(in.data() + from, '\\', in.size() - from);
  std::size_t at = slash == nullptr
                       ? in.size()
                       : static_cast<std::size_t>(static_cast<const char*>(slash) - in.data());
  if (deep) {
    const void* esc = std::memchr(in.data() + from, 0x1B, at - from);
    if (esc != nullptr) at = static_cast<std::size_t>(static_cast<const char*>(esc) - in.data());
  }
  return at;
}

// Appends code point `cp` as UTF-8 to `text`, and to `map` (when given) with its source span.
void push_utf8(std::string& text, FoldedText* map, std::uint32_t cp, std::uint32_t b,
               std::uint32_t e) {
  char buf[4];
  std::size_t n = 0;
  if (cp < 0x80) {
    buf[n++] = static_cast<char>(cp);
  } else if (cp < 0x800) {
    buf[n++] = static_cast<char>(0xC0 | (cp >> 6));
    buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    buf[n++] = static_cast<char>(0xE0 | (cp >> 12));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    buf[n++] = static_cast<char>(0xF0 | (cp >> 18));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  }
  text.append(buf, n);
  if (map == nullptr) return;
  for (std::size_t k = 0; k < n; ++k) {
    map->begin.push_back(b);
    map->end.push_back(e);
  }
}

// The escape whose letter stands at in[j]. JSON's letters everywhere; free text (`deep`) also
// reads the hex escapes other languages write (`\xHH`, `\UHHHHHHHH`): a model reads
// `\x0aAKIA…` (Python's repr of bytes) as a key on its own line as well. Not `\a`, `\e`, `\v`
// or octal: Windows paths are full of them (`C:\\Users\\alice`, `\\2024`), and a review
// (helper-54) found paths in environment dumps mangled into passwords.
struct Escape {
  enum class Kind { kNone, kShort, kOne };
  Kind kind = Kind::kNone;  // kShort: the text ends before the escape can be judged
  std::uint32_t cp = 0;
  std::size_t end = 0;  // past its last byte
};

Escape escape_at(std::string_view in, std::size_t j, bool deep, bool final) {
  using Kind = Escape::Kind;
  // Cut short by the end of a text that may go on: wait for the rest (not `final`), else not an
  // escape.
  const Escape short_one = final ? Escape{} : Escape{Kind::kShort};
  const char e = in[j];
  auto one = [&](std::uint32_t cp, std::size_t end) { return Escape{Kind::kOne, cp, end}; };
  switch (e) {
    case 'n':
      return one('\n', j + 1);
    case 'r':
      return one('\r', j + 1);
    case 't':
      return one('\t', j + 1);
    case 'b':
      return one('\b', j + 1);
    case 'f':
      return one('\f', j + 1);
    case '/':
    case '"':
      return one(static_cast<unsigned char>(e), j + 1);
    case '\\':
      return deep ? Escape{} : one('\\', j + 1);  // free text: part of the run
    case 'u': {
      const long v = hex_at(in, j + 1, 4);
      if (v >= 0) return one(static_cast<std::uint32_t>(v), j + 5);
      return in.size() - j < 5 ? short_one : Escape{};
    }
    default:
      break;
  }
  if (!deep) return {};
  switch (e) {
    case 'x': {
      const long v = hex_at(in, j + 1, 2);
      if (v >= 0) return one(static_cast<std::uint32_t>(v), j + 3);
      return in.size() - j < 3 ? short_one : Escape{};
    }
    case 'U': {
      const long v = hex_at(in, j + 1, 8);
      if (v >= 0 && v <= 0x10FFFF) return one(static_cast<std::uint32_t>(v), j + 9);
      return in.size() - j < 9 && v < 0 ? short_one : Escape{};
    }
    default:
      break;
  }
  return {};
}

// One pass of both readings, into `text` and, when `map` is given, its spans (map->text is
// `text` then). At a backslash, the escape's letter is the next byte (JSON), or the first byte
// after the run of backslashes and of characters that render as nothing (free text, `deep`).
std::size_t unescape_pass(std::string_view in, bool final, bool deep, std::string& text,
                          FoldedText* map) {
  text.clear();
  if (map != nullptr) {
    map->begin.clear();
    map->end.clear();
  }
  auto plain = [&](std::size_t from, std::size_t to) {
    text.append(in.data() + from, to - from);
    if (map == nullptr) return;
    for (std::size_t k = from; k < to; ++k) {
      map->begin.push_back(static_cast<std::uint32_t>(k));
      map->end.push_back(static_cast<std::uint32_t>(k + 1));
    }
  };
  // Where the letter of an escape starting at backslash `i` stands.
  auto letter_at = [&](std::size_t i) {
    std::size_t j = i + 1;
    if (!deep) return j;
    for (;;) {
      if (j < in.size() && in[j] == '\\') {
        ++j;
      } else if (const std::size_t len = invisible_at(in, j); len > 0) {
        j += len;
      } else {
        return j;
      }
    }
  };
  // Decodes code point `cp` of the escape [b, e): written out, a character that renders as
  // nothing is in plain sight, so free text reads it as the mark it is, a space: no hidden
  // text, and what stands after it stands apart (`x\u200bAKIA…` is a key).
  auto decoded = [&](std::uint32_t cp, std::size_t b, std::size_t e) {
    if (deep && renders_as_nothing(cp)) cp = ' ';
    push_utf8(text, map, cp, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e));
  };
  // An ANSI control sequence reads as a space (a terminal draws none; a coloured log's `m`
  // glued the key after it: `\x1b[32mAKIA…`). Returns false when the text ends inside one.
  auto control_sequence = [&](std::size_t b, std::size_t at, std::size_t& next) {
    const std::size_t e = csi_end(in, at);
    if (e == std::string_view::npos && !final) return false;
    if (e == 0 || e == std::string_view::npos) return true;
    push_utf8(text, map, ' ', static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e));
    next = e;
    return true;
  };
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '\\' && !(deep && in[i] == 0x1B)) {
      const std::size_t to = next_special(in, i, deep);
      plain(i, to);
      i = to;
      continue;
    }
    if (in[i] == 0x1B) {
      std::size_t next = i;
      if (!control_sequence(i, i + 1, next)) return i;
      if (next == i) {
        plain(i, i + 1);
        ++i;
      } else {
        i = next;
      }
      continue;
    }
    if (deep) {
      if (const std::size_t path_end = drive_path_end(in, i); path_end > 0) {
        plain(i, path_end);
        i = path_end;
        continue;
      }
    }
    const std::size_t j = letter_at(i);
    if (j - i > kMaxRun) {
      std::size_t keep = j - kMaxRun;
      while (keep < j && in[keep] != '\\') ++keep;
      plain(i, keep);
      i = keep;
      continue;
    }
    if (j == in.size()) {
      if (!final) return i;
      plain(i, j);
      return in.size();
    }
    const Escape esc = escape_at(in, j, deep, final);
    if (esc.kind == Escape::Kind::kShort) return i;
    if (esc.kind == Escape::Kind::kNone) {
      // JSON keeps the pair; free text keeps the run, and its letter is read next.
      const std::size_t to = deep ? j : j + 1;
      plain(i, to);
      i = to;
      continue;
    }
    std::uint32_t cp = esc.cp;
    std::size_t end = esc.end;
    if (in[j] == 'u' && cp >= 0xD800 && cp <= 0xDBFF) {
      // Its low half: the next escape, read the same way.
      std::size_t low_letter = end < in.size() && in[end] == '\\' ? letter_at(end) : end;
      // A run too long to be one escape (kMaxRun) holds no low half: the surrogate stands alone,
      // and a stream does not wait on the run (a review's finding: quadratic, held back).
      const bool escape_next = low_letter > end && low_letter - end <= kMaxRun;
      const bool may_follow =
          end == in.size() ||
          (escape_next &&
           (low_letter == in.size() || (in[low_letter] == 'u' && in.size() - low_letter < 5)));
      if (!final && may_follow) return i;  // its low half may still come
      const long low = escape_next && low_letter < in.size() && in[low_letter] == 'u'
                           ? hex_at(in, low_letter + 1, 4)
                           : -1;
      if (low >= 0xDC00 && low <= 0xDFFF) {
        cp = static_cast<std::uint32_t>(0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00));
        end = low_letter + 5;
      }
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
    // A backslash written as an escape at the end of a stream's text may begin an escape with
    // what comes next (`\u005c` + `n`): it waits, as a run does.
    if (deep && !final && cp == '\\' && end == in.size()) return i;
    if (deep && cp == 0x1B) {
      std::size_t next = end;
      if (!control_sequence(i, end, next)) return i;
      if (next != end) {
        i = next;
        continue;
      }
    }
    decoded(cp, i, end);
    i = end;
  }
  return in.size();
}

// True when `text` ends in a run of backslashes (kMaxRun at most) or inside an escape: a later
// free-text pass of a text that is not final waits there.
bool ends_inside_escape(std::string_view text) {
  const std::size_t last = text.rfind('\\');
  if (last == std::string_view::npos) return false;
  if (last + 1 == text.size()) {
    std::size_t first = last;
    while (first > 0 && text[first - 1] == '\\') --first;
    return last + 1 - first <= kMaxRun;
  }
  return text.size() - last <= 10 &&
         escape_at(text, last + 1, true, false).kind == Escape::Kind::kShort;
}

// The passes: the first as `reading` says, then free-text passes while what the last one gave
// still holds an escape (`\u005cn`, `\\u005c\\u006e`: an escape whose backslash was itself
// written as one). `map`, when given, maps the final text onto `in`; it is given whenever the
// text is not `final`. Then a later pass may stop before an escape the text ends inside (the
// JSON `a\\\\` is a run of two, whose letter may come next), and what it did not read is not
// consumed either.
std::size_t unescape_passes(std::string_view in, bool final, EscapeReading reading,
                            std::string& text, FoldedText* map) {
  std::size_t consumed = unescape_pass(in, final, reading == EscapeReading::kText, text, map);
  thread_local std::string next;
  thread_local FoldedText step;
  for (int pass = 1; pass < kMaxPasses; ++pass) {
    const bool more = holds_text_escape(text) || (!final && ends_inside_escape(text));
    if (!more) break;
    const std::size_t read =
        unescape_pass(text, final, true, next, map != nullptr ? &step : nullptr);
    if (read == text.size() && next == text) break;  // nothing decoded: the last pass was the last
    if (map != nullptr) {
      if (read < text.size()) consumed = map->begin[read];
      // step maps `next` onto `text`; map maps `text` onto `in`.
      std::vector<std::uint32_t> begin(next.size());
      std::vector<std::uint32_t> end(next.size());
      for (std::size_t k = 0; k < next.size(); ++k) {
        begin[k] = map->begin[step.begin[k]];
        end[k] = map->end[step.end[k] - 1];
      }
      map->begin.swap(begin);
      map->end.swap(end);
    }
    text.swap(next);
  }
  return consumed;
}

}  // namespace

std::size_t unescape_json(std::string_view text, bool final, FoldedText& out) {
  return unescape_passes(text, final, EscapeReading::kJson, out.text, &out);
}

std::size_t unescape_text(std::string_view text, bool final, FoldedText& out) {
  return unescape_passes(text, final, EscapeReading::kText, out.text, &out);
}

void decode_escapes(EscapeReading reading, std::string_view text, std::string& out) {
  unescape_passes(text, true, reading, out, nullptr);
}

bool holds_text_escape(std::string_view text) {
  for (std::size_t e = text.find('\x1b'); e != std::string_view::npos;
       e = text.find('\x1b', e + 1)) {
    const std::size_t end = csi_end(text, e + 1);
    if (end != 0 && end != std::string_view::npos) return true;
  }
  std::size_t i = text.find('\\');
  while (i != std::string_view::npos) {
    if (const std::size_t path_end = drive_path_end(text, i); path_end > 0) {
      i = text.find('\\', path_end);
      continue;
    }
    std::size_t j = i;
    for (;;) {
      if (j < text.size() && text[j] == '\\') {
        ++j;
      } else if (const std::size_t len = invisible_at(text, j); len > 0) {
        j += len;
      } else {
        break;
      }
    }
    if (j == text.size()) return false;
    if (escape_at(text, j, true, true).kind == Escape::Kind::kOne) return true;
    i = text.find('\\', j);
  }
  return false;
}

}  // namespace edgeward::rules
