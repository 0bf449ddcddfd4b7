// The fleet's server-free logic (client/fleet_targets, fleet_result, fleet_report):
// the target list, passwords masked, the outcome of one target from its command's
// exit code and JSON document, the exit code order, and what is printed.
#include <gtest/gtest.h>

#include <sstream>

#include "exit_codes.hpp"
#include "fleet_report.hpp"
#include "fleet_result.hpp"
#include "fleet_targets.hpp"

using namespace dbkit::client;
using namespace dbkit::client::fleet;

namespace {

std::vector<Target> targets_of(const std::string &text) {
	std::istringstream in(text);
	return parse_targets(in, "targets.txt");
}

std::string error_of(const std::string &text) {
	try {
		targets_of(text);
	} catch (const TargetsError &e) {
		return e.what();
	}
	return "(no error)";
}

TargetResult ran(Outcome o, int rc, std::optional<int> applied = 0, std::optional<int> pending = 0) {
	TargetResult r;
	r.outcome = o;
	r.exit_code = rc;
	r.applied = applied;
	r.pending = pending;
	r.duration_ms = 12;
	return r;
}

}  // namespace

TEST(FleetTargets, LinesCommentsBlanksAndServices) {
	auto t = targets_of("# production\n\n  host=db1 dbname=app  \n\t# eu\npostgresql://deployer@db2:6432/app\nprod-eu\n");
	ASSERT_EQ(t.size(), 3u);
	EXPECT_EQ(t[0].line, 3);
	EXPECT_EQ(t[0].conninfo, "host=db1 dbname=app");
	EXPECT_EQ(t[0].shown, "host=db1 dbname=app");
	EXPECT_EQ(t[1].line, 5);
	EXPECT_EQ(t[1].shown, "host=db2 port=6432 dbname=app user=deployer");
	// a word alone is a service name, not a database name
	EXPECT_EQ(t[2].conninfo, "service=prod-eu");
	EXPECT_EQ(t[2].shown, "service=prod-eu");
	EXPECT_EQ(t[0].name, "app");
	EXPECT_EQ(t[2].name, "prod-eu");
	EXPECT_EQ(t[0].stem, "001-app");
	EXPECT_EQ(t[2].stem, "003-prod-eu");
}

TEST(FleetTargets, PasswordsNeverShown) {
	auto t = targets_of("postgresql://app:s3cret%21@db1/app?sslpassword=k3y\n"
	                    "host=db2 password='it\\'s s3cret' dbname=x\n"
	                    "host=db3 password=s3cret dbname=x user=a\n");
	ASSERT_EQ(t.size(), 3u);
	for (const auto &x : t) {
		EXPECT_EQ(x.shown.find("s3cret"), std::string::npos) << x.shown;
		EXPECT_EQ(x.shown.find("k3y"), std::string::npos) << x.shown;
		EXPECT_NE(x.shown.find("password=***"), std::string::npos) << x.shown;
	}
	EXPECT_EQ(t[0].shown, "host=db1 dbname=app user=app password=*** sslpassword=***");
	EXPECT_EQ(t[2].shown, "host=db3 dbname=x user=a password=***");
	// what libpq connects with keeps it
	EXPECT_NE(t[2].conninfo.find("s3cret"), std::string::npos);
	EXPECT_EQ(mask_conninfo("postgres://u:pw@h/d"), "host=h dbname=d user=u password=***");
	EXPECT_EQ(mask_conninfo("host='a b'"), "host='a b'");
}

TEST(FleetTargets, BadLinesNameTheLineNotTheirText) {
	// libpq quotes the whole URI in this message; the password must not come through
	std::string e = error_of("host=ok\npostgresql://u:hunter2@[::1/db\n");
	EXPECT_NE(e.find("targets.txt line 2"), std::string::npos) << e;
	EXPECT_NE(e.find("not a connection string libpq accepts"), std::string::npos) << e;
	EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
	e = error_of("host=x hunter2\n");
	EXPECT_NE(e.find("line 1"), std::string::npos) << e;
	EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
	e = error_of("# nothing\n\n");
	EXPECT_NE(e.find("lists no target"), std::string::npos) << e;
	e = error_of("host=a dbname=x\n\nhost=a  dbname=x\n");
	EXPECT_NE(e.find("line 3 is the target of line 1 again"), std::string::npos) << e;
	// the same database with another password is still the same target, shown masked
	e = error_of("host=a password=one\nhost=a password=one\n");
	EXPECT_EQ(e.find("one"), std::string::npos) << e;
}

