/*
 * Decodes hex byte strings, one per line on stdin, and prints
 * "status length text" for each: the helper behind check_objdump.py.
 * Usage: decode-tool 16|32|64 < lines
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/tcg/decode.h"

int main(int argc, char **argv)
{
	enum x86_mode mode = X86_MODE_64;
	char line[256], text[128];

	if (argc > 1 && !strcmp(argv[1], "16"))
		mode = X86_MODE_16;
	else if (argc > 1 && !strcmp(argv[1], "32"))
		mode = X86_MODE_32;
	while (fgets(line, sizeof(line), stdin)) {
		uint8_t bytes[32];
		size_t n = 0;
		struct x86_insn insn;
		int r;

		for (char *p = line; p[0] && p[1] && n < sizeof(bytes); ) {
			unsigned v;

			if (sscanf(p, "%2x", &v) != 1)
				break;
			bytes[n++] = (uint8_t)v;
			p += 2;
			while (*p == ' ')
				p++;
		}
		r = x86_decode(&insn, bytes, n, mode);
		x86_insn_format(&insn, text, sizeof(text));
		printf("%d %u %s\n", r, insn.len, r == 0 ? text : "-");
	}
	return 0;
}
