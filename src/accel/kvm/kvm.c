#include "accel/accel.h"
const struct accel_ops accel_kvm = { .name = "kvm" };
