#include "rules/validators.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <string>

#include "rules/injection_intent.hpp"

namespace edgeward::rules {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_alnum(char c) {
  return is_digit(c) || is_upper(c) || is_lower(c);
}
char to_lower(char c) {
  return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

// Candidates are short (patterns are bounded to kMaxPatternWidth); a fixed buffer keeps the
// validators allocation-free.
struct Digits {
  char d[64];
  std::size_t n = 0;
};

// Bytes that may set the groups of an IBAN, a card or an SSN apart: space, tab, line break,
// hyphen, dot, slash, and the UTF-8 bytes of the no-break spaces U+00A0 (C2 A0), U+2009
// (E2 80 89) and U+202F (E2 80 AF) and of the en and em dashes (E2 80 93, E2 80 94). The
// pattern decides where they may stand; here they are skipped.
bool group_separator(char ch) {
  switch (static_cast<unsigned char>(ch)) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '-':
    case '.':
    case '/':
    case 0xC2:
    case 0xA0:
    case 0xE2:
    case 0x80:
    case 0x89:
    case 0x93:
    case 0x94:
    case 0xAF:
      return true;
    default:
      return false;
  }
}

// The digits of a grouped number (card, SSN), its group separators skipped.
bool collect_grouped_digits(std::string_view s, Digits& out) {
  out.n = 0;
  for (char c : s) {
    if (group_separator(c)) continue;
    if (!is_digit(c) || out.n == sizeof(out.d)) return false;
    out.d[out.n++] = c;
  }
  return out.n > 0;
}

// The digits of `s`, skipping spaces and dashes; false when anything else is there or too long.
bool collect_digits(std::string_view s, Digits& out) {
  out.n = 0;
  for (char c : s) {
    if (c == ' ' || c == '-') continue;
    if (!is_digit(c) || out.n == sizeof(out.d)) return false;
    out.d[out.n++] = c;
  }
  return out.n > 0;
}

int num(const Digits& d, std::size_t from, std::size_t len) {
  int v = 0;
  for (std::size_t i = from; i < from + len; ++i) v = v * 10 + (d.d[i] - '0');
  return v;
}

bool all_same(const Digits& d) {
  return std::all_of(d.d, d.d + d.n, [&](char c) { return c == d.d[0]; });
}

bool luhn_digits(const Digits& d) {
  int sum = 0;
  bool dbl = false;
  for (std::size_t i = d.n; i-- > 0;) {
    int v = d.d[i] - '0';
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && ieq(s.substr(s.size() - suffix.size()), suffix);
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ieq(s.substr(0, prefix.size()), prefix);
}

// --- IBAN ---------------------------------------------------------------------------------

struct IbanCountry {
  char code[3];
  int length;
};

// SWIFT IBAN registry: country code and total IBAN length.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
    {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
    {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
    {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28},
    {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

int iban_length(char a, char b) {
  for (const auto& c : kIbanCountries) {
    if (c.code[0] == a && c.code[1] == b) return c.length;
  }
  return 0;
}

// ISO 3166-1 alpha-2 codes, for the country part of a BIC.
constexpr std::string_view kCountryCodes =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS XK YE YT ZA ZM ZW";

bool is_country_code(char a, char b) {
  for (std::size_t i = 0; i + 1 < kCountryCodes.size(); i += 3) {
    if (kCountryCodes[i] == a && kCountryCodes[i + 1] == b) return true;
  }
  return false;
}

// --- base58 / base64 ----------------------------------------------------------------------

constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

// Decodes into `out` (big-endian); false on a bad character or when it does not fit.
bool base58_decode(std::string_view s, std::uint8_t* out, std::size_t cap, std::size_t& len) {
  std::size_t leading = 0;
  while (leading < s.size() && s[leading] == '1') ++leading;
  std::uint8_t buf[64] = {};
  std::size_t used = 0;  // bytes in use at the end of buf
  for (char c : s) {
    auto pos = kBase58.find(c);
    if (pos == std::string_view::npos) return false;
    unsigned carry = static_cast<unsigned>(pos);
    for (std::size_t i = 0; i < used; ++i) {
      carry += 58u * buf[sizeof(buf) - 1 - i];
      buf[sizeof(buf) - 1 - i] = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry) {
      if (used == sizeof(buf)) return false;
      buf[sizeof(buf) - 1 - used++] = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
  }
  len = leading + used;
  if (len > cap) return false;
  std::memset(out, 0, leading);
  std::memcpy(out + leading, buf + sizeof(buf) - used, used);
  return true;
}

int base64_value(char c, bool url) {
  if (is_upper(c)) return c - 'A';
  if (is_lower(c)) return c - 'a' + 26;
  if (is_digit(c)) return c - '0' + 52;
  if (url) {
    if (c == '-') return 62;
    if (c == '_') return 63;
  } else {
    if (c == '+') return 62;
    if (c == '/') return 63;
  }
  return -1;
}

// Decodes base64 (or base64url) without padding requirements into `out`; stops at '='.
bool base64_decode(std::string_view s, bool url, std::uint8_t* out, std::size_t cap,
                   std::size_t& len) {
  len = 0;
  unsigned acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    int v = base64_value(c, url);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (len == cap) return false;
      out[len++] = static_cast<std::uint8_t>((acc >> bits) & 0xff);
    }
  }
  return true;
}

// A decoded JWT part is a JSON object: '{' ... '}' around printable text.
bool looks_like_json_object(const std::uint8_t* p, std::size_t n) {
  std::size_t b = 0, e = n;
  while (b < e && std::isspace(p[b])) ++b;
  while (e > b && std::isspace(p[e - 1])) --e;
  if (e - b < 2 || p[b] != '{' || p[e - 1] != '}') return false;
  for (std::size_t i = b; i < e; ++i) {
    if (p[i] < 0x20 && !std::isspace(p[i])) return false;
  }
  return true;
}

// --- bech32 -------------------------------------------------------------------------------

constexpr std::string_view kBech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

std::uint32_t bech32_polymod_step(std::uint32_t chk, unsigned v) {
  constexpr std::uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  std::uint32_t top = chk >> 25;
  chk = ((chk & 0x1ffffff) << 5) ^ v;
  for (int i = 0; i < 5; ++i) {
    if ((top >> i) & 1) chk ^= gen[i];
  }
  return chk;
}

// --- Keccak -------------------------------------------------------------------------------

constexpr std::uint64_t kKeccakRc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// Rotation offsets r[x + 5y] (rho step).
constexpr int kKeccakRho[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};

std::uint64_t rotl(std::uint64_t v, int n) {
  return n == 0 ? v : (v << n) | (v >> (64 - n));
}

void keccak_f1600(std::uint64_t a[25]) {
  for (int round = 0; round < 24; ++round) {
    std::uint64_t c[5], d[5], b[25];
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) d[x] = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
    for (int i = 0; i < 25; ++i) a[i] ^= d[i % 5];
    // rho and pi: lane (x, y) moves to (y, 2x + 3y).
    for (int x = 0; x < 5; ++x) {
      for (int y = 0; y < 5; ++y) {
        b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], kKeccakRho[x + 5 * y]);
      }
    }
    for (int y = 0; y < 5; ++y) {
      for (int x = 0; x < 5; ++x) {
        a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
      }
    }
    a[0] ^= kKeccakRc[round];
  }
}

// --- CRC32 --------------------------------------------------------------------------------

struct Crc32Table {
  std::uint32_t t[256];
  constexpr Crc32Table() : t() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
  }
};
constexpr Crc32Table kCrc32;

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// --- the validators that need context or are only used through validate() ------------------