TEST(FleetResult, ExitCodeOrder) {
	// usage 2 > connection 3 > failed 1 > validation 5 > drift 4 > ok 0
	std::vector<int> worst_first = {kUsage, kConnection, kFailed, kInvalid, kDrift, kOk};
	for (size_t i = 0; i + 1 < worst_first.size(); ++i) {
		EXPECT_GT(exit_rank(worst_first[i]), exit_rank(worst_first[i + 1]));
		EXPECT_EQ(worse_exit(worst_first[i], worst_first[i + 1]), worst_first[i]);
		EXPECT_EQ(worse_exit(worst_first[i + 1], worst_first[i]), worst_first[i]);
	}
	EXPECT_EQ(worse_exit(-1, kDrift), kDrift);  // a skipped target has no exit code
	EXPECT_EQ(worse_exit(kOk, -1), kOk);
	EXPECT_EQ(exit_rank(42), exit_rank(kFailed));
}

TEST(FleetResult, MigrateOutcomes) {
	auto r = classify("migrate", kOk, {{"ok", true}, {"applied", 3}, {"adopted", 1}, {"renamed", 0}});
	EXPECT_EQ(r.outcome, Outcome::Applied);
	EXPECT_EQ(r.applied, 3);
	EXPECT_EQ(r.pending, 0);
	EXPECT_EQ(r.note, "1 adopted from drizzle");
	r = classify("migrate", kOk, {{"ok", true}, {"applied", 0}});
	EXPECT_EQ(r.outcome, Outcome::UpToDate);
	r = classify("migrate", kFailed,
	             {{"ok", false},
	              {"error", {{"message", "relation \"t\" already exists"}, {"sqlstate", "42P07"}, {"hint", "Fix it."}}},
	              {"migrations", {{{"tag", "0000_a"}, {"action", "applied"}}, {{"tag", "0001_b"}, {"action", "adopted"}}}}});
	EXPECT_EQ(r.outcome, Outcome::Failed);
	EXPECT_EQ(r.exit_code, kFailed);
	EXPECT_EQ(r.error, "relation \"t\" already exists");
	EXPECT_EQ(r.sqlstate, "42P07");
	EXPECT_EQ(r.hint, "Fix it.");
	EXPECT_EQ(r.applied, 1);  // committed before the failure (--transaction each)
	EXPECT_FALSE(r.pending);  // not known from the failure itself
	r = classify("migrate", kConnection, {{"ok", false}, {"error", {{"message", "connection refused"}, {"kind", "connection"}}}});
	EXPECT_EQ(r.outcome, Outcome::Unreachable);
	EXPECT_FALSE(r.applied);
	r = classify("migrate", kConnection,
	             {{"ok", false}, {"error", {{"message", "the dbkit extension is not installed"}, {"kind", "extension_missing"}}}});
	EXPECT_EQ(r.outcome, Outcome::Failed);
	EXPECT_EQ(r.exit_code, kConnection);
	r = classify("migrate", kOk,
	             {{"ok", true}, {"dry_run", true}, {"statements", {{{"tag", "a"}}, {{"tag", "a"}}, {{"tag", "b"}}}}});
	EXPECT_EQ(r.outcome, Outcome::Pending);
	EXPECT_EQ(r.pending, 2);
	r = classify("migrate", kFailed, {{"ok", false}});
	EXPECT_EQ(r.error, "migrate failed with exit code 1 (no message)");
}

