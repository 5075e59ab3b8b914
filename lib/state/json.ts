import { randomBytes } from 'node:crypto';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Marks bigint literals in transit; random per process, so no real string can collide with it. */
const MARKER = `__nlc_bigint_${randomBytes(8).toString('hex')}__`;

function isSafe(value: bigint): boolean {
  return value <= MAX_SAFE && value >= -MAX_SAFE;
}

/**
 * JSON.stringify that accepts bigint (limits such as RLIM_INFINITY = 2^64-1 and cgroup values
 * are bigints). A safe bigint becomes a plain number; a larger one is written as its exact
 * integer literal, which JSON allows but JSON.stringify cannot produce: the replacer leaves a
 * marked string that is then unquoted.
 */
export function stringifyJson(value: unknown, space?: number): string {
  // Most states hold no bigint: the plain stringify (no replacer call per key) throws on one.
  try {
    const plain = JSON.stringify(value, null, space) as string | undefined;
    if (plain !== undefined) return plain;
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  const marker = MARKER;
  let marked = false;
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v !== 'bigint') return v;
      if (isSafe(v)) return Number(v);
      marked = true;
      return marker + v.toString();
    },
    space,
  ) as string | undefined;
  if (text === undefined) throw new TypeError('value cannot be serialised as JSON');
  if (!marked) return text;
  return text.replace(new RegExp(`"${marker}(-?[0-9]+)"`, 'g'), '$1');
}

const NUMBER = /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * JSON.parse that returns integers beyond 2^53 as exact bigints instead of rounded numbers.
 * Node 20's reviver has no access to the source text, so such literals are found by a scan
 * that skips strings, and quoted with a marker the reviver turns back into bigint.
 */
export function parseJson(text: string): unknown {
  const marker = MARKER;
  const quoted = quoteUnsafeIntegers(text, marker);
  if (quoted === text) return JSON.parse(text);
  return JSON.parse(quoted, (_key, v: unknown) =>
    typeof v === 'string' && v.startsWith(marker) ? BigInt(v.slice(marker.length)) : v,
  );
}

function quoteUnsafeIntegers(text: string, marker: string): string {
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else {
          i++;
          if (d === 0x22) break;
        }
      }
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) {
        i++; // not a number: JSON.parse reports it
        continue;
      }
      const token = m[0];
      // 16 digits is the shortest literal that can exceed 2^53-1.
      if (m[1] === undefined && m[2] === undefined && token.length >= 16 && !isSafe(BigInt(token))) {
        parts.push(text.slice(copied, i), `"${marker}${token}"`);
        copied = i + token.length;
      }
      i += token.length;
    } else {
      i++;
    }
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}
