#pragma once
// Validators: checks that turn a Hyperscan candidate into a finding (DESIGN §3.4).
//
// Who calls: the scanner, after a scan, on each candidate span (never from the Hyperscan match
// callback). Tests call the individual checks directly with the public test vectors.
//
// Rules:
//  - Pure functions of their input; thread-safe; no allocation except where noted (base58 and
//    base64 decoding use small stack buffers and refuse inputs longer than they hold).
//  - A validator sees the whole scanned text (or, in stream mode, the retained window) and the
//    candidate's [start, end) in it, so that it can look at a byte or two around the match
//    (e.g. "1.2.3.4.5" is not an IPv4 address).
//  - Precision first: a value whose checksum cannot be verified (an all-lowercase Ethereum
//    address carries no EIP-55 checksum) is refused by the checksum validator; rules that want
//    such values pair a plain pattern with required context words instead.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/pack.hpp"

namespace edgeward::rules {

// Runs validator `v` on text[start, end).
bool validate(Validator v, std::string_view text, std::size_t start, std::size_t end);

// Whether the cue text[start, end) of an injection_* rule stands inside a code token
// (`prettier-ignore`, `'ignore-scripts'`, `$ignore`, `ignore=`, `istanbul ignore`): then the
// validator refuses it before the model runs (validators.cpp lists what is read as prose).
bool cue_in_code_token(std::string_view text, std::size_t start, std::size_t end);

// Shannon entropy of the bytes of `s`, in bits per byte (0 for an empty string).
double shannon_entropy(std::string_view s);

// --- individual checks; each takes the candidate as matched (separators allowed as noted) ---

// Luhn mod-10 over the digits of `s` (spaces and dashes ignored; anything else fails).
bool luhn_valid(std::string_view s);
// Luhn + a known issuer range with its lengths (Visa, Mastercard, Amex, Discover, JCB, Diners,
// UnionPay, Maestro, Mir); repeated-digit numbers fail.
bool credit_card_valid(std::string_view s);
// ISO 13616 IBAN: known country, that country's length, ISO 7064 mod-97 == 1 (spaces ignored).
bool iban_valid(std::string_view s);
// US SSN: area not 000, 666 or 900-999; group not 00; serial not 0000; advertising and sample
// numbers (078-05-1120, 219-09-9999, 123-45-6789) and one-digit repeats refused.
bool us_ssn_valid(std::string_view s);
// US ITIN: 9XX-YY-XXXX with YY in 50-65, 70-88, 90-92, 94-99.
bool us_itin_valid(std::string_view s);
// ABA routing transit number: 9 digits, 3-7-1 checksum, valid Federal Reserve prefix.
bool aba_routing_valid(std::string_view s);
// Bitcoin-style base58check: 25 bytes decoded, double-SHA-256 checksum (libsodium).
bool base58check_valid(std::string_view s);
// BIP-173 bech32 / BIP-350 bech32m segwit address (hrp bc, tb or ltc; witness version decides
// which checksum; program length checked).
bool bech32_valid(std::string_view s);
// EIP-55 mixed-case checksum of a 0x-prefixed 40-hex-digit address; single-case fails.
bool eip55_valid(std::string_view s);
// GitHub token: 4-char prefix, 30 base62 characters, then 6 base62 characters of the CRC32 of
// those 30 (leading zeros padded).
bool github_token_valid(std::string_view s);
// JWT: three base64url parts; the header decodes to a JSON object with "alg", the payload to a
// JSON object.
bool jwt_valid(std::string_view s);

// Keccak-256 (the original Keccak padding, as Ethereum uses; not SHA3-256).
std::array<std::uint8_t, 32> keccak256(std::string_view data);
// CRC-32 (IEEE 802.3, as zlib).
std::uint32_t crc32(std::string_view data);

}  // namespace edgeward::rules
