/** Records that refuse a second try: IDs that may be used once, and failed password attempts. */
import type { EpochMs } from '../epoch-ms.js';

/** "This ID was seen" (a SAML assertion ID, a jti): used once, remembered until it expires. */
export interface UsedId {
  /** `<namespace>:<id>` */
  id: string;
  expiresAt: EpochMs;
}

/** Failed password attempts of one throttle key (a user at a connector, a client IP); see login/throttle.ts. */
export interface LoginFailures {
  /** `<sha-256 of the key>`: keys hold what people typed, of any length. */
  id: string;
  /** When each failure within the window happened. */
  failures: EpochMs[];
  /** Refused until then (0: not locked). */
  lockedUntil: EpochMs;
  /** The later of the lockout's end and the last failure's window end. */
  expiresAt: EpochMs;
}
