#include "daemon/inspect/json_unescape.hpp"

namespace edgeward::inspect {

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

void push_utf8(rules::FoldedText& out, std::uint32_t cp, std::uint32_t b, std::uint32_t e) {
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
  for (std::size_t k = 0; k < n; ++k) {
    out.text.push_back(buf[k]);
    out.begin.push_back(b);
    out.end.push_back(e);
  }
}

}  // namespace

std::size_t unescape_json(std::string_view text, bool final, rules::FoldedText& out) {
  out.text.clear();
  out.begin.clear();
  out.end.clear();
  auto plain = [&](std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k) {
      out.text.push_back(text[k]);
      out.begin.push_back(static_cast<std::uint32_t>(k));
      out.end.push_back(static_cast<std::uint32_t>(k + 1));
    }
  };
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '\\') {
      plain(i, i + 1);
      ++i;
      continue;
    }
    if (i + 1 == text.size()) {
      if (!final) return i;
      plain(i, i + 1);
      return text.size();
    }
    const auto b = static_cast<std::uint32_t>(i);
    const char e = text[i + 1];
    if (e != 'u') {
      char c = 0;
      switch (e) {
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case '/':
        case '\\':
        case '"':
          c = e;
          break;
        default:
          break;
      }
      if (c == 0) {
        plain(i, i + 2);
      } else {
        push_utf8(out, static_cast<unsigned char>(c), b, b + 2);
      }
      i += 2;
      continue;
    }
    const long cp = hex_escape(text, i);
    if (cp < 0) {
      if (!final && text.size() - i < 6) return i;  // \u and fewer than four digits so far
      plain(i, i + 2);
      i += 2;
      continue;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!final && text.size() - i < 12) return i;  // its low half may still come
      const long low = hex_escape(text, i + 6);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        push_utf8(out, static_cast<std::uint32_t>(0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)),
                  b, b + 12);
        i += 12;
        continue;
      }
    }
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    push_utf8(out, surrogate ? 0xFFFD : static_cast<std::uint32_t>(cp), b, b + 6);
    i += 6;
  }
  return text.size();
}

}  // namespace edgeward::inspect
