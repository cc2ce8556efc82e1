/*
 * MC146818 RTC and CMOS RAM. Guest time is the host's CLOCK_MONOTONIC plus
 * an offset: set from CLOCK_REALTIME (UTC) when the device is created, and
 * adjusted by guest writes to the time registers. Following the monotonic
 * clock keeps guest time and the device timer on one time base, so a host
 * clock step (NTP, date -s) neither jumps the guest clock nor confuses the
 * interrupt timing; the guest sees host wall-clock time again on reset.
 *
 * Time registers are computed when read. Register C's flags (update,
 * periodic, alarm) have one source of truth, rtc_eval_flags(): it works
 * them out from how much guest time passed since they were last evaluated.
 * Guest reads of C call it, and so does the device timer, which is armed
 * only for the next event that can raise IRQ 8 (an enabled source whose
 * flag is clear). The line follows IRQF = C & B & 0x70 and drops when the
 * guest reads C, which also re-arms the timer. With IRQF already set no
 * timer runs: further events only set flags, which a read computes anyway.
 *
 * The periodic rate reaches 8192 Hz (RS = 3). Interrupts are delivered at
 * most RTC_MAX_IRQ_HZ times a second; faster periods coalesce, the way
 * they would on real hardware whose handler is slow to read C, so a guest
 * cannot make the host wake up more often than that. The alarm is checked
 * on each update (once a second) while AIE is set.
 *
 * While register B's SET bit is held the time registers are plain bytes
 * the guest fills in; clearing SET commits them as the new time.
 */
#include "hw/isa/rtc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timer.h"

#define RTC_PORT 0x70
#define RTC_NPORTS 2

enum {
	REG_SEC = 0x00,
	REG_ALARM_SEC = 0x01,
	REG_MIN = 0x02,
	REG_ALARM_MIN = 0x03,
	REG_HOUR = 0x04,
	REG_ALARM_HOUR = 0x05,
	REG_WDAY = 0x06,
	REG_MDAY = 0x07,
	REG_MON = 0x08,
	REG_YEAR = 0x09,
	REG_A = 0x0a,
	REG_B = 0x0b,
	REG_C = 0x0c,
	REG_D = 0x0d,
	REG_CENTURY = 0x32,
	CMOS_SIZE = 128,
};

#define A_UIP 0x80
#define A_DV 0x70
#define A_DV_NORMAL 0x20 /* 32.768 kHz time base, divider running */
#define A_RS 0x0f

#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BINARY 0x04
#define B_24H 0x02

#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

#define D_VRT 0x80

#define HOUR_PM 0x80
#define ALARM_DONT_CARE 0xc0

#define NS_PER_SEC 1000000000LL
#define SECS_PER_DAY 86400LL
/* How long UIP is seen set before each update, per the data sheet. */
#define UIP_LEAD_NS 244000LL
/*
 * Guest time is kept as int64_t nanoseconds and as an offset from the
 * host's: about the years 1875 to 2223 keep both far from overflowing.
 */
#define RTC_MIN_SECS (-3000000000LL)
#define RTC_MAX_SECS 8000000000LL
/* Periodic interrupts faster than this coalesce (see the top of the file). */
#define RTC_MAX_IRQ_HZ 4096

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
/* Boards put the PCI hole at 3 GiB, so RAM above that sits above 4 GiB. */
#define LOW_RAM_MAX (3 * GiB)

