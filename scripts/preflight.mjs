// What the tests need from the machine besides Node: swaks with its TLS modules, Postfix (its
// smtp-source tool and, for the walk-through, postfix itself), openssl, and PostgreSQL's server
// binaries (initdb, pg_ctl) unless RELAYGATE_TEST_PG_URL names a server. scripts/run-tests.mjs
// asks before running, so a fresh machine gets one line saying what to install instead of dozens
// of failing tests. .ci/run installs the same list.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** The folders searched: PATH, then /usr/sbin (Postfix's tools are there, often not on a user's PATH). */
export function searchDirs(env = process.env) {
  return [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin'];
}

function find(name, dirs) {
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path) && statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0) return path;
  }
  return null;
}

/** Where Debian puts PostgreSQL's server binaries, one folder per major version. */
function debianPostgresDirs(root = '/usr/lib/postgresql') {
  return existsSync(root) ? readdirSync(root).map((v) => join(root, v, 'bin')) : [];
}

/**
 * The Debian packages that are missing, in the order .ci/run installs them. `postgres`: where to look
 * for initdb and pg_ctl, or null when RELAYGATE_TEST_PG_URL names a server.
 */
export function missingPackages(dirs = searchDirs(), postgres = process.env.RELAYGATE_TEST_PG_URL ? null : [...debianPostgresDirs(), ...dirs]) {
  const missing = [];
  if (!find('swaks', dirs)) missing.push('swaks');
  const perl = find('perl', dirs);
  const perlHas = (module) => perl !== null && spawnSync(perl, [`-M${module}`, '-e1'], { stdio: 'ignore' }).status === 0;
  if (!perlHas('Net::SSLeay')) missing.push('libnet-ssleay-perl');
  if (!perlHas('IO::Socket::SSL')) missing.push('libio-socket-ssl-perl');
  if (!find('smtp-source', dirs) || !find('postfix', dirs)) missing.push('postfix');
  if (!find('openssl', dirs)) missing.push('openssl');
  if (postgres !== null && !(find('initdb', postgres) && find('pg_ctl', postgres))) missing.push('postgresql');
  return missing;
}

/** The one line a fresh machine gets. */
export function preflightMessage(missing) {
  const postfix = missing.includes('postfix') ? `, answering Postfix's question with "No configuration"` : '';
  return (
    `npm test needs swaks (with TLS), Postfix's tools, openssl and PostgreSQL's server binaries; missing: ${missing.join(', ')}. ` +
    `Install them (Debian: apt-get install --no-install-recommends ${missing.join(' ')}${postfix}) or run .ci/run, which does that and then runs the tests.`
  );
}

// `node scripts/preflight.mjs`: npm test runs it before the build, so a fresh machine learns at once.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const missing = missingPackages();
  if (missing.length > 0) {
    console.error(preflightMessage(missing));
    process.exit(1);
  }
}
