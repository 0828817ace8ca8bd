/**
 * A private Postfix instance for a test: its own config, queue and data directories in a folder of
 * the test's, a listener on loopback only, started with `postfix -c DIR start` and stopped with
 * `postfix -c DIR stop` (then `abort`, then SIGKILL to the master it started). The system's Postfix
 * (/etc/postfix, /var/spool/postfix) is never read or written, and nothing listens beyond loopback.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { waitFor } from './wait-for.js';

export const POSTFIX = '/usr/sbin/postfix';

/** Why a private Postfix cannot run here, or null when it can. */
export function postfixUnavailable(): string | null {
  if (!existsSync(POSTFIX)) return `Postfix is not installed (${POSTFIX}): apt-get install postfix, or run .ci/run's installer`;
  const uid = process.getuid?.();
  if (uid !== 0) return `Postfix's master must be started as root; this test runs as uid ${uid ?? 'unknown'}`;
  if (idOf('-u', 'postfix') === null) return 'Postfix needs its mail_owner, the user "postfix" (the Debian package makes it)';
  if (groupExists('postdrop') === false) return 'Postfix needs its setgid_group, the group "postdrop" (the Debian package makes it)';
  return null;
}

function idOf(flag: '-u' | '-g', name: string): number | null {
  try {
    return Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return null;
  }
}

function groupExists(name: string): boolean {
  return readFileSync('/etc/group', 'utf8').split('\n').some((l) => l.startsWith(`${name}:`));
}

export interface PostfixInstance {
  /** The folder holding etc/, queue/, data/ and the maillog. */
  dir: string;
  configDir: string;
  maillog(): string;
  /** Stops the instance and waits until its master is gone; safe to call twice. */
  stop(): Promise<void>;
}

function postfix(configDir: string, command: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(POSTFIX, ['-c', configDir, command], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

function masterPid(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, 'queue', 'pid', 'master.pid'), 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes main.cf and master.cf into DIR/etc, makes the queue (root) and data (mail_owner) directories
 * and starts the instance. `mainCf` must set queue_directory DIR/queue, data_directory DIR/data and
 * maillog_file DIR/maillog (Postfix has no syslog here).
 */
export async function startPostfix(dir: string, mainCf: string, masterCf: string): Promise<PostfixInstance> {
  for (const key of [`queue_directory = ${dir}/queue`, `data_directory = ${dir}/data`, `maillog_file = ${dir}/maillog`]) {
    if (!mainCf.split('\n').includes(key)) throw new Error(`the private main.cf must set ${key}`);
  }
  const configDir = join(dir, 'etc');
  // Postfix's daemons (and the master, for its lock file) act as the mail_owner, who must reach the
  // queue and data directories through every folder above them.
  chmodSync(dir, 0o755);
  for (let up = dirname(dir); up !== dirname(up); up = dirname(up)) {
    if ((statSync(up).mode & 0o001) === 0) throw new Error(`${up} is not searchable by others: the private Postfix's mail_owner cannot reach ${dir}`);
  }
  mkdirSync(configDir, { recursive: true });
  mkdirSync(join(dir, 'queue'), { recursive: true, mode: 0o755 });
  mkdirSync(join(dir, 'data'), { recursive: true, mode: 0o700 });
  chownSync(join(dir, 'data'), idOf('-u', 'postfix')!, 0);
  writeFileSync(join(configDir, 'main.cf'), mainCf);
  writeFileSync(join(configDir, 'master.cf'), masterCf);
  const maillog = () => (existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '');
  let stopped = false;
  const instance: PostfixInstance = {
    dir,
    configDir,
    maillog,
    async stop() {
      if (stopped) return;
      stopped = true;
      const pid = masterPid(dir);
      await postfix(configDir, 'stop');
      if (pid === null) return;
      try {
        await waitFor(() => !alive(pid), { message: `the private Postfix master (pid ${pid}) exits after postfix stop`, timeoutMs: 15_000, intervalMs: 100 });
      } catch {
        await postfix(configDir, 'abort');
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
    },
  };
  const checked = await postfix(configDir, 'check');
  if (checked.code !== 0) throw new Error(`postfix -c ${configDir} check failed (${checked.code}): ${checked.output}\n${maillog()}`);
  const started = await postfix(configDir, 'start');
  if (started.code !== 0) {
    await instance.stop();
    throw new Error(`postfix -c ${configDir} start failed (${started.code}): ${started.output}\n${maillog()}`);
  }
  try {
    await waitFor(() => /daemon started/.test(maillog()), { message: () => `the private Postfix logs "daemon started"; its log:\n${maillog()}`, timeoutMs: 20_000, intervalMs: 50 });
  } catch (err) {
    await instance.stop();
    throw err;
  }
  return instance;
}