// True when text[start] sits in the userinfo of a `scheme://user:password@host` URL: the
// "local part" there is a user name or a password, not a mailbox.
bool in_url_userinfo(std::string_view text, std::size_t start) {
  constexpr std::size_t kMaxLookBack = 256;
  std::size_t lo = start > kMaxLookBack ? start - kMaxLookBack : 0;
  for (std::size_t i = start; i > lo; --i) {
    char c = text[i - 1];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '<' ||
        c == '>' || c == '/' || c == '@') {
      // The authority starts right after "://"; anything else ends the look-back.
      return c == '/' && i >= 3 && text[i - 2] == '/' && text[i - 3] == ':';
    }
  }
  return false;
}

bool email_valid(std::string_view text, std::size_t start, std::size_t end) {
  if (in_url_userinfo(text, start)) return false;
  std::string_view s = text.substr(start, end - start);
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view tld = domain.substr(dot + 1);
  if (tld.size() < 2 ||
      !std::all_of(tld.begin(), tld.end(), [](char c) { return is_upper(c) || is_lower(c); })) {
    return false;
  }
  // RFC 2606 / 6761 reserved names are documentation, not people.
  for (std::string_view reserved : {"example.com", "example.org", "example.net"}) {
    // A subdomain: ".example.com" at the end, compared without building the string (GCC 12's
    // -Wrestrict misread the concatenation at -O3, so a Release build failed).
    const bool sub = domain.size() > reserved.size() &&
                     domain[domain.size() - reserved.size() - 1] == '.' &&
                     ends_with_ci(domain, reserved);
    if (ieq(domain, reserved) || sub) return false;
  }
  for (std::string_view tld_reserved : {"example", "test", "invalid", "localhost", "local"}) {
    if (ieq(tld, tld_reserved)) return false;
  }
  return true;
}

bool phone_valid(std::string_view s) {
  Digits d;
  d.n = 0;
  for (char c : s) {
    if (is_digit(c)) {
      if (d.n == sizeof(d.d)) return false;
      d.d[d.n++] = c;
    }
  }
  if (d.n < 10 || d.n > 15 || all_same(d)) return false;
  // North American numbers: 555-0100..0199 are reserved for fiction.
  std::size_t off = (d.n == 11 && d.d[0] == '1') ? 1 : (d.n == 10 ? 0 : 99);
  if (off != 99) {
    if (d.d[off] < '2') return false;  // area codes start with 2-9
    if (num(d, off + 3, 3) == 555 && num(d, off + 6, 2) == 1) return false;
  }
  return true;
}

// Parses a dotted quad; false on leading zeros, octets over 255 or a first octet of 0.
bool parse_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::size_t b = i;
    int v = 0;
    while (i < s.size() && is_digit(s[i]) && i - b < 3) v = v * 10 + (s[i++] - '0');
    if (i == b || v > 255 || (i - b > 1 && s[b] == '0')) return false;
    if (parts == 0 && v == 0) return false;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

bool ipv4_valid(std::string_view text, std::size_t start, std::size_t end) {
  if (!parse_ipv4(text.substr(start, end - start))) return false;
  // Part of a longer dotted run ("1.2.3.4.5", OIDs, version strings) is not an address.
  if (start >= 2 && text[start - 1] == '.' && is_digit(text[start - 2])) return false;
  if (end + 1 < text.size() && text[end] == '.' && is_digit(text[end + 1])) return false;
  return true;
}

bool url_ipv4_host_valid(std::string_view s) {
  auto scheme = s.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view rest = s.substr(scheme + 3);
  auto at = rest.find('@');
  auto slash = rest.find_first_of("/?#");
  if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
    rest = rest.substr(at + 1);
  }
  auto host_end = rest.find_first_of(":/?#");
  return parse_ipv4(rest.substr(0, host_end));
}

bool uk_nino_valid(std::string_view s) {
  char c[9];
  std::size_t n = 0;
  for (char ch : s) {
    if (ch == ' ') continue;
    if (n == 9) return false;
    c[n++] = ch;
  }
  if (n != 9) return false;
  if (!is_upper(c[0]) || !is_upper(c[1]) || !is_upper(c[8])) return false;
  for (int i = 2; i < 8; ++i) {
    if (!is_digit(c[i])) return false;
  }
  if (std::string_view("DFIQUV").find(c[0]) != std::string_view::npos) return false;
  if (std::string_view("DFIOQUV").find(c[1]) != std::string_view::npos) return false;
  std::string_view prefix(c, 2);
  for (std::string_view bad : {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}) {
    if (prefix == bad) return false;
  }
  if (c[8] < 'A' || c[8] > 'D') return false;
  // QQ 12 34 56 C is HMRC's documented example number.
  return prefix != "QQ";
}

bool swift_bic_valid(std::string_view s) {
  if (s.size() != 8 && s.size() != 11) return false;
  for (int i = 0; i < 6; ++i) {
    if (!is_upper(s[static_cast<std::size_t>(i)])) return false;
  }
  for (std::size_t i = 6; i < s.size(); ++i) {
    if (!is_upper(s[i]) && !is_digit(s[i])) return false;
  }
  // An 8-letter word ("BUSINESS") has this shape too: rules pair this check with required
  // context words (bic, swift, bank).
  return is_country_code(s[4], s[5]);
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool ymd_valid(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1) return false;
  int max = kDays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
  return d <= max;
}

int month_from_name(std::string_view word) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  if (word.size() < 3) return 0;
  for (int i = 0; i < 12; ++i) {
    if (ieq(word.substr(0, 3), kMonths[i])) return i + 1;
  }
  return 0;
}

// Numeric dates (YYYY-MM-DD, DD.MM.YYYY, MM/DD/YYYY: either order of day and month when
// ambiguous) and written ones ("14 March 1985", "March 14, 1985").
bool calendar_date_valid(std::string_view s) {
  int f[3] = {0, 0, 0};
  int len[3] = {0, 0, 0};
  int month_name = 0;
  int k = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (is_digit(c)) {
      if (k == 3) return false;
      while (i < s.size() && is_digit(s[i])) {
        f[k] = f[k] * 10 + (s[i] - '0');
        ++len[k];
        ++i;
      }
      ++k;
    } else if (is_upper(c) || is_lower(c)) {
      std::size_t b = i;
      while (i < s.size() && (is_upper(s[i]) || is_lower(s[i]))) ++i;
      month_name = month_from_name(s.substr(b, i - b));
      if (month_name == 0) return false;
    } else {
      ++i;
    }
  }
  if (month_name) {
    if (k != 2) return false;
    int day = len[0] == 4 ? f[1] : f[0];
    int year = len[0] == 4 ? f[0] : f[1];
    return ymd_valid(year, month_name, day);
  }
  if (k != 3) return false;
  if (len[0] == 4) return ymd_valid(f[0], f[1], f[2]);
  if (len[2] == 4) return ymd_valid(f[2], f[1], f[0]) || ymd_valid(f[2], f[0], f[1]);
  return false;
}

