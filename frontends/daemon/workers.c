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
	pthread_cond_t more;
	struct job *head, *tail;
	bool stopping;
	unsigned n;
	pthread_t *threads;
};

static void *worker_main(void *arg)
{
	struct workers *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->more, &w->lock);
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
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int workers_start(unsigned n, struct workers **ret)
{
	struct workers *w = calloc(1, sizeof(*w));
	if (!w || !(w->threads = calloc(n, sizeof(*w->threads)))) {
		free(w);
		return -ENOMEM;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->more, NULL);
	for (; w->n < n; w->n++) {
		int r = pthread_create(&w->threads[w->n], NULL, worker_main, w);
		if (r) {
			workers_stop(w);
			return -r;
		}
	}
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
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void workers_stop(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->more);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->more);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w);
}
