/* pool.c - pool directories: parse, validate, check (pool.h).
 *
 * Each file goes through three steps: libxml2 parses it (syntax errors with
 * their line), the RelaxNG schema validates it, and a walk over the tree
 * extracts the machine. The walk knows the format too, so where it can name
 * the problem precisely ("unknown element <bogus> in <agentmachine>") its
 * message is shown; otherwise the schema's. The XML parser never loads a
 * DTD, expands entities or touches the network.
 */
#include "pool.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pool_schema.h"

/* Collected problems: "FILE:LINE: text" lines, at most a few. */
struct errs {
	char *buf;
	size_t len, cap;
	int n;
};

#define ERRS_MAX 8

static void errs_add(struct errs *e, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void errs_add(struct errs *e, const char *file, int line, const char *fmt, ...)
{
	e->n++;
	if (e->n > ERRS_MAX)
		return;
	char text[1024];
	int o = line > 0 ? snprintf(text, sizeof(text), "%s:%d: ", file, line)
			 : snprintf(text, sizeof(text), "%s: ", file);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text + o, sizeof(text) - (size_t)o, fmt, ap);
	va_end(ap);
	size_t n = strlen(text);
	while (n && text[n - 1] == '\n')
		text[--n] = 0;
	if (e->len + n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 1024;
		while (cap < e->len + n + 2)
			cap *= 2;
		char *nb = realloc(e->buf, cap);
		if (!nb)
			return;
		e->buf = nb;
		e->cap = cap;
	}
	memcpy(e->buf + e->len, text, n);
	e->len += n;
	e->buf[e->len++] = '\n';
	e->buf[e->len] = 0;
}

/* ---- the schema, parsed once -------------------------------------------------- */

static xmlRelaxNGPtr schema(void)
{
	static xmlRelaxNGPtr rng;
	if (!rng) {
		xmlRelaxNGParserCtxtPtr pc =
			xmlRelaxNGNewMemParserCtxt((const char *)pool_schema, (int)pool_schema_len);
		if (pc) {
			rng = xmlRelaxNGParse(pc);
			xmlRelaxNGFreeParserCtxt(pc);
		}
	}
	return rng;
}

struct xml_errs {
	struct errs *e;
	const char *file;
	int n;
};

static void on_xml_error(void *ud, xmlErrorPtr err)
{
	struct xml_errs *x = ud;
	if (x->n++ >= 3)
		return;
	errs_add(x->e, x->file, err->line, "%s", err->message ? err->message : "invalid");
}

/* ---- the walk ------------------------------------------------------------------- */

static int line_of(xmlNodePtr n)
{
	return (int)xmlGetLineNo(n);
}

static int is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, (const xmlChar *)name);
}

/* Element text with surrounding blanks removed (caller frees). */
static char *text_of(xmlNodePtr n)
{
	xmlChar *t = xmlNodeGetContent(n);
	if (!t)
		return strdup("");
	char *s = (char *)t;
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	char *out = strndup(s, len);
	xmlFree(t);
	return out;
}

static char *attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	char *s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

/* Reports an element the format does not have; 1 if n is one. */
static int unknown(struct errs *e, const char *file, xmlNodePtr n, const char *parent,
		   const char *expected)
{
	if (n->type != XML_ELEMENT_NODE)
		return 0;
	errs_add(e, file, line_of(n), "unknown element <%s> in <%s> (expected %s)", (const char *)n->name,
		 parent, expected);
	return 1;
}

static void params_walk(xmlNodePtr params, const char *file, struct pool_param **out, size_t *n,
			struct errs *e)
{
	for (xmlNodePtr c = params->children; c; c = c->next) {
		if (!is(c, "param")) {
			unknown(e, file, c, "params", "<param name=... value=...>");
			continue;
		}
		char *name = attr(c, "name"), *value = attr(c, "value");
		if (!value) {
			value = text_of(c);
			if (value && !value[0]) {
				free(value);
				value = NULL;
			}
		}
		if (!name || !value) {
			errs_add(e, file, line_of(c), "<param> needs %s", !name ? "a name attribute" : "a value (value=\"...\" or text)");
			free(name);
			free(value);
			continue;
		}
		for (size_t i = 0; i < *n; i++) {
			if (!strcmp((*out)[i].name, name)) {
				errs_add(e, file, line_of(c), "parameter '%s' is given twice (also at line %d)", name,
					 (*out)[i].line);
				break;
			}
		}
		struct pool_param *np = realloc(*out, (*n + 1) * sizeof(*np));
		if (!np) {
			free(name);
			free(value);
			return;
		}
		*out = np;
		(*out)[(*n)++] = (struct pool_param){ name, value, line_of(c) };
	}
}