bool crypto_wallet_valid(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) return eip55_valid(s);
  if (s.find('1') != std::string_view::npos &&
      (starts_with_ci(s, "bc1") || starts_with_ci(s, "tb1") || starts_with_ci(s, "ltc1"))) {
    return bech32_valid(s);
  }
  return base58check_valid(s);
}

bool is_base64_char(char c) {
  return is_alnum(c) || c == '+' || c == '/';
}

// The match is `<name> [:=] <40 characters>`: judge the 40 characters.
bool aws_secret_valid(std::string_view text, std::size_t start, std::size_t end) {
  if (end - start < 40) return false;
  std::string_view key = text.substr(end - 40, 40);
  // Part of a longer string on either side: a digest, a base64 blob, a longer key.
  if (end < text.size() && is_base64_char(text[end])) return false;
  if (end > 40 && is_base64_char(text[end - 41])) return false;
  if (key.find("EXAMPLE") != std::string_view::npos) return false;  // AWS documentation keys
  bool up = false, low = false, digit = false;
  for (char c : key) {
    up |= is_upper(c);
    low |= is_lower(c);
    digit |= is_digit(c) || c == '/' || c == '+';
  }
  // Hex digests (git SHAs, checksums) are single-case; a real key mixes cases and digits.
  return up && low && digit;
}

// Values that are names of a secret rather than the secret: docs, templates and code.
bool is_placeholder(std::string_view v) {
  if (v.empty()) return true;
  char first = v.front();
  if (std::string_view("$<{%*[(#").find(first) != std::string_view::npos) return true;
  if (std::all_of(v.begin(), v.end(), [&](char c) { return c == first; })) return true;
  for (std::string_view p :
       {"password",     "passwd",        "pass",         "secret",     "changeme",    "change_me",
        "pwd",          "your_password", "yourpassword", "mypassword", "my_password", "example",
        "placeholder",  "required",      "optional",     "string",     "none",        "null",
        "true",         "false",         "undefined",    "redacted",   "hidden",      "removed",
        "xxxxxx",       "<password>",    "password123",  "dummy",      "sample",      "notsecret",
        "not_a_secret", "foobar",        "letmein"}) {
    if (ieq(v, p)) return true;
  }
  for (std::string_view prefix : {"process.env", "os.environ", "os.getenv", "env.", "config.",
                                  "settings.", "self.", "this.", "secrets.", "vault:"}) {
    if (starts_with_ci(v, prefix)) return true;
  }
  return v.find('(') != std::string_view::npos;
}

bool db_connection_string_valid(std::string_view s) {
  auto scheme = s.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view rest = s.substr(scheme + 3);
  auto at = rest.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view userinfo = rest.substr(0, at);
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) return false;
  return !is_placeholder(userinfo.substr(colon + 1));
}

// A passphrase of plain lowercase words joined by hyphens or underscores ("violet-sunset-harbor",
// "velvet_yodel_glacier"): at least three words of three letters or more, none of them a word
// that instructions, placeholders and identifiers are made of ("see-the-vault", "not_set_yet",
// "db_password_ref").
bool lowercase_passphrase(std::string_view v) {
  static constexpr std::string_view kNotSecret[] = {
      "not",     "set",      "see",      "same",   "ask",      "use",    "via",         "env",
      "none",    "null",     "empty",    "your",   "the",      "secret", "password",    "pass",
      "here",    "value",    "example",  "dummy",  "redacted", "hidden", "below",       "above",
      "vault",   "required", "default",  "change", "todo",     "tbd",    "from",        "file",
      "for",     "and",      "with",     "hash",   "hashed",   "ref",    "key",         "name",
      "var",     "token",    "path",     "user",   "secrets",  "config", "placeholder", "foo",
      "bar",     "baz",      "test",     "demo",   "dev",      "local",  "only",        "please",
      "random",  "generate", "insert",   "lorem",  "ipsum",    "string", "sample",      "contact",
      "support", "admin",    "insecure", "non",    "multi",    "mode",   "based",       "factor",
      "auth",    "xxx",      "xxxx",     "enter",  "new",      "old",    "temp"};
  std::size_t words = 0;
  std::string_view first;
  for (std::size_t at = 0; at <= v.size();) {
    std::size_t end = v.find_first_of("-_", at);
    if (end == std::string_view::npos) end = v.size();
    const std::string_view w = v.substr(at, end - at);
    if (w.size() < 3 || !std::all_of(w.begin(), w.end(), is_lower)) return false;
    for (std::string_view stop : kNotSecret) {
      if (w == stop) return false;
    }
    if (words == 0) {
      first = w;
    } else if (w == first) {
      return false;  // "test-test-test", "admin-admin-admin"
    }
    ++words;
    at = end + 1;
  }
  return words >= 3;
}

// True when the key holds a word for password in one of the languages the pack knows (not only
// "secret", "token" or "key").
bool names_a_password(std::string_view key) {
  for (std::string_view word : {"pass", "pw", "wort", "senha", "contrase", "senord", "has\xC5\x82",
                                "hasl", "salasana", "\xD0\xB0\xD1\x80\xD0\xBE\xD0\xBB\xD1\x8C"}) {
    for (std::size_t at = 0; at + word.size() <= key.size(); ++at) {
      if (starts_with_ci(key.substr(at), word)) return true;
    }
  }
  return false;
}

// Where the value begins after a key in prose of another language ("Das Passwort ist …",
// "la contraseña es …", "le mot de passe est …", "a senha é …", "lösenordet är …", "hasło to …").
std::size_t foreign_verb_end(std::string_view s) {
  for (std::string_view verb : {" c'est ", " ist ", " lautet ", " es ", " est ", " \xC3\xA9 ",
                                " \xC3\xA4r ", " jest ", " to "}) {
    if (auto at = s.find(verb); at != std::string_view::npos) return at + verb.size();
  }
  return std::string_view::npos;
}

