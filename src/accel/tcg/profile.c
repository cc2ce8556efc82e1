/*
 * Guest-side sampling profiler for the software CPU (a development tool).
 * With KEMU_PROFILE=PATH in the environment, a thread per vCPU samples
 * the address of the instruction being run (insn_rip) every 100 us while
 * the vCPU is not halted, and at exit writes "count rip" lines, most
 * frequent first, to PATH.N (N: the vCPU index). Map them to symbols with
 * the guest's System.map or `nm vmlinux`.
 *
 * The sampler reads insn_rip without synchronising with the vCPU thread
 * (a relaxed atomic load of an aligned word): a sample may be one
 * instruction stale, which a profile does not mind.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accel/tcg/tcg_int.h"
#include "util/log.h"

#define PROF_BITS 16
#define PROF_SIZE (1u << PROF_BITS)

struct prof_slot {
	uint64_t rip;
	uint64_t count;
};

struct tcg_profile {
	struct x86_cpu *cpu;
	pthread_t thread;
	_Atomic bool stop;
	struct prof_slot *slots;
	uint64_t samples, dropped;
	char *path;
};

static void prof_add(struct tcg_profile *p, uint64_t rip)
{
	unsigned h = (unsigned)((rip * 0x9e3779b97f4a7c15ULL) >> (64 - PROF_BITS));
	for (unsigned n = 0; n < 64; n++, h = (h + 1) & (PROF_SIZE - 1)) {
		struct prof_slot *s = &p->slots[h];
		if (s->count && s->rip != rip)
			continue;
		s->rip = rip;
		s->count++;
		p->samples++;
		return;
	}
	p->dropped++;
}

static void *prof_thread(void *opaque)
{
	struct tcg_profile *p = opaque;
	struct timespec ts = { 0, 100 * 1000 };
	while (!atomic_load(&p->stop)) {
		nanosleep(&ts, NULL);
		if (__atomic_load_n(&p->cpu->halted, __ATOMIC_RELAXED))
			continue;
		prof_add(p, __atomic_load_n(&p->cpu->insn_rip, __ATOMIC_RELAXED));
	}
	return NULL;
}

struct tcg_profile *tcg_profile_start(struct x86_cpu *cpu, int index)
{
	const char *base = getenv("KEMU_PROFILE");
	if (!base || !*base)
		return NULL;
	struct tcg_profile *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cpu = cpu;
	p->slots = calloc(PROF_SIZE, sizeof(*p->slots));
	if (!p->slots || asprintf(&p->path, "%s.%d", base, index) < 0 ||
	    pthread_create(&p->thread, NULL, prof_thread, p)) {
		free(p->slots);
		free(p);
		return NULL;
	}
	return p;
}

static int prof_cmp(const void *a, const void *b)
{
	const struct prof_slot *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

void tcg_profile_stop(struct tcg_profile *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	qsort(p->slots, PROF_SIZE, sizeof(*p->slots), prof_cmp);
	FILE *f = fopen(p->path, "w");
	if (f) {
		fprintf(f, "# %llu samples, %llu dropped\n", (unsigned long long)p->samples,
			(unsigned long long)p->dropped);
		for (unsigned i = 0; i < PROF_SIZE && p->slots[i].count; i++)
			fprintf(f, "%llu %#llx\n", (unsigned long long)p->slots[i].count,
				(unsigned long long)p->slots[i].rip);
		fclose(f);
	} else {
		log_warn("KEMU_PROFILE: cannot write %s", p->path);
	}
	free(p->path);
	free(p->slots);
	free(p);
}
