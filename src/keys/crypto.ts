import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Private keys at rest: AES-256-GCM under the key-encryption key (MAINT_KEK). The stored text is
 * `v1.<base64url(iv | tag | ciphertext)>`; the key id is the additional authenticated data, so a ciphertext
 * copied onto another key's row does not decrypt.
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Raised when a private key cannot be opened; carries no key material, only what to check. */
export class KeyDecryptError extends Error {
  constructor(kid: string, reason: string) {
    super(`cannot decrypt the private key of ${kid}: ${reason}`);
    this.name = 'KeyDecryptError';
  }
}

function assertKek(kek: Buffer): void {
  if (kek.length !== 32) throw new Error('the key-encryption key must be 32 bytes');
}

/** A short, non-reversible name of a key-encryption key: tells which KEK sealed a row without revealing it. */
export function kekId(kek: Buffer): string {
  return createHash('sha256').update('auth-maintenance kek id').update(kek).digest('hex').slice(0, 16);
}

export function sealPrivateKey(plaintext: string, kek: Buffer, kid: string): string {
  assertKek(kek);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')}`;
}

export function openPrivateKey(sealed: string, kek: Buffer, kid: string): string {
  assertKek(kek);
  const [version, body] = sealed.split('.');
  if (version !== VERSION || !body) throw new KeyDecryptError(kid, `unknown ciphertext format (expected ${VERSION})`);
  const raw = Buffer.from(body, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) throw new KeyDecryptError(kid, 'ciphertext is truncated');
  const decipher = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new KeyDecryptError(kid, 'authentication failed (wrong MAINT_KEK, or the row was altered)');
  }
}