// An absolute file path (`/home/dev/app`, `~/.ssh/id_rsa`, `C:\\Users\\dev`): the shell's working
// directory (`PWD=/home/dev/app`, `"OLDPWD": "/srv/app"`, every environment dump has both) or
// a file that holds the secret (`secret: /run/secrets/db`), not a secret itself. A password
// holds a byte no path segment does, or is not two segments deep.
bool absolute_path(std::string_view v) {
  std::size_t slashes = 0;
  std::size_t from = 0;
  char sep = '/';
  if (v.starts_with('/')) {
    // The first folder names a file system's top (`/home`, `/Users`, `/run`), so a secret that
    // happens to start with a slash (`/K7MDENG/bPxRfiCY…`) is not taken for a path: refused
    // whole, its prefix was redacted and the rest left (a review's finding, helper-54).
    const std::string_view top = v.substr(
        1, v.find('/', 1) == std::string_view::npos ? std::string_view::npos : v.find('/', 1) - 1);
    bool known = false;
    for (std::string_view dir :
         {"home",    "Users",     "usr",        "etc",      "var",    "opt",     "srv",
          "run",     "tmp",       "bin",        "sbin",     "lib",    "lib64",   "root",
          "mnt",     "media",     "proc",       "sys",      "dev",    "data",    "app",
          "apps",    "workspace", "workspaces", "builds",   "src",    "Library", "Applications",
          "Volumes", "private",   "nix",        "snap",     "boot",   "config",  "secrets",
          "vault",   "code",      "project",    "projects", "github", "build",   "cache",
          "storage", "export",    "net",        "Network"}) {
      known = known || top == dir;
    }
    if (!known) return false;
    from = 0;
  } else if (v.starts_with("~/")) {
    from = 1;
    ++slashes;
  } else if (v.size() > 3 && (is_upper(v[0]) || is_lower(v[0])) && v[1] == ':' && v[2] == '\\') {
    from = 2;
    sep = '\\';
  } else {
    return false;
  }
  for (std::size_t k = from; k < v.size(); ++k) {
    const char c = v[k];
    if (c == sep) {
      ++slashes;
    } else if (!is_alnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return slashes >= 2;
}

// What the text around a password-shaped match says it is, beyond the match:
//  - a docstring's field (`:param password: Unicode password.`, `:type passphrase: bytes`,
//    `@param secret …`) describes a parameter;
//  - a value of words in camelCase or PascalCase (`password: readPassword,`,
//    `CHALLENGE_PASSWORD: "challengePassword"`, `PASS: MessageFormat successful`) is an
//    identifier;
//  - a capitalized word followed by a lower-case one (`:param client_secret: Unicode client
//    secret.`, `secret: Resource owner secret`) is prose;
//  - a name followed by `(` is a call or a C declaration (`user_pwd *SRP_VBASE_get1_by_user(`),
//    and capitals joined by underscores a constant's name (`'CURLOPT_PASSWORD',
//    'CURLOPT_READDATA'`).
// Each was redacted in code and docstrings (14,533 code chunks, 2026-11-25).
bool password_in_code_or_prose(std::string_view text, std::size_t start, std::size_t end) {
  const std::string_view before = text.substr(0, start);
  for (std::string_view field : {":param ", ":type ", ":ivar ", ":cvar ", ":var ", "@param "}) {
    if (before.ends_with(field)) return true;
  }
  // The value: the last run of letters and digits in the match, read on to its end in the text
  // (a candidate may end inside it: `pass BasicA` of `pass BasicAuth`).
  std::string_view m = text.substr(start, end - start);
  while (!m.empty() && !is_alnum(m.back())) m.remove_suffix(1);
  std::size_t from = m.size();
  while (from > 0 && (is_alnum(m[from - 1]) || m[from - 1] == '_')) --from;
  std::size_t stop = start + m.size();
  if (m.size() == end - start) {
    while (stop < text.size() && (is_alnum(text[stop]) || text[stop] == '_')) ++stop;
  }
  const std::string_view v = text.substr(start + from, stop - start - from);
  // A name followed by `(` is a call or a declaration (`pwd *SRP_VBASE_get1_by_user(…`), also
  // when the candidate ends inside the name (`*SRP_VBASE_get1_by_`).
  if (end > start && (is_alnum(text[end - 1]) || text[end - 1] == '_')) {
    std::size_t name_end = end;
    while (name_end < text.size() && (is_alnum(text[name_end]) || text[name_end] == '_')) {
      ++name_end;
    }
    if (name_end < text.size() && text[name_end] == '(') return true;
  }
  // A constant's name (`CURLOPT_READDATA`).
  if (v.find('_') != std::string_view::npos && std::all_of(v.begin(), v.end(), [](char c) {
        return is_upper(c) || is_digit(c) || c == '_';
      })) {
    return true;
  }
  if (v.size() < 6 ||
      !std::all_of(v.begin(), v.end(), [](char c) { return is_upper(c) || is_lower(c); })) {
    return false;
  }
  // Only when the value is the whole of what follows the key (not the tail of `Tr0ub4dor&Xy`).
  if (from > 0 && std::string_view(" \t\"'`:=").find(m[from - 1]) == std::string_view::npos) {
    return false;
  }
  // camelCase or PascalCase words: after a first word of two lower-case letters or more, or
  // of a capital and two or more, each a capital and two or more lower-case letters (a random
  // mixed-case password, `qObPCsoCsxMKjme`, has short runs and capitals side by side).
  std::size_t words = 0;
  for (std::size_t k = 0; k < v.size();) {
    std::size_t e = k + 1;
    while (e < v.size() && is_lower(v[e])) ++e;
    const std::size_t lower = e - k - (is_upper(v[k]) ? 1 : 0);
    if (lower < 2 || (k > 0 && !is_upper(v[k]))) {
      words = 0;
      break;
    }
    ++words;
    k = e;
  }
  if (words >= 2) return true;
  if (!is_upper(v[0]) || !std::all_of(v.begin() + 1, v.end(), is_lower)) return false;
  // A capitalized word: prose when a lower-case word follows it.
  const std::size_t after = stop;
  if (after < text.size() && text[after] == ' ' && after + 1 < text.size() &&
      is_lower(text[after + 1])) {
    return true;
  }
  return false;
}

bool password_value_valid(std::string_view s) {
  // The match is `name [:=] value`, `key="…Password" value="…"`, prose `name is value` (in
  // English or another language) or `login with user / value`: the value is after " is " /
  // " was ", else after the first ':' or '=', else after another language's verb, else after
  // the first '/'.
  std::string_view v;
  // A value in quotes that ends the match (`password = "…"`, `WITH PASSWORD '…'`) is that
  // quoted string, whatever `:` or `=` stands before it.
  std::size_t open = std::string_view::npos;
  if (s.size() >= 2 && (s.back() == '"' || s.back() == '\'' || s.back() == '`')) {
    open = s.rfind(s.back(), s.size() - 2);
  }
  if (open != std::string_view::npos) {
    v = s.substr(open + 1, s.size() - 2 - open);
  } else if (auto is = s.find(" is "); is != std::string_view::npos) {
    v = s.substr(is + 4);
  } else if (auto was = s.find(" was "); was != std::string_view::npos) {
    v = s.substr(was + 5);
  } else if (auto sep = s.find_first_of(":="); sep != std::string_view::npos) {
    v = s.substr(sep + 1);
  } else if (auto verb = foreign_verb_end(s); verb != std::string_view::npos) {
    v = s.substr(verb);
  } else if (auto slash = s.find('/'); slash != std::string_view::npos) {
    v = s.substr(slash + 1);  // "login with admin / value"
  } else {
    return false;
  }
  while (!v.empty() &&
         std::string_view(" \t\r\n\"'`=:").find(v.front()) != std::string_view::npos) {
    v.remove_prefix(1);
  }
  while (!v.empty() && std::string_view(" \t\r\n\"'`,;").find(v.back()) != std::string_view::npos) {
    v.remove_suffix(1);
  }
  // The patterns end a value at ". " too: that full stop ends the sentence, not the value.
  if (v.ends_with('.')) v.remove_suffix(1);
  if (v.size() < 6 || is_placeholder(v)) return false;
  // Words with accents are prose of another language ("Passwort: ungültig"), not a password.
  if (std::any_of(v.begin(), v.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return false;
  }
  // References and wrappers (`ENC[AES256_GCM,…]`, `op://vault/db`, `env:DB_PASSWORD`), templates
  // (`x{{ pw }}`) and regular expressions (`^[A-Za-z0-9]{8,64}$`, `\S{8,}`) are not values.
  for (std::string_view prefix :
       {"ENC[", "ENV[", "op://", "env:", "file:", "arn:", "vault:", "^"}) {
    if (starts_with_ci(v, prefix)) return false;
  }
  if (v.find('{') != std::string_view::npos && v.find('}') != std::string_view::npos) return false;
  if (absolute_path(v)) return false;
  if (v.find("\\S") != std::string_view::npos || v.find("\\w") != std::string_view::npos ||
      v.find("\\d") != std::string_view::npos) {
    return false;
  }
  // A framework's validation rules ("required|string|min:8") describe a password, not give one.
  if (v.find('|') != std::string_view::npos &&
      (starts_with_ci(v, "required") || starts_with_ci(v, "nullable") ||
       starts_with_ci(v, "sometimes") || starts_with_ci(v, "string") ||
       starts_with_ci(v, "confirmed") || starts_with_ci(v, "min:"))) {
    return false;
  }
  // Dotted or call-like identifiers (request.form.password, getpass()) are code.
  bool ident =
      std::all_of(v.begin(), v.end(), [](char c) { return is_alnum(c) || c == '_' || c == '.'; });
  if (ident && v.find('.') != std::string_view::npos) return false;
  // A lowercase word is prose ("password: forgotten"); a secret has a digit, a symbol or caps,
  // or is a passphrase of several words.
  if (std::all_of(v.begin(), v.end(), [](char c) { return is_lower(c) || c == '-' || c == '_'; })) {
    // Only a password's key gives a passphrase: after `secret:` or `existingSecret:` the same
    // shape is a Kubernetes or Helm name ("wiki-postgres-auth").
    const std::string_view key = s.substr(0, static_cast<std::size_t>(v.data() - s.data()));
    // A test runner's "PASS: parse-json-strings" names a test, not a password.
    if (key.starts_with("PASS") && !key.starts_with("PASSW") && !key.starts_with("PASSP")) {
      return false;
    }
    return names_a_password(key) && lowercase_passphrase(v);
  }
  // A word in capitals is a log line's or a prompt's next word ("password:\nERROR 1045"), and
  // capitals joined by underscores a constant's name ("GNUTLS_E_DECRYPTION_FAILED").
  if (std::all_of(v.begin(), v.end(), is_upper)) return false;
  if (v.find('_') != std::string_view::npos && std::all_of(v.begin(), v.end(), [](char c) {
        return is_upper(c) || is_digit(c) || c == '_';
      })) {
    return false;
  }
  return true;
}

bool invisible_unicode_valid(std::string_view text, std::size_t start, std::size_t end) {
  // Tag characters (U+E0000..E007F) directly after U+1F3F4 WAVING BLACK FLAG spell a
  // subdivision flag emoji. Only the three Unicode recommends for general use are flags here
  // (England, Scotland, Wales: "gbeng", "gbsct", "gbwls" and the CANCEL TAG): any other tags
  // after a flag are hidden text behind it. Reviews hid messages behind a flag (any tags after
  // it passed) and then behind a flag per word of up to seven tags ("🏴ignore🏴all…"), so
  // the letters are the flag's or nothing. The walks stay that short: walking back over the
  // whole run made a flood of tag characters quadratic (512 KiB took 6.5 s).
  // The span may start inside the flag's tags (a later start of the same match end).
  constexpr std::string_view kBlackFlag = "\xF0\x9F\x8F\xB4";
  constexpr std::size_t kTag = 4;
  constexpr std::size_t kFlagTags = 6;  // five letters and the cancel tag
  constexpr std::string_view kFlags[] = {"gbeng\x7F", "gbsct\x7F", "gbwls\x7F"};
  // The ASCII a tag character at `at` stands for, or 0 when there is none there.
  auto tag_at = [&](std::size_t at) -> char {
    if (at + kTag > text.size() || text[at] != '\xF3' || text[at + 1] != '\xA0' ||
        (text[at + 2] != '\x80' && text[at + 2] != '\x81') ||
        (static_cast<unsigned char>(text[at + 3]) & 0xC0) != 0x80) {
      return 0;
    }
    return static_cast<char>(((text[at + 2] & 0x01) << 6) | (text[at + 3] & 0x3F));
  };
  std::size_t first = start;
  for (std::size_t n = 0; n < kFlagTags && first >= kTag && tag_at(first - kTag) != 0; ++n) {
    first -= kTag;
  }
  if (first < kBlackFlag.size() ||
      text.substr(first - kBlackFlag.size(), kBlackFlag.size()) != kBlackFlag) {
    return true;
  }
  std::string letters;
  for (std::size_t n = 0; n < kFlagTags; ++n) {
    const char c = tag_at(first + n * kTag);
    if (c == 0) break;
    letters.push_back(c);
  }
  const bool flag = std::find(std::begin(kFlags), std::end(kFlags), letters) != std::end(kFlags);
  return !flag || end > first + kFlagTags * kTag;
}

bool base64_text_valid(std::string_view s) {
  // The pattern includes one delimiter byte on each side of the run.
  while (!s.empty() && !is_alnum(s.front()) && s.front() != '+' && s.front() != '/') {
    s.remove_prefix(1);
  }
  while (!s.empty() && !is_alnum(s.back()) && s.back() != '+' && s.back() != '/' &&
         s.back() != '=') {
    s.remove_suffix(1);
  }
  std::uint8_t buf[kMaxPatternWidth];
  std::size_t n = 0;
  if (!base64_decode(s, false, buf, sizeof(buf), n) || n < 48) return false;
  std::size_t printable = 0, spaces = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t c = buf[i];
    if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t') ++printable;
    if (c == ' ') ++spaces;
  }
  // Readable text: nearly all printable and with word breaks. Images, archives and keys are
  // binary and fail this.
  return printable * 100 >= n * 95 && spaces * 20 >= n;
}

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 4291 text form: up to eight groups of 1-4 hex digits, at most one "::", optionally an
// IPv4 address in the last 32 bits.
bool parse_ipv6(std::string_view s) {
  int groups = 0, nonzero_width = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && is_hex(s[j]) && j - i < 5) ++j;
    if (j == i || j - i > 4) return false;
    if (j < s.size() && s[j] == '.') {  // trailing dotted IPv4 counts as two groups
      if (!parse_ipv4(s.substr(i))) return false;
      groups += 2;
      i = s.size();
      break;
    }
    ++groups;
    if (s.substr(i, j - i).find_first_not_of('0') != std::string_view::npos) ++nonzero_width;
    i = j;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    if (i + 1 < s.size() && s[i + 1] == ':') {
      if (compressed) return false;
      compressed = true;
      i += 2;
    } else {
      ++i;
      if (i == s.size()) return false;  // trailing single ':'
    }
  }
  if (groups > 8 || (!compressed && groups != 8) || (compressed && groups > 7)) return false;
  // "::", "::1", "a::b": too little of an address to tell from code ("std::", "0::0") or a
  // ratio; loopback and unspecified are not anyone's address anyway.
  return groups >= 3 && nonzero_width >= 2;
}