static const char *param_get(const struct pool_param *p, size_t n, const char *name, int *line)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(p[i].name, name)) {
			if (line)
				*line = p[i].line;
			return p[i].value;
		}
	}
	return NULL;
}

/* aa:bb:cc:dd:ee:ff, normalised to upper case in place; 0 when valid. */
static int mac_check(char *s)
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' && s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return -1;
		s[i] = i % 3 == 2 ? ':' : (char)toupper((unsigned char)s[i]);
	}
	return 0;
}

static char *rel_path(const char *file, const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	const char *slash = strrchr(file, '/');
	size_t dl = slash ? (size_t)(slash - file) : 1;
	char *out = malloc(dl + strlen(p) + 2);
	if (out)
		sprintf(out, "%.*s/%s", (int)dl, slash ? file : ".", p);
	return out;
}

static void security_walk(xmlNodePtr sec, struct pool_machine *m, struct errs *e)
{
	int have_type = 0;
	for (xmlNodePtr c = sec->children; c; c = c->next) {
		if (is(c, "auth_type")) {
			char *t = text_of(c);
			have_type = 1;
			if (t && tls_mode_parse(t, &m->mode)) {
				if (!strcmp(t, "pubkey") || !strcmp(t, "ssh") || !strcmp(t, "password") || !strcmp(t, "no-auth"))
					errs_add(e, m->file, line_of(c),
						 "security type '%s' of the Python LNST is not supported here: use cert (pinned public keys) or psk",
						 t);
				else
					errs_add(e, m->file, line_of(c), "unknown security type '%s' (known: none, psk, cert)", t);
			}
			free(t);
		} else if (is(c, "psk_file") || is(c, "pubkey_path")) {
			char *t = text_of(c);
			char **slot = is(c, "psk_file") ? &m->psk_file : &m->pubkey;
			if (t && t[0]) {
				free(*slot);
				*slot = rel_path(m->file, t);
			} else {
				errs_add(e, m->file, line_of(c), "<%s> is empty", (const char *)c->name);
			}
			free(t);
		} else {
			unknown(e, m->file, c, "security", "auth_type, psk_file, pubkey_path");
		}
	}
	if (!have_type)
		errs_add(e, m->file, line_of(sec), "<security> needs <auth_type> (none, psk or cert)");
	else if (m->mode == TLS_CERT && !m->pubkey)
		errs_add(e, m->file, line_of(sec),
			 "security cert needs <pubkey_path>: the agent's certificate or public key to pin");
}

static void eth_walk(xmlNodePtr eth, struct pool_machine *m, struct errs *e)
{
	struct pool_iface f = { .line = line_of(eth) };
	f.id = attr(eth, "id");
	f.label = attr(eth, "label");
	if (!f.id || !f.id[0] || !f.label || !f.label[0])
		errs_add(e, m->file, f.line, "<eth> needs non-empty id and label attributes");
	for (xmlNodePtr c = eth->children; c; c = c->next) {
		if (is(c, "params"))
			params_walk(c, m->file, &f.params, &f.nparams, e);
		else
			unknown(e, m->file, c, "eth", "params");
	}
	int hl = f.line;
	const char *hw = param_get(f.params, f.nparams, "hwaddr", &hl);
	if (!hw) {
		errs_add(e, m->file, f.line, "interface %s has no hwaddr parameter (<param name=\"hwaddr\" value=\"52:54:00:...\"/>)",
			 f.id ? f.id : "?");
	} else {
		for (size_t i = 0; i < f.nparams; i++) {
			if (strcmp(f.params[i].name, "hwaddr"))
				continue;
			if (mac_check(f.params[i].value))
				errs_add(e, m->file, hl, "interface %s: hwaddr '%s' is not a MAC address like 52:54:00:12:34:56",
					 f.id ? f.id : "?", f.params[i].value);
			if (!f.hwaddr)
				f.hwaddr = strdup(f.params[i].value);
		}
	}
	for (size_t i = 0; i < m->nifaces && f.id; i++) {
		if (m->ifaces[i].id && !strcmp(m->ifaces[i].id, f.id))
			errs_add(e, m->file, f.line, "interface id '%s' is used twice (also at line %d)", f.id,
				 m->ifaces[i].line);
		if (f.hwaddr && m->ifaces[i].hwaddr && !strcmp(m->ifaces[i].hwaddr, f.hwaddr))
			errs_add(e, m->file, f.line, "hwaddr %s is used twice (also by %s at line %d)", f.hwaddr,
				 m->ifaces[i].id, m->ifaces[i].line);
	}
	struct pool_iface *nf = realloc(m->ifaces, (m->nifaces + 1) * sizeof(*nf));
	if (!nf)
		return;
	m->ifaces = nf;
	m->ifaces[m->nifaces++] = f;
}

