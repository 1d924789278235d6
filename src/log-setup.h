/*
 * log-setup: applies the oslo.log options of a config (debug, log_file,
 * log_dir, use_syslog, syslog_log_facility) to the OVS vlog module.
 *
 * Layer: bottom, beside agent-config.  Used by both programs' mains, at
 * start and on SIGHUP.
 */
#ifndef OVSAGENT_LOG_SETUP_H
#define OVSAGENT_LOG_SETUP_H 1

#include <stdbool.h>

struct agent_config;

/* Logs to stderr by default; to log_file (under log_dir when relative) if
 * set, with only warnings and errors still on stderr; to syslog with the
 * configured facility if use_syslog.  Debug level with 'debug'.  A log file
 * already open under the same name is kept open.  Returns false, after
 * printing why to stderr, if the log file cannot be opened. */
bool log_setup_configure(const struct agent_config *);

#endif /* log-setup.h */
