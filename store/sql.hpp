#pragma once
// Every SQL statement of the store, in one place (STYLE habit 13). docs/store.md documents the
// schema; keep the two in step.
//
// Column order of the events table is the order of DESIGN §4; kEventColumns is the one list that
// INSERT and SELECT use, so that reading and writing cannot drift apart.

#include <string>

namespace edgeward::store::sql {

// ---- Connection setup ------------------------------------------------------------------------

// The writer's and other read-write connections. WAL so that readers (the CLI) never block the
// writer; `synchronous` is set separately (WriterOptions::synchronous); foreign keys unused.
inline constexpr const char* kPragmasReadWrite =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA cache_size = -16384;"  // KiB: a 4096-event batch's dirty pages never spill mid-batch
    "PRAGMA wal_autocheckpoint = 4000;"  // pages (~16 MiB of WAL between checkpoints)
    // With a size limit, the last connection to close truncates the WAL it keeps
    // (SQLITE_FCNTL_PERSIST_WAL) to zero bytes. Without one, the WAL file keeps its checkpointed
    // frames, and every later reader of the stopped daemon's database re-reads all of them to
    // rebuild its WAL index: 35 ms per `edgeward events list` for a 64 MiB WAL. A WAL that grew
    // past the limit in a burst is also cut back to it when it restarts.
    "PRAGMA journal_size_limit = 16777216;";
inline constexpr const char* kSynchronousNormal = "PRAGMA synchronous = NORMAL;";
inline constexpr const char* kSynchronousFull = "PRAGMA synchronous = FULL;";
inline constexpr const char* kUserVersion = "PRAGMA user_version;";

// ---- Schema migrations: index i upgrades user_version i to i+1 -------------------------------

inline constexpr const char* kMigrationV1 = R"sql(
CREATE TABLE events (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id       TEXT,
  rule_id        TEXT    NOT NULL,
  scope          TEXT    NOT NULL CHECK (scope IN ('request', 'response')),
  matched_in     TEXT    NOT NULL CHECK (matched_in IN ('headers', 'body', 'url', 'tools')),
  request_method TEXT    NOT NULL,
  occurred_at    TEXT    NOT NULL,
  reason_code    TEXT    NOT NULL,
  severity       TEXT    NOT NULL
                 CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
  retry          INTEGER NOT NULL CHECK (retry IN (0, 1)),
  layer          TEXT    NOT NULL
                 CHECK (layer IN ('pre-template', 'post-template', 'tool-call')),
  uid            TEXT    NOT NULL UNIQUE,
  request_id     TEXT    NOT NULL,
  action         TEXT    NOT NULL CHECK (action IN ('block', 'redact', 'monitor')),
  path_hash      TEXT    NOT NULL CHECK (length(path_hash) = 16),
  rule_version   INTEGER NOT NULL,
  model          TEXT    NOT NULL,
  upstream       TEXT    NOT NULL,
  session        TEXT,
  uploaded       INTEGER NOT NULL DEFAULT 0 CHECK (uploaded IN (0, 1))
);
CREATE INDEX events_occurred_at ON events (occurred_at, severity, reason_code);
CREATE INDEX events_severity ON events (severity, occurred_at);
CREATE INDEX events_not_uploaded ON events (id) WHERE uploaded = 0;
CREATE INDEX events_uploaded_age ON events (occurred_at) WHERE uploaded = 1;

CREATE TABLE rule_blobs (
  id          INTEGER PRIMARY KEY,
  version     INTEGER NOT NULL,
  sha256      TEXT    NOT NULL CHECK (length(sha256) = 64),
  envelope    BLOB    NOT NULL,
  received_at TEXT    NOT NULL,
  state       TEXT    NOT NULL
              CHECK (state IN ('received', 'active', 'superseded', 'refused')),
  UNIQUE (version, sha256)
);
CREATE UNIQUE INDEX rule_blobs_one_active ON rule_blobs (state) WHERE state = 'active';

CREATE TABLE compiled_databases (
  blob_sha256       TEXT NOT NULL,
  hyperscan_version TEXT NOT NULL,
  platform          TEXT NOT NULL,
  name              TEXT NOT NULL,
  db                BLOB NOT NULL,
  created_at        TEXT NOT NULL,
  PRIMARY KEY (blob_sha256, hyperscan_version, platform, name)
) WITHOUT ROWID;

CREATE TABLE agent_state (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Version 2, two changes that bench/store measured on the writer thread (docs/store.md, "Write
// cost"), neither of which touches a row:
//  - The CHECKs of matched_in, severity, layer and action become OR chains. An `x IN (list)` of
//    more than two constants makes SQLite build a temporary b-tree of the list for every row
//    it checks: four per event, ~3 us of the writer's ~8.5. The values allowed are the same.
//    Changing a CHECK constraint does not change the file format; SQLite documents editing
//    the table's text in sqlite_schema for it ("ALTER TABLE", making other kinds of table
//    schema changes), instantly where rebuilding the table would copy every row. RESET makes
//    this connection re-read the schema; DROP INDEX then bumps the schema cookie for others.
//  - events_severity (severity, occurred_at) goes: a fifth b-tree insert per event (~2.8 us),
//    and the slower plan for `events list --severity S`, which read every row of that
//    severity in the window and sorted them, where walking events_occurred_at newest first and
//    checking severity on its entries stops after `--limit` matches.
inline constexpr const char* kMigrationV2 = R"sql(
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = 'CREATE TABLE events (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id       TEXT,
  rule_id        TEXT    NOT NULL,
  scope          TEXT    NOT NULL CHECK (scope IN (''request'', ''response'')),
  matched_in     TEXT    NOT NULL CHECK (matched_in = ''headers'' OR matched_in = ''body''
                                         OR matched_in = ''url'' OR matched_in = ''tools''),
  request_method TEXT    NOT NULL,
  occurred_at    TEXT    NOT NULL,
  reason_code    TEXT    NOT NULL,
  severity       TEXT    NOT NULL CHECK (severity = ''critical'' OR severity = ''high''
                                         OR severity = ''medium'' OR severity = ''low''
                                         OR severity = ''info''),
  retry          INTEGER NOT NULL CHECK (retry IN (0, 1)),
  layer          TEXT    NOT NULL CHECK (layer = ''pre-template'' OR layer = ''post-template''
                                         OR layer = ''tool-call''),
  uid            TEXT    NOT NULL UNIQUE,
  request_id     TEXT    NOT NULL,
  action         TEXT    NOT NULL CHECK (action = ''block'' OR action = ''redact''
                                         OR action = ''monitor''),
  path_hash      TEXT    NOT NULL CHECK (length(path_hash) = 16),
  rule_version   INTEGER NOT NULL,
  model          TEXT    NOT NULL,
  upstream       TEXT    NOT NULL,
  session        TEXT,
  uploaded       INTEGER NOT NULL DEFAULT 0 CHECK (uploaded IN (0, 1))
)' WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = RESET;
DROP INDEX events_severity;
)sql";

inline constexpr const char* const kMigrations[] = {kMigrationV1, kMigrationV2};
inline constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// ---- Events ----------------------------------------------------------------------------------

// Column list shared by every SELECT of events (decode order in event_row.cpp).
#define EDGEWARD_EVENT_COLUMNS                                                                  \
  "id, agent_id, rule_id, scope, matched_in, request_method, occurred_at, reason_code, "        \
  "severity, retry, layer, uid, request_id, action, path_hash, rule_version, model, upstream, " \
  "session, uploaded"

inline constexpr const char* kEventColumns = EDGEWARD_EVENT_COLUMNS;

// The writer's only statement that stores event data: exactly the DESIGN §4 fields, by name.
#define EDGEWARD_INSERT_EVENT_HEAD                                                          \
  "INSERT INTO events (agent_id, rule_id, scope, matched_in, request_method, occurred_at, " \
  "reason_code, severity, retry, layer, uid, request_id, action, path_hash, rule_version, " \
  "model, upstream, session) VALUES "
inline constexpr const char* kInsertEvent =
    EDGEWARD_INSERT_EVENT_HEAD "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr int kInsertEventParams = 18;
// The same INSERT with `rows` rows of parameters (18 per row, in the order above): one
// statement step per `rows` events instead of one per event, the writer's fast path.
inline std::string insert_events_sql(int rows) {
  std::string text = EDGEWARD_INSERT_EVENT_HEAD;
  for (int r = 0; r < rows; ++r) {
    text += r ? ",(" : "(";
    for (int i = 0; i < kInsertEventParams; ++i) text += i ? ",?" : "?";
    text += ")";
  }
  return text;
}
#undef EDGEWARD_INSERT_EVENT_HEAD

inline constexpr const char* kBegin = "BEGIN IMMEDIATE";
inline constexpr const char* kCommit = "COMMIT";
inline constexpr const char* kRollback = "ROLLBACK";
inline constexpr const char* kCountEvents = "SELECT count(*) FROM events";

// Retention, oldest first, at most ?2 rows per statement (RetentionPolicy::prune_batch).
inline constexpr const char* kPruneUploadedOlderThan =
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE uploaded = 1 AND "
    "occurred_at < ?1 ORDER BY occurred_at LIMIT ?2)";
inline constexpr const char* kPruneNotUploadedOlderThan =
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE uploaded = 0 AND "
    "occurred_at < ?1 ORDER BY id LIMIT ?2)";
inline constexpr const char* kPruneOldestUploaded =
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE uploaded = 1 "
    "ORDER BY occurred_at LIMIT ?1)";
inline constexpr const char* kPruneOldestNotUploaded =
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE uploaded = 0 "
    "ORDER BY id LIMIT ?1)";

// Outbox (sync): not-uploaded rows in id order; marking by uid.
inline constexpr const char* kOutboxNext =
    "SELECT " EDGEWARD_EVENT_COLUMNS " FROM events WHERE uploaded = 0 ORDER BY id LIMIT ?1";
inline constexpr const char* kOutboxMarkUploaded =
    "UPDATE events SET uploaded = 1 WHERE uid = ?1 AND uploaded = 0";
inline constexpr const char* kOutboxPending = "SELECT count(*) FROM events WHERE uploaded = 0";

// Reads for the CLI. The queries are assembled from these fragments by EventQuery; each
// condition is added only when its filter is given, so that SQLite can pick the matching index.
//
// `list` (newest first, limited) runs in two steps: the ids of the page from the
// events_occurred_at index alone (it covers time, severity and reason code, walked newest first
// and stopping at the limit), then the 50-odd rows by id. Without the first step SQLite would
// read every matching row from the table before sorting and keeping the newest N.
inline constexpr const char* kSelectEvents = "SELECT " EDGEWARD_EVENT_COLUMNS " FROM events";
inline constexpr const char* kSelectIds = "SELECT id FROM events";
inline constexpr const char* kWhereIdIn = " WHERE id IN (";
inline constexpr const char* kWhereSince = "occurred_at >= ?";
inline constexpr const char* kWhereUntil = "occurred_at < ?";
// Prefix match as a range; checked on the events_occurred_at index entries while walking them
// in time order (a separate reason index would be scanned whole and sorted for a broad prefix
// such as "DLP", and would cost every insert).
inline constexpr const char* kWhereReasonPrefix = "reason_code >= ? AND reason_code < ?";
inline constexpr const char* kWhereAfterId = "id > ?";
inline constexpr const char* kOrderNewestFirst = " ORDER BY occurred_at DESC, id DESC";
inline constexpr const char* kOrderById = " ORDER BY id";
inline constexpr const char* kSelectByUid =
    "SELECT " EDGEWARD_EVENT_COLUMNS " FROM events WHERE uid = ?1";
// A request's events lie in a time window around its id's ULID time (events are recorded
// during the request), so the time index finds them without an index on request_id, which
// would cost every insert for a rarely used lookup.
inline constexpr const char* kSelectByRequest =
    "SELECT " EDGEWARD_EVENT_COLUMNS
    " FROM events WHERE occurred_at >= ?2 AND occurred_at < ?3 AND request_id = ?1 ORDER BY id";
// `stats` reads (reason_code, severity, occurred_at) of the window from the covering
// events_occurred_at index, in time order, and EventQuery aggregates them: a GROUP BY would sort
// the whole window in a temporary b-tree (seconds for a million rows). INDEXED BY keeps SQLite
// from walking another index in group order and reading the table.
inline constexpr const char* kStatsSelect =
    "SELECT reason_code, severity, occurred_at FROM events INDEXED BY events_occurred_at";
inline constexpr const char* kStatsOrder = " ORDER BY occurred_at";
inline constexpr const char* kMaxId = "SELECT coalesce(max(id), 0) FROM events";
// Three subqueries so that each uses its cheapest index (count(*) the smallest one, the
// not-uploaded count the partial index, max(id) the rowid) instead of one full table scan.
inline constexpr const char* kSummary =
    "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM events WHERE uploaded = 0), "
    "(SELECT coalesce(max(id), 0) FROM events)";
inline constexpr const char* kLastEvent =
    "SELECT " EDGEWARD_EVENT_COLUMNS " FROM events ORDER BY id DESC LIMIT 1";

#undef EDGEWARD_EVENT_COLUMNS

// ---- Rule blobs and the compiled-database cache ----------------------------------------------

inline constexpr const char* kBlobInsert =
    "INSERT INTO rule_blobs (version, sha256, envelope, received_at, state) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (version, sha256) DO UPDATE SET state = "
    "excluded.state WHERE rule_blobs.state <> 'active'";
inline constexpr const char* kBlobSupersedeActive =
    "UPDATE rule_blobs SET state = 'superseded' WHERE state = 'active'";
inline constexpr const char* kBlobActivate =
    "UPDATE rule_blobs SET state = 'active' WHERE version = ?1 AND sha256 = ?2";
inline constexpr const char* kBlobActive =
    "SELECT version, sha256, envelope, received_at, state FROM rule_blobs WHERE state = 'active'";
inline constexpr const char* kBlobList =
    "SELECT version, sha256, envelope, received_at, state FROM rule_blobs ORDER BY id";
inline constexpr const char* kCompiledGet =
    "SELECT db FROM compiled_databases WHERE blob_sha256 = ?1 AND hyperscan_version = ?2 AND "
    "platform = ?3 AND name = ?4";
inline constexpr const char* kCompiledPut =
    "INSERT OR REPLACE INTO compiled_databases (blob_sha256, hyperscan_version, platform, name, "
    "db, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
// Keeps only the entries of the given blob (older blobs' databases are dead weight).
inline constexpr const char* kCompiledPruneOthers =
    "DELETE FROM compiled_databases WHERE blob_sha256 <> ?1";

// ---- Agent state -----------------------------------------------------------------------------

inline constexpr const char* kStateGet = "SELECT value FROM agent_state WHERE key = ?1";
inline constexpr const char* kStatePut =
    "INSERT INTO agent_state (key, value, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
inline constexpr const char* kStateDelete = "DELETE FROM agent_state WHERE key = ?1";

}  // namespace edgeward::store::sql