TEST(FleetResult, StatusDriftCheckOutcomes) {
	nlohmann::json status = {{"ok", true},
	                         {"migrations",
	                          {{{"state", "applied"}}, {{"state", "applied"}}, {{"state", "pending"}},
	                           {{"state", "out_of_order"}}, {{"state", "modified"}}}}};
	auto r = classify("status", kOk, status);
	EXPECT_EQ(r.outcome, Outcome::Pending);
	EXPECT_EQ(r.applied, 2);
	EXPECT_EQ(r.pending, 2);
	EXPECT_EQ(r.note, "1 out_of_order, 1 modified");
	EXPECT_EQ(pending_in_status(status), 2);
	r = classify("status", kOk, {{"ok", true}, {"migrations", {{{"state", "applied"}}}}});
	EXPECT_EQ(r.outcome, Outcome::UpToDate);
	r = classify("status", kOk, {{"ok", true}, {"history", {{{"tag", "a"}}}}});
	EXPECT_EQ(r.outcome, Outcome::UpToDate);
	EXPECT_EQ(r.applied, 1);
	EXPECT_FALSE(r.pending);
	EXPECT_FALSE(pending_in_status({{"ok", true}, {"history", nlohmann::json::array()}}));

	r = classify("drift", kDrift, {{"ok", true}, {"drift", true}, {"migrations", {{{"kind", "table"}}, {{"kind", "index"}}}}});
	EXPECT_EQ(r.outcome, Outcome::Drift);
	EXPECT_EQ(r.note, "2 differences");
	r = classify("drift", kFailed, {{"ok", true}, {"drift", false}, {"migrations", nullptr},
	                                {"migrations_unavailable", "no reference recorded yet"}});
	EXPECT_EQ(r.outcome, Outcome::Failed);
	EXPECT_EQ(r.error, "no reference recorded yet");
	r = classify("drift", kOk, {{"ok", true}, {"drift", false}, {"migrations", nlohmann::json::array()}});
	EXPECT_EQ(r.outcome, Outcome::Clean);

	r = classify("check", kInvalid, {{"ok", false}, {"errors", 2}, {"warnings", 1}});
	EXPECT_EQ(r.outcome, Outcome::Invalid);
	EXPECT_EQ(r.note, "2 errors, 1 warning");
	r = classify("check", kOk, {{"ok", true}, {"errors", 0}, {"warnings", 0}});
	EXPECT_EQ(r.outcome, Outcome::Valid);
	EXPECT_EQ(r.note, "");
}

TEST(FleetResult, TotalsTakeTheWorstExitCode) {
	std::vector<TargetResult> rs = {ran(Outcome::Applied, kOk, 3), ran(Outcome::UpToDate, kOk),
	                                ran(Outcome::Failed, kFailed, 0, 2), ran(Outcome::Unreachable, kConnection, {}, {}),
	                                TargetResult{}};
	Totals t = totals(rs, 1500);
	EXPECT_EQ(t.targets, 5);
	EXPECT_EQ(t.exit_code, kConnection);
	EXPECT_EQ(t.applied, 3);
	EXPECT_EQ(t.pending, 2);
	EXPECT_EQ(t.outcomes[Outcome::Applied], 1);
	EXPECT_EQ(t.outcomes[Outcome::Skipped], 1);
	EXPECT_EQ(t.outcomes[Outcome::Drift], 0);
	EXPECT_EQ(t.outcomes.size(), all_outcomes().size());
	EXPECT_EQ(totals({ran(Outcome::Drift, kDrift), ran(Outcome::Invalid, kInvalid)}, 1).exit_code, kInvalid);
	EXPECT_EQ(totals({TargetResult{}}, 1).exit_code, kOk);
	EXPECT_TRUE(is_failure(ran(Outcome::Drift, kDrift)));
	EXPECT_FALSE(is_failure(ran(Outcome::Applied, kOk)));
	EXPECT_FALSE(is_failure(TargetResult{}));
}

TEST(FleetReport, ProgressLines) {
	EXPECT_TRUE(live_progress(true, nullptr, "xterm"));
	EXPECT_FALSE(live_progress(false, nullptr, "xterm"));
	EXPECT_FALSE(live_progress(true, "true", "xterm"));
	EXPECT_TRUE(live_progress(true, "false", "xterm"));
	EXPECT_FALSE(live_progress(true, nullptr, "dumb"));
	Progress p{200, 37, 8, 2};
	EXPECT_EQ(progress_line(p), "fleet: 37/200 done, 2 failed, 8 running");
	p.drift = 3;
	EXPECT_EQ(progress_line(p), "fleet: 37/200 done, 2 failed, 3 drift, 8 running");
	Target t;
	t.shown = "host=db1 dbname=app";
	EXPECT_EQ(finished_line(p, 4, t, ran(Outcome::Applied, kOk, 2)),
	          "fleet: [37/200] #5 host=db1 dbname=app: applied 2 migrations (12 ms)");
	TargetResult f = ran(Outcome::Failed, kFailed);
	f.error = "boom\nsecond line";
	f.sqlstate = "XX000";
	EXPECT_EQ(finished_line(p, 0, t, f), "fleet: [37/200] #1 host=db1 dbname=app: failed: boom ... (12 ms)");
}