static void machine_walk(xmlNodePtr root, struct pool_machine *m, struct errs *e)
{
	if (!is(root, "agentmachine")) {
		errs_add(e, m->file, line_of(root), "the root element is <%s>, expected <agentmachine>",
			 (const char *)root->name);
		return;
	}
	int nsec = 0;
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (is(c, "params")) {
			params_walk(c, m->file, &m->params, &m->nparams, e);
		} else if (is(c, "interfaces")) {
			for (xmlNodePtr i = c->children; i; i = i->next) {
				if (is(i, "eth"))
					eth_walk(i, m, e);
				else
					unknown(e, m->file, i, "interfaces", "<eth id=... label=...>");
			}
		} else if (is(c, "security")) {
			if (nsec++)
				errs_add(e, m->file, line_of(c), "<security> may appear only once");
			security_walk(c, m, e);
		} else {
			unknown(e, m->file, c, "agentmachine", "params, interfaces, security");
		}
	}
	int line = line_of(root);
	const char *h = param_get(m->params, m->nparams, "hostname", &line);
	if (!h)
		errs_add(e, m->file, line_of(root), "machine %s has no hostname parameter (<param name=\"hostname\" value=\"...\"/>)",
			 m->id);
	else
		m->hostname = strdup(h);
	m->port = POOL_PORT_DEFAULT;
	const char *p = param_get(m->params, m->nparams, "rpc_port", &line);
	if (p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (!*p || *end || v < 1 || v > 65535)
			errs_add(e, m->file, line, "rpc_port '%s' is not a port number (1-65535)", p);
		else
			m->port = (int)v;
	}
}

static void machine_free(struct pool_machine *m)
{
	for (size_t i = 0; i < m->nparams; i++) {
		free(m->params[i].name);
		free(m->params[i].value);
	}
	free(m->params);
	for (size_t i = 0; i < m->nifaces; i++) {
		struct pool_iface *f = &m->ifaces[i];
		for (size_t j = 0; j < f->nparams; j++) {
			free(f->params[j].name);
			free(f->params[j].value);
		}
		free(f->params);
		free(f->id);
		free(f->label);
		free(f->hwaddr);
	}
	free(m->ifaces);
	free(m->id);
	free(m->file);
	free(m->hostname);
	free(m->psk_file);
	free(m->pubkey);
}

