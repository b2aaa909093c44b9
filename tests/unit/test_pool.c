/* test_pool.c - pool directories: schema validation and parsing of good and
 * bad pool files (pool.c), and the configuration file parser (config.c).
 * Every error must name the file and the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "pool.h"

static char dir[256];

static void put(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/lnst-test-pool.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#define GOOD_M1                                                                         \
	"<?xml version=\"1.0\"?>\n"                                                     \
	"<agentmachine>\n"                                                              \
	"  <params>\n"                                                                  \
	"    <param name=\"hostname\" value=\"198.51.100.11\"/>\n"                      \
	"    <param name=\"arch\">x86_64</param>\n"                                     \
	"  </params>\n"                                                                 \
	"  <interfaces>\n"                                                              \
	"    <eth id=\"eth2\" label=\"net2\">\n"                                        \
	"      <params><param name=\"hwaddr\" value=\"52:54:00:aa:bb:02\"/></params>\n" \
	"    </eth>\n"                                                                  \
	"    <eth id=\"eth1\" label=\"net1\">\n"                                        \
	"      <params><param name=\"hwaddr\" value=\"52:54:00:aa:bb:01\"/>\n"          \
	"              <param name=\"driver\" value=\"ixgbe\"/></params>\n"             \
	"    </eth>\n"                                                                  \
	"  </interfaces>\n"                                                             \
	"  <security><auth_type>psk</auth_type><psk_file>keys/lab.psk</psk_file></security>\n" \
	"</agentmachine>\n"

#define MACHINE(host, mac, extra)                                                            \
	"<agentmachine><params><param name=\"hostname\" value=\"" host "\"/>" extra "</params>" \
	"<interfaces><eth id=\"e\" label=\"L\"><params><param name=\"hwaddr\" value=\"" mac     \
	"\"/></params></eth></interfaces></agentmachine>\n"

static void test_good_pool(void **state)
{
	(void)state;
	put("m1.xml", GOOD_M1);
	put("M0.XML", MACHINE("198.51.100.10", "52:54:00:aa:bb:10", "<param name=\"rpc_port\" value=\"9000\"/>"));
	put("notes.txt", "not a machine");
	struct pool p;
	char err[4096];
	int r = pool_load(&p, dir, err, sizeof(err));
	if (r)
		fail_msg("%s", err);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.machines[0].id, "M0"); /* sorted, .XML accepted */
	assert_int_equal(p.machines[0].port, 9000);
	assert_int_equal(p.machines[0].mode, TLS_NONE);
	const struct pool_machine *m = &p.machines[1];
	assert_string_equal(m->id, "m1");
	assert_string_equal(m->hostname, "198.51.100.11");
	assert_int_equal(m->port, POOL_PORT_DEFAULT);
	assert_int_equal(m->nparams, 2);
	assert_string_equal(m->params[1].name, "arch");
	assert_string_equal(m->params[1].value, "x86_64"); /* text form */
	assert_int_equal(m->nifaces, 2);
	assert_string_equal(m->ifaces[1].id, "eth1");
	assert_string_equal(m->ifaces[1].label, "net1");
	assert_string_equal(m->ifaces[1].hwaddr, "52:54:00:AA:BB:01"); /* upper case */
	assert_int_equal(m->ifaces[1].nparams, 2);
	assert_int_equal(m->mode, TLS_PSK);
	char want[512];
	snprintf(want, sizeof(want), "%s/keys/lab.psk", p.dir);
	assert_string_equal(m->psk_file, want); /* relative to the file */
	pool_free(&p);
}

/* Loads a pool holding one file with text; returns the error text. */
static const char *bad(const char *text)
{
	static char err[4096];
	struct pool p;
	put("bad.xml", text);
	int r = pool_load(&p, dir, err, sizeof(err));
	unlink(strcat(strcpy((char[512]){ 0 }, dir), "/bad.xml"));
	if (!r) {
		pool_free(&p);
		fail_msg("pool_load accepted:\n%s", text);
	}
	return err;
}

static void contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("'%s' not in:\n%s", part, text);
}

static void test_syntax_error_names_file_and_line(void **state)
{
	(void)state;
	const char *e = bad("<agentmachine>\n<params>\n</agentmachine>\n");
	contains(e, "/bad.xml:3: ");
	contains(e, "mismatch");
}

