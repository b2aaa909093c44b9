/* fuzz_frame.c - fuzz target: the frame decoder and message validation.
 *
 * The input is split into chunks of sizes taken from its first bytes, fed to
 * a frame reader with a small limit, and every complete frame goes through
 * msg_parse; a message that parses is rebuilt with the builders and must
 * parse again. Nothing may crash, leak or read out of bounds. Built as a
 * libFuzzer target (scripts/fuzz.sh) and as a replay binary for ctest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *p, uint32_t len)
{
	struct msg m;
	const char *why;
	if (msg_parse(p, len, &m, &why))
		return;
	cJSON *again = NULL;
	if (m.kind == MSG_REQUEST)
		again = msg_request(m.id, m.method, m.netns,
				    m.params ? cJSON_Duplicate(m.params, 1) : NULL);
	else if (m.kind == MSG_REPLY && m.result)
		again = msg_reply(m.id, cJSON_Duplicate(m.result, 1));
	else if (m.kind == MSG_EVENT)
		again = msg_event(m.event);
	if (again) {
		char *s = cJSON_PrintUnformatted(again);
		struct msg m2;
		if (s && msg_parse(s, (uint32_t)strlen(s), &m2, &why) != 0)
			abort(); /* what the builders make must parse */
		if (s)
			msg_free(&m2);
		cJSON_free(s);
		cJSON_Delete(again);
	}
	msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (data[0] % 16) + 1;
	data++;
	size--;
	struct frame_reader r;
	frame_reader_init(&r, 4096);
	for (size_t off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;
		if (frame_reader_feed(&r, data + off, n))
			break;
		const char *p;
		uint32_t len;
		int got;
		while ((got = frame_reader_next(&r, &p, &len)) == 1)
			check_message(p, len);
		if (got < 0)
			break; /* oversized: the connection would be closed */
	}
	frame_reader_free(&r);
	return 0;
}
