/**
 * The binding checks' parts on their own: the proof replay cache (an id refused for exactly its
 * retention, bounded, the oldest forgotten first and counted), the htu comparison, the cnf claim's
 * strict reading, the certificate thumbprint from each form a proxy reports it in, and filter.dpop.
 */
import { describe, expect, it } from 'vitest';
import type { BindingError } from '../../src/authz/binding/binding-error.js';
import { confirmationOf } from '../../src/authz/binding/confirmation.js';
import { PeerCertificateThumbprints } from '../../src/authz/binding/peer-certificate.js';
import { ProofReplayCache } from '../../src/authz/binding/proof-replay.js';
import { htuMatches, requestOrigin } from '../../src/authz/binding/request-uri.js';
import { parseFilterConfig } from '../../src/authz/config.js';
import { makeCertificates } from '../admin/api/certs.js';
import { certificateSha256Hex, certificateThumbprint } from './helpers/dpop.js';

describe('ProofReplayCache', () => {
  it('refuses an id for its retention and accepts it again afterwards', () => {
    const cache = new ProofReplayCache({ maxEntries: 10, retainMs: 120_000 });
    expect(cache.firstUse('a', 1_000)).toBe(true);
    expect(cache.firstUse('a', 1_000)).toBe(false);
    expect(cache.firstUse('a', 120_999)).toBe(false);
    expect(cache.firstUse('a', 121_000)).toBe(true);
  });

  it('holds at most maxEntries ids, forgets the oldest first and says so', () => {
    let evicted = 0;
    const cache = new ProofReplayCache({ maxEntries: 3, retainMs: 60_000, onEvict: () => evicted++ });
    for (const id of ['a', 'b', 'c', 'd']) expect(cache.firstUse(id, 0)).toBe(true);
    expect(cache.size).toBe(3);
    expect(evicted).toBe(1);
    expect(cache.firstUse('b', 0)).toBe(false);
    expect(cache.firstUse('a', 0)).toBe(true); // forgotten early: this is what the eviction counter reports
  });

  it('drops expired ids without counting them as evictions', () => {
    let evicted = 0;
    const cache = new ProofReplayCache({ maxEntries: 2, retainMs: 10, onEvict: () => evicted++ });
    cache.firstUse('a', 0);
    cache.firstUse('b', 0);
    expect(cache.firstUse('c', 10)).toBe(true);
    expect(cache.size).toBe(1);
    expect(evicted).toBe(0);
  });
});

describe('htu', () => {
  const paths = { normalization: 'BASE' as const, escapedSlashes: 'KEEP_UNCHANGED' as const, rawTarget: false };
  const origin = requestOrigin('https', 'Shop.Example.com:443');

  it('drops the default port and lower-cases scheme and host', () => {
    expect(origin).toBe('https://shop.example.com');
    expect(requestOrigin('http', 'shop.example.com:8080')).toBe('http://shop.example.com:8080');
  });

  it.each([
    ['https://shop.example.com/a/b', true],
    ['HTTPS://SHOP.example.com:443/a/b?x=1#y', true],
    ['https://shop.example.com/a/./c/../b', true],
    ['https://shop.example.com/%61/b', true],
    ['https://shop.example.com/a/b/', false],
    ['https://shop.example.com/A/b', false],
    ['https://shop.example.com:8443/a/b', false],
    ['http://shop.example.com/a/b', false],
    ['https://user@shop.example.com/a/b', false],
    ['https://shop.example.com.evil/a/b', false],
    ['/a/b', false],
    ['https://shop.example.com/a/b#', true],
  ])('%s matches https://shop.example.com/a/b: %s', (htu, expected) => {
    expect(htuMatches(htu, origin, '/a/b', paths)).toBe(expected);
  });
});

