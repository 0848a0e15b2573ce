/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XenAPI's events: event.from(classes, token, timeout) and event.inject,
 * over the store's change log (store/changelog.h).
 *
 * A waiting event.from sleeps on a condition variable. It is woken by a
 * commit of this process that logged a change (the store's commit hook),
 * and for commits of other processes by an inotify watch on the
 * database's WAL, which every commit writes: a change reaches a waiter in
 * about a millisecond, not on a polling tick. The watch is a thread
 * started with the first wait, so processes that never wait pay nothing.
 */
#pragma once

struct engine;
struct event_feed;

int events_open(struct engine *e);
/* Every event.from waiting now or later answers at once, as if its timeout
 * had passed (a daemon that stops). */
void events_interrupt(struct engine *e);
void events_close(struct engine *e);
