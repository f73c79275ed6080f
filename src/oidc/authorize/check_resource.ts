/**
 * RFC 8707 resource indicators at /auth (and /par): each `resource` an absolute URI without a
 * fragment, listed in the client's `resources`; otherwise invalid_target. They become the access
 * token's audience, and the token request may narrow them (src/oidc/resources.ts).
 */
import { requestedResources } from '../resources.js';
import type { AuthorizeCheck } from './state.js';

export const checkResource: AuthorizeCheck = (state) => {
  state.resources = requestedResources(state.client!, state.params.resource);
};