static void test_schema_errors(void **state)
{
	(void)state;
	const char *e = bad("<agentmachine>\n  <params><param name=\"hostname\" value=\"h\"/></params>\n  <bogus/>\n</agentmachine>\n");
	contains(e, "/bad.xml:3: unknown element <bogus> in <agentmachine> (expected params, interfaces, security)");
	e = bad("<machine/>\n");
	contains(e, "/bad.xml:1: the root element is <machine>, expected <agentmachine>");
	e = bad("<agentmachine><params><param name=\"hostname\" value=\"h\"/></params>\n"
		"<interfaces><eth label=\"L\"><params><param name=\"hwaddr\" value=\"52:54:00:00:00:01\"/></params></eth></interfaces>\n"
		"</agentmachine>\n");
	contains(e, "/bad.xml:2: <eth> needs non-empty id and label attributes");
	/* Only the schema catches this one: a param name that is not a name. */
	e = bad("<agentmachine><params><param name=\"hostname\" value=\"h\"/>\n"
		"<param name=\"bad name\" value=\"x\"/></params></agentmachine>\n");
	contains(e, "/bad.xml:2: ");
	contains(e, "Invalid attribute name for element param");
}

static void test_security(void **state)
{
	(void)state;
	const char *e = bad("<agentmachine><params><param name=\"hostname\" value=\"h\"/></params>\n"
			    "<security><auth_type>kerberos</auth_type></security></agentmachine>\n");
	contains(e, "/bad.xml:2: unknown security type 'kerberos' (known: none, psk, cert)");
	e = bad("<agentmachine><params><param name=\"hostname\" value=\"h\"/></params>\n"
		"<security>\n<auth_type>pubkey</auth_type></security></agentmachine>\n");
	contains(e, "/bad.xml:3: security type 'pubkey' of the Python LNST is not supported here");
	e = bad("<agentmachine><params><param name=\"hostname\" value=\"h\"/></params>\n"
		"<security><auth_type>cert</auth_type></security></agentmachine>\n");
	contains(e, "/bad.xml:2: security cert needs <pubkey_path>");
}

static void test_missing_and_malformed(void **state)
{
	(void)state;
	const char *e = bad("<agentmachine>\n<params><param name=\"arch\" value=\"x\"/></params></agentmachine>\n");
	contains(e, "/bad.xml:1: machine bad has no hostname parameter");
	e = bad(MACHINE("h", "52:54:00:zz:00:01", ""));
	contains(e, "hwaddr '52:54:00:zz:00:01' is not a MAC address");
	e = bad("<agentmachine><params><param name=\"hostname\" value=\"h\"/></params><interfaces>\n"
		"<eth id=\"e\" label=\"L\"/></interfaces></agentmachine>\n");
	contains(e, "/bad.xml:2: interface e has no hwaddr parameter");
	e = bad(MACHINE("h", "52:54:00:00:00:01", "<param name=\"rpc_port\" value=\"99999\"/>"));
	contains(e, "rpc_port '99999' is not a port number");
	e = bad("<agentmachine><params><param name=\"hostname\" value=\"h\"/>\n"
		"<param name=\"hostname\" value=\"g\"/></params></agentmachine>\n");
	contains(e, "/bad.xml:2: parameter 'hostname' is given twice (also at line 1)");
}

static void test_duplicates(void **state)
{
	(void)state;
	const char *e = bad("<agentmachine><params><param name=\"hostname\" value=\"h\"/></params><interfaces>\n"
			    "<eth id=\"e\" label=\"L\"><params><param name=\"hwaddr\" value=\"52:54:00:00:00:01\"/></params></eth>\n"
			    "<eth id=\"e\" label=\"L\"><params><param name=\"hwaddr\" value=\"52:54:00:00:00:01\"/></params></eth>\n"
			    "</interfaces></agentmachine>\n");
	contains(e, "/bad.xml:3: interface id 'e' is used twice (also at line 2)");
	contains(e, "/bad.xml:3: hwaddr 52:54:00:00:00:01 is used twice");
	/* across files: a hostname, a MAC */
	put("a.xml", MACHINE("198.51.100.5", "52:54:00:00:00:0a", ""));
	put("b.xml", MACHINE("198.51.100.5", "52:54:00:00:00:0A", ""));
	struct pool p;
	char err[4096];
	assert_int_not_equal(pool_load(&p, dir, err, sizeof(err)), 0);
	contains(err, "/b.xml: hostname 198.51.100.5 port 9999 is also machine a (");
	contains(err, "/b.xml:1: hwaddr 52:54:00:00:00:0A of interface e is also interface e of machine a");
	unlink(strcat(strcpy((char[512]){ 0 }, dir), "/a.xml"));
	unlink(strcat(strcpy((char[512]){ 0 }, dir), "/b.xml"));
}

