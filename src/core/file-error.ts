/**
 * Why a file could not be read, in a few words and without the path (the caller names the file
 * once, with the option or key that gave it): Node's "ENOENT: no such file or directory, open
 * '/x'" becomes "not found".
 */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'not found',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a folder on the path is a file',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

export function fileErrorReason(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const known = REASONS[code];
  if (known) return known;
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/, (open|read|stat|scandir) '[^']*'$/, '');
}
