import type { Db } from '../db/query.js';

export interface TokenReferences {
  count: number;
  /** Expiry of the last of them (ISO). */
  latestExpiry: string;
}

/** The `kid` a JWT's protected header names, or undefined when the text is not a JWT header we can read. */
export function headerKid(encodedHeader: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as unknown;
    const kid = header && typeof header === 'object' ? (header as Record<string, unknown>).kid : undefined;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which keys unexpired refresh tokens were signed with. simplejwt stores the whole token in
 * `outstanding_token.token`, and a JWT names its key in the header, so no new column on that table is needed.
 * Tokens of one key share a handful of distinct headers, so they are grouped in SQL and only those are decoded.
 * (Access tokens are not stored anywhere; for them the retire timer of the maximum token lifetime is the bound.)
 */
export async function unexpiredTokenReferences(db: Db): Promise<Map<string, TokenReferences>> {
  // Without the native job tables (a database another application owns) no token of ours is stored here.
  const [table] = await db.query<{ t: string | null }>(`SELECT to_regclass('outstanding_token')::text AS t`);
  if (!table?.t) return new Map();
  const rows = await db.query<{ header: string; n: number; latest: string }>(
    `SELECT split_part(token, '.', 1) AS header, count(*)::int AS n, max(expires_at) AS latest
       FROM outstanding_token WHERE expires_at > now() AND token LIKE 'eyJ%' GROUP BY 1`,
  );
  const out = new Map<string, TokenReferences>();
  for (const r of rows) {
    const kid = headerKid(r.header);
    if (!kid) continue;
    const latest = new Date(r.latest).toISOString();
    const prev = out.get(kid);
    out.set(kid, { count: (prev?.count ?? 0) + Number(r.n), latestExpiry: prev && prev.latestExpiry > latest ? prev.latestExpiry : latest });
  }
  return out;
}
