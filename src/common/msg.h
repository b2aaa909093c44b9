/* msg.h - the JSON-RPC-like messages carried in frames (docs/protocol.md).
 *
 * msg_parse() turns one frame payload into a validated message: a request
 * (id + method [+ netns] [+ params]), a reply (id + result | error) or an
 * event (event [+ fields]). Anything else is rejected with a reason, so the
 * dispatchers above never see malformed input. The builders return cJSON
 * trees the caller sends and frees.
 */
#ifndef LNST_MSG_H
#define LNST_MSG_H

#include <cjson/cJSON.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define MSG_NAME_MAX 64
/* Ids stay below 10^15 so that cJSON prints them exactly. */
#define MSG_ID_LIMIT 1e15

enum msg_kind { MSG_REQUEST = 1, MSG_REPLY, MSG_EVENT };

struct msg {
	enum msg_kind kind;
	cJSON *root;        /* owned; free with msg_free */
	int64_t id;         /* request and reply */
	const char *method; /* request */
	const char *netns;  /* request, optional */
	cJSON *params;      /* request, optional (object or NULL) */
	cJSON *result;      /* reply on success */
	cJSON *error;       /* reply on failure: object with code and message */
	const char *event;  /* event name */
};

/* 0 on success; -EBADMSG with *why set (static string) when invalid. */
int msg_parse(const char *payload, uint32_t len, struct msg *m, const char **why);
void msg_free(struct msg *m);

cJSON *msg_request(int64_t id, const char *method, const char *netns, cJSON *params);
cJSON *msg_reply(int64_t id, cJSON *result);
cJSON *msg_error(int64_t id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
cJSON *msg_event(const char *name);

/* Error code names for negative errno values ("EEXIST", "EINVAL", ...). */
const char *msg_errno_name(int err);

#endif
