import * as fs from 'node:fs';

/**
 * The name runc's list shows as a container's owner: the user owning its state directory
 * (user.LookupUid), or "#<uid>" when no user has that uid. "" when the directory is gone.
 */
export function stateDirOwner(dir: string, passwd = '/etc/passwd'): string {
  let uid: number;
  try {
    uid = fs.statSync(dir).uid;
  } catch {
    return '';
  }
  return userName(uid, passwd) ?? `#${uid}`;
}

/** The first /etc/passwd entry with this uid, as glibc's getpwuid reads the files database. */
export function userName(uid: number, passwd = '/etc/passwd'): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 3 && fields[0] !== '' && !line.startsWith('#') && fields[2] === String(uid)) return fields[0];
  }
  return undefined;
}