struct rtc {
	struct bus *pio;
	struct irq_line irq;
	bool irq_level;
	bool registered;
	struct timer timer;    /* the next event that can raise IRQ 8 */
	uint8_t index;
	uint8_t cmos[CMOS_SIZE];
	int64_t offset_ns;     /* guest time minus clock_ns() */
	int64_t last_eval_ns;  /* guest time register C's flags were computed for */
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static int64_t rtc_now_ns(const struct rtc *r)
{
	return (int64_t)clock_ns() + r->offset_ns;
}

static bool rtc_is_time_reg(unsigned idx)
{
	switch (idx) {
	case REG_SEC:
	case REG_MIN:
	case REG_HOUR:
	case REG_WDAY:
	case REG_MDAY:
	case REG_MON:
	case REG_YEAR:
	case REG_CENTURY:
		return true;
	}
	return false;
}

static uint8_t to_reg(unsigned v, uint8_t reg_b)
{
	v %= 100;
	return (reg_b & B_DM_BINARY) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(uint8_t v, uint8_t reg_b)
{
	return (reg_b & B_DM_BINARY) ? v : (unsigned)(v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hour_to_reg(unsigned h, uint8_t reg_b)
{
	if (reg_b & B_24H)
		return to_reg(h, reg_b);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return to_reg(h12, reg_b) | (h >= 12 ? HOUR_PM : 0);
}

/* 0-23, or -1 if the byte is not a valid hour in this format. */
static int hour_from_reg(uint8_t v, uint8_t reg_b)
{
	if (reg_b & B_24H) {
		unsigned h = from_reg(v, reg_b);
		return h < 24 ? (int)h : -1;
	}
	unsigned h = from_reg(v & ~HOUR_PM, reg_b);
	if (h < 1 || h > 12)
		return -1;
	return (int)(h % 12 + ((v & HOUR_PM) ? 12 : 0));
}

void rtc_encode_time(int64_t t, uint8_t reg_b, uint8_t regs[10], uint8_t *century)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	long year = (long)tm.tm_year + 1900;
	if (year < 0)
		year = 0; /* the chip has no notion of BC */
	regs[REG_SEC] = to_reg((unsigned)tm.tm_sec, reg_b);
	regs[REG_MIN] = to_reg((unsigned)tm.tm_min, reg_b);
	regs[REG_HOUR] = hour_to_reg((unsigned)tm.tm_hour, reg_b);
	regs[REG_WDAY] = to_reg((unsigned)tm.tm_wday + 1, reg_b); /* Sunday is 1 */
	regs[REG_MDAY] = to_reg((unsigned)tm.tm_mday, reg_b);
	regs[REG_MON] = to_reg((unsigned)tm.tm_mon + 1, reg_b);
	regs[REG_YEAR] = to_reg((unsigned)(year % 100), reg_b);
	*century = to_reg((unsigned)((year / 100) % 100), reg_b);
}

/*
 * Guest-written registers back to a time, or false if they do not name a
 * real date. The weekday register is not consulted: it follows the date.
 */
static bool rtc_decode_time(const uint8_t regs[10], uint8_t century, uint8_t reg_b, int64_t *t)
{
	unsigned sec = from_reg(regs[REG_SEC], reg_b);
	unsigned min = from_reg(regs[REG_MIN], reg_b);
	int hour = hour_from_reg(regs[REG_HOUR], reg_b);
	unsigned mday = from_reg(regs[REG_MDAY], reg_b);
	unsigned mon = from_reg(regs[REG_MON], reg_b);
	unsigned year = from_reg(regs[REG_YEAR], reg_b);
	unsigned cent = from_reg(century, reg_b);
	if (sec > 59 || min > 59 || hour < 0 || mday < 1 || mday > 31 || mon < 1 || mon > 12 ||
	    year > 99 || cent > 99)
		return false;
	struct tm tm = {
		.tm_sec = (int)sec,
		.tm_min = (int)min,
		.tm_hour = hour,
		.tm_mday = (int)mday,
		.tm_mon = (int)mon - 1,
		.tm_year = (int)(cent * 100 + year) - 1900,
	};
	time_t tt = timegm(&tm);
	if ((int64_t)tt > RTC_MAX_SECS || (int64_t)tt < RTC_MIN_SECS)
		return false;
	*t = (int64_t)tt;
	return true;
}

static void rtc_set_time(struct rtc *r, int64_t t, int64_t frac_ns)
{
	r->offset_ns = t * NS_PER_SEC + frac_ns - (int64_t)clock_ns();
	/* Flags describe the clock the guest just replaced: start afresh. */
	r->last_eval_ns = t * NS_PER_SEC + frac_ns;
}

static bool rtc_running(const struct rtc *r)
{
	return (r->cmos[REG_A] & A_DV) == A_DV_NORMAL;
}

/* Periodic interrupt rate for the RS bits with a 32.768 kHz base; 0 = off. */
static int64_t rtc_periodic_hz(uint8_t reg_a)
{
	unsigned rs = reg_a & A_RS;
	if (!rs)
		return 0;
	if (rs <= 2)
		return 65536 >> (rs + 7); /* the data sheet's odd 256/128 Hz rows */
	return 65536 >> rs;
}

static int64_t rtc_ticks(int64_t ns, int64_t hz)
{
	/* Split to keep ns * hz within 64 bits. */
	return floor_div(ns, NS_PER_SEC) * hz + floor_mod(ns, NS_PER_SEC) * hz / NS_PER_SEC;
}

/* Candidate values for one alarm byte: a single value, all, or none. */
static bool rtc_alarm_range(uint8_t v, int value, unsigned limit, unsigned *lo, unsigned *hi)
{
	if ((v & ALARM_DONT_CARE) == ALARM_DONT_CARE) {
		*lo = 0;
		*hi = limit - 1;
		return true;
	}
	if (value < 0 || (unsigned)value >= limit)
		return false;
	*lo = *hi = (unsigned)value;
	return true;
}

static bool overlaps(int64_t a1, int64_t a2, int64_t b1, int64_t b2)
{
	return a1 <= b2 && b1 <= a2;
}

/* Did an update in seconds (from, to] land on the alarm time? */
static bool rtc_alarm_hit(const struct rtc *r, int64_t from, int64_t to)
{
	uint8_t b = r->cmos[REG_B];
	unsigned s_lo, s_hi, m_lo, m_hi, h_lo, h_hi;
	uint8_t as = r->cmos[REG_ALARM_SEC], am = r->cmos[REG_ALARM_MIN];
	uint8_t ah = r->cmos[REG_ALARM_HOUR];
	if (!rtc_alarm_range(as, (int)from_reg(as, b), 60, &s_lo, &s_hi) ||
	    !rtc_alarm_range(am, (int)from_reg(am, b), 60, &m_lo, &m_hi) ||
	    !rtc_alarm_range(ah, hour_from_reg(ah, b), 24, &h_lo, &h_hi))
		return false;
	if (to - from >= SECS_PER_DAY)
		return true; /* a whole day went by: every alarm time came up */
	int64_t w_lo = floor_mod(from + 1, SECS_PER_DAY);
	int64_t w_hi = w_lo + (to - from) - 1; /* may run into the next day */
	for (unsigned h = h_lo; h <= h_hi; h++)
		for (unsigned m = m_lo; m <= m_hi; m++) {
			int64_t lo = h * 3600 + m * 60 + s_lo, hi = h * 3600 + m * 60 + s_hi;
			if (overlaps(w_lo, w_hi, lo, hi) ||
			    overlaps(w_lo, w_hi, lo + SECS_PER_DAY, hi + SECS_PER_DAY))
				return true;
		}
	return false;
}

static void rtc_update_irq(struct rtc *r)
{
	bool level = r->cmos[REG_C] & C_IRQF;
	if (level != r->irq_level) {
		r->irq_level = level;
		irq_line_set(&r->irq, level);
	}
}

/*
 * Sets the register C flags for events between the last evaluation and
 * now. It leaves the line alone: a read of C, which clears what it finds,
 * must not pulse it (an edge-triggered input would take that as a new
 * interrupt).
 */
static void rtc_eval_flags(struct rtc *r)
{
	int64_t now = rtc_now_ns(r), last = r->last_eval_ns;
	uint8_t flags = 0;
	r->last_eval_ns = now;
	if (now > last && rtc_running(r)) {
		int64_t hz = rtc_periodic_hz(r->cmos[REG_A]);
		if (hz && rtc_ticks(now, hz) != rtc_ticks(last, hz))
			flags |= C_PF;
		int64_t s_last = floor_div(last, NS_PER_SEC), s_now = floor_div(now, NS_PER_SEC);
		/* SET holds off updates, and with them the update and alarm flags. */
		if (!(r->cmos[REG_B] & B_SET) && s_now != s_last) {
			flags |= C_UF;
			if (rtc_alarm_hit(r, s_last, s_now))
				flags |= C_AF;
		}
	}
	uint8_t c = (r->cmos[REG_C] | flags) & (C_PF | C_AF | C_UF);
	uint8_t enabled = r->cmos[REG_B] & (B_PIE | B_AIE | B_UIE); /* same bit positions */
	if (c & enabled)
		c |= C_IRQF;
	r->cmos[REG_C] = c;
}

/* Guest time of the first periodic tick after guest time t. */
static int64_t rtc_next_tick(int64_t t, int64_t hz)
{
	int64_t k = rtc_ticks(t, hz) + 1;
	/* Tick k is at ceil(k / hz) seconds, split as in rtc_ticks(). */
	int64_t q = floor_div(k, hz), rem = floor_mod(k, hz);
	return q * NS_PER_SEC + (rem * NS_PER_SEC + hz - 1) / hz;
}

/*
 * Arms the timer for the next event that can set IRQF, or stops it when
 * none can: IRQF is already set (the line stays up until C is read), or
 * no enabled source can fire. Call right after rtc_eval_flags(), whose
 * last_eval_ns is the "now" it plans from.
 */
static void rtc_arm(struct rtc *r)
{
	uint8_t b = r->cmos[REG_B];
	int64_t now = r->last_eval_ns, next = INT64_MAX;
	if (!(r->cmos[REG_C] & C_IRQF) && rtc_running(r)) {
		int64_t hz = rtc_periodic_hz(r->cmos[REG_A]);
		if ((b & B_PIE) && hz) {
			int64_t t = rtc_next_tick(now, hz);
			if (hz > RTC_MAX_IRQ_HZ && t - now < NS_PER_SEC / RTC_MAX_IRQ_HZ)
				t = now + NS_PER_SEC / RTC_MAX_IRQ_HZ;
			next = t;
		}
		/* Updates, and the alarm checks made with them, happen each second. */
		if ((b & (B_UIE | B_AIE)) && !(b & B_SET)) {
			int64_t t = (floor_div(now, NS_PER_SEC) + 1) * NS_PER_SEC;
			if (t < next)
				next = t;
		}
	}
	if (next == INT64_MAX) {
		timer_del(&r->timer);
		return;
	}
	/* Guest time is clock_ns() + offset_ns, so this is exact, not a guess. */
	timer_mod(&r->timer, (uint64_t)(next - r->offset_ns));
}

/* Brings register C, the line and the timer up to date. */
static void rtc_sync(struct rtc *r)
{
	rtc_eval_flags(r);
	rtc_update_irq(r);
	rtc_arm(r);
}

static void rtc_timer_fire(void *opaque)
{
	rtc_sync(opaque);
}

static void rtc_snapshot(struct rtc *r, uint8_t reg_b, uint8_t regs[10], uint8_t *century)
{
	rtc_encode_time(floor_div(rtc_now_ns(r), NS_PER_SEC), reg_b, regs, century);
}

static uint8_t rtc_read_time_reg(struct rtc *r, unsigned idx)
{
	if (r->cmos[REG_B] & B_SET)
		return r->cmos[idx];
	uint8_t regs[10] = { 0 }, century;
	rtc_snapshot(r, r->cmos[REG_B], regs, &century);
	return idx == REG_CENTURY ? century : regs[idx];
}

/* Writing one field of a running clock changes just that field. */
static void rtc_write_time_reg(struct rtc *r, unsigned idx, uint8_t v)
{
	if (r->cmos[REG_B] & B_SET) {
		r->cmos[idx] = v;
		return;
	}
	uint8_t regs[10] = { 0 }, century;
	int64_t now = rtc_now_ns(r), t;
	rtc_encode_time(floor_div(now, NS_PER_SEC), r->cmos[REG_B], regs, &century);
	if (idx == REG_CENTURY)
		century = v;
	else
		regs[idx] = v;
	if (rtc_decode_time(regs, century, r->cmos[REG_B], &t)) {
		rtc_set_time(r, t, floor_mod(now, NS_PER_SEC));
		rtc_sync(r); /* the next second boundary moved */
	}
}

static void rtc_write_b(struct rtc *r, uint8_t v)
{
	rtc_eval_flags(r); /* what happened so far, under the old settings */
	uint8_t old = r->cmos[REG_B];
	if (v & B_SET)
		v &= ~B_UIE; /* the data sheet: setting SET clears UIE */
	if ((v & B_SET) && !(old & B_SET)) {
		/* Freeze the clock into the registers the guest will now edit. */
		uint8_t regs[10];
		rtc_snapshot(r, v, regs, &r->cmos[REG_CENTURY]);
		for (unsigned i = REG_SEC; i <= REG_YEAR; i++)
			if (rtc_is_time_reg(i))
				r->cmos[i] = regs[i];
	} else if (!(v & B_SET) && (old & B_SET)) {
		int64_t t;
		if (rtc_decode_time(r->cmos, r->cmos[REG_CENTURY], v, &t))
			rtc_set_time(r, t, 0);
	}
	r->cmos[REG_B] = v;
	rtc_sync(r);
}

static uint8_t rtc_read_data(struct rtc *r)
{
	unsigned idx = r->index & (CMOS_SIZE - 1);
	if (rtc_is_time_reg(idx))
		return rtc_read_time_reg(r, idx);
	switch (idx) {
	case REG_A: {
		uint8_t a = r->cmos[REG_A] & ~A_UIP;
		int64_t frac = floor_mod(rtc_now_ns(r), NS_PER_SEC);
		if (rtc_running(r) && !(r->cmos[REG_B] & B_SET) && frac >= NS_PER_SEC - UIP_LEAD_NS)
			a |= A_UIP;
		return a;
	}
	case REG_C: {
		rtc_eval_flags(r);
		uint8_t c = r->cmos[REG_C];
		r->cmos[REG_C] = 0; /* reading C acknowledges everything */
		rtc_update_irq(r);
		rtc_arm(r);
		return c;
	}
	case REG_D:
		return D_VRT; /* the battery is always good */
	}
	return r->cmos[idx];
}

static void rtc_write_data(struct rtc *r, uint8_t v)
{
	unsigned idx = r->index & (CMOS_SIZE - 1);
	if (rtc_is_time_reg(idx)) {
		rtc_write_time_reg(r, idx, v);
		return;
	}
	switch (idx) {
	case REG_A:
		rtc_eval_flags(r); /* periods so far count at the old rate */
		r->cmos[REG_A] = v & ~A_UIP;
		rtc_sync(r);
		return;
	case REG_B:
		rtc_write_b(r, v);
		return;
	case REG_C:
	case REG_D:
		return; /* read-only */
	}
	r->cmos[idx] = v;
}

static uint64_t rtc_io_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)size;
	/* The index port is write-only; reads float high. */
	return offset == 1 ? rtc_read_data(opaque) : 0xff;
}

static void rtc_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct rtc *r = opaque;
	(void)size;
	if (offset == 0)
		r->index = value & 0x7f; /* bit 7 masks NMI, which we do not model */
	else if (offset == 1)
		rtc_write_data(r, (uint8_t)value);
}