bool is_ipv6_byte(char c) {
  return is_hex(c) || c == ':' || c == '.';
}

// The candidate ends inside an address or at its end (the rule's pattern is anchored on the
// colons, its span reaches back over the run); the address is the hex/colon/dot run that ends
// at `end`. It must be the whole run: not followed by more groups, not preceded by a letter
// (C++ scopes, MAC addresses and times fail the parse).
bool ipv6_valid(std::string_view text, std::size_t start, std::size_t end) {
  if (end < text.size() &&
      (is_alnum(text[end]) || text[end] == ':' ||
       (text[end] == '.' && end + 1 < text.size() && is_digit(text[end + 1])))) {
    return false;
  }
  std::size_t b = end;
  while (b > start && is_ipv6_byte(text[b - 1])) --b;
  if (b > 0 && (is_alnum(text[b - 1]) || is_ipv6_byte(text[b - 1]))) return false;
  std::string_view s = text.substr(b, end - b);
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);  // sentence end
  return parse_ipv6(s);
}

// A path segment that carries data rather than names a file: random-looking mixed case
// (base64, base62) or percent-encoding. CamelCase names ("ArchitectureOverview") are not
// data: in them every capital starts a lowercase run.
bool is_data_segment(std::string_view seg) {
  auto dot = seg.rfind('.');
  if (dot != std::string_view::npos && dot > 0 && seg.size() - dot <= 5) seg = seg.substr(0, dot);
  if (seg.size() < 8) return false;
  std::size_t percent = 0, upper = 0, lower = 0;
  bool camel = true;
  for (std::size_t i = 0; i < seg.size(); ++i) {
    char c = seg[i];
    if (c == '%' && i + 2 < seg.size() && is_hex(seg[i + 1]) && is_hex(seg[i + 2])) ++percent;
    if (is_upper(c)) {
      ++upper;
      if (i + 1 >= seg.size() || !is_lower(seg[i + 1])) camel = false;
    } else if (is_lower(c)) {
      ++lower;
    } else if (!is_digit(c) && c != '-' && c != '_' && c != '+' && c != '=') {
      if (c != '%') return false;
    }
  }
  if (percent >= 1) return true;
  return upper >= 2 && lower >= 2 && !camel;
}

