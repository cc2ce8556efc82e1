/*
 * Choosing an accelerator. With -accel the user's list is tried in order;
 * without it kemu prefers KVM where KVM runs guest kernels natively and the
 * software CPU otherwise, and says which on stderr.
 */
#include "accel/accel.h"

#include <errno.h>
#include <stddef.h>

#include "util/log.h"

const struct accel_ops *accel_lookup(enum accel_kind kind)
{
	switch (kind) {
	case ACCEL_KVM:
		return &accel_kvm;
	case ACCEL_TCG:
		return &accel_tcg;
	}
	return NULL;
}

static const char *accel_kind_name(enum accel_kind kind)
{
	return kind == ACCEL_KVM ? "kvm" : "tcg";
}

const struct accel_ops *accel_select(const struct config *cfg, struct error *e)
{
	struct error why = { "" };
	if (cfg->naccel) {
		for (int i = 0; i < cfg->naccel; i++) {
			const struct accel_ops *a = accel_lookup(cfg->accel[i]);
			bool native;
			if (!a) {
				error_set(&why, -ENOTSUP, "accelerator '%s' is not available in this build",
					  accel_kind_name(cfg->accel[i]));
			} else if (a->probe(&native, &why) == 0) {
				if (cfg->naccel > 1 && i > 0)
					log_info("using -accel %s", a->name);
				return a;
			}
			if (i + 1 < cfg->naccel)
				log_info("-accel %s: %s; trying %s", accel_kind_name(cfg->accel[i]),
					 why.msg, accel_kind_name(cfg->accel[i + 1]));
		}
		error_set(e, -ENODEV, "-accel: no usable accelerator: %s", why.msg);
		return NULL;
	}

	bool native = false;
	const struct accel_ops *tcg = accel_lookup(ACCEL_TCG);
	if (accel_kvm.probe(&native, &why) == 0) {
		if (native)
			return &accel_kvm;
		log_info("KVM here is PVM (guest kernel code is emulated slowly); using the "
			 "software CPU (-accel tcg)");
		return tcg;
	}
	log_info("KVM unavailable (%s); using the software CPU (-accel tcg)", why.msg);
	return tcg;
}
