/* msg.c - parsing, validation and construction of protocol messages (msg.h). */
#include "msg.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MSG_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int get_id(const cJSON *v, int64_t *id)
{
	if (!cJSON_IsNumber(v))
		return -1;
	double d = v->valuedouble;
	if (!(d >= 0 && d < MSG_ID_LIMIT) || floor(d) != d)
		return -1;
	*id = (int64_t)d;
	return 0;
}

int msg_parse(const char *payload, uint32_t len, struct msg *m, const char **why)
{
	memset(m, 0, sizeof(*m));
	const char *end = NULL;
	m->root = cJSON_ParseWithLengthOpts(payload, len, &end, 0);
	if (!m->root) {
		*why = "payload is not valid JSON";
		goto bad;
	}
	while (end < payload + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != payload + len) {
		*why = "trailing data after the JSON object";
		goto bad;
	}
	if (!cJSON_IsObject(m->root)) {
		*why = "payload is not a JSON object";
		goto bad;
	}
	cJSON *id = cJSON_GetObjectItemCaseSensitive(m->root, "id");
	cJSON *method = cJSON_GetObjectItemCaseSensitive(m->root, "method");
	cJSON *event = cJSON_GetObjectItemCaseSensitive(m->root, "event");
	if (method) {
		if (!id || get_id(id, &m->id)) {
			*why = "request without a valid id";
			goto bad;
		}
		if (!cJSON_IsString(method) || !valid_name(method->valuestring)) {
			*why = "request method is not a valid name";
			goto bad;
		}
		m->kind = MSG_REQUEST;
		m->method = method->valuestring;
		cJSON *netns = cJSON_GetObjectItemCaseSensitive(m->root, "netns");
		if (netns) {
			if (!cJSON_IsString(netns) || !valid_name(netns->valuestring)) {
				*why = "request netns is not a valid name";
				goto bad;
			}
			m->netns = netns->valuestring;
		}
		m->params = cJSON_GetObjectItemCaseSensitive(m->root, "params");
		if (m->params && cJSON_IsNull(m->params))
			m->params = NULL;
		if (m->params && !cJSON_IsObject(m->params)) {
			*why = "request params is not an object";
			goto bad;
		}
		return 0;
	}
	/* An event may carry an id field of its own (a job's id, say). */
	if (event) {
		if (!cJSON_IsString(event) || !valid_name(event->valuestring)) {
			*why = "event name is not a valid name";
			goto bad;
		}
		m->kind = MSG_EVENT;
		m->event = event->valuestring;
		return 0;
	}
	if (id) {
		if (get_id(id, &m->id)) {
			*why = "reply without a valid id";
			goto bad;
		}
		m->kind = MSG_REPLY;
		m->result = cJSON_GetObjectItemCaseSensitive(m->root, "result");
		m->error = cJSON_GetObjectItemCaseSensitive(m->root, "error");
		if (!!m->result == !!m->error) {
			*why = "reply needs exactly one of result and error";
			goto bad;
		}
		if (m->result && cJSON_IsNull(m->result)) {
			*why = "reply result is null";
			goto bad;
		}
		if (m->error) {
			cJSON *code = cJSON_GetObjectItemCaseSensitive(m->error, "code");
			cJSON *msg = cJSON_GetObjectItemCaseSensitive(m->error, "message");
			if (!cJSON_IsObject(m->error) || !cJSON_IsString(code) || !cJSON_IsString(msg)) {
				*why = "reply error needs string code and message";
				goto bad;
			}
		}
		return 0;
	}
	*why = "message is neither request, reply nor event";
bad:
	msg_free(m);
	return -EBADMSG;
}

void msg_free(struct msg *m)
{
	cJSON_Delete(m->root);
	memset(m, 0, sizeof(*m));
}

cJSON *msg_request(int64_t id, const char *method, const char *netns, cJSON *params)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "method", method);
	if (netns)
		cJSON_AddStringToObject(o, "netns", netns);
	if (params)
		cJSON_AddItemToObject(o, "params", params);
	return o;
}

cJSON *msg_reply(int64_t id, cJSON *result)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddItemToObject(o, "result", result ? result : cJSON_CreateTrue());
	return o;
}

cJSON *msg_error(int64_t id, const char *code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", text);
	return o;
}

cJSON *msg_event(const char *name)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", name);
	return o;
}

const char *msg_errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EIO: return "EIO";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENOTCONN: return "ENOTCONN";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ENOSYS: return "ENOSYS";
	case EBADMSG: return "EBADMSG";
	case ECHILD: return "ECHILD";
	default: return "EFAIL";
	}
}
