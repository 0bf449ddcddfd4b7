#pragma once
// dbkit's deploy lock (issue 16, items 3 and 4): one lock per database that every
// deploy, repair and accept-drift holds while it reads and writes the history.
//  - Only dbkit's code can take it: an advisory lock tag whose fourth field
//    (kDeployLockField4) no SQL function produces (pg_advisory_lock uses 1 and 2),
//    taken only after checking that the role may write dbkit.migrations. A role
//    that can merely connect cannot block deploys with it.
//  - The wait is bounded (options lock_wait, client --wait), and on timeout the
//    error names the holder (pid, user, application, since when, what it runs).
//  - The client takes it first, at session level, with CALL dbkit_deploy_lock():
//    the procedure commits before it waits, so a waiting deploy holds no snapshot
//    that a running CREATE INDEX CONCURRENTLY would have to wait for.
#include <cstdint>
#include <string>

#include "core/lock_holder.hpp"  // kSettleWorkerType, the holders' text
#include "guard.hpp"

namespace dbkit {

// 0x64626b6974 = "dbkit" in fields 2 and 3, and a fourth field of dbkit's own.
inline constexpr int64_t kDeployLockKey = 0x64626b6974;
inline constexpr uint16 kDeployLockField4 = 0xdb;
inline constexpr int64_t kDefaultLockWaitMs = 600000;
using core::kSettleWorkerType;

LOCKTAG deploy_lock_tag();

// Whether `user` may write dbkit.migrations (INSERT, UPDATE or DELETE): a deployer.
bool may_take_deploy_lock(Oid user);
// Raises 42501 unless the current role may.
void check_deploy_privilege();

// Takes the lock (session level: until released or the session ends; else until
// the transaction ends), waiting at most wait_ms (0: not at all). Raises 55P03
// naming the holder when the wait runs out. SPI must be connected.
void acquire_deploy_lock(bool session, int64_t wait_ms);

// The lock, waiting at most wait_ms in its queue; false when the wait ran out. Asks
// nothing of the catalogs (no privilege check): the settle worker, the extension's
// owner, takes it this way so that its transaction never holds a snapshot a
// concurrent CREATE INDEX CONCURRENTLY would wait for while the worker waits for it.
bool take_deploy_lock_quietly(bool session, int64_t wait_ms);

// The deploy lock until the transaction ends, before reading or writing the history,
// waiting at most wait_ms for another deploy; immediate when this session already holds it.
void lock_history(int64_t wait_ms = kDefaultLockWaitMs);

// Whether dbkit's settle worker, and no other backend, holds the lock (the lock manager's
// answer, no query). Only the holders inside a transaction are listed there, so a session
// holding it at session level while idle (a client between its statements) is not: false
// then, as for any session, when this backend could not take the lock.
bool only_worker_holds_deploy_lock();

// The sessions holding the lock, one line each; empty when free. SPI must be connected.
std::string deploy_lock_holders();

}  // namespace dbkit