TEST(FleetReport, SummaryTextAndJson) {
	auto targets = targets_of("host=db1 dbname=a\nhost=db2 dbname=b password=s3cret\nhost=db3 dbname=c\nhost=db4 dbname=d\n");
	std::vector<TargetResult> rs = {ran(Outcome::Applied, kOk, 3), ran(Outcome::Failed, kFailed, 0, 3),
	                                ran(Outcome::Unreachable, kConnection, {}, {}), TargetResult{}};
	rs[1].error = "migration 0001_t.sql, statement 1 (line 1): relation \"t\" already exists";
	rs[1].sqlstate = "42P07";
	rs[1].hint = "Nothing from this run was applied or recorded.";
	rs[2].error = "connection to server failed: Connection refused\n\tIs the server running?";
	rs[3].skipped_because = "canary failed";
	RunInfo run{"migrate", 4, 2, false};
	Totals t = totals(rs, 2500);
	std::string text = summary_text(run, targets, rs, t);
	EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
	EXPECT_NE(text.find("host=db2 dbname=b password=***"), std::string::npos) << text;
	EXPECT_NE(text.find("skipped (canary failed)"), std::string::npos) << text;
	EXPECT_NE(text.find("failures:\n  #2 host=db2 dbname=b password=***: migration 0001_t.sql, statement 1 (line 1): "
	                    "relation \"t\" already exists (SQLSTATE 42P07)\n      hint: Nothing"),
	          std::string::npos)
	    << text;
	EXPECT_NE(text.find("Connection refused\n      \tIs the server running?"), std::string::npos) << text;
	EXPECT_NE(text.find("fleet: dbkit migrate on 4 targets in 2500 ms (parallel 4, canary 2): 1 applied, 1 failed, "
	                    "1 unreachable, 1 skipped; 3 migrations applied; 3 migrations pending; exit code 3\n"),
	          std::string::npos)
	    << text;
	// the header and one row, aligned
	std::istringstream lines(text);
	std::string header, first;
	std::getline(lines, header);
	std::getline(lines, first);
	EXPECT_EQ(header.find("outcome"), first.find("applied"));

	nlohmann::json j = summary_json(run, targets, rs, t);
	EXPECT_EQ(j["ok"], false);
	EXPECT_EQ(j["exit_code"], 3);
	EXPECT_EQ(j["command"], "migrate");
	EXPECT_EQ(j["canary"], 2);
	ASSERT_EQ(j["targets"].size(), 4u);
	EXPECT_EQ(j["targets"][0]["outcome"], "applied");
	EXPECT_EQ(j["targets"][0]["index"], 1);
	EXPECT_EQ(j["targets"][0]["line"], 1);
	EXPECT_TRUE(j["targets"][0]["error"].is_null());
	EXPECT_EQ(j["targets"][1]["error"]["sqlstate"], "42P07");
	EXPECT_EQ(j["targets"][1]["target"], "host=db2 dbname=b password=***");
	EXPECT_TRUE(j["targets"][2]["applied"].is_null());
	EXPECT_EQ(j["targets"][3]["outcome"], "skipped");
	EXPECT_EQ(j["targets"][3]["skipped"], "canary failed");
	EXPECT_TRUE(j["targets"][3]["exit_code"].is_null());
	EXPECT_TRUE(j["targets"][3]["duration_ms"].is_null());
	EXPECT_EQ(j["totals"]["targets"], 4);
	EXPECT_EQ(j["totals"]["applied"], 3);
	EXPECT_EQ(j["totals"]["outcomes"]["up_to_date"], 0);
	EXPECT_EQ(j["totals"]["outcomes"]["skipped"], 1);
	EXPECT_EQ(j.dump().find("s3cret"), std::string::npos);
}