describe('cnf', () => {
  const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
  const code = (cnf: unknown) => {
    try {
      confirmationOf({ cnf });
      return 'ok';
    } catch (error) {
      return (error as BindingError).code;
    }
  };

  it('reads jkt and x5t#S256 and gives the bindings in one shared array per kind', () => {
    expect(confirmationOf({}).kinds).toEqual(['none']);
    expect(confirmationOf({ cnf: { jkt } })).toMatchObject({ jkt, kinds: ['dpop'] });
    expect(confirmationOf({ cnf: { 'x5t#S256': jkt } })).toMatchObject({ certificateThumbprint: jkt, kinds: ['mtls'] });
    expect(confirmationOf({ cnf: { jkt, 'x5t#S256': jkt } }).kinds).toEqual(['mtls', 'dpop']);
    expect(confirmationOf({ cnf: { jkt } }).kinds).toBe(confirmationOf({ cnf: { jkt } }).kinds);
  });

  it.each([
    ['an unknown method', { jwk: { kty: 'EC' } }],
    ['a known and an unknown method', { jkt, kid: 'k' }],
    ['no method', {}],
    ['not an object', 'abc'],
    ['an array', [jkt]],
    ['a jkt that is no SHA-256 base64url', { jkt: 'abc' }],
    ['a jkt with padding', { jkt: `${jkt.slice(0, 42)}=` }],
    ['a jkt with stray bits in its last character', { jkt: `${jkt.slice(0, 42)}t` }],
    ['a number', { 'x5t#S256': 42 }],
  ])('refuses a cnf with %s', (_name, cnf) => {
    expect(code(cnf)).toBe('ERR_CNF_UNSUPPORTED');
  });
});

describe('PeerCertificateThumbprints', () => {
  it('unwraps the first certificate of a URL-encoded PEM (a chain too), and reads XFCC Hash=', async () => {
    const certs = await makeCertificates();
    try {
      const expected = certificateThumbprint(certs.client.cert);
      const thumbprints = new PeerCertificateThumbprints();
      expect(thumbprints.thumbprint({ urlEncodedPem: encodeURIComponent(certs.client.cert.toString()) })).toBe(expected);
      expect(thumbprints.thumbprint({ urlEncodedPem: encodeURIComponent(`${certs.client.cert}${certs.ca}`) })).toBe(expected);
      expect(thumbprints.thumbprint({ sha256Hex: certificateSha256Hex(certs.client.cert) })).toBe(expected);
      expect(thumbprints.thumbprint({ sha256Hex: certificateSha256Hex(certs.client.cert).toUpperCase() })).toBe(expected);
      expect(thumbprints.thumbprint({ sha256Hex: 'abc' })).toBeUndefined();
      expect(thumbprints.thumbprint({ urlEncodedPem: '%E0%A4%A' })).toBeUndefined();
      expect(thumbprints.thumbprint({ urlEncodedPem: encodeURIComponent('-----BEGIN CERTIFICATE-----\nQUJD=\n-----END CERTIFICATE-----') })).toBeUndefined();
      expect(thumbprints.thumbprint({ urlEncodedPem: 'no certificate here' })).toBeUndefined();
    } finally {
      await certs.remove();
    }
  });
});

describe('filter.dpop', () => {
  it('defaults to the asymmetric proof algorithms, a 60 s iat window and 100,000 remembered ids', () => {
    expect(parseFilterConfig({}).dpop).toEqual({ algorithms: ['ES256', 'RS256', 'PS256', 'EdDSA', 'Ed25519'], iatWindow: 60_000, replayCache: { maxEntries: 100_000 } });
  });

  it.each([
    [{ algorithms: ['HS256'] }, /dpop.*algorithms/s],
    [{ algorithms: ['none'] }, /dpop.*algorithms/s],
    [{ algorithms: [] }, /dpop.*algorithms/s],
    [{ iatWindow: '0s' }, /0s.*must be longer than 0/],
    [{ replayCache: { maxEntries: 0 } }, /maxEntries/],
    [{ nonce: true }, /nonce/],
  ])('refuses %j, naming what is wrong', (dpop, message) => {
    expect(() => parseFilterConfig({ dpop } as never)).toThrow(message);
  });
});

