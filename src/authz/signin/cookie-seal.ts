/**
 * Sealed cookie values: JSON, deflated, then AES-256-GCM under a key derived with HKDF-SHA256 from
 * `cookie.secret`, so a value is both secret and tamper-evident (GCM's tag is the integrity check: a
 * separate signature would add nothing). The additional data binds a value to what it is for: its
 * purpose (session or sign-in state), the host or cookie domain it was set for and the cookie's name,
 * so a cookie copied to another app's domain, or a state cookie presented as a session, does not open.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The inflated JSON a value may hold: a hostile deflate stream cannot make us allocate more. */
const MAX_PLAINTEXT_BYTES = 64 * 1024;

export type SealPurpose = 'session' | 'state';

export class CookieSealer {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('idgate filter.signIn'), Buffer.from('cookie sealing v1'), 32));
  }

  /** `v1.<base64url(iv | ciphertext | tag)>` */
  seal(purpose: SealPurpose, scope: string, value: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(additionalData(purpose, scope));
    const body = Buffer.concat([cipher.update(deflateRawSync(Buffer.from(JSON.stringify(value), 'utf8'))), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The value, or undefined when it is not one we sealed for this purpose and scope (or is malformed). */
  open(purpose: SealPurpose, scope: string, sealed: string): unknown {
    if (!sealed.startsWith(`${VERSION}.`)) return undefined;
    const encoded = sealed.slice(VERSION.length + 1);
    const bytes = Buffer.from(encoded, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES + 1 || bytes.toString('base64url') !== encoded) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(purpose, scope));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const deflated = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
      return JSON.parse(inflateRawSync(deflated, { maxOutputLength: MAX_PLAINTEXT_BYTES }).toString('utf8'));
    } catch {
      return undefined;
    }
  }
}

function additionalData(purpose: SealPurpose, scope: string): Buffer {
  return Buffer.from(`idgate-signin\n${purpose}\n${scope.toLowerCase()}`, 'utf8');
}
