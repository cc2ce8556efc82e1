#include "test.h"
#include "util/opts.h"

int main(void)
{
	uint64_t v;
	CHECK(parse_size("512M", 1 << 20, &v) == 0);
	CHECK_EQ(v, 512ULL << 20);
	CHECK(parse_size("2G", 1 << 20, &v) == 0);
	CHECK_EQ(v, 2ULL << 30);
	CHECK(parse_size("1GiB", 1 << 20, &v) == 0);
	CHECK_EQ(v, 1ULL << 30);
	CHECK(parse_size("256", 1 << 20, &v) == 0);
	CHECK_EQ(v, 256ULL << 20);
	CHECK(parse_size("4096k", 1 << 20, &v) == 0);
	CHECK_EQ(v, 4ULL << 20);
	CHECK(parse_size("", 1, &v) < 0);
	CHECK(parse_size("M", 1, &v) < 0);
	CHECK(parse_size("12X", 1, &v) < 0);
	CHECK(parse_size("-5M", 1, &v) < 0);
	CHECK(parse_size("99999999999T", 1, &v) < 0);
	CHECK(parse_size("5MM", 1, &v) < 0);

	CHECK(parse_u64("0x10", &v) == 0);
	CHECK_EQ(v, 16);
	CHECK(parse_u64("12", &v) == 0);
	CHECK_EQ(v, 12);
	CHECK(parse_u64("12z", &v) < 0);
	CHECK(parse_u64("-1", &v) < 0);
	CHECK(parse_u64("", &v) < 0);

	struct opts o;
	struct error e;
	CHECK(opts_parse(&o, "isa-debug-exit,iobase=0xf4,iosize=4", true, &e) == 0);
	CHECK_STR(o.head, "isa-debug-exit");
	bool present;
	CHECK(opts_get_u64(&o, "iobase", &v, &present, &e) == 0);
	CHECK(present);
	CHECK_EQ(v, 0xf4);
	CHECK(opts_check_unused(&o, "dev", &e) < 0); /* iosize not read yet */
	CHECK(opts_get_u64(&o, "iosize", &v, NULL, &e) == 0);
	CHECK_EQ(v, 4);
	CHECK(opts_check_unused(&o, "dev", &e) == 0);
	CHECK(opts_get_u64(&o, "missing", &v, &present, &e) == 0);
	CHECK(!present);
	opts_free(&o);

	CHECK(opts_parse(&o, "x,flag=maybe", true, &e) == 0);
	bool b;
	CHECK(opts_get_bool(&o, "flag", &b, &e) < 0);
	opts_free(&o);
	CHECK(opts_parse(&o, "x,ro=on,rw=off", true, &e) == 0);
	CHECK(opts_get_bool(&o, "ro", &b, &e) == 0 && b);
	CHECK(opts_get_bool(&o, "rw", &b, &e) == 0 && !b);
	opts_free(&o);
	CHECK(opts_parse(&o, "a=1", true, &e) < 0); /* no name */
	CHECK(opts_parse(&o, "x,=1", true, &e) < 0);
	return test_exit();
}
