// The shadow builds a schema in one transaction, where PostgreSQL refuses to use
// an enum value that ALTER TYPE ... ADD VALUE added in that same transaction
// (SQLSTATE 55P04), although the real run commits in between. Values created by
// CREATE TYPE ... AS ENUM carry no such restriction, so the shadow folds the
// values a later ADD VALUE adds into the CREATE TYPE itself. The final label
// order is the one the ADD VALUEs would have produced.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace dbkit::core {

struct EnumAdd {
	std::string value;
	std::optional<std::string> neighbor;  // BEFORE / AFTER this label
	bool before = false;
	bool if_not_exists = false;
};

// The labels after applying `adds` to `labels` in order; nullopt when one of
// them would fail (its neighbour is missing, or the value exists without IF NOT
// EXISTS): then nothing is folded and the statements run as written.
std::optional<std::vector<std::string>> fold_enum_labels(std::vector<std::string> labels,
                                                         const std::vector<EnumAdd> &adds);

// drizzle-kit before 0.30 wrote every enum as
//   DO $$ BEGIN CREATE TYPE "s"."e" AS ENUM(...); EXCEPTION WHEN duplicate_object THEN null; END $$;
// The CREATE TYPE statement when a DO block's body is exactly that (any spacing and
// case), so its values can be folded the same way; nullopt for any other body.
std::optional<std::string> enum_in_do_block(const std::string &body);

// The same pattern around any one statement (drizzle-kit before 0.30 guarded every
// foreign key so too): the statement, or nullopt.
std::optional<std::string> statement_in_do_block(const std::string &body);

// The body of `DO [LANGUAGE x] $tag$ ... $tag$` (the statement's text), or nullopt.
std::optional<std::string> do_block_body(const std::string &statement);

}  // namespace dbkit::core
