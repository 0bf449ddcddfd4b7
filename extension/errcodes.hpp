#pragma once
// dbkit's own SQLSTATEs (class DK), documented in docs/errors.md. Errors raised
// by a migration's own statements keep PostgreSQL's SQLSTATE.
#include "pg.hpp"

#define DBKIT_FOLDER_INVALID MAKE_SQLSTATE('D', 'K', '0', '0', '1')     /* payload, journal or file unusable */
#define DBKIT_APPLIED_MODIFIED MAKE_SQLSTATE('D', 'K', '0', '0', '2')   /* applied file changed */
#define DBKIT_APPLIED_MISSING MAKE_SQLSTATE('D', 'K', '0', '0', '3')    /* applied file gone */
#define DBKIT_OUT_OF_ORDER MAKE_SQLSTATE('D', 'K', '0', '0', '4')       /* pending sorts before applied */
#define DBKIT_STATEMENT_REFUSED MAKE_SQLSTATE('D', 'K', '0', '0', '5')  /* statement cannot run in a migration */
#define DBKIT_OPTION_INVALID MAKE_SQLSTATE('D', 'K', '0', '0', '6')     /* bad options argument */
#define DBKIT_REPAIR_REFUSED MAKE_SQLSTATE('D', 'K', '0', '0', '7')     /* history repair not possible */
#define DBKIT_NO_SNAPSHOT MAKE_SQLSTATE('D', 'K', '0', '0', '8')        /* no schema snapshot to compare with */
#define DBKIT_INTERRUPTED MAKE_SQLSTATE('D', 'K', '0', '0', '9')        /* a non-transactional migration stopped half-way */
#define DBKIT_DRIZZLE_ELSEWHERE MAKE_SQLSTATE('D', 'K', '0', '1', '7')  /* drizzle's table is absent, one like it elsewhere */
#define DBKIT_INVALID_INDEX MAKE_SQLSTATE('D', 'K', '0', '2', '0')      /* an index a migration builds is invalid */
#define DBKIT_LOCK_SHARED_SESSION MAKE_SQLSTATE('D', 'K', '0', '2', '2') /* the deploy lock is already this server session's */
#define DBKIT_ROLLBACK_REFUSED MAKE_SQLSTATE('D', 'K', '0', '2', '1')   /* a rollback cannot run: no down file, irreversible, baselined, ... */
