import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { USERS, type Shape } from './shapes.js';

/** The jti of token i: what clients send and the load generator looks up. */
export const jtiOf = (i: number): string => i.toString(16).padStart(32, '0');

/** 70% of tokens expired, interleaved with valid ones as in a live table. */
export const isExpired = (i: number): boolean => i % 10 < 7;
/** A tenth of the expired tokens were blacklisted (logged out) before they expired. */
export const isBlacklisted = (i: number): boolean => i % 100 < 7;

// A refresh token as clients hold it: a signed JWT of about 300 characters.
const JWT_TAIL = 'eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc2NDAwMDAwMCwiaWF0IjoxNzYzMDAwMDAwLCJ1c2VyX2lkIjoxMjM0NTZ9.' + 'x'.repeat(140);

function rows(n: number, line: (i: number) => string | null, onProgress?: (done: number) => void): Readable {
  let i = 1;
  return new Readable({
    read() {
      const chunk: string[] = [];
      while (i <= n && chunk.length < 5_000) {
        const l = line(i);
        if (l) chunk.push(l);
        i += 1;
      }
      onProgress?.(i - 1);
      if (chunk.length) this.push(chunk.join(''));
      if (i > n) this.push(null);
    },
  });
}

/**
 * Seeds `n` outstanding tokens and their blacklist rows with COPY; returns counts. Expiry is spread pseudo-randomly
 * relative to id order, as in an app whose token lifetimes vary.
 */
export async function seedTokens(client: pg.Client, shape: Shape, n: number, now: Date, onProgress?: (done: number) => void): Promise<{ tokens: number; expired: number; blacklisted: number }> {
  const t = now.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  // Deterministic spread: expired up to 90 days ago, valid up to 30 days ahead.
  const expiresAt = (i: number) => (isExpired(i) ? t - (1 + ((i * 7919) % 7_776_000)) * 1000 : t + (1 + ((i * 104_729) % 2_592_000)) * 1000);
  await pipeline(
    // Django's user_id references auth_user: left NULL (allowed) rather than seeding users.
    rows(n, (i) => `${i}\t${jtiOf(i)}\t${shape.name === 'django' ? '\\N' : (i % 50_000) + 1}\teyJhbGciOiJIUzI1NiJ9.${i}.${JWT_TAIL}\t${iso(expiresAt(i) - 86_400_000)}\t${iso(expiresAt(i))}\n`, onProgress),
    client.query(copyFrom(`COPY ${shape.tokens} (${shape.tokenColumns}) FROM STDIN`)),
  );
  await pipeline(
    rows(n, (i) => (isBlacklisted(i) ? `${i}\t${i}\t${iso(expiresAt(i) - 3_600_000)}\n` : null)),
    client.query(copyFrom(`COPY ${shape.blacklist} (${shape.blacklistColumns}) FROM STDIN`)),
  );
  await client.query(shape.seedUsersSql, [USERS]);
  for (const table of [shape.tokens, shape.blacklist]) await client.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), $2)`, [table, n]);
  for (const table of [shape.tokens, shape.blacklist, shape.users]) await client.query(`VACUUM ANALYZE ${table}`);
  let expired = 0;
  let blacklisted = 0;
  for (let i = 1; i <= n; i++) {
    if (isExpired(i)) expired += 1;
    if (isBlacklisted(i)) blacklisted += 1;
  }
  return { tokens: n, expired, blacklisted };
}
