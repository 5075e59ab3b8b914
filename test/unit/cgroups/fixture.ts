/** Temp cgroupfs-like trees for the cgroup unit tests: the files a kernel would show, pre-created. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temp dir holding `files` (relative path -> content; a trailing '/' makes a directory). */
export function tree(files: Record<string, string> = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-cgtest-'));
  dirs.push(root);
  addFiles(root, files);
  return root;
}

export function addFiles(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    if (rel.endsWith('/')) {
      fs.mkdirSync(p, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

export function read(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, file), 'utf8');
}

/** Put a directory where a file is expected, so opening it for writing fails (EISDIR) even as root. */
export function breakFile(dir: string, file: string): void {
  const p = path.join(dir, file);
  fs.rmSync(p, { force: true });
  fs.mkdirSync(p);
}

/** Make files with the given contents in dir; returns dir. */
export function files(dir: string, contents: Record<string, string>): string {
  addFiles(dir, contents);
  return dir;
}
