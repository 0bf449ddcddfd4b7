#pragma once
// The DDL audit keeps each statement's text for 90 days, readable by pg_monitor and
// every deployer, where PostgreSQL hides a user mapping's options and a subscription's
// connection string from them. A statement that may carry a password is not kept.
#include <string_view>

namespace dbkit::core {

// Whether a command with this tag carries connection secrets in its options
// (CREATE/ALTER USER MAPPING, SUBSCRIPTION, SERVER).
bool secret_bearing_command(std::string_view command_tag);

// Whether SQL text may hold a password: PASSWORD 'x' (CREATE/ALTER ROLE), an option
// password 'x', a connection string's password=x. Case-insensitive; a column named
// password ("password" text) is not one.
bool may_hold_password(std::string_view sql);

}  // namespace dbkit::core
