// `edgeward scan` through the built binary: the acceptance pair, exit codes, --jsonl, and the
// second reading of a text that holds escapes written out (as the gateway reads a message).

#include <catch2/catch.hpp>

#include <string>

#include "tests/cli/run_process.hpp"
#include "tests/cli/temp_dir.hpp"

using edgeward::testing::run_edgeward;
using edgeward::testing::spit;
using edgeward::testing::TempDir;

namespace {

// `edgeward scan` of `text` (written to a file: the child's stdin is /dev/null).
edgeward::testing::ProcessResult scan(const std::string& text,
                                      const std::vector<std::string>& flags = {}) {
  TempDir dir;
  const std::string input = dir.file("input.txt");
  spit(input, text);
  std::vector<std::string> args = {"scan"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back(input);
  return run_edgeward(args);
}

}  // namespace

TEST_CASE("scan finds the IBAN of the acceptance text and nothing in its near miss",
          "[cli][scan]") {
  auto hit = scan("pay to DE89 3704 0044 0532 0130 00");
  CHECK(hit.exit_code == 1);
  CHECK(hit.out ==
        R"({"reason_code":"DLP.PII.IBAN","rule_id":"ce177b4e-0837-48a3-9261-a7ab3aa2e4f9",)"
        R"("severity":"high","action":"redact","start":7,"end":34})"
        "\n");
  auto miss = scan("pay to DE89 3704 0044 0532 0130 01");
  CHECK(miss.exit_code == 0);
  CHECK(miss.out.empty());
}

TEST_CASE("scan reads escapes written out and reports the finding on the bytes written",
          "[cli][scan]") {
  // A JSON log: the key starts a line, written `\n`; two levels deep the escape is `\\n`.
  auto one = scan(R"({"file":"[default]\nAKIA4XCIVWF6E2B7AYYA\n"})");
  CHECK(one.exit_code == 1);
  CHECK(one.out.find(R"("reason_code":"DLP.SECRET.AWS_ACCESS_KEY")") != std::string::npos);
  CHECK(one.out.find(R"("start":20,"end":40)") != std::string::npos);
  auto two = scan(R"(log: ok\\nDE89 3704 0044 0532 0130 00 end)");
  CHECK(two.exit_code == 1);
  CHECK(two.out.find(R"("start":10,"end":37)") != std::string::npos);
  // Paths and regexes hold backslashes and nothing else.
  auto none = scan(R"(open C:\Users\me\new\table.csv or match ^\d{4}\s\w+$)");
  CHECK(none.exit_code == 0);
  CHECK(none.out.empty());
}

TEST_CASE("scan --jsonl reads each line's text, escapes written out included", "[cli][scan]") {
  auto r = scan(
      "{\"text\":\"nothing here\"}\n"
      "{\"text\":\"row\\\\tDE89 3704 0044 0532 0130 00\"}\n",
      {"--jsonl"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(R"({"line":1,"findings":[]})") != std::string::npos);
  CHECK(r.out.find(R"({"line":2,"findings":[{"reason_code":"DLP.PII.IBAN")") != std::string::npos);
  CHECK(r.out.find(R"("start":5,"end":32)") != std::string::npos);
  auto bad = scan("{\"text\":\"ok\"}\nnot json\n", {"--jsonl"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("line 2") != std::string::npos);
}

TEST_CASE("scan refuses an unknown option and an unknown layer with exit 2", "[cli][scan]") {
  auto option = scan("x", {"--frobnicate"});
  CHECK(option.exit_code == 2);
  CHECK(option.err.find("unknown option '--frobnicate'") != std::string::npos);
  auto layer = scan("x", {"--layer", "nowhere"});
  CHECK(layer.exit_code == 2);
  CHECK(layer.err.find("unknown layer 'nowhere'") != std::string::npos);
}

TEST_CASE("scan reports a value glued to an escape's letter once, on its own bytes",
          "[cli][scan]") {
  TempDir dir;
  const std::string pack = dir.file("pack.yaml");
  spit(pack, R"(apiVersion: edgeward/v1
kind: RulePack
name: glued
rules:
  - id: dddddddd-dddd-4ddd-8ddd-dddddddddddd
    name: test key
    reason_code: DLP.SECRET.OPENAI_API_KEY
    action: redact
    detect:
      patterns: ['[a-z]{0,6}sk-test-[a-z]{12}']
)");
  // Read as written the match takes in the `n` of `\n` (5-26); decoded it is 6-26.
  auto r = scan(R"(key:\nsk-test-abcdefabcdef ok)", {"--rules", pack});
  CHECK(r.exit_code == 1);
  CHECK(
      r.out ==
      R"({"reason_code":"DLP.SECRET.OPENAI_API_KEY","rule_id":"dddddddd-dddd-4ddd-8ddd-dddddddddddd",)"
      R"("severity":"critical","action":"redact","start":6,"end":26})"
      "\n");
}
