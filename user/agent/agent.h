/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* agent.h - `maglb agent`: the loop (files, the API server, health checks,
 * metrics, sweeps). */
#ifndef MAGLB_AGENT_H
#define MAGLB_AGENT_H

int do_agent(int argc, char **argv);

#endif