// The URL of an embedded image (Markdown or <img>) carries data to its host: a query value of
// 8+ characters or a data-looking path segment. Fetching the image sends that data out.
bool exfil_url_valid(std::string_view s) {
  auto scheme = s.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view rest = s.substr(scheme + 3);
  auto path_start = rest.find_first_of("/?#");
  if (path_start == std::string_view::npos) return false;
  std::string_view path = rest.substr(path_start);
  std::string_view query;
  if (auto q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  if (auto h = query.find('#'); h != std::string_view::npos) query = query.substr(0, h);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    auto eq = param.find('=');
    std::string_view value = eq == std::string_view::npos ? param : param.substr(eq + 1);
    if (value.size() >= 8) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    if (is_data_segment(path.substr(0, slash))) return true;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return false;
}

// Injection phrasings are imperatives; "don't ignore the previous instructions" and "never
// disregard the rules" say the opposite.
bool not_negated(std::string_view text, std::size_t start) {
  constexpr std::size_t kLookBack = 16;
  std::size_t lo = start > kLookBack ? start - kLookBack : 0;
  std::string_view before = text.substr(lo, start - lo);
  while (!before.empty() && std::isspace(static_cast<unsigned char>(before.back()))) {
    before.remove_suffix(1);
  }
  for (std::string_view neg : {"n't", "n\xE2\x80\x99t"}) {  // don't, can't, won’t
    if (ends_with_ci(before, neg)) return false;
  }
  for (std::string_view neg : {"not", "never", "nor"}) {
    if (ends_with_ci(before, neg)) {
      std::size_t at = before.size() - neg.size();
      if (at == 0 || !is_alnum(before[at - 1])) return false;
    }
  }
  return true;
}

}  // namespace

// A cue word inside a code token is not an instruction: `prettier-ignore`, `--ignore-scripts`,
// `'ignore::DeprecationWarning'`, `"ignore": true`, `stdio: 'ignore'`, `$ignore`, `ignore=1`,
// `prompt(`, `/* istanbul ignore next */`, `# type: ignore`. The model reads words and
// punctuation, not code, and these fill pasted READMEs and source. Only the bytes around the cue
// are read, and never what prose puts there (a review found each of these refused at first, and
// an attack written that way passed): a dash typed as `--` after a word ("assistant--ignore"),
// `<!--Forget`, a slash between words ("prompt/instructions"), the plural `(s)`, a cue in
// backticks followed by prose, a hyphen after the cue ("ignore-all"), '.' or '#' before it.
bool cue_in_code_token(std::string_view text, std::size_t start, std::size_t end) {
  const auto at = [&](std::size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : static_cast<unsigned char>(' ');
  };
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  const unsigned char after = at(end);
  if (start > 0) {
    const auto before = static_cast<unsigned char>(text[start - 1]);
    const unsigned char two_before = start > 1 ? at(start - 2) : ' ';
    switch (before) {
      case '@':
      case '$':
      case '\\':
        return true;
      case '-':
        if (is_alnum(static_cast<char>(two_before))) return true;  // prettier-ignore, ts-ignore
        // A flag (`--ignore-scripts`, `--prompt=x` after a space, the start or a quote), not a
        // typed dash ("assistant--ignore") nor prose after one ("--forget everything above").
        return two_before == '-' && (after == '-' || after == '=') &&
               (start == 2 || space(at(start - 3)) || at(start - 3) == '"' ||
                at(start - 3) == '\'');
      case '`':
        return after == '-';  // `ignore-scripts`
      case '"':
      case '\'': {
        // A quoted token in code: the opening quote follows `( [ { , = :` or begins a line, and
        // the closing one is followed by `, : ) ] } ;` or ends a line ('ignore-scripts',,
        // "ignore": true, ('ignore::DeprecationWarning')). Scare quotes in prose are read:
        // `"Disregard" your earlier "directives"`.
        std::size_t o = start - 1;  // the opening quote
        while (o > 0 && (text[o - 1] == ' ' || text[o - 1] == '\t')) --o;
        const unsigned char opener = o > 0 ? static_cast<unsigned char>(text[o - 1]) : '\n';
        const bool code_before = opener == '(' || opener == '[' || opener == '{' || opener == ',' ||
                                 opener == '=' || opener == ':' || opener == '\n' || opener == '\r';
        if (!code_before) break;
        for (std::size_t k = end; k < text.size() && k < end + 64; ++k) {
          const auto c = static_cast<unsigned char>(text[k]);
          if (c == before) {
            const unsigned char next = at(k + 1);
            return k + 1 == text.size() || next == ':' || next == ',' || next == ')' ||
                   next == ']' || next == '}' || next == ';' || next == '\n' || next == '\r';
          }
          if (c == '\n') break;
        }
        break;
      }
      default:
        break;
    }
    // Coverage and type-checker pragmas in a comment: `/* istanbul ignore next */`,
    // `// c8 ignore`, `# type: ignore` (not "Request type: ignore everything above").
    std::string_view lead = text.substr(0, start);
    if (!lead.empty() && lead.back() == ' ') {
      lead.remove_suffix(1);
      for (std::string_view pragma : {"istanbul", "c8", "type:"}) {
        if (lead.size() < pragma.size() || lead.substr(lead.size() - pragma.size()) != pragma) {
          continue;
        }
        std::string_view marker = lead.substr(0, lead.size() - pragma.size());
        while (!marker.empty() && marker.back() == ' ') marker.remove_suffix(1);
        if (marker.ends_with('#') || marker.ends_with("//") || marker.ends_with("/*") ||
            marker.ends_with('*')) {
          return true;
        }
      }
    }
  }
  switch (after) {
    case '=':
      return true;
    case '(':
      return !(at(end + 1) == 's' && at(end + 2) == ')');  // not the plural "instruction(s)"
    default:
      return false;
  }
}

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0.0;
  std::size_t counts[256] = {};
  for (unsigned char c : s) ++counts[c];
  double h = 0.0;
  const double n = static_cast<double>(s.size());
  for (std::size_t c : counts) {
    if (c == 0) continue;
    double p = static_cast<double>(c) / n;
    h -= p * std::log2(p);
  }
  return h;
}

