/**
 * The masthead and namespace locks, case by case as Kiali computes them: the mesh-wide status from
 * the root namespace's PeerAuthentication and the `*.local` DestinationRule with and without auto mTLS,
 * the namespace's own modes, inheritance, validation errors.
 */
import { describe, expect, it } from 'vitest';
import type { DestinationRuleResource } from '../../../src/authz/policy/resources.js';
import { meshLock, namespaceLock } from '../../../src/admin/console/mtls-locks.js';
import { defaultMeshSettings } from '../../../src/admin/validate/mesh-config.js';
import { MtlsView, type PeerAuthentication } from '../../../src/admin/validate/mtls-status.js';

const base = { file: 'p.yaml', document: 0, order: 0, annotations: {} };
const pa = (namespace: string, mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE' | 'UNSET', name = 'default'): PeerAuthentication => ({ ...base, kind: 'PeerAuthentication', name, namespace, spec: { mtls: { mode } } });
const dr = (namespace: string, host: string, mode: 'ISTIO_MUTUAL' | 'DISABLE'): DestinationRuleResource => ({ ...base, kind: 'DestinationRule', name: `dr-${mode}`, namespace, spec: { host, trafficPolicy: { tls: { mode } } } });
const view = (pas: PeerAuthentication[], drs: DestinationRuleResource[] = [], autoMtls = true) => new MtlsView(pas, drs, { ...defaultMeshSettings(), autoMtls });

describe('masthead lock', () => {
  it.each([
    ['STRICT, auto mTLS', [pa('istio-system', 'STRICT')], [], true, 'MTLS_ENABLED_DEFAULT', 'full'],
    ['PERMISSIVE, auto mTLS', [pa('istio-system', 'PERMISSIVE')], [], true, 'MTLS_PARTIALLY_ENABLED_DEFAULT', 'hollow'],
    ['nothing, auto mTLS (Kiali: automatic mTLS)', [], [], true, 'AUTO_DEFAULT', 'full'],
    ['STRICT with a mesh-wide ISTIO_MUTUAL rule, no auto mTLS', [pa('istio-system', 'STRICT')], [dr('istio-system', '*.local', 'ISTIO_MUTUAL')], false, 'MTLS_ENABLED', 'full'],
    ['STRICT without a DestinationRule, no auto mTLS', [pa('istio-system', 'STRICT')], [], false, 'MTLS_PARTIALLY_ENABLED', 'hollow'],
    ['PERMISSIVE with ISTIO_MUTUAL, no auto mTLS (permissive does not count)', [pa('istio-system', 'PERMISSIVE')], [dr('istio-system', '*.local', 'ISTIO_MUTUAL')], false, 'MTLS_PARTIALLY_ENABLED', 'hollow'],
    ['nothing, no auto mTLS', [], [], false, 'MTLS_NOT_ENABLED', 'none'],
    ['DISABLE, auto mTLS (no lock, unlike Kiali)', [pa('istio-system', 'DISABLE')], [], true, 'MTLS_DISABLED', 'none'],
    ['a STRICT policy outside the root namespace', [pa('shop', 'STRICT')], [], false, 'MTLS_NOT_ENABLED', 'none'],
  ] as const)('%s', (_name, pas, drs, auto, status, icon) => {
    const lock = meshLock(view([...pas], [...drs], auto));
    expect(lock).toMatchObject({ status, icon });
    expect(lock.why).toContain(`auto mTLS ${auto ? 'on' : 'off'}`);
  });
});

describe('namespace lock', () => {
  it('STRICT, PERMISSIVE and DISABLE of the namespace itself', () => {
    const v = view([pa('istio-system', 'PERMISSIVE'), pa('a', 'STRICT'), pa('b', 'PERMISSIVE'), pa('c', 'DISABLE')]);
    expect(namespaceLock(v, 'a', false)).toMatchObject({ status: 'MTLS_ENABLED', icon: 'full', label: 'Strict', danger: false });
    expect(namespaceLock(v, 'b', false)).toMatchObject({ status: 'MTLS_PARTIALLY_ENABLED', icon: 'open', label: 'Permissive' });
    expect(namespaceLock(v, 'c', false)).toMatchObject({ status: 'MTLS_DISABLED', icon: 'open', label: 'Disabled', danger: true });
  });

  it('a namespace that sets nothing (or UNSET) inherits the mesh', () => {
    expect(namespaceLock(view([pa('istio-system', 'STRICT')]), 'shop', false)).toMatchObject({ status: 'UNSET_INHERITED_STRICT', icon: 'full', inherited: true });
    expect(namespaceLock(view([pa('istio-system', 'STRICT'), pa('shop', 'UNSET')]), 'shop', false)).toMatchObject({ status: 'UNSET_INHERITED_STRICT' });
    expect(namespaceLock(view([pa('istio-system', 'DISABLE')]), 'shop', false)).toMatchObject({ status: 'UNSET_INHERITED_DISABLED', icon: 'open', danger: true });
    expect(namespaceLock(view([pa('istio-system', 'PERMISSIVE')]), 'shop', false)).toMatchObject({ status: 'UNSET', icon: 'open', danger: false });
  });

  it('a PeerAuthentication with validation errors makes a red open lock', () => {
    expect(namespaceLock(view([pa('a', 'STRICT')]), 'a', true)).toMatchObject({ status: 'MTLS_VALIDATION_ERROR', icon: 'open', danger: true });
  });

  it('a namespace-wide DISABLE DestinationRule under STRICT without auto mTLS is partial', () => {
    const v = view([pa('a', 'STRICT')], [dr('a', '*.a.svc.cluster.local', 'DISABLE')], false);
    expect(namespaceLock(v, 'a', false)).toMatchObject({ status: 'MTLS_PARTIALLY_ENABLED', label: 'Permissive' });
    expect(namespaceLock(v, 'a', false).why).toContain('DestinationRule for *.a.svc.cluster.local DISABLE');
  });
});