static void test_empty_and_missing_dir(void **state)
{
	(void)state;
	struct pool p;
	char err[4096];
	assert_int_not_equal(pool_load(&p, dir, err, sizeof(err)), 0);
	contains(err, "the pool holds no machine (no *.xml file)");
	assert_int_not_equal(pool_load(&p, "/nonexistent/pool", err, sizeof(err)), 0);
	contains(err, "pool /nonexistent/pool: No such file or directory");
}

static void test_no_external_entities(void **state)
{
	(void)state;
	/* An external entity is never loaded: the secret stays out. */
	put("s.txt", "SECRET\n");
	char text[1024];
	snprintf(text, sizeof(text),
		 "<?xml version=\"1.0\"?>\n<!DOCTYPE agentmachine [<!ENTITY x SYSTEM \"file://%s/s.txt\">]>\n"
		 "<agentmachine><params><param name=\"hostname\">&x;</param></params></agentmachine>\n", dir);
	put("m.xml", text);
	struct pool p;
	char err[4096];
	if (pool_load(&p, dir, err, sizeof(err)) == 0) {
		assert_null(strstr(p.machines[0].hostname, "SECRET"));
		pool_free(&p);
	} else {
		assert_null(strstr(err, "SECRET"));
	}
}

/* ---- config files ------------------------------------------------------------------ */

static const char *cfg_err(const char *text, const struct config_key *keys)
{
	static char err[1024];
	struct config c;
	put("t.conf", text);
	char p[512];
	snprintf(p, sizeof(p), "%s/t.conf", dir);
	if (config_load(&c, p, keys, err, sizeof(err)) == 0) {
		config_free(&c);
		return NULL;
	}
	return err;
}

static void test_config(void **state)
{
	(void)state;
	put("c.conf", "# controller\n[environment]\nrpcport = 9000\nlog_dir = logs\n\n[pools]\nlab = pools/lab\n"
		      "; another comment\n[security]\npsk_file = /etc/lnst/ctl.psk\nkey =\n");
	char p[8192], buf[8192];
	snprintf(p, sizeof(p), "%s/c.conf", dir);
	struct config c;
	char err[1024];
	if (config_load(&c, p, config_controller_keys, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.n, 4); /* the empty key is no value */
	const struct config_entry *e = config_find(&c, "pools", "lab");
	assert_non_null(e);
	assert_int_equal(e->line, 7);
	snprintf(p, sizeof(p), "%s/pools/lab", c.dir);
	assert_string_equal(config_path(&c, e->value, buf, sizeof(buf)), p);
	assert_string_equal(config_path(&c, "/abs", buf, sizeof(buf)), "/abs");
	assert_null(config_find(&c, "security", "key"));
	config_free(&c);

	contains(cfg_err("[environment]\nrpcport = many\n", config_controller_keys),
		 "/t.conf:2: 'rpcport' must be a non-negative integer, not 'many'");
	contains(cfg_err("[environment]\nrpc_port = 1\n", config_controller_keys),
		 "/t.conf:2: unknown option 'rpc_port' in [environment] (known: rpcport, log_dir, timeout)");
	contains(cfg_err("[colours]\n", config_controller_keys), "/t.conf:1: unknown section [colours]");
	contains(cfg_err("[pools]\na = x\n[pools]\n", config_controller_keys),
		 "/t.conf:3: section [pools] appears twice (first at line 1)");
	contains(cfg_err("rpcport = 1\n", config_controller_keys), "/t.conf:1: option outside of a [section]");
	contains(cfg_err("[security]\nmode\n", config_agent_keys), "/t.conf:2: expected 'name = value'");
	contains(cfg_err("[agent]\ninsecure = maybe\n", config_agent_keys),
		 "/t.conf:2: 'insecure' must be yes or no, not 'maybe'");
	contains(cfg_err("[agent]\nlisten += 1.2.3.4\n", config_agent_keys),
		 "/t.conf:2: 'listen' takes one value: use '=', not '+='");
	assert_null(cfg_err("[agent]\nlisten = 127.0.0.1:9999\ninsecure = yes\n[security]\nmode = psk\n",
			    config_agent_keys));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error_names_file_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_external_entities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
