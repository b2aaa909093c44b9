/* fuzz_literal.c - fuzz target: parameter literals (-p NAME=VALUE and
 * RECIPE_PARAMS). Every accepted value, printed as JSON and parsed back,
 * must be the same value. Built as a libFuzzer target and a replay binary.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "literal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	char err[256], *key = NULL;
	cJSON *v = NULL;
	if (literal_parse(text, &v, err, sizeof(err)) == 0) {
		char *s = cJSON_PrintUnformatted(v);
		cJSON *back = s ? cJSON_Parse(s) : NULL;
		if (s && (!back || !cJSON_Compare(v, back, 1)))
			abort();
		cJSON_Delete(back);
		cJSON_free(s);
		cJSON_Delete(v);
	}
	if (literal_parse_assignments(text, ';', &v, err, sizeof(err)) == 0)
		cJSON_Delete(v);
	if (literal_parse_assignment(text, &key, &v, err, sizeof(err)) == 0) {
		free(key);
		cJSON_Delete(v);
	}
	free(text);
	return 0;
}
