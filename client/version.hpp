#pragma once
namespace dbkit::client {
inline constexpr const char *kVersion = "0.2.0";
}
