#include "rules/json_escapes.hpp"

#include <cstring>

namespace edgeward::rules {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The \uXXXX at text[i] (i at the backslash), or -1.
long hex_escape(std::string_view text, std::size_t i) {
  if (i + 6 > text.size() || text[i] != '\\' || text[i + 1] != 'u') return -1;
  long v = 0;
  for (std::size_t k = i + 2; k < i + 6; ++k) {
    const int d = hex_value(text[k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
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

// The byte a one-letter escape stands for (`\n`, `\"`, …), or 0.
char simple_escape(char e) {
  switch (e) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case '/':
    case '\\':
    case '"':
      return e;
    default:
      return 0;
  }
}

// Both readings, into `text` and, when `map` is given, its spans (map->text is `text` then).
// At a backslash, the escape's letter is the next byte (JSON), or the first byte after the run
// of backslashes (free text, `deep`).
std::size_t unescape(std::string_view in, bool final, bool deep, std::string& text,
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
    if (deep) {
      while (j < in.size() && in[j] == '\\') ++j;
    }
    return j;
  };
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '\\') {
      const void* next = std::memchr(in.data() + i, '\\', in.size() - i);
      const std::size_t to =
          next == nullptr ? in.size()
                          : static_cast<std::size_t>(static_cast<const char*>(next) - in.data());
      plain(i, to);
      i = to;
      continue;
    }
    const std::size_t j = letter_at(i);
    if (j == in.size()) {
      if (!final) return i;
      plain(i, j);
      return in.size();
    }
    const auto b = static_cast<std::uint32_t>(i);
    const char e = in[j];
    if (e != 'u') {
      const char c = simple_escape(e);
      if (c == 0) {
        // Not an escape: JSON keeps the pair, free text the run (its letter is read next).
        plain(i, deep ? j : j + 1);
        i = deep ? j : j + 1;
      } else {
        push_utf8(text, map, static_cast<unsigned char>(c), b, static_cast<std::uint32_t>(j + 1));
        i = j + 1;
      }
      continue;
    }
    const long cp = hex_escape(in, j - 1);
    if (cp < 0) {
      if (!final && in.size() - j < 5) return i;  // \u and fewer than four digits so far
      plain(i, j + 1);
      i = j + 1;
      continue;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // Its low half: the next escape, read the same way.
      const std::size_t next = j + 5;
      const bool escape_next = next < in.size() && in[next] == '\\';
      const std::size_t low_letter = escape_next ? letter_at(next) : next;
      const bool may_follow =
          next == in.size() ||
          (escape_next &&
           (low_letter == in.size() || (in[low_letter] == 'u' && in.size() - low_letter < 5)));
      if (!final && may_follow) return i;  // its low half may still come
      const long low = escape_next ? hex_escape(in, low_letter - 1) : -1;
      if (low >= 0xDC00 && low <= 0xDFFF) {
        const auto pair =
            static_cast<std::uint32_t>(0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00));
        if (!(deep && renders_as_nothing(pair))) {
          push_utf8(text, map, pair, b, static_cast<std::uint32_t>(low_letter + 5));
        }
        i = low_letter + 5;
        continue;
      }
    }
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    const std::uint32_t decoded = surrogate ? 0xFFFD : static_cast<std::uint32_t>(cp);
    // Written out, a character that renders as nothing is in plain sight: read as nothing (as
    // the fold drops it), it neither splits a key (`AKIA\u200b4XCI…`) nor counts as hidden text.
    if (!(deep && renders_as_nothing(decoded))) {
      push_utf8(text, map, decoded, b, static_cast<std::uint32_t>(j + 5));
    }
    i = j + 5;
  }
  return in.size();
}

}  // namespace

std::size_t unescape_json(std::string_view text, bool final, FoldedText& out) {
  return unescape(text, final, false, out.text, &out);
}

std::size_t unescape_text(std::string_view text, bool final, FoldedText& out) {
  return unescape(text, final, true, out.text, &out);
}

void decode_escapes(EscapeReading reading, std::string_view text, std::string& out) {
  unescape(text, true, reading == EscapeReading::kText, out, nullptr);
}

bool holds_text_escape(std::string_view text) {
  std::size_t i = text.find('\\');
  while (i != std::string_view::npos) {
    std::size_t j = i;
    while (j < text.size() && text[j] == '\\') ++j;
    if (j == text.size()) return false;
    if (simple_escape(text[j]) != 0) return true;
    if (text[j] == 'u' && hex_escape(text, j - 1) >= 0) return true;
    i = text.find('\\', j);
  }
  return false;
}

}  // namespace edgeward::rules