static const struct bus_ops rtc_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
};

static void put_le16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void rtc_init_memory_sizes(struct rtc *r, uint64_t ram_size)
{
	uint64_t low = ram_size < LOW_RAM_MAX ? ram_size : LOW_RAM_MAX;
	uint64_t ext = low > MiB ? (low - MiB) / KiB : 0;
	uint64_t above16 = low > 16 * MiB ? (low - 16 * MiB) / (64 * KiB) : 0;
	uint64_t high = (ram_size - low) / (64 * KiB);
	if (ext > 0xffff)
		ext = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	if (high > 0xffffff)
		high = 0xffffff;
	put_le16(&r->cmos[0x15], 640); /* base memory in KiB */
	put_le16(&r->cmos[0x17], ext);
	put_le16(&r->cmos[0x30], ext);
	put_le16(&r->cmos[0x34], above16);
	r->cmos[0x5b] = (uint8_t)high;
	r->cmos[0x5c] = (uint8_t)(high >> 8);
	r->cmos[0x5d] = (uint8_t)(high >> 16);
	/* The standard checksum over 0x10-0x2d, for firmware that checks it. */
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[0x2e] = (uint8_t)(sum >> 8);
	r->cmos[0x2f] = (uint8_t)sum;
}

struct rtc *rtc_create(struct bus *pio, struct timer_list *timers, struct irq_line irq,
		       uint64_t ram_size, struct error *e)
{
	struct rtc *r = calloc(1, sizeof(*r));
	if (!r) {
		error_set(e, -ENOMEM, "rtc: out of memory");
		return NULL;
	}
	r->pio = pio;
	r->irq = irq;
	timer_init(&r->timer, timers, rtc_timer_fire, r);
	/* Wall-clock time now, then carried forward by the monotonic clock. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->offset_ns = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec - (int64_t)clock_ns();
	r->cmos[REG_A] = A_DV_NORMAL | 0x06; /* 1024 Hz periodic rate */
	r->cmos[REG_B] = B_24H;
	r->cmos[REG_D] = D_VRT;
	r->last_eval_ns = rtc_now_ns(r);
	rtc_init_memory_sizes(r, ram_size);
	int r2 = bus_register(pio, RTC_PORT, RTC_NPORTS, &rtc_ops, r, "rtc");
	if (r2) {
		error_set(e, r2, "rtc: cannot claim ports 0x%x-0x%x", RTC_PORT,
			  RTC_PORT + RTC_NPORTS - 1);
		free(r);
		return NULL;
	}
	r->registered = true;
	return r;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	timer_del(&r->timer);
	if (r->registered)
		bus_unregister(r->pio, RTC_PORT);
	free(r);
}