bool luhn_valid(std::string_view s) {
  Digits d;
  return collect_digits(s, d) && d.n >= 2 && luhn_digits(d);
}

bool credit_card_valid(std::string_view s) {
  Digits d;
  if (!collect_grouped_digits(s, d) || d.n < 12 || d.n > 19 || all_same(d) || !luhn_digits(d)) {
    return false;
  }
  const std::size_t n = d.n;
  auto len_in = [&](std::size_t lo, std::size_t hi) { return n >= lo && n <= hi; };
  int p1 = num(d, 0, 1), p2 = num(d, 0, 2), p3 = num(d, 0, 3), p4 = num(d, 0, 4), p6 = num(d, 0, 6);
  if (p1 == 4) return n == 13 || n == 16 || n == 19;                         // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;  // Mastercard
  if (p2 == 34 || p2 == 37) return n == 15;                                  // Amex
  if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) {
    return len_in(16, 19);  // Discover
  }
  if (p4 >= 3528 && p4 <= 3589) return len_in(16, 19);  // JCB
  if ((p3 >= 300 && p3 <= 305) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39) {
    return len_in(14, 19);  // Diners
  }
  if (p2 == 62 || p2 == 81) return len_in(16, 19);      // UnionPay
  if (p4 >= 2200 && p4 <= 2204) return len_in(16, 19);  // Mir
  if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 ||
      p4 == 6761 || p4 == 6762 || p4 == 6763) {
    return len_in(12, 19);  // Maestro
  }
  return false;
}

bool iban_valid(std::string_view s) {
  char c[40];
  std::size_t n = 0;
  for (char ch : s) {
    if (group_separator(ch)) continue;
    if (n == sizeof(c)) return false;
    if (is_lower(ch)) ch = static_cast<char>(ch - 'a' + 'A');
    if (!is_upper(ch) && !is_digit(ch)) return false;
    c[n++] = ch;
  }
  if (n < 15 || !is_upper(c[0]) || !is_upper(c[1]) || !is_digit(c[2]) || !is_digit(c[3])) {
    return false;
  }
  if (static_cast<std::size_t>(iban_length(c[0], c[1])) != n) return false;
  // ISO 7064 mod 97-10: rotate the first four characters to the end, letters become 10..35.
  unsigned rem = 0;
  for (std::size_t k = 0; k < n; ++k) {
    char ch = c[(k + 4) % n];
    if (is_digit(ch)) {
      rem = (rem * 10 + static_cast<unsigned>(ch - '0')) % 97;
    } else {
      rem = (rem * 100 + static_cast<unsigned>(ch - 'A' + 10)) % 97;
    }
  }
  return rem == 1;
}

bool us_ssn_valid(std::string_view s) {
  Digits d;
  if (!collect_grouped_digits(s, d) || d.n != 9 || all_same(d)) return false;
  int area = num(d, 0, 3), group = num(d, 3, 2), serial = num(d, 5, 4);
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return false;
  std::string_view all(d.d, 9);
  return all != "078051120" && all != "219099999" && all != "123456789";
}

bool us_itin_valid(std::string_view s) {
  Digits d;
  if (!collect_digits(s, d) || d.n != 9 || d.d[0] != '9') return false;
  int g = num(d, 3, 2);
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) ||
         (g >= 94 && g <= 99);
}

bool aba_routing_valid(std::string_view s) {
  Digits d;
  if (!collect_digits(s, d) || d.n != 9 || all_same(d)) return false;
  int p = num(d, 0, 2);
  if (!((p <= 12) || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80)) return false;
  int w[3] = {3, 7, 1};
  int sum = 0;
  for (std::size_t i = 0; i < 9; ++i) sum += w[i % 3] * (d.d[i] - '0');
  return sum % 10 == 0;
}

bool base58check_valid(std::string_view s) {
  if (s.size() < 26 || s.size() > 35) return false;
  std::uint8_t raw[32];
  std::size_t n = 0;
  if (!base58_decode(s, raw, sizeof(raw), n) || n != 25) return false;
  unsigned char h1[crypto_hash_sha256_BYTES], h2[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h1, raw, 21);
  crypto_hash_sha256(h2, h1, sizeof(h1));
  return std::memcmp(h2, raw + 21, 4) == 0;
}

bool bech32_valid(std::string_view s) {
  if (s.size() < 14 || s.size() > 90) return false;
  bool has_lower = false, has_upper = false;
  for (char c : s) {
    if (c < 33 || c > 126) return false;
    has_lower |= is_lower(c);
    has_upper |= is_upper(c);
  }
  if (has_lower && has_upper) return false;  // BIP-173: mixed case is invalid
  auto sep = s.rfind('1');
  if (sep == std::string_view::npos || sep == 0 || sep + 7 > s.size()) return false;
  std::string_view hrp = s.substr(0, sep);
  if (!ieq(hrp, "bc") && !ieq(hrp, "tb") && !ieq(hrp, "ltc")) return false;
  std::uint32_t chk = 1;
  for (char c : hrp) chk = bech32_polymod_step(chk, static_cast<unsigned>(to_lower(c)) >> 5);
  chk = bech32_polymod_step(chk, 0);
  for (char c : hrp) chk = bech32_polymod_step(chk, static_cast<unsigned>(to_lower(c)) & 31);
  std::uint8_t data[90];
  std::size_t n = 0;
  for (std::size_t i = sep + 1; i < s.size(); ++i) {
    auto v = kBech32.find(to_lower(s[i]));
    if (v == std::string_view::npos) return false;
    data[n++] = static_cast<std::uint8_t>(v);
    chk = bech32_polymod_step(chk, static_cast<unsigned>(v));
  }
  unsigned witness_version = data[0];
  if (witness_version > 16) return false;
  const std::uint32_t expected = witness_version == 0 ? 1u : 0x2bc830a3u;  // bech32 / bech32m
  if (chk != expected) return false;
  // The witness program: 5-bit groups after the version, minus the 6 checksum groups.
  std::size_t bits = (n - 1 - 6) * 5;
  std::size_t program_len = bits / 8;
  if (bits % 8 >= 5) return false;  // more than 4 bits of padding
  if (program_len < 2 || program_len > 40) return false;
  if (witness_version == 0 && program_len != 20 && program_len != 32) return false;
  return true;
}

