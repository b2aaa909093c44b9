/* keygen.c - `lnst-agent keygen`: the key material for remote agents.
 *
 *   lnst-agent keygen --psk FILE [--identity NAME]
 *       a pre-shared key file (NAME:HEXKEY, mode 0600); the same file goes
 *       to the agent ([security] psk_file) and to the controller.
 *   lnst-agent keygen --cert PREFIX [--cn NAME] [--days N]
 *       PREFIX.key (Ed25519, mode 0600) and PREFIX.crt (self-signed); give
 *       the .crt to the other side to pin.
 *   lnst-agent keygen --fingerprint FILE
 *       the sha256 of the public key in a certificate or key file.
 * Nothing is ever overwritten.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "tls.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lnst-agent keygen --psk FILE [--identity NAME]\n"
		"       lnst-agent keygen --cert PREFIX [--cn NAME] [--days N]\n"
		"       lnst-agent keygen --fingerprint FILE\n"
		"\n"
		"Creates the key material for remote agents (never overwrites a file).\n"
		"\n"
		"  --psk FILE          a pre-shared key: one line IDENTITY:HEXKEY, mode 0600; give\n"
		"                      the same file to the agent and to the controller\n"
		"  --identity NAME     the identity in the PSK file (default: lnst)\n"
		"  --cert PREFIX       an Ed25519 key PREFIX.key (mode 0600) and a self-signed\n"
		"                      certificate PREFIX.crt; the other side pins the .crt\n"
		"  --cn NAME           the certificate's common name (default: this host's name)\n"
		"  --days N            validity of the certificate (default 3650)\n"
		"  --fingerprint FILE  print the sha256 of the public key in a PEM file\n"
		"  -h, --help          this text\n");
}

int keygen_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "psk", required_argument, NULL, 'p' },
		{ "identity", required_argument, NULL, 'i' },
		{ "cert", required_argument, NULL, 'c' },
		{ "cn", required_argument, NULL, 'n' },
		{ "days", required_argument, NULL, 'D' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *psk = NULL, *identity = "lnst", *prefix = NULL, *fp = NULL;
	char host[256] = "lnst";
	const char *cn = NULL;
	int days = 3650, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': psk = optarg; break;
		case 'i': identity = optarg; break;
		case 'c': prefix = optarg; break;
		case 'n': cn = optarg; break;
		case 'D': {
			char *end;
			long d = strtol(optarg, &end, 10);
			if (*end || d < 1 || d > 36500) {
				fprintf(stderr, "lnst-agent keygen: --days must be 1 to 36500, not '%s'\n", optarg);
				return 2;
			}
			days = (int)d;
			break;
		}
		case 'f': fp = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !!psk + !!prefix + !!fp != 1) {
		fprintf(stderr, "lnst-agent keygen: give exactly one of --psk, --cert, --fingerprint\n");
		usage(stderr);
		return 2;
	}
	char err[512], print[128];
	if (psk) {
		if (tls_keygen_psk(psk, identity, err, sizeof(err))) {
			fprintf(stderr, "lnst-agent keygen: %s\n", err);
			return 1;
		}
		printf("wrote %s (identity %s)\n", psk, identity);
		return 0;
	}
	if (fp) {
		if (tls_key_fingerprint(fp, print, sizeof(print), err, sizeof(err))) {
			fprintf(stderr, "lnst-agent keygen: %s\n", err);
			return 1;
		}
		printf("%s\n", print);
		return 0;
	}
	if (!cn) {
		gethostname(host, sizeof(host) - 1);
		cn = host;
	}
	char key[4096], crt[4096];
	snprintf(key, sizeof(key), "%s.key", prefix);
	snprintf(crt, sizeof(crt), "%s.crt", prefix);
	if (tls_keygen_cert(key, crt, cn, days, err, sizeof(err)) ||
	    tls_key_fingerprint(crt, print, sizeof(print), err, sizeof(err))) {
		fprintf(stderr, "lnst-agent keygen: %s\n", err);
		return 1;
	}
	printf("wrote %s and %s (CN=%s, %d days, public key %s)\n", key, crt, cn, days, print);
	return 0;
}
