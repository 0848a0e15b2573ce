/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
	work_fn fn;
	void *data;
	struct job *next;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t more;     /* a job was queued, or stopping */
	pthread_cond_t gone;     /* a thread ended */
	struct job *head, *tail;
	bool stopping;
	unsigned max;            /* running calls at once, parked ones aside */
	unsigned nthreads;
	unsigned idle;           /* threads waiting for a job */
	unsigned parked;
};

static _Thread_local struct workers *current;

static void *worker_main(void *arg);

/* With the lock held: one more thread if a queued job would otherwise wait. */
static void grow(struct workers *w)
{
	if (!w->head || w->idle || w->nthreads - w->parked >= w->max)
		return;
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, worker_main, w) == 0)
		w->nthreads++;
	pthread_attr_destroy(&attr);
}

static void *worker_main(void *arg)
{
	struct workers *w = arg;
	current = w;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		/* More threads than the calls need: this one goes. */
		if (!w->head && !w->stopping && w->nthreads - w->parked > w->max)
			break;
		w->idle++;
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->more, &w->lock);
		w->idle--;
		struct job *j = w->head;
		if (!j)
			break; /* stopping, and nothing left */
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);
		j->fn(j->data);
		free(j);
		pthread_mutex_lock(&w->lock);
	}
	w->nthreads--;
	pthread_cond_broadcast(&w->gone);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int workers_start(unsigned max, struct workers **ret)
{
	struct workers *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->gone, NULL);
	w->max = max ? max : 1;
	*ret = w;
	return 0;
}

int workers_submit(struct workers *w, work_fn fn, void *data)
{
	struct job *j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct job){ fn, data, NULL };
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	grow(w);
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void workers_park(void)
{
	struct workers *w = current;
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->parked++;
	grow(w);
	pthread_mutex_unlock(&w->lock);
}

void workers_unpark(void)
{
	struct workers *w = current;
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->parked--;
	pthread_mutex_unlock(&w->lock);
}

void workers_stop(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->more);
	while (w->nthreads)
		pthread_cond_wait(&w->gone, &w->lock);
	pthread_mutex_unlock(&w->lock);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->gone);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
