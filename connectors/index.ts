/**
 * Registers every built-in connector type with the registry in src/connector.ts. Importing this
 * module is what makes `type: oidc` (etc.) resolvable in the config.
 */
import './oidc/oidc.js';
import './mock/index.js';
import './ldap/ldap.js';
import './saml/saml.js';
import './github/index.js';
import './gitlab/index.js';
import './google/index.js';
import './microsoft/index.js';
import './oauth/index.js';
