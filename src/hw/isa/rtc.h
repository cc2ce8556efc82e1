/*
 * MC146818 CMOS real-time clock at ports 0x70/0x71 (IRQ 8): host wall-clock
 * time in BCD or binary, 12/24 h, update-in-progress, periodic/alarm/update
 * interrupts (driven by a device timer), and the CMOS memory-size bytes that
 * firmware-less guests and test kernels read.
 */
#ifndef KEMU_HW_ISA_RTC_H
#define KEMU_HW_ISA_RTC_H

#include <stdint.h>

#include "core/bus.h"
#include "core/irq.h"
#include "core/timer.h"
#include "util/error.h"

struct rtc;

/*
 * Claims ports 0x70-0x71 on pio; the interrupt timer goes on timers (the
 * VM's list: its callbacks run under the bus lock). rtc_destroy(NULL) is
 * a no-op.
 */
struct rtc *rtc_create(struct bus *pio, struct timer_list *timers, struct irq_line irq,
		       uint64_t ram_size, struct error *e);
void rtc_destroy(struct rtc *r);

/*
 * Fills the time/date registers (0, 2, 4, 6-9; the alarm slots 1, 3, 5
 * are left alone) and the century byte for UTC time t, in the binary/BCD
 * and 12/24-hour format that register B selects. Exposed for tests.
 */
void rtc_encode_time(int64_t t, uint8_t reg_b, uint8_t regs[10], uint8_t *century);

#endif
