/**
 * A WebAuthn authenticator a test controls: a P-256 key made with node:crypto, registration answers
 * with "none" attestation and assertions signed over authenticatorData || SHA-256(clientDataJSON),
 * as WebAuthn §6.1 and §7.2 lay them out. The test picks the signature counter and may answer any
 * challenge, so it can present what a browser never would: a counter that went back, another
 * login's challenge, the wrong origin.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_ATTESTED_DATA = 0x40;

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
const b64url = (data: Buffer | Uint8Array): string => Buffer.from(data).toString('base64url');

export interface CeremonyOptions {
  challenge: string;
  rpId?: string;
  rp?: { id?: string };
}

export class TestAuthenticator {
  readonly credentialId = Buffer.from(`test-credential-${Math.random().toString(36).slice(2)}`);
  readonly #privateKey: KeyObject;
  readonly #publicJwk: { x: string; y: string };
  counter = 0;

  constructor(
    readonly rpId: string,
    readonly origin: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    this.#publicJwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  }

  #clientData(type: string, challenge: string, origin = this.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  #authData(flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(this.rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  /** The answer to navigator.credentials.create() for `options` (registration, "none" attestation). */
  register(options: CeremonyOptions): string {
    const cose = new Map<number, number | Uint8Array>([
      [1, 2], [3, -7], [-1, 1],
      [-2, Buffer.from(this.#publicJwk.x, 'base64url')], [-3, Buffer.from(this.#publicJwk.y, 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, Buffer.from(isoCBOR.encode(cose))]);
    const authData = this.#authData(FLAG_USER_PRESENT | FLAG_USER_VERIFIED | FLAG_ATTESTED_DATA, this.counter, attested);
    const noStatement = new Map<string, never>();
    const attestationObject = isoCBOR.encode(new Map<string, string | Uint8Array | Map<string, never>>([
      ['fmt', 'none'], ['attStmt', noStatement], ['authData', authData],
    ]));
    return JSON.stringify({
      id: b64url(this.credentialId), rawId: b64url(this.credentialId), type: 'public-key', clientExtensionResults: {},
      response: { clientDataJSON: b64url(this.#clientData('webauthn.create', options.challenge)), attestationObject: b64url(attestationObject), transports: ['usb'] },
    });
  }

  /**
   * The answer to navigator.credentials.get() for `options`, with the counter increased first
   * (or set to `counter`); `origin` overrides where the browser says it ran.
   */
  assert(options: CeremonyOptions, overrides: { counter?: number; origin?: string } = {}): string {
    this.counter = overrides.counter ?? this.counter + 1;
    const authData = this.#authData(FLAG_USER_PRESENT | FLAG_USER_VERIFIED, this.counter);
    const clientData = this.#clientData('webauthn.get', options.challenge, overrides.origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#privateKey);
    return JSON.stringify({
      id: b64url(this.credentialId), rawId: b64url(this.credentialId), type: 'public-key', clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientData), authenticatorData: b64url(authData), signature: b64url(signature) },
    });
  }
}
