// Module entry: magic block and settings.
#include "guard.hpp"

extern "C" {
PG_MODULE_MAGIC;
}