bool eip55_valid(std::string_view s) {
  if (s.size() != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  std::string_view hex = s.substr(2);
  char lower_hex[40];
  bool has_lower = false, has_upper = false;
  for (std::size_t i = 0; i < 40; ++i) {
    char c = hex[i];
    if (is_digit(c) || (c >= 'a' && c <= 'f')) {
      has_lower |= is_lower(c);
    } else if (c >= 'A' && c <= 'F') {
      has_upper = true;
    } else {
      return false;
    }
    lower_hex[i] = to_lower(c);
  }
  if (!(has_lower && has_upper)) return false;  // single case carries no checksum
  auto hash = keccak256(std::string_view(lower_hex, 40));
  for (std::size_t i = 0; i < 40; ++i) {
    char c = hex[i];
    if (is_digit(c)) continue;
    unsigned nibble = (i % 2 == 0) ? (hash[i / 2] >> 4) : (hash[i / 2] & 0x0f);
    if ((nibble >= 8) != is_upper(c)) return false;
  }
  return true;
}

bool github_token_valid(std::string_view s) {
  if (s.size() != 40 || s[3] != '_') return false;
  std::string_view entropy = s.substr(4, 30);
  std::string_view check = s.substr(34, 6);
  for (char c : s.substr(4)) {
    if (!is_alnum(c)) return false;
  }
  std::uint32_t crc = crc32(entropy);
  char encoded[6];
  for (int i = 5; i >= 0; --i) {
    encoded[i] = kBase62[crc % 62];
    crc /= 62;
  }
  return crc == 0 && std::string_view(encoded, 6) == check;
}

bool jwt_valid(std::string_view s) {
  auto d1 = s.find('.');
  if (d1 == std::string_view::npos) return false;
  auto d2 = s.find('.', d1 + 1);
  if (d2 == std::string_view::npos || s.find('.', d2 + 1) != std::string_view::npos) return false;
  std::uint8_t buf[kMaxPatternWidth];
  std::size_t n = 0;
  if (!base64_decode(s.substr(0, d1), true, buf, sizeof(buf), n) ||
      !looks_like_json_object(buf, n)) {
    return false;
  }
  if (std::string_view(reinterpret_cast<const char*>(buf), n).find("\"alg\"") ==
      std::string_view::npos) {
    return false;
  }
  if (!base64_decode(s.substr(d1 + 1, d2 - d1 - 1), true, buf, sizeof(buf), n) ||
      !looks_like_json_object(buf, n)) {
    return false;
  }
  std::string_view sig = s.substr(d2 + 1);
  return std::all_of(sig.begin(), sig.end(), [](char c) { return base64_value(c, true) >= 0; });
}

std::array<std::uint8_t, 32> keccak256(std::string_view data) {
  constexpr std::size_t kRate = 136;  // 1088 bits for a 256-bit output
  std::uint64_t a[25] = {};
  auto absorb = [&](const std::uint8_t* block) {
    for (std::size_t i = 0; i < kRate / 8; ++i) {
      std::uint64_t lane = 0;
      for (int b = 7; b >= 0; --b) lane = (lane << 8) | block[i * 8 + static_cast<std::size_t>(b)];
      a[i] ^= lane;
    }
    keccak_f1600(a);
  };
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t left = data.size();
  while (left >= kRate) {
    absorb(p);
    p += kRate;
    left -= kRate;
  }
  std::uint8_t last[kRate] = {};
  std::memcpy(last, p, left);
  last[left] ^= 0x01;  // Keccak padding (SHA-3 would use 0x06)
  last[kRate - 1] ^= 0x80;
  absorb(last);
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i)
    out[i] = static_cast<std::uint8_t>(a[i / 8] >> (8 * (i % 8)));
  return out;
}

std::uint32_t crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = kCrc32.t[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool validate(Validator v, std::string_view text, std::size_t start, std::size_t end) {
  std::string_view m = text.substr(start, end - start);
  switch (v) {
    case Validator::luhn:
      return luhn_valid(m);
    case Validator::credit_card:
      return credit_card_valid(m);
    case Validator::iban:
      return iban_valid(m);
    case Validator::us_ssn:
      return us_ssn_valid(m);
    case Validator::us_itin:
      return us_itin_valid(m);
    case Validator::aba_routing:
      return aba_routing_valid(m);
    case Validator::email:
      return email_valid(text, start, end);
    case Validator::phone:
      return phone_valid(m);
    case Validator::ipv4:
      return ipv4_valid(text, start, end);
    case Validator::url_ipv4_host:
      return url_ipv4_host_valid(m);
    case Validator::uk_nino:
      return uk_nino_valid(m);
    case Validator::swift_bic:
      return swift_bic_valid(m);
    case Validator::calendar_date:
      return calendar_date_valid(m);
    case Validator::base58check:
      return base58check_valid(m);
    case Validator::bech32:
      return bech32_valid(m);
    case Validator::eip55:
      return eip55_valid(m);
    case Validator::crypto_wallet:
      return crypto_wallet_valid(m);
    case Validator::github_token:
      return github_token_valid(m);
    case Validator::jwt:
      return jwt_valid(m);
    case Validator::aws_secret:
      return aws_secret_valid(text, start, end);
    case Validator::db_connection_string:
      return db_connection_string_valid(m);
    case Validator::password_value:
      return password_value_valid(m) && !password_in_code_or_prose(text, start, end);
    case Validator::password_word:
      return !password_in_code_or_prose(text, start, end);
    case Validator::invisible_unicode:
      return invisible_unicode_valid(text, start, end);
    case Validator::base64_text:
      return base64_text_valid(m);
    case Validator::ipv6:
      return ipv6_valid(text, start, end);
    case Validator::exfil_url:
      return exfil_url_valid(m);
    case Validator::not_negated:
      return not_negated(text, start);
    case Validator::injection_override:
      if (cue_in_code_token(text, start, end)) return false;
      return injection::intent_flagged(injection::Code::prompt_override, text, start, end);
    case Validator::injection_role_hijack:
      if (cue_in_code_token(text, start, end)) return false;
      return injection::intent_flagged(injection::Code::role_hijack, text, start, end);
    case Validator::injection_extraction:
      if (cue_in_code_token(text, start, end)) return false;
      return injection::intent_flagged(injection::Code::system_prompt_extraction, text, start, end);
    case Validator::injection_jailbreak:
      if (cue_in_code_token(text, start, end)) return false;
      return injection::intent_flagged(injection::Code::jailbreak_template, text, start, end);
  }
  return false;
}

}  // namespace edgeward::rules