/* One file: 0 when it holds a valid machine. */
static int load_file(struct pool_machine *m, struct errs *e)
{
	int before = e->n;
	struct xml_errs xe = { e, m->file, 0 };
	struct errs walk = { 0 };
	xmlSetStructuredErrorFunc(&xe, on_xml_error);
	xmlDocPtr doc = xmlReadFile(m->file, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!doc) {
		if (e->n == before)
			errs_add(e, m->file, 0, "cannot read or parse the file");
		return -EINVAL;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (root)
		machine_walk(root, m, &walk);
	else
		errs_add(&walk, m->file, 0, "the document is empty");
	struct errs rng = { 0 };
	struct xml_errs re = { &rng, m->file, 0 };
	xmlRelaxNGPtr s = schema();
	if (!s) {
		errs_add(&rng, m->file, 0, "internal error: the pool schema does not parse");
	} else {
		xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(s);
		xmlRelaxNGSetValidStructuredErrors(vc, on_xml_error, &re);
		int v = xmlRelaxNGValidateDoc(vc, doc);
		xmlRelaxNGFreeValidCtxt(vc);
		if (v != 0 && rng.n == 0)
			errs_add(&rng, m->file, 0, "does not validate against the pool schema");
	}
	/* The walk's words first; the schema is the last word. */
	struct errs *show = walk.n ? &walk : &rng;
	if (show->n) {
		for (const char *l = show->buf; l && *l;) {
			const char *nl = strchr(l, '\n');
			e->n++;
			if (e->n <= ERRS_MAX) {
				size_t n = (size_t)(nl - l) + 1;
				if (e->len + n + 1 > e->cap) {
					size_t cap = e->cap ? e->cap * 2 : 1024;
					while (cap < e->len + n + 1)
						cap *= 2;
					char *nb = realloc(e->buf, cap);
					if (nb) {
						e->buf = nb;
						e->cap = cap;
					}
				}
				if (e->len + n + 1 <= e->cap) {
					memcpy(e->buf + e->len, l, n);
					e->len += n;
					e->buf[e->len] = 0;
				}
			}
			l = nl + 1;
		}
	}
	free(walk.buf);
	free(rng.buf);
	xmlFreeDoc(doc);
	return e->n > before ? -EINVAL : 0;
}

static int cmp_machine(const void *a, const void *b)
{
	return strcmp(((const struct pool_machine *)a)->id, ((const struct pool_machine *)b)->id);
}

static int is_xml(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 4 && !strcasecmp(d->d_name + n - 4, ".xml");
}

int pool_load(struct pool *p, const char *dir, char *err, size_t errlen)
{
	struct errs e = { 0 };
	char real[PATH_MAX];
	memset(p, 0, sizeof(*p));
	if (!realpath(dir, real)) {
		snprintf(err, errlen, "pool %s: %s", dir, strerror(errno));
		return -errno;
	}
	struct dirent **ents;
	int n = scandir(real, &ents, is_xml, alphasort);
	if (n < 0) {
		snprintf(err, errlen, "pool %s: %s", dir, strerror(errno));
		return -errno;
	}
	p->dir = strdup(real);
	p->machines = calloc(n ? (size_t)n : 1, sizeof(*p->machines));
	for (int i = 0; i < n; i++) {
		struct pool_machine *m = &p->machines[p->n++];
		size_t len = strlen(ents[i]->d_name);
		m->id = strndup(ents[i]->d_name, len - 4);
		m->file = malloc(strlen(real) + len + 2);
		if (m->file)
			sprintf(m->file, "%s/%s", real, ents[i]->d_name);
		free(ents[i]);
		if (!m->id || !m->file)
			continue;
		load_file(m, &e);
	}
	free(ents);
	if (n == 0)
		errs_add(&e, real, 0, "the pool holds no machine (no *.xml file)");
	qsort(p->machines, p->n, sizeof(*p->machines), cmp_machine);
	/* Across the pool: the same machine twice, or the same NIC on two. */
	for (size_t i = 0; i < p->n; i++) {
		struct pool_machine *a = &p->machines[i];
		for (size_t j = i + 1; j < p->n; j++) {
			struct pool_machine *b = &p->machines[j];
			if (!strcasecmp(a->id, b->id))
				errs_add(&e, b->file, 0, "machine id '%s' is also %s (ids differ only in case)", b->id, a->file);
			if (a->hostname && b->hostname && !strcmp(a->hostname, b->hostname) && a->port == b->port)
				errs_add(&e, b->file, 0, "hostname %s port %d is also machine %s (%s)", b->hostname,
					 b->port, a->id, a->file);
			for (size_t x = 0; x < a->nifaces; x++)
				for (size_t y = 0; y < b->nifaces; y++)
					if (a->ifaces[x].hwaddr && b->ifaces[y].hwaddr &&
					    !strcmp(a->ifaces[x].hwaddr, b->ifaces[y].hwaddr))
						errs_add(&e, b->file, b->ifaces[y].line,
							 "hwaddr %s of interface %s is also interface %s of machine %s (%s)",
							 b->ifaces[y].hwaddr, b->ifaces[y].id, a->ifaces[x].id, a->id,
							 a->file);
		}
	}
	if (e.n > ERRS_MAX) {
		char more[64];
		snprintf(more, sizeof(more), "... and %d more problems\n", e.n - ERRS_MAX);
		snprintf(err, errlen, "%s%s", e.buf ? e.buf : "", more);
	} else {
		snprintf(err, errlen, "%s", e.buf ? e.buf : "");
	}
	size_t el = strlen(err);
	while (el && err[el - 1] == '\n')
		err[--el] = 0;
	free(e.buf);
	if (e.n) {
		pool_free(p);
		return -EINVAL;
	}
	return 0;
}

void pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		machine_free(&p->machines[i]);
	free(p->machines);
	free(p->dir);
	memset(p, 0, sizeof(*p));
}
